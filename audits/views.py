"""Pages of the audits app: rescreening batches, county review of findings, the townships'
verification tasks, and the entry-check fragment. Thin: each reads through a selector and
writes through one service."""
from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audits import engine, selectors, services
from audits.forms import BatchStartForm, BulkDecisionForm, DecisionForm, QueueFilterForm, TaskForm
from audits.models import BatchState, FindingState, TaskOutcome
from audits.rules import RULE_LIST, RULES
from cases.models import Household, Member
from dibao.models import Role
from dibao.pagination import paginate
from dibao.scoping import get_scoped_or_404
from dibao.selectors import object_timeline

VIEWERS = {Role.CASEWORKER, Role.COUNTY_REVIEWER, Role.SUPERVISOR, Role.ADMIN}
FINDING_READERS = {Role.COUNTY_REVIEWER, Role.SUPERVISOR, Role.ADMIN}
ENTRY_CHECKERS = {Role.CASEWORKER, Role.COUNTY_REVIEWER, Role.ADMIN}


def _require(user, roles):
    if user.role not in roles:
        raise PermissionDenied(_("您的角色无权访问此页面"))


def _errors(exc: ValidationError | PermissionDenied) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return str(exc)


def _batch_or_404(user, pk):
    batch = selectors.batches_for(user).filter(pk=pk).first()
    if batch is None:
        raise Http404
    return batch


@login_required
def index(request):
    user = request.user
    _require(user, VIEWERS)
    if user.role == Role.CASEWORKER:
        return redirect("audits:task_list")
    batches = paginate(selectors.batches_for(user).select_related("started_by"), request.GET.get("page"), 20)
    latest = selectors.latest_done_batch(user)
    pending = (selectors.review_queue(user, batch_id=latest.pk, state=FindingState.PENDING)[:1001].count()
               if latest else 0)
    return render(request, "audits/index.html", {
        "page": batches, "latest": latest, "pending": pending, "rules": RULE_LIST,
        "start_form": BatchStartForm(initial={"region_code": user.region_id or ""}),
        "can_start": selectors.can_start_batch(user), "can_review": selectors.user_can_review(user),
    })


@login_required
@require_POST
def batch_start(request):
    form = BatchStartForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("比对基准日格式不正确"))
        return redirect("audits:index")
    try:
        batch = services.batch_create(actor=request.user, region_code=form.cleaned_data["region_code"] or "",
                                      as_of=form.cleaned_data["as_of"])
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _errors(exc))
        return redirect("audits:index")
    messages.success(request, _("复核比对批次 #%(id)s 已启动") % {"id": batch.pk})
    return redirect("audits:batch_detail", pk=batch.pk)


@login_required
@require_POST
def batch_resume(request, pk):
    batch = _batch_or_404(request.user, pk)
    if not selectors.can_start_batch(request.user):
        raise PermissionDenied
    try:
        services.batch_resume(actor=request.user, batch=batch)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _errors(exc))
    return redirect("audits:batch_detail", pk=batch.pk)


def _batch_rows(request, batch):
    """Counts per rule inside the user's scope (a province batch seen from a county shows the county)."""
    scoped = selectors.findings_for(request.user).filter(batch=batch)
    counts = {row["rule"]: row for row in scoped.values("rule").order_by().annotate(
        n=Count("id"), new=Count("id", filter=Q(novelty="new")), open=Count("id", filter=Q(novelty="open")),
        pending=Count("id", filter=Q(state=FindingState.PENDING)))}
    resolved = dict(engine.resolved_findings(batch).filter(id__in=selectors.findings_for(request.user)
                                                             .values("id"))
                    .values_list("rule").order_by().annotate(n=Count("id")))
    return [{"rule": r, "n": counts.get(r.code, {}).get("n", 0), "new": counts.get(r.code, {}).get("new", 0),
             "open": counts.get(r.code, {}).get("open", 0), "pending": counts.get(r.code, {}).get("pending", 0),
             "resolved": resolved.get(r.code, 0)} for r in RULE_LIST]


@login_required
def batch_detail(request, pk):
    _require(request.user, FINDING_READERS)
    batch = _batch_or_404(request.user, pk)
    rows = _batch_rows(request, batch) if batch.state == BatchState.DONE else []
    totals = {k: sum(r[k] for r in rows) for k in ("n", "new", "open", "pending", "resolved")}
    return render(request, "audits/batch_detail.html", {"batch": batch, "rows": rows, "totals": totals,
                                                        "can_start": selectors.can_start_batch(request.user)})


@login_required
@require_GET
def batch_progress(request, pk):
    batch = _batch_or_404(request.user, pk)
    response = render(request, "audits/_batch_progress.html", {"batch": batch})
    if batch.state == BatchState.DONE and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"  # show the counts once it is done
    return response


@login_required
@require_GET
def batch_export(request, pk):
    _require(request.user, FINDING_READERS)
    batch = _batch_or_404(request.user, pk)
    if batch.state != BatchState.DONE:
        raise Http404
    fmt = request.GET.get("format", "xlsx")
    findings = selectors.findings_for(request.user).filter(batch=batch)
    full = request.user.can_see_full_id
    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    if fmt == "csv":
        buffer = io.StringIO()
        services.findings_export(actor=request.user, batch=batch, findings=findings, fmt="csv", target=buffer,
                                 full_ids=full)
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        buffer = io.BytesIO()
        services.findings_export(actor=request.user, batch=batch, findings=findings, fmt="xlsx", target=buffer,
                                 full_ids=full)
        response = HttpResponse(buffer.getvalue(),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        fmt = "xlsx"
    response["Content-Disposition"] = f'attachment; filename="findings-{batch.pk}-{stamp}.{fmt}"'
    return response


@login_required
def review_queue(request):
    user = request.user
    _require(user, FINDING_READERS)
    form = QueueFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    section = "C" if request.GET.get("section") == "C" else "A"
    batch_id = filters.get("batch")
    if not batch_id:
        latest = selectors.latest_done_batch(user)
        batch_id = latest.pk if latest else None
    state = filters.get("state", "")
    if not request.GET and section == "A":
        state = FindingState.PENDING
    queue = selectors.review_queue(user, batch_id=batch_id, rule=filters.get("rule", ""),
                                   township=filters.get("township", ""), state=state, section=section)
    page = paginate(queue, request.GET.get("page"), 50)
    return render(request, "audits/review_queue.html", {
        "form": form, "page": page, "batch_id": batch_id, "section": section, "state": state,
        "bulk_form": BulkDecisionForm(), "can_review": selectors.user_can_review(user) and section == "A",
    })


@login_required
def finding_detail(request, pk):
    user = request.user
    _require(user, FINDING_READERS)
    finding = get_scoped_or_404(selectors.findings_for(user), user, pk=pk)
    household = finding.household
    form = DecisionForm(initial={"decision": "confirm", "exit_on": timezone.localdate()})
    if request.method == "POST":
        form = DecisionForm(request.POST)
        if form.is_valid():
            try:
                if form.cleaned_data["decision"] == "dismiss":
                    services.finding_dismiss(actor=user, finding=finding, **form.service_kwargs())
                else:
                    services.finding_confirm(actor=user, finding=finding, **form.service_kwargs())
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, _errors(exc))
            else:
                messages.success(request, _("疑点 #%(id)s 已复核") % {"id": finding.pk})
                return redirect("audits:finding_detail", pk=finding.pk)
    timeline = []
    members = []
    if household:
        members = list(Member.objects.filter(household=household))
        timeline = object_timeline(user, object_type="household", object_ids=[household.pk])
    recused = bool(household) and selectors.is_recused(user=user, household=household)
    return render(request, "audits/finding_detail.html", {
        "finding": finding, "household": household, "members": members, "timeline": timeline,
        "evidence": selectors.finding_evidence(finding), "form": form, "recused": recused,
        "can_decide": (selectors.user_can_review(user) and finding.state == FindingState.PENDING
                       and RULES[finding.rule].section == "A" and household is not None and not recused),
        "full_ids": user.can_see_full_id,
    })


@login_required
@require_POST
def bulk_decide(request):
    user = request.user
    if not selectors.user_can_review(user):
        raise PermissionDenied
    form = BulkDecisionForm(request.POST)
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    findings = list(selectors.findings_for(user).filter(pk__in=ids))
    if len(findings) != len(set(ids)):
        raise Http404
    if not form.is_valid():
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
    else:
        try:
            done = services.findings_bulk_decide(actor=user, findings=findings,
                                                 decision=form.cleaned_data["decision"], **form.service_kwargs())
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _errors(exc))
        else:
            messages.success(request, _("已复核 %(n)s 条疑点") % {"n": len(done)})
    return redirect(request.POST.get("next") or reverse("audits:review_queue"))


# --- verification tasks --------------------------------------------------------------------------

@login_required
def task_list(request):
    user = request.user
    _require(user, VIEWERS)
    view = request.GET.get("view", "open")
    qs = selectors.tasks_for(user)
    today = timezone.localdate()
    if view == "open":
        qs = qs.filter(outcome=TaskOutcome.OPEN)
    elif view == "overdue":
        qs = qs.filter(outcome=TaskOutcome.OPEN, deadline__lt=today)
    elif view == "done":
        qs = qs.exclude(outcome=TaskOutcome.OPEN)
    page = paginate(qs.order_by("deadline", "id"), request.GET.get("page"), 50)
    level = 6 if user.role in (Role.SUPERVISOR, Role.ADMIN) and request.GET.get("level") != "9" else 9
    return render(request, "audits/task_list.html", {
        "page": page, "view": view, "today": today, "progress": selectors.task_progress(user, level),
        "level": level, "full_ids": user.can_see_full_id,
    })


@login_required
def task_detail(request, pk):
    user = request.user
    _require(user, VIEWERS)
    task = get_scoped_or_404(selectors.tasks_for(user), user, pk=pk)
    form = TaskForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.task_complete(actor=user, task=task, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
                for field, errs in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errs)
            else:
                messages.error(request, _errors(exc))
        else:
            messages.success(request, _("核查任务已办结"))
            return redirect("audits:task_list")
    findings = selectors.findings_for(user).filter(batch_id=task.last_batch_id, id_number=task.id_number)
    return render(request, "audits/task_detail.html", {
        "task": task, "form": form, "findings": findings, "full_ids": user.can_see_full_id,
        "overdue": not task.is_done and task.deadline < timezone.localdate(),
    })


# --- entry check --------------------------------------------------------------------------------

@login_required
@require_POST
def entry_check(request):
    _require(request.user, ENTRY_CHECKERS)
    ids = [v for key in request.POST for v in request.POST.getlist(key) if key.endswith("id_number") and v]
    household_id = request.POST.get("household_id") or ""
    household_id = int(household_id) if household_id.isdigit() else None
    if household_id and not Household.objects.for_user(request.user).filter(pk=household_id).exists():
        raise Http404
    warnings = selectors.entry_check(id_numbers=ids, household_id=household_id)
    return render(request, "audits/_entry_warnings.html", {"warnings": warnings, "checked": bool(ids)})

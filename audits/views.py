"""Pages of the audits app: rescreening batches, county review of findings, the townships'
verification tasks, and the entry-check fragment. Thin: each reads through a selector and
writes through one service."""
from __future__ import annotations

import io

from django.contrib import messages
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
from audits.models import FindingState, TaskOutcome
from dibao.jobs import JobState
from audits.rules import RULE_LIST
from cases.models import Household, Member
from dibao.concurrency import StaleVersion
from dibao.forms import apply_service_errors
from dibao.pagination import paginate
from dibao.permissions import can, permission_required
from dibao.scoping import get_scoped_or_404
from dibao.selectors import object_timeline

def _errors(exc: ValidationError | PermissionDenied) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return str(exc)


def _batch_or_404(user, pk):
    batch = selectors.batches_for(user).filter(pk=pk).first()
    if batch is None:
        raise Http404
    return batch


@permission_required("rescreen.view")
def index(request):
    user = request.user
    if not can(user, "finding.view"):
        return redirect("audits:task_list")
    batches = paginate(selectors.batches_for(user).select_related("started_by"), request.GET.get("page"), 20)
    latest = selectors.latest_done_batch(user)
    pending = (selectors.review_queue(user, batch_id=latest.pk, state=FindingState.PENDING)[:1001].count()
               if latest else 0)
    return render(request, "audits/index.html", {
        "page": batches, "latest": latest, "pending": pending, "rules": RULE_LIST,
        "start_form": BatchStartForm(initial={"region_code": user.region_id or ""}),
        "can_start": can(user, "rescreen.start"), "can_review": can(user, "finding.review"),
    })


@permission_required("rescreen.start")
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


@permission_required("rescreen.start")
@require_POST
def batch_resume(request, pk):
    batch = _batch_or_404(request.user, pk)
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


@permission_required("finding.view")
def batch_detail(request, pk):
    batch = _batch_or_404(request.user, pk)
    rows = _batch_rows(request, batch) if batch.state == JobState.DONE else []
    totals = {k: sum(r[k] for r in rows) for k in ("n", "new", "open", "pending", "resolved")}
    return render(request, "audits/batch_detail.html", {"batch": batch, "rows": rows, "totals": totals,
                                                        "can_start": can(request.user, "rescreen.start")})


@permission_required("rescreen.view")
@require_GET
def batch_progress(request, pk):
    batch = _batch_or_404(request.user, pk)
    response = render(request, "audits/_batch_progress.html", {"batch": batch})
    if batch.state == JobState.DONE and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"  # show the counts once it is done
    return response


@permission_required("export.findings")
@require_GET
def batch_export(request, pk):
    batch = _batch_or_404(request.user, pk)
    if batch.state != JobState.DONE:
        raise Http404
    fmt = request.GET.get("format", "xlsx")
    findings = selectors.findings_for(request.user).filter(batch=batch)
    full = request.user.can_export_full_id
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


@permission_required("finding.view")
def review_queue(request):
    user = request.user
    form = QueueFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    section = request.GET.get("section") if request.GET.get("section") in ("C", "D") else "A"
    batch_id = filters.get("batch")
    if not batch_id:
        latest = selectors.latest_done_batch(user)
        batch_id = latest.pk if latest else None
    state = filters.get("state", "")
    if section != "C" and set(request.GET) <= {"section"}:
        state = FindingState.PENDING
    queue = selectors.review_queue(user, batch_id=batch_id, rule=filters.get("rule", ""),
                                   township=filters.get("township", ""), state=state, section=section)
    page = paginate(queue, request.GET.get("page"), 50)
    return render(request, "audits/review_queue.html", {
        "form": form, "page": page, "batch_id": batch_id, "section": section, "state": state,
        "batches": selectors.batches_for(user).filter(state=JobState.DONE).order_by("-id")[:24],
        "bulk_form": BulkDecisionForm(), "can_review": can(user, "finding.review") and section != "C",
    })


@permission_required("finding.view")
def finding_detail(request, pk):
    user = request.user
    finding = get_scoped_or_404(selectors.findings_for(user), user, pk=pk)
    household = finding.household
    fitting = services.fitting_changes(finding) if household else []
    form = DecisionForm(initial={"exit_on": timezone.localdate(), "change": next(iter(fitting), ""),
                                 "version": finding.version}, fitting=fitting)
    if request.method == "POST":
        form = DecisionForm(request.POST, fitting=fitting)
        if form.is_valid():
            version = form.cleaned_data["version"]
            try:
                if form.cleaned_data["decision"] == "dismiss":
                    services.finding_dismiss(actor=user, finding=finding, expected_version=version,
                                             **form.service_kwargs())
                else:
                    services.finding_confirm(actor=user, finding=finding, expected_version=version,
                                             **form.service_kwargs())
            except StaleVersion as exc:
                form.add_error(None, exc)
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
        "can_decide": (can(user, "finding.review") and finding.state == FindingState.PENDING
                       and (finding.section == "D" or (finding.section == "A" and household is not None))
                       and not recused),
        "full_ids": user.can_see_full_id,
    })


@permission_required("finding.review")
@require_POST
def bulk_decide(request):
    user = request.user
    form = BulkDecisionForm(request.POST)
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    findings = list(selectors.findings_for(user).filter(pk__in=ids))
    if len(findings) != len(set(ids)):
        raise Http404
    if not form.is_valid():
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
    else:
        try:
            versions = {f.pk: int(v) for f in findings if (v := request.POST.get(f"version_{f.pk}", "")).isdigit()}
            done = services.findings_bulk_decide(actor=user, findings=findings, expected_versions=versions,
                                                 decision=form.cleaned_data["decision"], **form.service_kwargs())
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _errors(exc))
        else:
            messages.success(request, _("已复核 %(n)s 条疑点") % {"n": len(done)})
    return redirect(request.POST.get("next") or reverse("audits:review_queue"))


# --- verification tasks --------------------------------------------------------------------------

@permission_required("task.view")
def task_list(request):
    user = request.user
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
    # Above a county, progress is shown per county unless townships are asked for.
    level = 6 if len(user.scope_prefix or "") < 6 and request.GET.get("level") != "9" else 9
    progress_at, progress = selectors.task_progress(user, level)
    return render(request, "audits/task_list.html", {
        "page": page, "view": view, "today": today, "progress": progress, "progress_at": progress_at,
        "level": level, "full_ids": user.can_see_full_id,
    })


@permission_required("task.view")
def task_detail(request, pk):
    user = request.user
    task = get_scoped_or_404(selectors.tasks_for(user), user, pk=pk)
    form = TaskForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            task = services.task_complete(actor=user, task=task, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            apply_service_errors(exc, form)
        else:
            if task.is_done:
                messages.success(request, _("核查任务已办结"))
            else:
                messages.warning(request, _("已记录本次入户未能联系，任务继续保留在待核查中"))
            return redirect("audits:task_list")
    findings = selectors.findings_for(user).filter(batch_id=task.last_batch_id, id_number=task.id_number)
    return render(request, "audits/task_detail.html", {
        "task": task, "form": form, "findings": findings, "full_ids": user.can_see_full_id,
        "overdue": not task.is_done and task.deadline < timezone.localdate(),
    })


# --- entry check --------------------------------------------------------------------------------

@permission_required("entry_check.run")
@require_POST
def entry_check(request):
    ids = [v for key in request.POST for v in request.POST.getlist(key) if key.endswith("id_number") and v]
    household_id = request.POST.get("household_id") or ""
    household_id = int(household_id) if household_id.isdigit() else None
    if household_id and not Household.objects.for_user(request.user).filter(pk=household_id).exists():
        raise Http404
    warnings = selectors.entry_check(id_numbers=ids, household_id=household_id)
    return render(request, "audits/_entry_warnings.html", {"warnings": warnings, "checked": bool(ids)})

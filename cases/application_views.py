"""Pages of the application (低保申请): the worklist by step, the intake form, one page per
step, the case page with its timers, evidence and timeline, and the scans' download.

Thin: the selectors of cases.application_selectors for reads (scoped; other regions are 404),
one service of cases.applications per write, errors shown next to the fields they name.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from cases import application_forms as f
from cases import application_selectors as sel
from cases import applications as svc
from cases import selectors as registry
from cases.forms import HouseholdForm, MemberFormSet
from cases.models import Application, ApplicationAttachment, Household, Member, Relation
from dibao.downloads import file_download
from dibao.forms import apply_service_errors
from dibao.pagination import paginate
from dibao.permissions import can, permission_required
from dibao.scoping import get_scoped_or_404


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    action: str                                   # the permission-table action
    form: type
    service: Callable
    transition: str                               # the Application method whose source states allow it
    ready: Callable = lambda app, day: True       # a further condition of the day (notice over …)
    css: str = "btn-outline-primary"


def _notice_running(app, day):
    return bool(app.notice_ends_on) and day <= app.notice_ends_on


def _submitted(app, day):
    return bool(app.submitted_on) and app.submitted_on <= day


STEPS = {step.key: step for step in (
    Step("visit", gettext_lazy("入户调查"), "application.visit", f.VisitForm, svc.application_visit, "mark_visited"),
    Step("appraise", gettext_lazy("民主评议"), "application.appraise", f.AppraiseForm, svc.application_appraise,
         "mark_appraised"),
    Step("propose", gettext_lazy("提出审核意见"), "application.propose", f.ProposeForm, svc.application_propose,
         "mark_proposed", css="btn-primary"),
    Step("notice", gettext_lazy("登记公示"), "application.notice", f.NoticeForm, svc.application_notice_start,
         "mark_notice", css="btn-primary"),
    Step("object", gettext_lazy("登记公示异议"), "application.notice", f.ObjectionForm, svc.application_object,
         "mark_objected", ready=_notice_running, css="btn-outline-danger"),
    Step("county_visit", gettext_lazy("县级入户核查"), "application.county_visit", f.CountyVisitForm,
         svc.application_county_visit, "mark_county_visited"),
    Step("confirm", gettext_lazy("确认批准"), "application.confirm", f.ConfirmForm, svc.application_confirm,
         "mark_approved", ready=_submitted, css="btn-success"),
    Step("refuse", gettext_lazy("不予批准"), "application.confirm", f.RefuseForm, svc.application_refuse,
         "mark_refused", ready=_submitted, css="btn-outline-danger"),
    Step("notify", gettext_lazy("登记通知家庭"), "application.notify", f.NotifyForm, svc.application_notify,
         "mark_notified"),
    Step("extend", gettext_lazy("延长办理时限"), "application.extend", f.ExtendForm, svc.application_extend,
         "mark_extended", css="btn-outline-secondary"),
)}


def available_steps(app: Application, user, day=None) -> list[Step]:
    """The steps this user may take on this case today: state (django-fsm), role and the day."""
    day = day or timezone.localdate()
    return [step for step in STEPS.values()
            if can(user, step.action) and can_proceed(getattr(app, step.transition)) and step.ready(app, day)]


def _application(request, pk: int) -> Application:
    return get_scoped_or_404(sel.applications_for(request.user), request.user, pk=pk)


# --- lists ----------------------------------------------------------------------------------------

@permission_required("application.view")
def application_list(request):
    """我的申请: by step, with what is due today and what is overdue."""
    step = request.GET.get("step", "")
    due = request.GET.get("due", "")
    day = timezone.localdate()
    rows = sel.worklist(request.user, step=step, due=due, day=day)
    page = paginate(rows, request.GET.get("page"), 50)
    for app in page.object_list:
        app.stage = sel.stage_label(app, day)
        app.timers = [t for t in sel.timers(app, day) if t.status in ("overdue", "today", "running")]
    counts = sel.worklist_counts(request.user, day)
    return render(request, "cases/application_list.html", {
        "page": page, "step": step, "due": due, "counts": counts,
        "steps": [(key, label, counts[key]) for key, (label, _q) in sel.STEP_FILTERS.items()],
        "can_accept": can(request.user, "application.accept"),
    })


# --- intake -----------------------------------------------------------------------------------------

@permission_required("application.accept")
def application_intake(request):
    """受理 at the township window: the household and its members (the registry's own form) and
    the application, saved together; the entry check and the computed amount show as one types."""
    form = HouseholdForm(request.POST or None, initial={"applied_on": timezone.localdate()})
    form.fields["applied_on"].required = False
    formset = MemberFormSet(request.POST or None, instance=Household(), queryset=Member.objects.none(),
                            prefix="members")
    accept = f.IntakeForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        valid = form.is_valid()
        if valid:
            formset.head_id_number = form.cleaned_data.get("head_id_number")
        if all([valid, formset.is_valid(), accept.is_valid()]):
            data = form.service_data()
            data.pop("applied_on", None)
            try:
                app = svc.application_intake(actor=request.user, household_data=data, members=formset.service_rows(),
                                             **accept.service_kwargs())
            except (ValidationError, PermissionDenied) as error:
                apply_service_errors(error, form, accept, fallback=accept)
            else:
                messages.success(request, _("已受理，申请编号 %(no)s") % {"no": app.tracking_no})
                return redirect("cases:application_detail", pk=app.pk)
    return render(request, "cases/application_intake.html", {"form": form, "formset": formset, "accept": accept,
                                                             "self_relation": Relation.SELF})


@permission_required("application.accept")
def application_accept(request, pk: int):
    """A new round for a household already on the registry (审核中, 已退出 or 未通过)."""
    household = get_scoped_or_404(registry.household_detail(request.user), request.user, pk=pk)
    accept = f.AcceptForm(request.POST or None, request.FILES or None)
    refuse = f.NotAcceptForm(request.POST or None, prefix="no") if request.POST.get("not_accept") else \
        f.NotAcceptForm(prefix="no")
    if request.method == "POST":
        form, service = (refuse, svc.application_not_accept) if request.POST.get("not_accept") else \
            (accept, svc.application_accept)
        if form.is_valid():
            try:
                app = service(actor=request.user, household=household, **form.service_kwargs())
            except (ValidationError, PermissionDenied) as error:
                apply_service_errors(error, form)
            else:
                messages.success(request, _("已登记，申请编号 %(no)s") % {"no": app.tracking_no})
                return redirect("cases:application_detail", pk=app.pk)
    return render(request, "cases/application_accept.html",
                  {"household": household, "accept": accept, "refuse": refuse,
                   "members": list(household.members.all())})


@permission_required("application.accept")
def application_amount_preview(request):
    """htmx: the amount the formula gives for the intake form as typed (no standard → says so)."""
    from decimal import Decimal, InvalidOperation

    from cases import benefits
    from dibao.models import natural_code

    region_code = natural_code(request.POST.get("region", ""))
    category = request.POST.get("category") or "rural"
    incomes, head_income = [], None
    for key, value in request.POST.items():
        if key.startswith("members-") and key.endswith("-monthly_income"):
            prefix = key[: -len("monthly_income")]
            if request.POST.get(prefix + "DELETE") or not request.POST.get(prefix + "name"):
                continue
            try:
                incomes.append(Decimal(value) if value.strip() else Decimal("0"))
            except InvalidOperation:
                incomes.append(Decimal("0"))
    if request.POST.get("head_name"):
        try:
            head_income = Decimal(request.POST.get("head_monthly_income") or "0")
        except InvalidOperation:
            head_income = Decimal("0")
        incomes.append(head_income)
    context = {"region_code": region_code}
    if len(region_code) >= 6 and incomes:
        standard = benefits.standard_in_force(region_code=region_code, category=category,
                                              month=timezone.localdate())
        context["standard"] = standard
        if standard:
            context["working"] = benefits.compute_amount(standard=standard.monthly_standard, incomes=incomes)
    return render(request, "cases/application_amount.html", context)


# --- the case -----------------------------------------------------------------------------------------

@permission_required("application.view")
def application_detail(request, pk: int):
    app = _application(request, pk)
    day = timezone.localdate()
    timers = sel.timers(app, day)
    amount = None
    if app.state == "visited":
        try:
            amount = svc.proposal_amount(app.household, month=day)
        except ValidationError as error:
            amount = error.messages[0]
    return render(request, "cases/application_detail.html", {
        "app": app, "stage": sel.stage_label(app, day), "timers": timers,
        "unknown_years": sel.unknown_calendar_years(timers),
        "steps": available_steps(app, request.user, day), "evidence": sel.evidence(app, request.user),
        "timeline": sel.timeline(app), "amount": amount,
        "rounds": app.household.applications.exclude(pk=app.pk).order_by("round_no"),
        "can_attach": can(request.user, "application.visit") and app.is_open,
        "attach_form": f.AttachForm(application=app),
    })


def _step_view(step: Step):
    @permission_required(step.action)
    def view(request, pk: int):
        app = _application(request, pk)
        bound = request.method == "POST"
        form = step.form(request.POST if bound else None, request.FILES if bound else None, application=app)
        if request.method == "POST" and form.is_valid():
            try:
                step.service(actor=request.user, application=app, **form.service_kwargs())
            except (ValidationError, PermissionDenied) as error:
                apply_service_errors(error, form)
            else:
                messages.success(request, _("已办理：%(step)s（%(no)s）") % {"step": step.label, "no": app.tracking_no})
                return redirect("cases:application_detail", pk=app.pk)
        context = {"app": app, "step": step, "form": form, "stage": sel.stage_label(app),
                   "open": step in available_steps(app, request.user)}
        if step.key == "propose":
            try:
                context["amount"] = svc.proposal_amount(app.household, month=timezone.localdate())
            except ValidationError as error:
                context["amount"] = error.messages[0]
            context["evidence"] = sel.evidence(app, request.user)
        if step.key in ("confirm", "refuse", "county_visit"):
            context["evidence"] = sel.evidence(app, request.user)
        return render(request, "cases/application_step.html", context)
    view.__name__ = f"application_{step.key}"
    return view


@permission_required("application.visit")
def application_attach(request, pk: int):
    app = _application(request, pk)
    form = f.AttachForm(request.POST, request.FILES, application=app)
    if request.method == "POST" and form.is_valid():
        try:
            svc.application_attach(actor=request.user, application=app, kind=form.cleaned_data["kind"],
                                   upload=form.cleaned_data["upload"])
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, "；".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, _("已上传材料"))
    elif request.method == "POST":
        messages.error(request, _("请选择材料类型和文件"))
    return redirect("cases:application_detail", pk=app.pk)


@permission_required("application.view")
def application_attachment(request, pk: int, attachment_pk: int):
    """A scan leaves only through this view: scoped, and traced with its hash (dibao.downloads)."""
    app = _application(request, pk)
    attachment = ApplicationAttachment.objects.filter(application=app, pk=attachment_pk).first()
    if attachment is None:
        raise Http404
    return file_download(actor=request.user, file=attachment.file, object_type="application", object_id=app.pk,
                         region_code=app.household.region_id,
                         name=f"{app.tracking_no}-{attachment.get_kind_display()}{PurePath(attachment.file.name).suffix}",
                         details={"attachment_id": attachment.pk})


def step_urlpatterns() -> list:
    return [path(f"applications/<int:pk>/{key.replace('_', '-')}/", _step_view(step), name=f"application_{key}")
            for key, step in STEPS.items()]

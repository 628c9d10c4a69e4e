"""Pages for staff. Thin: fetch in scope (404 outside), validate the form, call one service."""
from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dibao.downloads import fetch_for_download, file_download
from dibao.forms import apply_service_errors
from dibao.pagination import paginate
from dibao.permissions import can, permission_required, require
from dibao.scoping import get_scoped_or_404, in_scope
from complaints import exports, forms, selectors, services
from complaints.models import (
    BodyKind, CheckResult, Clue, ClueCategory, ClueState, Complaint, ComplaintAttachment, ComplaintState, HomeVisit, Hotline,
    Inspection, RectificationItem, RectificationStatus, Referral,
)


@permission_required("complaint.view", "clue.view")
def index(request):
    user = request.user
    context = {"counts": selectors.complaint_counts(user)}
    if not can(user, "complaint.view"):
        return redirect("complaints:clue_list")
    return render(request, "complaints/index.html", context)


# ---------------------------------------------------------------- complaints
@login_required
def complaint_list(request):
    require(request.user, "complaint.view")
    qs = selectors.complaints(request.user, state=request.GET.get("state", ""),
                              overdue=request.GET.get("overdue") == "1", q=request.GET.get("q", "").strip())
    page = paginate(qs, request.GET.get("page"), 50)
    return render(request, "complaints/complaint_list.html",
                  {"page": page, "states": ComplaintState.choices, "today": timezone.localdate()})


@login_required
def complaint_create(request):
    require(request.user, "complaint.handle")
    form = forms.ComplaintForm(request.POST or None, user=request.user,
                               initial={"received_on": timezone.localdate(), "channel": "phone"})
    if request.method == "POST" and form.is_valid():
        try:
            complaint = services.complaint_create(actor=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(exc, form, request=request)
        else:
            messages.success(request, _("已登记，查询码 %(code)s（请告知反映人）") % {"code": complaint.tracking_code})
            if in_scope(request.user, complaint.region_id):
                return redirect("complaints:complaint_detail", pk=complaint.pk)
            messages.info(request, _("该投诉反映工作人员问题，已转%(unit)s办理") % {"unit": complaint.owner_region.name})
            return redirect("complaints:complaint_list")
    return render(request, "complaints/complaint_form.html", {"form": form})


def _complaint(request, pk) -> Complaint:
    require(request.user, "complaint.view")
    return get_scoped_or_404(Complaint.objects.select_related("region", "owner_region", "subject_region",
                                                              "accused_region", "subject_staff"), request.user, pk=pk)


@login_required
def complaint_detail(request, pk):
    complaint = _complaint(request, pk)
    user = request.user
    is_owner = in_scope(user, complaint.owner_region_id)
    context = {
        "c": complaint,
        "identity_visible": complaint.identity_visible_to(user),
        "is_owner": is_owner,
        "assign_form": forms.AssignForm(),
        "reply_form": forms.TextForm(label=_("答复意见（公开）"), initial={"text": complaint.reply}),
        "verify_form": forms.TextForm(label=_("核查情况"), initial={"text": complaint.verification}),
        "clue_form": forms.ClueFromComplaintForm(),
        "attachments": complaint.attachments.all(),
        "clues": Clue.objects.for_user(user).filter(complaint=complaint),
        "today": timezone.localdate(),
    }
    return render(request, "complaints/complaint_detail.html", context)


@login_required
@require_POST
def complaint_action(request, pk, action):
    complaint = _complaint(request, pk)
    user = request.user
    try:
        if action == "on_spot":
            services.complaint_answer_on_spot(actor=user, complaint=complaint, reply=request.POST.get("text", ""))
            messages.success(request, _("已当场回签并办结"))
        elif action == "assign":
            form = forms.AssignForm(request.POST)
            if not form.is_valid():
                for errors in form.errors.values():
                    for e in errors:
                        messages.error(request, e)
                return redirect("complaints:complaint_detail", pk=pk)
            services.complaint_assign(actor=user, complaint=complaint, region=form.cleaned_data["region"],
                                      working_days=form.cleaned_data["working_days"])
            messages.success(request, _("已交办，办理期限 %(d)s") % {"d": complaint.deadline.isoformat()})
            if not in_scope(user, complaint.region_id):
                return redirect("complaints:complaint_list")
        elif action == "verify":
            services.complaint_verify(actor=user, complaint=complaint, verification=request.POST.get("text", ""))
            messages.success(request, _("核查情况已保存"))
        elif action == "reply":
            services.complaint_reply(actor=user, complaint=complaint, reply=request.POST.get("text", ""))
            messages.success(request, _("答复已保存，反映人可凭查询码查看"))
        elif action == "close":
            services.complaint_close(actor=user, complaint=complaint)
            messages.success(request, _("已办结"))
        elif action == "clue":
            form = forms.ClueFromComplaintForm(request.POST)
            if form.is_valid():
                clue = services.clue_create_from_complaint(actor=user, complaint=complaint,
                                                           category=form.cleaned_data["category"],
                                                           summary=form.cleaned_data["summary"])
                messages.success(request, _("已登记问题线索 %(n)s") % {"n": clue.number})
                return redirect("complaints:clue_detail", pk=clue.pk)
            messages.error(request, _("请选择问题类型"))
        else:
            raise Http404
    except ValidationError as exc:
        apply_service_errors(exc, request=request)
    return redirect("complaints:complaint_detail", pk=pk)


@login_required
@require_POST
def complaint_reveal(request, pk):
    complaint = _complaint(request, pk)
    identity = services.complaint_reveal_identity(actor=request.user, complaint=complaint)
    return render(request, "complaints/_identity.html", {"identity": identity})


@login_required
def attachment_download(request, pk):
    attachment = fetch_for_download(ComplaintAttachment.objects.select_related("complaint"), request.user,
                                    action="complaint.view", pk=pk)
    return _send(request.user, attachment, region_code=attachment.complaint.region_id)


@login_required
def clue_attachment(request, pk, attachment_pk):
    """The evidence behind a clue, for whoever may see the clue (incl. the body's inspectors)."""
    clue = fetch_for_download(Clue, request.user, action="clue.view", pk=pk)
    attachment = ComplaintAttachment.objects.filter(pk=attachment_pk, complaint_id=clue.complaint_id).first()
    if attachment is None or clue.complaint_id is None:
        raise Http404
    return _send(request.user, attachment, region_code=clue.region_id)


def _send(user, attachment: ComplaintAttachment, *, region_code: str):
    # A PDF opens in the browser's viewer; images are saved, never rendered on our origin.
    return file_download(actor=user, file=attachment.file, name=attachment.original_name,
                         object_type="complaint_attachment", object_id=attachment.pk, region_code=region_code,
                         content_type=attachment.content_type, inline=attachment.content_type == "application/pdf")


# ---------------------------------------------------------------- clues
@login_required
def clue_list(request):
    require(request.user, "clue.view")
    qs = selectors.clues(request.user, state=request.GET.get("state", ""), category=request.GET.get("category", ""),
                         q=request.GET.get("q", "").strip())
    page = paginate(qs, request.GET.get("page"), 50)
    return render(request, "complaints/clue_list.html", {"page": page, "states": ClueState.choices,
                                                         "categories": ClueCategory.choices})


@login_required
def clue_form(request, pk=None):
    require(request.user, "clue.manage")
    clue = get_scoped_or_404(Clue, request.user, pk=pk) if pk else None
    form = forms.ClueForm(request.POST or None, instance=clue, user=request.user,
                          initial=None if clue else {"received_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("staff", "version")}
        try:
            if clue:
                clue = Clue.objects.get(pk=clue.pk)  # the form mutated the instance; the service diffs
                clue = services.clue_update(actor=request.user, clue=clue, data=data,
                                            staff=list(form.cleaned_data["staff"]),
                                            expected_version=form.cleaned_data["version"])
            else:
                clue = services.clue_create(actor=request.user, data=data, staff=list(form.cleaned_data["staff"]))
        except ValidationError as exc:
            apply_service_errors(exc, form, request=request)
        else:
            messages.success(request, _("线索 %(n)s 已保存") % {"n": clue.number})
            return redirect("complaints:clue_detail", pk=clue.pk)
    return render(request, "complaints/clue_form.html", {"form": form, "clue": clue})


@login_required
def clue_detail(request, pk):
    require(request.user, "clue.view")
    return _clue_page(request, pk)


def _clue_page(request, pk, **bound):
    """The clue page; `bound` holds a form the user just sent that failed, shown again with what
    was typed and its errors (a typical case's title, summary and month are not retyped)."""
    clue = get_scoped_or_404(selectors.clue_detail_queryset(request.user), request.user, pk=pk)
    referral = getattr(clue, "referral", None)
    user = request.user
    is_body = bool(referral and can(user, "clue.outcome") and user.region_id == referral.body_region_id)
    initial = {}
    if referral:
        initial = {"investigation": referral.investigation, "outcome": referral.outcome or None,
                   "funds_recovered": referral.funds_recovered}
        initial.update({f"n_{d.kind}": d.count for d in referral.disciplines.all()})
    context = {
        "clue": clue, "referral": referral, "is_body": is_body,
        "can_manage": can(user, "clue.manage"), "can_refer": can(user, "clue.refer"),
        "can_mark_typical": can(user, "typical_case.mark"),
        "refer_form": forms.ReferForm(initial={"body_region": clue.region_id[:6]}),
        "outcome_form": forms.OutcomeForm(initial=initial),
        "typical_form": forms.TypicalCaseForm(),
        "conclude_form": forms.TextForm(label=_("办理情况")),
        "typical": getattr(clue, "typical_case", None),
    }
    context.update(bound)
    return render(request, "complaints/clue_detail.html", context, status=400 if bound else 200)


@login_required
@require_POST
def clue_action(request, pk, action):
    require(request.user, "clue.view")
    clue = get_scoped_or_404(Clue.objects.select_related("region"), request.user, pk=pk)
    user = request.user
    posted = request.POST.get("version", "")
    version = int(posted) if posted.isdigit() else None  # what the clue page showed
    try:
        if action == "refer":
            form = forms.ReferForm(request.POST)
            if form.is_valid():
                services.clue_refer(actor=user, clue=clue, body_region=form.cleaned_data["body_region"],
                                    body_name=form.cleaned_data["body_name"], note=form.cleaned_data["note"],
                                    body_kind=form.cleaned_data["body_kind"] or BodyKind.COMMISSION,
                                    expected_version=version)
                messages.success(request, _("已移交纪检监察机关"))
            else:
                messages.error(request, _("请选择乡镇（街道）或以上的纪检监察机关所在区划"))
        elif action == "conclude":
            services.clue_conclude_directly(actor=user, clue=clue, handling=request.POST.get("text", ""),
                                            expected_version=version)
            messages.success(request, _("线索已办结"))
        elif action == "outcome":
            referral = _referral(clue)
            form = forms.OutcomeForm(request.POST)
            if form.is_valid():
                services.referral_record(actor=user, referral=referral,
                                         investigation=form.cleaned_data["investigation"],
                                         outcome=form.cleaned_data["outcome"],
                                         funds_recovered=form.cleaned_data["funds_recovered"],
                                         disciplines=form.disciplines(), expected_version=version)
                messages.success(request, _("调查结果已保存"))
            else:
                for field, errors in form.errors.items():
                    label = form.fields[field].label if field in form.fields else ""
                    for e in errors:
                        messages.error(request, f"{label}：{e}" if label else e)
        elif action == "close":
            services.referral_conclude(actor=user, referral=_referral(clue), expected_version=version)
            messages.success(request, _("线索已办结，移交单位可查看结果"))
        elif action == "typical":
            form = forms.TypicalCaseForm(request.POST)
            if not form.is_valid():
                return _clue_page(request, pk, typical_form=form)
            try:
                services.typical_case_mark(actor=user, clue=clue, title=form.cleaned_data["title"],
                                           summary=form.cleaned_data["summary"], month=form.cleaned_data["month"])
            except ValidationError as exc:
                apply_service_errors(exc, form)
                return _clue_page(request, pk, typical_form=form)
            messages.success(request, _("已列为典型案例"))
        else:
            raise Http404
    except ValidationError as exc:
        apply_service_errors(exc, request=request)
    return redirect("complaints:clue_detail", pk=pk)


def _referral(clue) -> Referral:
    referral = Referral.objects.filter(clue=clue).first()
    if referral is None:
        raise ValidationError(_("该线索尚未移交纪检监察机关"))
    return referral


@login_required
def typical_list(request):
    require(request.user, "clue.view")
    month = None
    if request.GET.get("month"):
        try:
            month = dt.date.fromisoformat(request.GET["month"] + "-01")
        except ValueError:
            messages.error(request, _("月份格式应为 YYYY-MM"))
    qs = selectors.typical_cases(request.user, month=month)
    page = paginate(qs, request.GET.get("page"), 50)
    return render(request, "complaints/typical_list.html", {"page": page, "month": request.GET.get("month", "")})


# ---------------------------------------------------------------- rectification
@login_required
def rectification_list(request):
    require(request.user, "rectification.view")
    qs = selectors.rectifications(request.user, status=request.GET.get("status", ""),
                                  overdue=request.GET.get("overdue") == "1")
    page = paginate(qs, request.GET.get("page"), 50)
    return render(request, "complaints/rectification_list.html",
                  {"page": page, "statuses": RectificationStatus.choices, "today": timezone.localdate()})


@login_required
def rectification_create(request):
    require(request.user, "rectification.create")
    form = forms.RectificationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            item = services.rectification_create(actor=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(exc, form, request=request)
        else:
            messages.success(request, _("整改事项 %(n)s 已登记") % {"n": item.number})
            return redirect("complaints:rectification_detail", pk=item.pk)
    return render(request, "complaints/rectification_form.html", {"form": form})


@login_required
def rectification_detail(request, pk):
    require(request.user, "rectification.view")
    item = get_scoped_or_404(RectificationItem.objects.select_related("region", "clue", "closed_by"), request.user,
                             pk=pk)
    form = forms.RectificationProgressForm(request.POST or None, initial={"progress": item.progress,
                                                                          "evidence": item.evidence})
    if request.method == "POST":
        try:
            if request.POST.get("action") == "close":
                services.rectification_close(actor=request.user, item=item)
                messages.success(request, _("已对账销号"))
                return redirect("complaints:rectification_detail", pk=pk)
            if form.is_valid():
                services.rectification_update(actor=request.user, item=item, **form.cleaned_data)
                messages.success(request, _("整改进展已保存"))
                return redirect("complaints:rectification_detail", pk=pk)
        except ValidationError as exc:
            apply_service_errors(exc, form, request=request)
    return render(request, "complaints/rectification_detail.html",
                  {"item": item, "form": form, "today": timezone.localdate(),
                   "can_close": can(request.user, "rectification.close")})


# ---------------------------------------------------------------- hotlines and dial tests
@login_required
def hotline_list(request):
    require(request.user, "hotline.view")
    return render(request, "complaints/hotline_list.html", {
        "hotlines": selectors.hotlines(request.user),
        "by_hotline": selectors.dial_stats_by_hotline(request.user),
        "by_county": selectors.dial_stats_by_county(request.user),
        "can_edit": can(request.user, "hotline.manage"),
        "can_dial": can(request.user, "dial_test.record"),
    })


@login_required
def hotline_form(request, pk=None):
    require(request.user, "hotline.manage")
    hotline = get_scoped_or_404(Hotline, request.user, pk=pk) if pk else None
    form = forms.HotlineForm(request.POST or None, instance=hotline)
    if request.method == "POST" and form.is_valid():
        try:
            services.hotline_save(actor=request.user, data=form.cleaned_data,
                                  hotline=Hotline.objects.get(pk=pk) if pk else None)
        except ValidationError as exc:
            apply_service_errors(exc, form, request=request)
        else:
            messages.success(request, _("投诉举报电话已保存"))
            return redirect("complaints:hotline_list")
    return render(request, "complaints/simple_form.html", {"form": form, "title": _("投诉举报电话")})


@login_required
def dial_test_list(request):
    require(request.user, "hotline.view")
    page = paginate(selectors.dial_tests(request.user), request.GET.get("page"), 50)
    return render(request, "complaints/dial_test_list.html", {"page": page})


@login_required
def dial_test_create(request):
    require(request.user, "dial_test.record")
    form = forms.DialTestForm(request.POST or None, user=request.user,
                              initial={"called_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.dial_test_record(actor=request.user, hotline=data["hotline"], called_at=data["called_at"],
                                      number=data["number"], answered=data["answered"],
                                      handled_properly=data["handled_properly"], notes=data["notes"])
        except ValidationError as exc:
            apply_service_errors(exc, form, request=request)
        else:
            messages.success(request, _("拨打记录已保存"))
            return redirect("complaints:dial_test_list")
    return render(request, "complaints/simple_form.html", {"form": form, "title": _("登记拨打督导")})


# ---------------------------------------------------------------- spot checks
@login_required
def inspection_list(request):
    require(request.user, "inspection.view")
    page = paginate(selectors.inspections(request.user), request.GET.get("page"), 50)
    return render(request, "complaints/inspection_list.html",
                  {"page": page, "can_create": can(request.user, "inspection.manage")})


@login_required
def inspection_create(request):
    require(request.user, "inspection.manage")
    form = forms.InspectionForm(request.POST or None, initial={"inspected_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            inspection = services.inspection_create(actor=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(exc, form, request=request)
        else:
            return redirect("complaints:inspection_detail", pk=inspection.pk)
    return render(request, "complaints/simple_form.html", {"form": form, "title": _("新建督查"), "picker": True})


@login_required
def inspection_detail(request, pk):
    require(request.user, "inspection.view")
    inspection = get_scoped_or_404(Inspection.objects.select_related("region", "checklist"), request.user, pk=pk)
    can_edit = can(request.user, "inspection.manage")
    items = list(inspection.checklist.items.all())
    existing = {r.item_id: r for r in inspection.results.all()}
    sample_form = forms.SampleForm(request.POST if request.POST.get("action") == "sample" else None)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "results":
                results = {}
                for item in items:
                    value = request.POST.get(f"r_{item.pk}", "")
                    if value:
                        results[item.pk] = (value, request.POST.get(f"note_{item.pk}", "")[:300])
                services.inspection_record_results(actor=request.user, inspection=inspection, results=results,
                                                   summary=request.POST.get("summary", ""))
                messages.success(request, _("检查结果已保存"))
                return redirect("complaints:inspection_detail", pk=pk)
            if request.POST.get("action") == "sample" and sample_form.is_valid():
                d = sample_form.cleaned_data
                services.sample_draw(actor=request.user, inspection=inspection, township=d["township"],
                                     count=d["count"], percent=d["percent"], seed=d["seed"])
                messages.success(request, _("已抽取入户样本"))
                return redirect("complaints:inspection_detail", pk=pk)
        except ValidationError as exc:
            apply_service_errors(exc, sample_form if request.POST.get("action") == "sample" else None,
                                 request=request)
    rows = [(item, existing.get(item.pk)) for item in items]
    return render(request, "complaints/inspection_detail.html", {
        "inspection": inspection, "rows": rows, "can_edit": can_edit, "results": CheckResult.choices,
        "samples": selectors.samples(inspection), "sample_form": sample_form, "visit_form": forms.VisitForm(),
    })


@login_required
@require_POST
def visit_record(request, pk):
    visit = get_scoped_or_404(HomeVisit.objects.select_related("sample"), request.user, pk=pk)
    require(request.user, "inspection.manage")
    form = forms.VisitForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("请填写走访结果和走访日期"))
        services.visit_record(actor=request.user, visit=visit, **form.cleaned_data)
        messages.success(request, _("走访结果已保存"))
    except ValidationError as exc:
        apply_service_errors(exc, request=request)
    return redirect("complaints:inspection_detail", pk=visit.sample.inspection_id)


# ---------------------------------------------------------------- exports
@login_required
def export(request, kind):
    needs = {"clues": "export.clues", "typical": "export.clues", "rectification": "export.rectification",
             "dial_tests": "export.rectification"}
    if kind not in needs:
        raise Http404
    require(request.user, needs[kind])
    return exports.download(request.user, kind)

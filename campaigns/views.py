"""Campaign pages: list, create, detail with per-township progress, the township's villages and
sign-off, and the village worklist where the township enters records row by row (htmx)."""
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns import selectors, services
from campaigns.forms import CampaignForm, RecordForm, ReturnForm
from dibao.forms import apply_service_errors
from dibao.models import Region
from dibao.permissions import can, permission_required


@permission_required("campaign.view")
def campaign_list(request):
    campaigns = list(selectors.campaigns_for(request.user))
    for c in campaigns:
        c.progress = selectors.total_progress(c, within=selectors.user_within(request.user, c))
    return render(request, "campaigns/campaign_list.html", {"campaigns": campaigns})


@permission_required("campaign.create")
def campaign_create(request):
    form = CampaignForm(request.POST or None, initial={"region": request.user.region_id})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        region = data.pop("region")
        try:
            campaign = services.campaign_create(actor=request.user, region_code=region.code, **data)
        except (ValidationError, PermissionDenied) as exc:
            apply_service_errors(exc, form)
        else:
            messages.success(request, _("已发起排查活动，排查名单共 %(n)d 户") % {
                "n": selectors.total_progress(campaign).households_total})
            return redirect("campaigns:detail", pk=campaign.pk)
    return render(request, "campaigns/campaign_form.html", {"form": form})


@permission_required("campaign.view")
def campaign_detail(request, pk: int):
    campaign = selectors.campaign_or_404(request.user, pk)
    within = selectors.user_within(request.user, campaign)
    return render(request, "campaigns/campaign_detail.html", {
        "campaign": campaign, "total": selectors.total_progress(campaign, within=within),
        "townships": selectors.township_rows(request.user, campaign),
        "within_name": Region.objects.filter(code=within).values_list("name", flat=True).first(),
        "can_recompute": can(request.user, "campaign.create", region_code=campaign.region_id)})


@require_POST
@permission_required("campaign.create")
def campaign_recompute(request, pk: int):
    campaign = selectors.campaign_or_404(request.user, pk)
    try:
        added = services.campaign_recompute(actor=request.user, campaign=campaign)
    except (ValidationError, PermissionDenied) as exc:
        apply_service_errors(exc, request=request)
    else:
        messages.success(request, _("已补充 %(n)d 户进入排查名单（原有名单不变）") % {"n": added})
    return redirect("campaigns:detail", pk=campaign.pk)


@require_POST
@permission_required("campaign.create")
def campaign_close(request, pk: int):
    campaign = selectors.campaign_or_404(request.user, pk)
    try:
        services.campaign_close(actor=request.user, campaign=campaign)
    except (ValidationError, PermissionDenied) as exc:
        apply_service_errors(exc, request=request)
    else:
        messages.success(request, _("排查活动“%(name)s”已结束，排查记录和各乡镇确认结果不再变动") % {"name": campaign.name})
    return redirect("campaigns:detail", pk=campaign.pk)


@permission_required("campaign.view")
def township_detail(request, pk: int, township: str):
    campaign = selectors.campaign_or_404(request.user, pk)
    row = selectors.township_row(request.user, campaign, township)
    return render(request, "campaigns/township.html", {
        "campaign": campaign, "township": row, "villages": selectors.village_rows(request.user, campaign, row.code),
        "return_form": ReturnForm(initial={"version": row.signoff.version if row.signoff else None})})


def _village_or_404(request, campaign, village: str) -> Region:
    region = Region.objects.for_user(request.user).filter(
        code=village, level=Region.Level.VILLAGE, code__startswith=campaign.region_id).first()
    if region is None:
        raise Http404
    return region


def _record_form(entry, data=None) -> RecordForm:
    record = getattr(entry, "record", None) if entry.pk else None
    initial = {"screened_on": timezone.localdate(), "result": "no_problem"}
    if record is not None:
        link = next((f"{name}:{getattr(record, name + '_id')}" for name in ("application", "clue", "finding")
                     if getattr(record, name + "_id")), "")
        initial = {"screened_on": record.screened_on, "screeners": record.screeners, "result": record.result,
                   "problem_types": record.problem_types, "handling": record.handling, "note": record.note,
                   "link": link, "version": record.version}
    return RecordForm(data, initial=initial, links=entry.links, prefix=f"e{entry.pk}")


@permission_required("campaign.view")
def village_worklist(request, pk: int, village: str):
    campaign = selectors.campaign_or_404(request.user, pk)
    region = _village_or_404(request, campaign, village)
    entries = selectors.worklist(request.user, campaign, region.code)
    for entry in entries:
        entry.form = _record_form(entry)
    township = selectors.township_row(request.user, campaign, region.code[:9])
    return render(request, "campaigns/worklist.html", {
        "campaign": campaign, "village": region, "township": township, "entries": entries,
        "can_screen": can(request.user, "campaign.screen", region_code=region.code)})


@require_POST
@permission_required("campaign.screen")
def record_save(request, pk: int, entry: int):
    """One worklist row, posted by htmx on Enter; answers with the row re-rendered."""
    campaign = selectors.campaign_or_404(request.user, pk)
    found = selectors.entry_or_404(request.user, campaign, entry)
    row = next(e for e in selectors.worklist(request.user, campaign, found.village_code) if e.pk == found.pk)
    form = _record_form(row, request.POST)
    saved = False
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.screening_record_save(
                actor=request.user, campaign_household=row, screened_on=data["screened_on"],
                screeners=data["screeners"], result=data["result"], problem_types=data["problem_types"],
                handling=data["handling"], note=data["note"], expected_version=data["version"], **form.link_ids())
        except (ValidationError, PermissionDenied) as exc:
            apply_service_errors(exc, form)
        else:
            row = next(e for e in selectors.worklist(request.user, campaign, found.village_code) if e.pk == found.pk)
            form, saved = _record_form(row), True
    row.form = form
    return render(request, "campaigns/_worklist_row.html", {"campaign": campaign, "entry": row, "saved": saved,
                                                            "can_screen": True})


@require_POST
@permission_required("campaign.signoff")
def signoff_submit(request, pk: int, township: str):
    campaign = selectors.campaign_or_404(request.user, pk)
    row = selectors.township_row(request.user, campaign, township)
    try:
        services.signoff_submit(actor=request.user, campaign=campaign, township_code=row.code)
    except (ValidationError, PermissionDenied) as exc:
        apply_service_errors(exc, request=request)
    else:
        messages.success(request, _("%(name)s 已确认上报排查结果") % {"name": row.name})
    return redirect("campaigns:township", pk=campaign.pk, township=row.code)


@require_POST
@permission_required("campaign.accept")
def signoff_decide(request, pk: int, township: str, decision: str):
    campaign = selectors.campaign_or_404(request.user, pk)
    signoff = selectors.signoff_or_404(request.user, campaign, township)
    form = ReturnForm(request.POST)
    form.is_valid()
    version = form.cleaned_data.get("version")
    try:
        if decision == "accept":
            services.signoff_accept(actor=request.user, signoff=signoff, expected_version=version)
            messages.success(request, _("已确认该乡镇的排查结果"))
        else:
            services.signoff_return(actor=request.user, signoff=signoff, reason=form.cleaned_data.get("reason", ""),
                                    expected_version=version)
            messages.success(request, _("已退回该乡镇的排查结果"))
    except (ValidationError, PermissionDenied) as exc:
        apply_service_errors(exc, request=request)
    return redirect("campaigns:township", pk=campaign.pk, township=signoff.township_code)

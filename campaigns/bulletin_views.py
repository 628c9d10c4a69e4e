"""Pages of a campaign's progress and daily bulletins (日调度日通报), and the summons (约谈)."""
from __future__ import annotations

import hashlib
import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns import dispatch, dispatch_selectors, progress, selectors
from campaigns.bulletin_export import write_bulletin_workbook
from campaigns.dispatch_forms import SummonsForm
from dibao.audit import audit_record
from dibao.downloads import download_name
from dibao.forms import apply_service_errors
from dibao.models import Region
from dibao.permissions import can, permission_required
from dibao.spreadsheets import XLSX_CONTENT_TYPE


def _rows(snapshot: dict, delta: dict) -> list[dict]:
    """The bulletin's rows for the template, each with its change and shortfall said in words."""
    out = []
    for row in [*snapshot["children"], snapshot["region"]]:
        f = row["figures"]
        out.append({**row, "change": delta.get(row["code"]), "standing_label": progress.standing_label(row["standing"]),
                    "shortfall_text": progress.describe_shortfall(row),
                    "townships_percent": progress.percent(f["townships_screened"], f["townships_total"]),
                    "households_percent": progress.percent(f["households_screened"], f["households_total"])})
    return out


@permission_required("campaign.view")
def progress_page(request, pk):
    """Live progress of the campaign for the user's part of it, one row per region one level below."""
    campaign = selectors.campaign_or_404(request.user, pk)
    within = selectors.user_within(request.user, campaign)
    asked = request.GET.get("region", "")
    if asked.startswith(within) and Region.objects.filter(code=asked).exists():
        within = asked
    day = timezone.localdate()
    figures = progress.figures_by_region(campaign, day, within=within)
    region = Region.objects.get(code=within)
    snapshot = progress.bulletin_snapshot(campaign, (region.code, region.name), progress.child_regions(within),
                                          figures, day, [])
    return render(request, "campaigns/bulletin_progress.html", {
        "campaign": campaign, "region": region, "day": day, "rows": _rows(snapshot, {}),
        "elapsed_percent": round(100 * snapshot["elapsed_share"], 1), "figures": progress.FIGURES,
        "problems_by_type": sorted(snapshot["region"]["figures"]["problems_by_type"].items()),
        "drill": len(within) < 9})


@permission_required("bulletin.view")
def bulletin_list(request, pk):
    campaign = selectors.campaign_or_404(request.user, pk)
    bulletins = dispatch_selectors.bulletins_for(request.user, campaign)
    days = list(bulletins.order_by("-day").values_list("day", flat=True).distinct()[:60])
    day = request.GET.get("day")
    shown = [b for b in bulletins.filter(day=day).order_by("region_code")] if day else \
        dispatch_selectors.latest_bulletins(request.user, campaign)
    return render(request, "campaigns/bulletin_list.html", {
        "campaign": campaign, "days": days, "bulletins": shown,
        "can_make": can(request.user, "bulletin.make", region_code=campaign.region_id),
        "summonses": dispatch_selectors.summonses_for(request.user, campaign)[:50]})


@require_POST
@permission_required("bulletin.make")
def bulletin_make(request, pk):
    campaign = selectors.campaign_or_404(request.user, pk)
    try:
        made = dispatch.bulletins_make(actor=request.user, campaign=campaign, day=timezone.localdate())
    except (ValidationError, PermissionDenied) as error:
        apply_service_errors(error, request=request)
    else:
        messages.success(request, _("已生成今日通报 %(n)d 份（已有的保持不变）") % {"n": made})
    return redirect("campaigns:bulletin_list", pk=campaign.pk)


@permission_required("bulletin.view")
def bulletin_detail(request, pk):
    bulletin = dispatch_selectors.bulletin_or_404(request.user, pk)
    campaign = bulletin.campaign
    previous = dispatch_selectors.previous_bulletin(bulletin)
    snapshot = bulletin.snapshot
    rows = _rows(snapshot, progress.change(snapshot, previous.snapshot if previous else None))
    children = rows[:-1]
    return render(request, "campaigns/bulletin_detail.html", {
        "campaign": campaign, "bulletin": bulletin, "previous": previous, "rows": rows,
        "behind": [r for r in children if r["standing"] == progress.Standing.BEHIND],
        "late": [r for r in children if r["standing"] == progress.Standing.LATE],
        "reports": [{**r, "label": dispatch_selectors.ReportState.LABELS[r["state"]]} for r in snapshot["reports"]],
        "elapsed_percent": round(100 * snapshot["elapsed_share"], 1), "figures": progress.FIGURES,
        "summonses": dispatch_selectors.summonses_for(request.user, campaign).filter(
            region__code__startswith=bulletin.region_code),
        "can_summon": can(request.user, "summons.record")})


@permission_required("bulletin.view")
def bulletin_workbook(request, pk):
    """The bulletin as the 进度通报 workbook, written from its frozen snapshot; the download is audited."""
    bulletin = dispatch_selectors.bulletin_or_404(request.user, pk)
    buffer = io.BytesIO()
    write_bulletin_workbook(bulletin, dispatch_selectors.previous_bulletin(bulletin), buffer,
                            exported_by=request.user.get_username())
    content = buffer.getvalue()
    name = download_name(f"{bulletin.snapshot['region']['name']}日调度通报{bulletin.day:%Y%m%d}.xlsx", "bulletin.xlsx")
    audit_record(actor=request.user, action="export.bulletin", object_type="bulletin", object_id=bulletin.pk,
                 region_code=bulletin.region_code,
                 after={"file": name, "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)})
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = _attachment(name)
    return response


def _attachment(name: str) -> str:
    from django.utils.http import content_disposition_header

    return content_disposition_header(True, name)


def _summons_regions(user, campaign) -> list[tuple[str, str]]:
    """The regions of the campaign a supervisor may summon: below their own region, down to townships."""
    within = selectors.user_within(user, campaign)
    regions = (Region.objects.filter(code__startswith=within, level__lte=Region.Level.TOWNSHIP)
               .exclude(code=user.region_id or "").order_by("code").values_list("code", "name"))
    return [(code, f"{name}（{code}）") for code, name in regions]


@permission_required("summons.record")
def summons_create(request, pk):
    campaign = selectors.campaign_or_404(request.user, pk)
    regions = _summons_regions(request.user, campaign)
    form = SummonsForm(request.POST or None, regions=regions,
                       initial={"region": request.GET.get("region", ""), "held_on": timezone.localdate(),
                                "reason": request.GET.get("reason", "")})
    if request.method == "POST" and form.is_valid():
        try:
            data = dict(form.cleaned_data)
            dispatch.summons_record(actor=request.user, campaign=campaign, region_code=data.pop("region"), **data)
        except (ValidationError, PermissionDenied) as error:
            apply_service_errors(error, form)
        else:
            messages.success(request, _("约谈记录已登记"))
            return redirect("campaigns:bulletin_list", pk=campaign.pk)
    return render(request, "campaigns/bulletin_summons_form.html", {"campaign": campaign, "form": form},
                  status=400 if form.errors else 200)

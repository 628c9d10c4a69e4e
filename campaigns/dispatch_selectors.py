"""Reads of a campaign's dispatch: bulletins, summons, reports owed and who has sent them."""
from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy

from campaigns.models import Bulletin, Campaign, ReportRequest, ReportSubmission, Summons
from dibao.models import Region
from dibao.scoping import get_scoped_or_404


class ReportState:
    SUBMITTED = "submitted"
    LATE = "late"
    MISSING = "missing"  # the due date has passed with nothing uploaded
    PENDING = "pending"  # not yet due, nothing uploaded

    LABELS = {SUBMITTED: gettext_lazy("已按时报送"), LATE: gettext_lazy("逾期报送"),
              MISSING: gettext_lazy("逾期未报"), PENDING: gettext_lazy("未报送（未到期）")}


# --- bulletins ---------------------------------------------------------------------------------

def bulletins_for(user, campaign: Campaign):
    return Bulletin.objects.for_user(user).filter(campaign=campaign)


def bulletin_or_404(user, pk: int) -> Bulletin:
    return get_scoped_or_404(Bulletin.objects.select_related("campaign"), user, pk=pk)


def previous_bulletin(bulletin: Bulletin) -> Bulletin | None:
    """The region's bulletin of the working day before (the task makes none on holidays)."""
    return (Bulletin.objects.filter(campaign_id=bulletin.campaign_id, region_code=bulletin.region_code,
                                    day__lt=bulletin.day).order_by("-day").first())


def latest_bulletins(user, campaign: Campaign) -> list[Bulletin]:
    """The newest day's bulletins the user may read, the user's own region first."""
    newest = bulletins_for(user, campaign).order_by("-day").values_list("day", flat=True).first()
    if newest is None:
        return []
    return list(bulletins_for(user, campaign).filter(day=newest).order_by("region_code"))


def summonses_for(user, campaign: Campaign):
    return Summons.objects.for_user(user).filter(campaign=campaign).select_related("region", "recorded_by")


# --- reports owed upward ------------------------------------------------------------------------

def requests_for(user):
    return ReportRequest.objects.for_user(user).select_related("region", "campaign", "created_by")


def request_or_404(user, pk: int) -> ReportRequest:
    return get_scoped_or_404(requests_for(user), user, pk=pk)


def submission_or_404(user, pk: int) -> ReportSubmission:
    return get_scoped_or_404(ReportSubmission.objects.select_related("request"), user, pk=pk)


def _state(first_on_time, first_late, due_on: dt.date, day: dt.date) -> str:
    if first_on_time:
        return ReportState.SUBMITTED
    if first_late:
        return ReportState.LATE
    return ReportState.MISSING if day > due_on else ReportState.PENDING


def report_rows(request: ReportRequest, *, day: dt.date, within: str = "") -> list[dict]:
    """One row per region owing the report (inside `within`): its state and uploads, newest first."""
    owing = Region.objects.filter(code__startswith=within or request.region_id, level=request.owed_by_level)
    if within and not within.startswith(request.region_id):
        owing = owing.filter(code__startswith=request.region_id)
    uploads: dict[str, list[ReportSubmission]] = {}
    for s in request.submissions.select_related("uploaded_by").order_by("-uploaded_at"):
        uploads.setdefault(s.region_code, []).append(s)
    rows = []
    for region in owing.order_by("code"):
        mine = uploads.get(region.code, [])
        state = _state(any(not s.late for s in mine), any(s.late for s in mine), request.due_on, day)
        rows.append({"region": region, "state": state, "label": ReportState.LABELS[state], "uploads": mine})
    return rows


def owed_report_rows(*, within: str, day: dt.date) -> list[dict]:
    """The reports owed by regions inside `within` that are late or missing on `day`, for the bulletin."""
    requests = (ReportRequest.objects.filter(due_on__lt=day)
                .filter(region_id__in=[within[:n] for n in (2, 4, 6) if n <= len(within)])
                | ReportRequest.objects.filter(due_on__lt=day, region__code__startswith=within))
    out = []
    for request in requests.distinct().order_by("due_on", "id"):
        for row in report_rows(request, day=day, within=within if len(within) > len(request.region_id) else ""):
            if row["state"] in (ReportState.LATE, ReportState.MISSING):
                out.append({"request": request.pk, "title": request.title, "due_on": request.due_on.isoformat(),
                            "region_code": row["region"].code, "region_name": row["region"].name,
                            "state": row["state"]})
    return out

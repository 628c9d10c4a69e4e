"""Reads of the reports app, scoped to the user's jurisdiction."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.http import Http404
from django.utils import timezone

from cases.models import Household, Member
from dibao.models import Region, User
from dibao.scoping import get_scoped_or_404
from dibao.summaries import shared_summary
from reports import metrics
from reports.models import ExportJob, RollupRow, RollupRun
from reports.rollup import check_level_sums, level_of, normalise

DASHBOARD_LEVELS = (Region.Level.PROVINCE, Region.Level.CITY, Region.Level.COUNTY, Region.Level.TOWNSHIP)
TREND_MONTHS = 12


def rollup_rows(user: User, *, month: dt.date, level: str = "", prefix: str = ""):
    qs = RollupRow.objects.for_user(user).filter(month=month)
    if level:
        qs = qs.filter(level=level)
    if prefix:
        qs = qs.filter(region_code__startswith=prefix)
    return qs.order_by("region_code")


def dashboard_region(user: User, code: str | None) -> Region:
    """The region a dashboard shows: `code` inside the user's scope, else the user's own region."""
    if code:
        region = get_scoped_or_404(Region, user, code=code)
    elif user.region_id:
        region = user.region
    else:
        region = Region.objects.filter(level=Region.Level.PROVINCE).order_by("code").first()
        if region is None:
            raise Http404
    if region.level not in DASHBOARD_LEVELS:
        raise Http404
    return region


def months_with_snapshot(region: Region) -> list[dt.date]:
    return list(RollupRow.objects.filter(region_code=region.code).order_by("-month")
                .values_list("month", flat=True)[:36])


@dataclass
class Dashboard:
    region: Region
    month: dt.date | None
    months: list[dt.date]
    live: bool = False
    row: RollupRow | None = None
    trend: list[tuple[dt.date, RollupRow | None]] = field(default_factory=list)
    children: list[RollupRow] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    runs: list[RollupRun] = field(default_factory=list)
    ancestors: list[Region] = field(default_factory=list)
    computed_at: dt.datetime | None = None  # live figures: when they were computed

    @property
    def review_done(self) -> int:
        return (self.row.findings_confirmed + self.row.findings_dismissed) if self.row else 0

    @property
    def month_query(self) -> str:
        """The query string that keeps a link on this month; none for the live current month."""
        return "" if self.live or self.month is None else f"?month={self.month:%Y-%m}"


def _shift(month: dt.date, months: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def live_rows(region: Region, *, today: dt.date) -> dict[str, RollupRow]:
    """The current month up to `today` for the region and its subtree, computed as the snapshot
    would compute it but not stored: unsaved rows, so the page reads them like snapshot rows."""
    month = today.replace(day=1)
    regions = dict(Region.objects.filter(level__lte=Region.Level.TOWNSHIP, code__startswith=region.code)
                   .values_list("code", "name"))
    computed = metrics.subtree_figures(start=month, end=today, scope=region.code, regions=set(regions))
    return {code: RollupRow(month=month, region_code=code, level=level_of(code), region_name=name,
                            findings_by_rule=computed.rules[code], **normalise(computed.values[code]))
            for code, name in regions.items()}


def dashboard(user: User, *, region_code: str | None = None, month: str | None = None) -> Dashboard:
    """A month of the region: by default the current month, live; a month picked from the list
    is read from its frozen snapshot (the current month too, once someone has frozen it)."""
    region = dashboard_region(user, region_code)
    months = months_with_snapshot(region)
    today = timezone.localdate()
    current = today.replace(day=1)
    chosen = None
    if month:
        try:
            chosen = metrics.parse_month(month)
        except ValueError:
            chosen = None
    live = chosen is None or (chosen == current and chosen not in months)
    chosen = chosen or current
    scope = user.scope_prefix or ""
    board = Dashboard(region=region, month=chosen, months=months, live=live,
                      ancestors=[r for r in region.ancestors() if r.code.startswith(scope) or not scope])
    child_codes = list(Region.objects.filter(parent_id=region.code, level__in=DASHBOARD_LEVELS)
                       .values_list("code", flat=True))
    first = _shift(chosen, -(TREND_MONTHS - 1))
    by_month = {r.month: r for r in RollupRow.objects.filter(region_code=region.code, month__range=(first, chosen))}
    if live:
        board.computed_at, rows = shared_summary(f"dashboard:{region.code}:{today:%Y%m%d}",
                                                 lambda: live_rows(region, today=today))
        board.row = by_month[current] = rows[region.code]
        board.children = [rows[code] for code in sorted(child_codes)]
    else:
        board.row = RollupRow.objects.filter(month=chosen, region_code=region.code).select_related("run").first()
        board.children = list(RollupRow.objects.filter(month=chosen, region_code__in=child_codes)
                              .order_by("region_code"))
        board.problems = check_level_sums(RollupRow.objects.filter(month=chosen, region_code__startswith=region.code))
        board.runs = list(RollupRun.objects.filter(month=chosen).order_by("-computed_at")[:5])
    board.trend = [(m, by_month.get(m)) for m in (_shift(first, i) for i in range(TREND_MONTHS))]
    return board


def export_jobs(user: User):
    """The user's own export jobs (files carry the requester's ID-number rights)."""
    return ExportJob.objects.for_user(user).filter(requested_by=user)


def export_job(user: User, pk: int) -> ExportJob:
    return get_scoped_or_404(export_jobs(user), user, pk=pk)


# --- public notice (公示) ---------------------------------------------------------------

NOTICE_LEVELS = (Region.Level.TOWNSHIP, Region.Level.VILLAGE)


def notice_county(code: str) -> Region | None:
    return Region.objects.filter(code=code, level=Region.Level.COUNTY).first()


def notice_region(code: str) -> Region:
    try:
        region = Region.objects.get(code=code)
    except Region.DoesNotExist:
        raise Http404
    if region.level not in NOTICE_LEVELS:
        raise Http404
    return region


def notice_households(region_code: str, on: dt.date):
    """Households in dibao on `on` registered exactly at `region_code`: name, persons, amount, cause.

    Only the columns the notice shows are read, so no ID number ever reaches the template.
    """
    from django.db.models import Count

    return (Household.objects.filter(metrics.active_at(on), region_id=region_code)
            .annotate(persons=Count("members")).order_by("household_no")
            .values("household_no", "head_name", "persons", "monthly_amount", "poverty_cause"))


def notice_villages(township: Region, on: dt.date) -> list[dict]:
    from django.db.models import Count, Sum

    counts = {row["region_id"]: row for row in Household.objects.filter(
        metrics.active_at(on), region__code__startswith=township.code).values("region_id").order_by("region_id")
        .annotate(households=Count("id"), amount=Sum("monthly_amount"))}
    persons = dict(Member.objects.filter(metrics.active_at(on, "household__"),
                                         household__region__code__startswith=township.code)
                   .values("household__region_id").order_by("household__region_id")
                   .annotate(n=Count("id")).values_list("household__region_id", "n"))
    villages = []
    for village in Region.objects.filter(parent_id=township.code).order_by("code"):
        row = counts.get(village.code, {})
        villages.append({"region": village, "households": row.get("households", 0),
                         "persons": persons.get(village.code, 0), "amount": row.get("amount") or 0})
    return villages


"""The long-term public notice (长期公示) as dated editions (seed 004: 镇按季度、村（居）委会按月更新).

A village's notice is released monthly and a township's quarterly; each edition freezes the
rows the public reads (`NoticeRelease.rows`), so a household that changes after the release
changes the next edition, never the published one. A caseworker or the county releases an
edition by hand; the beat task `reports.tasks.notice_release_due` releases whatever is due.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dibao.audit import audit_record
from dibao.models import Region
from dibao.permissions import require
from reports import selectors
from reports.models import NoticeRelease

VILLAGE, TOWNSHIP = 12, 9


def period_of(region_code: str, day: dt.date) -> str:
    """`2026-03` for a village (monthly), `2026-Q1` for a township (quarterly)."""
    if len(region_code) == VILLAGE:
        return f"{day:%Y-%m}"
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _money(value) -> str:
    return str(Decimal(value or 0).quantize(Decimal("0.01")))


def live_rows(region: Region, day: dt.date) -> dict:
    """What the notice of `region` shows on `day`, as the JSON an edition keeps (no ID numbers:
    the selectors read only the columns a notice shows)."""
    households = [{"head_name": h["head_name"], "persons": h["persons"], "poverty_cause": h["poverty_cause"],
                   "monthly_amount": _money(h["monthly_amount"])}
                  for h in selectors.notice_households(region.code, day)]
    rows = {"households": households}
    if len(region.code) == TOWNSHIP:
        rows["villages"] = [{"code": v["region"].code, "name": v["region"].name, "households": v["households"],
                             "persons": v["persons"], "amount": _money(v["amount"])}
                            for v in selectors.notice_villages(region, day)]
    return rows


def _release(*, actor, region: Region, day: dt.date) -> NoticeRelease:
    period = period_of(region.code, day)
    try:
        with transaction.atomic():
            release = NoticeRelease.objects.create(region_code=region.code, period=period, released_on=day,
                                                   rows=live_rows(region, day),
                                                   released_by=actor if getattr(actor, "pk", None) else None)
    except IntegrityError:
        raise ValidationError(_("%(name)s %(period)s 期公示已经发布，已发布的期次不能更改；下一期到期后再发布") % {
            "name": region.name, "period": period}) from None
    audit_record(actor=actor, action="notice.release", object_type="noticerelease", object_id=release.pk,
                 region_code=region.code,
                 after={"period": period, "released_on": day, "households": len(release.rows["households"])})
    return release


@transaction.atomic
def notice_release(*, actor, region_code: str, day: dt.date | None = None) -> NoticeRelease:
    """Release this period's edition of a village's or township's notice."""
    region = Region.objects.filter(code=region_code).first()
    if region is None or len(region.code) not in (VILLAGE, TOWNSHIP):
        raise ValidationError({"region": _("长期公示按村（居）和乡镇（街道）发布，%(code)s 不是村或乡镇") % {
            "code": region_code}})
    require(actor, "notice.release", region_code=region.code)
    return _release(actor=actor, region=region, day=day or timezone.localdate())


def notice_release_due(*, day: dt.date, within: str = "") -> int:
    """Release every edition due on `day`: each village and township with households in dibao
    whose current period has no edition yet. Returns how many were released."""
    from cases.models import Household
    from reports.metrics import active_at

    villages = set(Household.objects.filter(active_at(day), region__code__startswith=within)
                   .values_list("region_id", flat=True).distinct().order_by())
    wanted = {code for code in villages if len(code) == VILLAGE} | {code[:TOWNSHIP] for code in villages}
    released = set(NoticeRelease.objects.filter(
        region_code__in=wanted, period__in=[period_of("0" * VILLAGE, day), period_of("0" * TOWNSHIP, day)])
        .values_list("region_code", flat=True))
    made = 0
    for region in Region.objects.filter(code__in=wanted - released).order_by("code"):
        try:
            with transaction.atomic():
                _release(actor="system", region=region, day=day)
        except ValidationError:
            continue  # released by hand a moment ago
        made += 1
    return made


# --- reads ----------------------------------------------------------------------------------------

def releases_of(region_code: str):
    return NoticeRelease.objects.filter(region_code=region_code).order_by("-period")


def release_overview(user, *, within: str, day: dt.date) -> list[dict]:
    """The townships (or, `within` a township, the township and its villages) of the user's region,
    each with its latest edition and whether this period's is out."""
    regions = Region.objects.for_user(user, within=within)
    if len(within) >= TOWNSHIP or (user.region_id and len(user.region_id) >= TOWNSHIP):
        regions = regions.filter(level__in=(Region.Level.TOWNSHIP, Region.Level.VILLAGE))
    else:
        regions = regions.filter(level=Region.Level.TOWNSHIP)
    regions = list(regions.order_by("code")[:500])
    latest: dict[str, NoticeRelease] = {}
    for release in NoticeRelease.objects.filter(region_code__in=[r.code for r in regions]).order_by("period"):
        latest[release.region_code] = release
    return [{"region": r, "latest": latest.get(r.code), "period": period_of(r.code, day),
             "due": getattr(latest.get(r.code), "period", None) != period_of(r.code, day)} for r in regions]

"""The progress figures of a campaign for every region of its area (campaigns.md, "Progress and
daily bulletin"; the figures of seed 000's report), and where each region stands against the
screening deadline.

Every source is one GROUP BY on the township code (9 digits; a filing or clue recorded above
township level keeps its shorter code); `figures_by_region` adds them up every code prefix
once, so a province's bulletin for all its counties and cities costs the same queries as one.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

from django.db.models import CharField, Count, Q
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.models import Campaign, Handling, ScreeningRecord, ScreeningResult
from campaigns.selectors import region_progress
from dibao.models import CODE_LENGTHS, Region
from dibao.workdays import working_days_between

# key → label, in the order of the bulletin (seed 000: 已排查乡镇、近亲属备案、不符合条件未退出、线索、移交、处分)
FIGURES = [
    ("townships_total", gettext_lazy("乡镇总数")),
    ("townships_screened", gettext_lazy("已排查乡镇")),
    ("households_total", gettext_lazy("排查对象（户）")),
    ("households_screened", gettext_lazy("已排查（户）")),
    ("problems", gettext_lazy("发现问题（户）")),
    ("handled", gettext_lazy("已处理")),
    ("unhandled", gettext_lazy("未处理")),
    ("relatives_filed", gettext_lazy("近亲属备案（人）")),
    ("ineligible_not_exited", gettext_lazy("不符合条件未退出（户）")),
    ("clues_received", gettext_lazy("问题线索（条）")),
    ("clues_transferred", gettext_lazy("移交纪检监察（条）")),
    ("persons_disciplined", gettext_lazy("处理处分（人）")),
]
KEYS = [key for key, _label in FIGURES]
# A handling that is carried out by a step (change or application) or by a clue: the problem
# counts as handled once the record links to it; the others are handled by being recorded.
NEEDS_STEP = (Handling.ADJUST, Handling.STOP, Handling.EXIT, Handling.ADMIT)
NEEDS_CLUE = (Handling.CLUE,)


def started_on(campaign: Campaign) -> dt.date:
    return timezone.localtime(campaign.created_at).date()


def _township(expr: str) -> Substr:
    return Substr(expr, 1, 9, output_field=CharField())


def _problem_figures(campaign: Campaign) -> dict[str, dict]:
    handled = (Q(handling__in=NEEDS_STEP, application__isnull=False) | Q(handling__in=NEEDS_CLUE, clue__isnull=False)
               | (~Q(handling__in=(*NEEDS_STEP, *NEEDS_CLUE)) & ~Q(handling="")))
    rows = (ScreeningRecord.objects.filter(campaign_household__campaign=campaign, result=ScreeningResult.PROBLEM)
            .annotate(t=_township("campaign_household__township_code")).values("t").order_by("t")
            .annotate(problems=Count("id"), handled=Count("id", filter=handled)))
    return {r["t"]: {"problems": r["problems"], "handled": r["handled"],
                     "unhandled": r["problems"] - r["handled"]} for r in rows}


def _ineligible_not_exited(campaign: Campaign, day: dt.date) -> dict[str, dict]:
    """Households still in dibao on `day` that a confirmed finding or the campaign's own record
    (停发 / 退出) found ineligible."""
    from audits.models import Finding, FindingState
    from cases.models import Household
    from reports.metrics import active_at

    confirmed = Finding.objects.filter(state=FindingState.CONFIRMED, household__isnull=False).values("household_id")
    to_exit = ScreeningRecord.objects.filter(campaign_household__campaign=campaign,
                                             handling__in=(Handling.STOP, Handling.EXIT)
                                             ).values("campaign_household__household_id")
    rows = (Household.objects.filter(active_at(day), region__code__startswith=campaign.region_id)
            .filter(Q(id__in=confirmed) | Q(id__in=to_exit))
            .annotate(t=_township("region_id")).values("t").order_by("t").annotate(n=Count("id")))
    return {r["t"]: {"ineligible_not_exited": r["n"]} for r in rows}


def _township_figures(campaign: Campaign, day: dt.date, within: str) -> list[dict[str, dict]]:
    from complaints import selectors as complaints_selectors
    from reports import metrics

    listed = {code: {"households_total": p.households_total, "households_screened": p.households_screened,
                     "townships_total": p.townships_total, "townships_screened": p.townships_screened,
                     "problems_by_type": p.problems_by_type}
              for code, p in region_progress(campaign, length=9, within=within).items()}
    filings = {code: {"relatives_filed": v.get("relatives_filed_total", 0)}
               for code, v in metrics.filing_figures(start=started_on(campaign), end=day).items()}
    keep = ("clues_received", "clues_transferred", "persons_disciplined")
    clues = {code: {k: v.get(k, 0) for k in keep}
             for code, v in complaints_selectors.rollup_metrics(start=started_on(campaign), end=day).items()}
    return [listed, _problem_figures(campaign), filings, _ineligible_not_exited(campaign, day), clues]


def zero() -> dict:
    return {**{key: 0 for key in KEYS}, "problems_by_type": {}}


def figures_by_region(campaign: Campaign, day: dt.date, *, within: str = "") -> dict[str, dict]:
    """Region code → figures, for the campaign's region (or `within`, a region inside it) and
    every province, city, county and township inside that has any."""
    area = within if within.startswith(campaign.region_id) else campaign.region_id
    out: dict[str, dict] = defaultdict(zero)
    for source in _township_figures(campaign, day, area):
        for code, values in source.items():
            if not code.startswith(area):
                continue  # a filing or clue elsewhere, or recorded above the campaign's region
            for n in CODE_LENGTHS:
                if len(area) <= n <= len(code):
                    target = out[code[:n]]
                    for key, value in values.items():
                        if key == "problems_by_type":
                            for kind, count in value.items():
                                target[key][kind] = target[key].get(kind, 0) + count
                        else:
                            target[key] += value or 0
    return dict(out)


# --- against the screening deadline -----------------------------------------------------------

class Standing:
    DONE = "done"
    ON_TRACK = "on_track"
    BEHIND = "behind"
    LATE = "late"
    NOT_APPLICABLE = "not_applicable"

    LABELS = {DONE: gettext_lazy("已完成"), ON_TRACK: gettext_lazy("按进度"), BEHIND: gettext_lazy("进度滞后"),
              LATE: gettext_lazy("逾期未完成"), NOT_APPLICABLE: gettext_lazy("不适用")}


def elapsed_share(campaign: Campaign, day: dt.date) -> float:
    """The share of the screening period gone by on `day`, in working days (1 from the deadline on)."""
    total = working_days_between(started_on(campaign), campaign.screening_deadline)
    if total <= 0 or day >= campaign.screening_deadline:
        return 1.0
    return max(0, working_days_between(started_on(campaign), day)) / total


def standing(figures: dict, *, share_elapsed: float, past_deadline: bool) -> tuple[str, int]:
    """(standing, shortfall in households) of one region: *behind* while its share of households
    screened is below the share of the period elapsed, *late* after the deadline with households
    unscreened or townships not signed off (campaigns.md)."""
    total, screened = figures["households_total"], figures["households_screened"]
    if not total:
        return Standing.NOT_APPLICABLE, 0
    work_missing = screened < total or figures["townships_screened"] < figures["townships_total"]
    if not work_missing:
        return Standing.DONE, 0
    if past_deadline:
        return Standing.LATE, total - screened
    expected = math.ceil(share_elapsed * total)
    if screened < expected:
        return Standing.BEHIND, expected - screened
    return Standing.ON_TRACK, 0


def percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def child_regions(code: str) -> list[tuple[str, str]]:
    """The regions one level below a county, city or province, by code."""
    return list(Region.objects.filter(parent_id=code).order_by("code").values_list("code", "name"))


def bulletin_snapshot(campaign: Campaign, region: tuple[str, str], children: list[tuple[str, str]],
                      figures: dict[str, dict], day: dt.date, reports: list[dict]) -> dict:
    """The frozen content of one region's bulletin (JSON)."""
    share = elapsed_share(campaign, day)
    past = day > campaign.screening_deadline
    rows = []
    for code, name in children:
        values = figures.get(code) or zero()
        state, shortfall = standing(values, share_elapsed=share, past_deadline=past)
        rows.append({"code": code, "name": name, "figures": values, "standing": state, "shortfall": shortfall})
    values = figures.get(region[0]) or zero()
    state, shortfall = standing(values, share_elapsed=share, past_deadline=past)
    return {"region": {"code": region[0], "name": region[1], "figures": values, "standing": state,
                       "shortfall": shortfall},
            "children": rows, "elapsed_share": round(share, 4), "deadline": campaign.screening_deadline.isoformat(),
            "reports": reports}


def standing_label(value: str) -> str:
    return str(Standing.LABELS.get(value, value))


def change(current: dict, previous: dict | None) -> dict:
    """Per region code: the figures' change since the previous bulletin (None: no previous one)."""
    if previous is None:
        return {}
    before = {row["code"]: row["figures"] for row in previous["children"]}
    before[previous["region"]["code"]] = previous["region"]["figures"]
    out = {}
    for row in [current["region"], *current["children"]]:
        old = before.get(row["code"]) or zero()
        out[row["code"]] = {key: row["figures"].get(key, 0) - old.get(key, 0) for key in KEYS}
    return out


def describe_shortfall(row: dict) -> str:
    if row["standing"] == Standing.LATE:
        return _("尚有 %(n)d 户未排查") % {"n": row["shortfall"]} if row["shortfall"] else \
            _("尚有 %(n)d 个乡镇未确认上报") % {"n": row["figures"]["townships_total"]
                                             - row["figures"]["townships_screened"]}
    if row["standing"] == Standing.BEHIND:
        return _("按时间进度应再排查 %(n)d 户") % {"n": row["shortfall"]}
    return ""

"""Reads of screening campaigns, scoped to the user, and the progress counts other parts
(the campaign pages, the daily bulletin) are built from.

Progress is a GROUP BY on code prefixes of the list's township/village codes: the list holds
them, so no join to the registry or the region tree is needed for the counts.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import CharField, Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Substr

from campaigns.models import (Campaign, CampaignHousehold, ScreeningRecord, ScreeningResult, SignoffState,
                              TownshipSignoff)
from dibao.models import Region
from dibao.scoping import get_scoped_or_404

SCREENED_STATES = (SignoffState.SUBMITTED, SignoffState.ACCEPTED)


def campaigns_for(user):
    return Campaign.objects.for_user(user).select_related("region", "created_by")


def campaign_or_404(user, pk: int) -> Campaign:
    return get_scoped_or_404(campaigns_for(user), user, pk=pk)


def user_within(user, campaign: Campaign) -> str:
    """The part of the campaign's region the user sees: the campaign's region, or the user's own
    when it lies below (a township caseworker looking at a county campaign)."""
    prefix = user.scope_prefix or ""
    return prefix if prefix.startswith(campaign.region_id) else campaign.region_id


def _prefix(expr: str, length: int) -> Substr:
    return Substr(expr, 1, length, output_field=CharField())


@dataclass
class Progress:
    households_total: int = 0
    households_screened: int = 0
    townships_total: int = 0          # townships with a non-empty list
    townships_screened: int = 0       # of those, submitted or accepted (not returned)
    townships_not_applicable: int = 0  # townships of the region with nothing to screen (不适用)
    problems_by_type: dict = field(default_factory=dict)

    @property
    def households_percent(self) -> float:
        return round(100 * self.households_screened / self.households_total, 1) if self.households_total else 0.0

    @property
    def townships_percent(self) -> float:
        return round(100 * self.townships_screened / self.townships_total, 1) if self.townships_total else 0.0


def region_progress(campaign: Campaign, *, length: int, within: str = "") -> dict[str, Progress]:
    """Progress of the campaign per region at one level (code length 2, 4, 6 or 9), inside `within`
    (a region code; empty = the campaign's whole region)."""
    within = within or campaign.region_id
    out: dict[str, Progress] = defaultdict(Progress)
    listed = CampaignHousehold.objects.filter(campaign=campaign, village_code__startswith=within)
    for row in (listed.annotate(code=_prefix("village_code", length)).values("code").order_by("code")
                .annotate(total=Count("id"), screened=Count("record"),
                          townships=Count("township_code", distinct=True))):
        p = out[row["code"]]
        p.households_total, p.households_screened, p.townships_total = row["total"], row["screened"], row["townships"]
    non_empty = listed.values("township_code")
    for row in (TownshipSignoff.objects.filter(campaign=campaign, township_code__startswith=within,
                                               state__in=SCREENED_STATES, township_code__in=non_empty)
                .annotate(code=_prefix("township_code", length)).values("code").order_by("code")
                .annotate(n=Count("id"))):
        out[row["code"]].townships_screened = row["n"]
    for row in (Region.objects.filter(code__startswith=within, level=Region.Level.TOWNSHIP)
                .exclude(code__in=listed.values("township_code").distinct())
                .annotate(prefix=_prefix("code", length)).values("prefix").order_by("prefix")
                .annotate(n=Count("code"))):
        out[row["prefix"]].townships_not_applicable = row["n"]
    for row in (ScreeningRecord.objects.filter(campaign_household__campaign=campaign,
                                               campaign_household__village_code__startswith=within)
                .exclude(problem_types=[]).annotate(code=_prefix("campaign_household__village_code", length))
                .values("code", "problem_types")):
        counts = out[row["code"]].problems_by_type
        for kind in row["problem_types"]:
            counts[kind] = counts.get(kind, 0) + 1
    return dict(out)


def total_progress(campaign: Campaign, *, within: str = "") -> Progress:
    within = within or campaign.region_id
    return region_progress(campaign, length=len(within), within=within).get(within, Progress())


@dataclass
class TownshipRow:
    code: str
    name: str
    progress: Progress
    signoff: TownshipSignoff | None

    @property
    def not_applicable(self) -> bool:
        return not self.progress.households_total

    @property
    def screened(self) -> bool:
        return bool(self.signoff and self.signoff.state in SCREENED_STATES and not self.not_applicable)


def township_rows(user, campaign: Campaign) -> list[TownshipRow]:
    within = user_within(user, campaign)
    progress = region_progress(campaign, length=9, within=within)
    signoffs = {s.township_code: s for s in TownshipSignoff.objects.filter(campaign=campaign,
                                                                          township_code__startswith=within)}
    townships = Region.objects.filter(code__startswith=within, level=Region.Level.TOWNSHIP).order_by("code")
    return [TownshipRow(r.code, r.name, progress.get(r.code, Progress()), signoffs.get(r.code)) for r in townships]


def township_row(user, campaign: Campaign, township_code: str) -> TownshipRow:
    from django.http import Http404

    township = Region.objects.for_user(user).filter(code=township_code, level=Region.Level.TOWNSHIP,
                                                    code__startswith=campaign.region_id).first()
    if township is None:
        raise Http404
    progress = region_progress(campaign, length=9, within=township.code).get(township.code, Progress())
    signoff = TownshipSignoff.objects.filter(campaign=campaign, township_code=township.code).first()
    return TownshipRow(township.code, township.name, progress, signoff)


@dataclass
class VillageRow:
    code: str
    name: str
    total: int
    screened: int


def village_rows(user, campaign: Campaign, township_code: str) -> list[VillageRow]:
    rows = (CampaignHousehold.objects.for_user(user).filter(campaign=campaign, township_code=township_code)
            .values("village_code").order_by("village_code").annotate(total=Count("id"), screened=Count("record")))
    names = dict(Region.objects.filter(code__startswith=township_code).values_list("code", "name"))
    return [VillageRow(r["village_code"], names.get(r["village_code"], r["village_code"]), r["total"], r["screened"])
            for r in rows]


def worklist(user, campaign: Campaign, village_code: str) -> list[CampaignHousehold]:
    """The village's households on the list, each with `.open_findings` (pending or confirmed)
    and `.links` (the applications and clues its handling can point to)."""
    from audits.models import Finding, FindingState

    entries = list(CampaignHousehold.objects.for_user(user).filter(campaign=campaign, village_code=village_code)
                   .select_related("household", "record").order_by("household__household_no", "population"))
    ids = [e.household_id for e in entries]
    findings = defaultdict(list)
    for f in (Finding.objects.filter(household_id__in=ids,
                                     state__in=[FindingState.PENDING, FindingState.CONFIRMED])
              .order_by("household_id", "-batch_id", "rule")):
        if all(f.rule != seen.rule for seen in findings[f.household_id]):
            findings[f.household_id].append(f)
    links = link_options(ids)
    for e in entries:
        e.open_findings = findings.get(e.household_id, [])
        e.links = links.get(e.household_id, [])
    return entries


def link_options(household_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """household id → [(value, label)] of what a record's handling may link to: the household's
    applications and change steps, its findings, and the clues those findings were referred as."""
    from audits.models import Finding
    from cases.models import Application

    out: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for app in Application.objects.filter(household_id__in=household_ids).order_by("household_id", "-id"):
        out[app.household_id].append((f"application:{app.pk}", f"申请/变更 {app.tracking_no}（{app.get_state_display()}）"))
    for f in (Finding.objects.filter(household_id__in=household_ids).filter(Q(state="confirmed") | Q(clue_id__isnull=False))
              .order_by("household_id", "-id")):
        out[f.household_id].append((f"finding:{f.pk}", f"疑点 {f.rule_name}（{f.get_state_display()}）"))
        if f.clue_id:
            out[f.household_id].append((f"clue:{f.clue_id}", f"线索 #{f.clue_id}"))
    return out


def records_for(user, campaign: Campaign):
    return (ScreeningRecord.objects.for_user(user).filter(campaign_household__campaign=campaign)
            .select_related("campaign_household__household"))


def entry_or_404(user, campaign: Campaign, pk: int) -> CampaignHousehold:
    return get_scoped_or_404(CampaignHousehold.objects.filter(campaign=campaign).select_related("household"),
                             user, pk=pk)


def signoff_or_404(user, campaign: Campaign, township_code: str) -> TownshipSignoff:
    return get_scoped_or_404(TownshipSignoff.objects.filter(campaign=campaign), user, township_code=township_code)


# --- the screening workbook's result columns (reports.md v2) ---------------------------------

def screening_form_annotations(*, annex: str, start, end) -> dict:
    """Annotations for a Household queryset that `screening_form_cells` reads: `record_id`, the pk
    of its record for one annex of the screening form in the latest campaign whose period for this
    annex is [start, end] (None: not screened), and `flagged`, whether it has an open or confirmed
    finding.

    Correlated lookups through the list's and the findings' household indexes, so the workbook's
    one streaming query carries them: looking records up by a chunk's household ids made
    PostgreSQL walk the whole campaign's list once per chunk (46 × 0.2 s for one county of a
    province campaign), and most households have no finding to look up at all."""
    from audits.models import Finding, FindingState

    period = {
        "active": Q(campaign_household__campaign__active_end=end),
        "exited": Q(campaign_household__campaign__exited_from=start, campaign_household__campaign__exited_to=end),
        "rejected": Q(campaign_household__campaign__rejected_from=start,
                      campaign_household__campaign__rejected_to=end),
    }[annex]
    record = (ScreeningRecord.objects.filter(period, campaign_household__household=OuterRef("pk"),
                                             campaign_household__population=annex)
              .order_by("-campaign_household__campaign_id").values("pk")[:1])
    return {"record_id": Subquery(record),
            "flagged": Exists(Finding.objects.filter(household=OuterRef("pk"),
                                                     state__in=[FindingState.PENDING, FindingState.CONFIRMED]))}


def screening_form_cells(rows: list[dict]) -> dict[int, tuple[str, str, str]]:
    """household id → (排查结果, 问题类型, 处理情况) for rows carrying `id` and the
    `screening_form_annotations`.

    From the household's record; otherwise from findings and their reviews. A finding confirmed
    after the record was made wins (its decision is the later one), so 无问题 never stands beside
    a confirmed finding and 处理情况 is never empty beside a problem.
    """
    from django.db.models import Max

    from audits.models import Finding, FindingState
    from audits.selectors import household_findings_summary

    records = {r["pk"]: r for r in ScreeningRecord.objects.filter(
        pk__in=[row["record_id"] for row in rows if row["record_id"] is not None]).order_by().values(
        "pk", "result", "problem_types", "handling", "recorded_at")}
    flagged = [row["id"] for row in rows if row["flagged"]]
    findings = household_findings_summary(flagged) if flagged else {}
    confirmed_at = dict(Finding.objects.filter(household_id__in=flagged, state=FindingState.CONFIRMED)
                        .values("household_id").order_by().annotate(at=Max("decided_at"))
                        .values_list("household_id", "at"))
    problem, no_problem = str(ScreeningResult.PROBLEM.label), str(ScreeningResult.NO_PROBLEM.label)
    out = {}
    for row in rows:
        hid = row["id"]
        rules, decided = findings.get(hid, ([], ""))
        record = records.get(row["record_id"])
        later = record is not None and confirmed_at.get(hid) and confirmed_at[hid] > record["recorded_at"]
        if record is not None and not later:
            out[hid] = (str(ScreeningResult(record["result"]).label), "、".join(record["problem_types"]),
                        record["handling"])
        elif record is not None:
            types = list(dict.fromkeys([*record["problem_types"], *rules]))
            out[hid] = (problem, "、".join(types), decided)
        elif rules:
            out[hid] = (problem, "、".join(rules), decided or str(FindingState.PENDING.label))
        else:
            out[hid] = (no_problem, "", "")
    return out

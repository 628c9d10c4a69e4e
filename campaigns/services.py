"""Writes of screening campaigns (spec/campaigns.md). Each service re-fetches its row under
select_for_update, checks role and jurisdiction against that row, writes, and leaves an audit
record in the same transaction; pages, the API and the `screenings` import all come here or
share these rules."""
from __future__ import annotations

import datetime as dt
from functools import partial

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import CharField, Value
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import (Campaign, CampaignHousehold, CampaignState, Handling, Population, ProblemType,
                              ScreeningRecord, ScreeningResult, SignoffState, TownshipSignoff)
from dibao.audit import audit_record, diff, model_snapshot
from dibao.bulk import analyze
from dibao.concurrency import check_version
from dibao.models import Region
from dibao.permissions import require

ORGANISING_LEVELS = (Region.Level.PROVINCE, Region.Level.CITY, Region.Level.COUNTY)
_UNTRACED = ("recorded_at", "version")


# --- campaign and its list ------------------------------------------------------------------

def _population_querysets(campaign: Campaign) -> dict[str, object]:
    """The three annexes of the screening form (reports.md) for the campaign's periods."""
    from cases.models import Household, Status
    from reports.metrics import active_at

    base = Household.objects.for_region(campaign.region_id)
    return {
        Population.ACTIVE: base.filter(active_at(campaign.active_end)),
        Population.EXITED: base.filter(exited_on__range=(campaign.exited_from, campaign.exited_to)),
        Population.REJECTED: base.filter(status=Status.REJECTED,
                                         applied_on__range=(campaign.rejected_from, campaign.rejected_to)),
    }


def _fill_list(campaign: Campaign, *, by_recompute: bool) -> int:
    """INSERT … SELECT over the registry, one statement per population; rows already on the list
    stay as they are (ON CONFLICT DO NOTHING), so a recompute only ever adds."""
    now = timezone.now()
    table = CampaignHousehold._meta.db_table
    columns = "campaign_id, household_id, population, township_code, village_code, added_at, added_by_recompute"
    added = 0
    for population, queryset in _population_querysets(campaign).items():
        select = queryset.order_by().values_list(
            Value(campaign.pk), "id", Value(str(population), output_field=CharField()),
            Substr("region_id", 1, 9, output_field=CharField()), "region_id",
            Value(now), Value(by_recompute))
        sql, params = select.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} ({columns}) {sql} "
                           f"ON CONFLICT (campaign_id, household_id, population) DO NOTHING", params)
            added += cursor.rowcount
    # Once committed (not while holding the audit chain's lock): a province's list is the
    # first rows of the table, and its progress pages must not be planned for a handful.
    transaction.on_commit(partial(analyze, table), robust=True)
    return added


def _check_periods(data: dict) -> None:
    errors = {}
    if data["exited_from"] > data["exited_to"]:
        errors["exited_to"] = _("退出截止日期不能早于退出起始日期")
    if data["rejected_from"] > data["rejected_to"]:
        errors["rejected_to"] = _("申请未通过截止日期不能早于起始日期")
    if data["reporting_deadline"] < data["screening_deadline"]:
        errors["reporting_deadline"] = _("报送截止日期不能早于排查截止日期")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def campaign_create(*, actor, name: str, region_code: str, active_end: dt.date, exited_from: dt.date,
                    exited_to: dt.date, rejected_from: dt.date, rejected_to: dt.date,
                    screening_deadline: dt.date, reporting_deadline: dt.date) -> Campaign:
    """A campaign for a county, city or province, with its list of households fixed now."""
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        raise ValidationError({"region": _("区划代码 %(code)s 不存在") % {"code": region_code}})
    require(actor, "campaign.create", region_code=region.code)
    if region.level not in ORGANISING_LEVELS:
        raise ValidationError({"region": _("排查活动由县（市、区）、市或省组织：%(name)s 是乡镇或村，请选择其上级县")
                               % {"name": region.name}})
    data = dict(active_end=active_end, exited_from=exited_from, exited_to=exited_to, rejected_from=rejected_from,
                rejected_to=rejected_to, screening_deadline=screening_deadline,
                reporting_deadline=reporting_deadline)
    _check_periods(data)
    campaign = Campaign.objects.create(name=name.strip(), region=region, created_by=_user_or_none(actor), **data)
    listed = _fill_list(campaign, by_recompute=False)
    audit_record(actor=actor, action="campaign.create", object_type="campaign", object_id=campaign.pk,
                 region_code=region.code, after={**model_snapshot(campaign, exclude=("version",)), "listed": listed})
    return campaign


@transaction.atomic
def campaign_recompute(*, actor, campaign: Campaign) -> int:
    """Add the households that entered a population since the list was fixed; returns how many."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    require(actor, "campaign.create", region_code=campaign.region_id)
    _require_running(campaign)
    added = _fill_list(campaign, by_recompute=True)
    audit_record(actor=actor, action="campaign.recompute", object_type="campaign", object_id=campaign.pk,
                 region_code=campaign.region_id, after={"added": added})
    return added


@transaction.atomic
def campaign_close(*, actor, campaign: Campaign, expected_version: int | None = None) -> Campaign:
    """Ends the campaign once every township with households on its list has had its sign-off
    accepted; from then on its records, list and sign-offs are the campaign's record and no longer change."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    require(actor, "campaign.create", region_code=campaign.region_id)
    _require_running(campaign)
    check_version(campaign, expected_version, label=_("排查活动"))
    accepted = TownshipSignoff.objects.filter(campaign=campaign, state=SignoffState.ACCEPTED).values("township_code")
    pending = sorted(set(CampaignHousehold.objects.filter(campaign=campaign).exclude(township_code__in=accepted)
                         .values_list("township_code", flat=True)))
    if pending:
        names = list(Region.objects.filter(code__in=pending[:5]).order_by("code").values_list("name", flat=True))
        raise ValidationError(_("还有 %(n)d 个乡镇的排查结果未经确认（%(names)s%(more)s），全部确认后才能结束排查活动") % {
            "n": len(pending), "names": "、".join(names), "more": _("等") if len(pending) > 5 else ""})
    campaign.state = CampaignState.CLOSED
    campaign.version += 1
    campaign.save(update_fields=["state", "version"])
    audit_record(actor=actor, action="campaign.close", object_type="campaign", object_id=campaign.pk,
                 region_code=campaign.region_id, before={"state": CampaignState.RUNNING},
                 after={"state": CampaignState.CLOSED})
    return campaign


def _user_or_none(actor):
    return actor if getattr(actor, "pk", None) else None


def _require_running(campaign: Campaign) -> None:
    if campaign.state != CampaignState.RUNNING:
        raise ValidationError(_("排查活动“%(name)s”已结束，不能再修改") % {"name": campaign.name})


# --- screening records ----------------------------------------------------------------------

def contradictions(*, result: str, problem_types: list[str], handling: str) -> dict[str, str]:
    """The in-row contradictions of campaigns.md, keyed by field; the import reports the same ones."""
    errors = {}
    if result == ScreeningResult.PROBLEM:
        if not problem_types:
            errors["problem_types"] = _("排查结果为“存在问题”时必须填写问题类型")
        if not handling:
            errors["handling"] = _("排查结果为“存在问题”时必须填写处理情况")
    elif result == ScreeningResult.NO_PROBLEM:
        if problem_types:
            errors["problem_types"] = _("排查结果为“无问题”时不应填写问题类型（%(types)s）") % {
                "types": "、".join(problem_types)}
        if handling and handling != Handling.CONTINUE:
            errors["handling"] = _("排查结果为“无问题”时处理情况只能为空或“继续享受”，不能是“%(h)s”") % {"h": handling}
    unknown = [t for t in problem_types if t not in ProblemType.values]
    if unknown:
        errors["problem_types"] = _("问题类型“%(t)s”不在本次排查的类型中") % {"t": "、".join(unknown)}
    return errors


def confirmed_finding_names(household_id: int) -> list[str]:
    from audits.models import Finding, FindingState

    found = Finding.objects.filter(household_id=household_id, state=FindingState.CONFIRMED).order_by("rule")
    return list(dict.fromkeys(f.rule_name for f in found))


def _require_open_township(campaign_household: CampaignHousehold) -> None:
    signoff = TownshipSignoff.objects.filter(campaign_id=campaign_household.campaign_id,
                                             township_code=campaign_household.township_code).first()
    if signoff is not None and signoff.counts_as_screened:
        raise ValidationError(_("本乡镇已%(state)s排查结果，记录不能再修改；如需更正，请县级退回后再改")
                              % {"state": signoff.get_state_display()})


def _check_links(entry: CampaignHousehold, *, application_id, clue_id, finding_id) -> None:
    from audits.models import Finding
    from cases.models import Application
    from complaints.models import Clue

    household = entry.household
    errors = {}
    if application_id and not Application.objects.filter(pk=application_id, household_id=household.pk).exists():
        errors["application"] = _("关联的申请/变更不是户编号 %(no)s 的") % {"no": household.household_no}
    if finding_id and not Finding.objects.filter(pk=finding_id, household_id=household.pk).exists():
        errors["finding"] = _("关联的疑点不是户编号 %(no)s 的") % {"no": household.household_no}
    if clue_id:
        finding_clues = Finding.objects.filter(household_id=household.pk, clue_id=clue_id)
        if not (finding_clues.exists() or Clue.objects.filter(
                pk=clue_id, finding_id__in=Finding.objects.filter(household_id=household.pk).values("id")).exists()):
            errors["clue"] = _("关联的线索不是由户编号 %(no)s 的疑点移交的") % {"no": household.household_no}
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def screening_record_save(*, actor, campaign_household: CampaignHousehold, screened_on: dt.date, screeners: str,
                          result: str, problem_types: list[str], handling: str, note: str = "",
                          application_id: int | None = None, clue_id: int | None = None,
                          finding_id: int | None = None, expected_version: int | None = None) -> ScreeningRecord:
    """Create or update the household's record on the campaign's list."""
    entry = (CampaignHousehold.objects.select_for_update().select_related("campaign", "household")
             .get(pk=campaign_household.pk))
    require(actor, "campaign.screen", region_code=entry.village_code)
    _require_running(entry.campaign)
    _require_open_township(entry)
    problem_types = list(dict.fromkeys(problem_types or []))
    label = _("户编号 %(no)s") % {"no": entry.household.household_no}
    errors = contradictions(result=result, problem_types=problem_types, handling=handling or "")
    if result == ScreeningResult.NO_PROBLEM and (confirmed := confirmed_finding_names(entry.household_id)):
        errors["result"] = _("%(label)s 有已核实属实的疑点（%(rules)s），排查结果不能为“无问题”") % {
            "label": label, "rules": "、".join(confirmed)}
    if screened_on > timezone.localdate():
        errors["screened_on"] = _("排查日期不能晚于今天")
    if not (screeners or "").strip():
        errors["screeners"] = _("请填写排查人（一至两人）")
    if errors:
        raise ValidationError(errors)
    _check_links(entry, application_id=application_id, clue_id=clue_id, finding_id=finding_id)
    record = ScreeningRecord.objects.select_for_update().filter(campaign_household=entry).first()
    before = None
    if record is None:
        record = ScreeningRecord(campaign_household=entry)
    else:
        check_version(record, expected_version, label=label)
        before = model_snapshot(record, exclude=_UNTRACED)
        record.version += 1
    record.screened_on = screened_on
    record.screeners = screeners.strip()
    record.result = result
    record.problem_types = problem_types
    record.handling = handling or ""
    record.note = note or ""
    record.application_id = application_id or None
    record.clue_id = clue_id or None
    record.finding_id = finding_id or None
    record.recorded_by = _user_or_none(actor)
    record.full_clean(exclude=["campaign_household", "application", "clue", "finding", "recorded_by"])
    record.save()
    b, a = diff(before, model_snapshot(record, exclude=_UNTRACED))
    if before is None or a:
        audit_record(actor=actor, action="screening.update" if before else "screening.create",
                     object_type="screeningrecord", object_id=record.pk, region_code=entry.village_code,
                     before=b, after=a, note=label)
    return record


# --- township sign-off ----------------------------------------------------------------------

@transaction.atomic
def signoff_submit(*, actor, campaign: Campaign, township_code: str) -> TownshipSignoff:
    """The township confirms its list is screened; refused while any household lacks a record."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    require(actor, "campaign.signoff", region_code=township_code)
    _require_running(campaign)
    if not township_code.startswith(campaign.region_id) or len(township_code) != 9:
        raise ValidationError(_("乡镇 %(code)s 不在排查活动“%(name)s”的范围内") % {
            "code": township_code, "name": campaign.name})
    listed = CampaignHousehold.objects.filter(campaign=campaign, township_code=township_code)
    total = listed.count()
    if not total:
        raise ValidationError(_("本乡镇在该排查活动中没有需要排查的家庭（不适用），无需上报"))
    missing = listed.filter(record__isnull=True).count()
    if missing:
        raise ValidationError(_("还有 %(missing)d 户（共 %(total)d 户）没有排查记录，全部登记后才能确认上报") % {
            "missing": missing, "total": total})
    signoff, created = TownshipSignoff.objects.select_for_update().get_or_create(
        campaign=campaign, township_code=township_code,
        defaults={"state": SignoffState.SUBMITTED})
    if not created:
        if signoff.counts_as_screened:
            raise ValidationError(_("本乡镇已%(state)s，无需重复上报") % {"state": signoff.get_state_display()})
        signoff.version += 1
    signoff.state = SignoffState.SUBMITTED
    signoff.submitted_by = _user_or_none(actor)
    signoff.submitted_at = timezone.now()
    signoff.save()
    audit_record(actor=actor, action="signoff.submit", object_type="townshipsignoff", object_id=signoff.pk,
                 region_code=township_code, after={"campaign": campaign.pk, "households": total})
    return signoff


def _locked_signoff(signoff: TownshipSignoff, actor, expected_version) -> TownshipSignoff:
    signoff = TownshipSignoff.objects.select_for_update().select_related("campaign").get(pk=signoff.pk)
    require(actor, "campaign.accept", region_code=signoff.township_code)
    _require_running(signoff.campaign)
    check_version(signoff, expected_version, label=_("乡镇确认上报"))
    return signoff


@transaction.atomic
def signoff_return(*, actor, signoff: TownshipSignoff, reason: str,
                   expected_version: int | None = None) -> TownshipSignoff:
    signoff = _locked_signoff(signoff, actor, expected_version)
    if not signoff.counts_as_screened:
        raise ValidationError(_("该乡镇的排查结果已退回，等待乡镇重新上报"))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("退回时请写明原因，乡镇据此更正")})
    signoff.state = SignoffState.RETURNED
    signoff.returned_by = _user_or_none(actor)
    signoff.returned_at = timezone.now()
    signoff.return_reason = reason.strip()
    signoff.accepted_by = None
    signoff.accepted_at = None
    signoff.version += 1
    signoff.save()
    audit_record(actor=actor, action="signoff.return", object_type="townshipsignoff", object_id=signoff.pk,
                 region_code=signoff.township_code, after={"reason": signoff.return_reason}, note=signoff.return_reason)
    return signoff


@transaction.atomic
def signoff_accept(*, actor, signoff: TownshipSignoff, expected_version: int | None = None) -> TownshipSignoff:
    signoff = _locked_signoff(signoff, actor, expected_version)
    if signoff.state != SignoffState.SUBMITTED:
        raise ValidationError(_("只有已上报的乡镇排查结果可以确认（当前：%(state)s）") % {
            "state": signoff.get_state_display()})
    signoff.state = SignoffState.ACCEPTED
    signoff.accepted_by = _user_or_none(actor)
    signoff.accepted_at = timezone.now()
    signoff.version += 1
    signoff.save()
    audit_record(actor=actor, action="signoff.accept", object_type="townshipsignoff", object_id=signoff.pk,
                 region_code=signoff.township_code)
    return signoff


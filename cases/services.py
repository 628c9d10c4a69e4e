"""Writes to the registry. Each service checks the rules, saves, and leaves an audit
record in the same transaction; pages, API views, imports and tasks all call these."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from cases.models import DECISIVE_FIELDS, Household, Member, RelativeFiling, Relation, Staff, Status
from cases.models import AmountHistory, AmountSource, BenefitStandard, Rerate, RerateLine
from dibao import idnumber
from dibao.audit import audit_change, audit_record, snapshot
from dibao.concurrency import StaleVersion, check_version
from dibao.models import Region, User
from dibao.permissions import require
from dibao.reveal import id_number_reveal
from dibao.scoping import in_scope


def _require_region_in_scope(user: User, region: Region, field: str = "region") -> None:
    """The region a row is being moved to or created in: a form error on that field."""
    if not in_scope(user, region.code):
        raise ValidationError({field: _("区划 %(name)s 不在您的管辖范围内") % {"name": region.name}})


def check_household_rules(household: Household) -> None:
    """The cross-field rules of formats.md, as errors keyed by field."""
    errors: dict[str, str] = {}
    if household.region_id and len(household.region_id) not in (9, 12):
        errors["region"] = _("户籍区划应选到乡镇（街道）或村（居）一级")
    if household.status in (Status.ACTIVE, Status.EXITED, Status.REJECTED) and not household.decided_on:
        errors["decided_on"] = _("状态为在保、已退出或未通过时必须填写审批日期")
    if household.status == Status.EXITED and not household.exited_on:
        errors["exited_on"] = _("状态为已退出时必须填写退出日期")
    if household.status == Status.ACTIVE and household.monthly_amount is None:
        errors["monthly_amount"] = _("在保家庭必须填写月保障金额")
    if household.monthly_amount is not None and household.monthly_amount < 0:
        errors["monthly_amount"] = _("月保障金额不能为负数")
    if household.decided_on and household.applied_on and household.decided_on < household.applied_on:
        errors["decided_on"] = _("审批日期不能早于申请日期")
    if household.exited_on and household.decided_on and household.exited_on < household.decided_on:
        errors["exited_on"] = _("退出日期不能早于审批日期")
    if errors:
        raise ValidationError(errors)


def decisive_field_message(name: str) -> str:
    """Why a decisive field cannot be typed in: said the same way on the page, the API and in tests."""
    return _("“%(field)s”不能在家庭档案中直接修改：在保状态、审批日期、保障金额和退出只随低保申请/变更的"
             "审批步骤改变（乡镇提出、县级确认）") % {"field": Household._meta.get_field(name).verbose_name}


def _decisive_values(household: Household) -> dict[str, Any]:
    return {name: getattr(household, name) for name in DECISIVE_FIELDS}


def _refuse_decisive_change(household: Household, before: dict[str, Any]) -> None:
    changed = [name for name, value in before.items() if getattr(household, name) != value]
    if changed:
        raise ValidationError({name: decisive_field_message(name) for name in changed})


def _refuse_income_change_after_approval(household: Household, what: str) -> None:
    """Incomes and composition drive the amount: once 在保 they change through a review or change."""
    if household.status == Status.ACTIVE:
        raise ValidationError(_("%(no)s 为在保家庭，%(what)s须通过定期核查或低保变更办理，不能在家庭档案中直接修改") % {
            "no": household.household_no, "what": what})


def _validated_member_data(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    data["id_number"] = idnumber.validate_id(data.get("id_number"))
    return data


@transaction.atomic
def household_create(*, actor: User, data: dict[str, Any], members: list[dict[str, Any]] | None = None,
                     decisive_from_step: bool = False, note: str = "") -> Household:
    """A new household starts 审核中; only a step service (decisive_from_step) creates it otherwise."""
    require(actor, "household.create")
    data = {"status": Status.PENDING, **data}
    data["head_id_number"] = idnumber.validate_id(data.get("head_id_number"))
    household = Household(**data)
    if not decisive_from_step:
        _refuse_decisive_change(household, _decisive_values(Household(status=Status.PENDING)))
    _require_region_in_scope(actor, household.region)
    check_household_rules(household)
    household.full_clean(exclude=["region"])
    household.save()
    audit_change(actor=actor, action="household.create", obj=household, region_code=household.region_id, note=note)
    for member in members or []:
        member_add(actor=actor, household=household, data=member)
    return household


@transaction.atomic
def household_update(*, actor: User, household: Household, data: dict[str, Any], note: str = "",
                     decisive_from_step: bool = False, expected_version: int | None = None) -> Household:
    """Descriptive fields; decisive ones only when a step service (decisive_from_step) sets them."""
    household = Household.objects.select_for_update().get(pk=household.pk)
    require(actor, "household.update", region_code=household.region_id)
    check_version(household, expected_version, label=_("低保家庭 %(no)s") % {"no": household.household_no})
    before = snapshot(household)
    decisive_before = _decisive_values(household)
    for key, value in data.items():
        setattr(household, key, value)
    if not decisive_from_step:
        _refuse_decisive_change(household, decisive_before)
    if "head_id_number" in data:
        household.head_id_number = idnumber.validate_id(household.head_id_number)
    _require_region_in_scope(actor, household.region)
    check_household_rules(household)
    household.full_clean(exclude=["region"])
    household.version += 1
    household.save()
    audit_change(actor=actor, action="household.update", obj=household, region_code=household.region_id,
                 before=before, note=note)
    return household


def _head_member_data(household: Household) -> dict[str, Any]:
    return {"name": household.head_name, "id_number": household.head_id_number, "relation": Relation.SELF}


def _member_row_error(index: int, error: ValidationError) -> ValidationError:
    """Name the member row (1-based, as the form shows it) in an error from a member service."""
    messages = error.messages
    return ValidationError({"members": [_("第 %(n)d 位成员：%(msg)s") % {"n": index + 1, "msg": m} for m in messages]})


@transaction.atomic
def household_save(*, actor: User, data: dict[str, Any], members: list[dict[str, Any]] = (),
                   household: Household | None = None, note: str = "",
                   expected_version: int | None = None) -> Household:
    """Create (household=None) or update a household with its member rows, all or nothing.

    `members` rows: without "id" a new member; with "id" an update of that member of this
    household; with "id" and "DELETE": True a removal; a "version" in a row is the version
    of that member the caller read. The head always is the 本人 member:
    it is added when missing and follows the head's name and ID number, so a caseworker
    enters the head once.
    """
    if household is None:
        household = household_create(actor=actor, data=data, note=note)
    else:
        household = household_update(actor=actor, household=household, data=data, note=note,
                                     expected_version=expected_version)
    existing = {m.pk: m for m in household.members.all()}
    head = next((m for m in existing.values() if m.relation == Relation.SELF), None)
    head_data = _head_member_data(household)
    if head is None:
        clash = next((m for m in existing.values() if m.id_number == household.head_id_number), None)
        if clash is not None:
            raise ValidationError({"head_id_number": _("户主身份证号已登记为本户其他成员（%(name)s），请核对") % {"name": clash.name}})
        member_add(actor=actor, household=household, data=head_data)
    elif (head.name, head.id_number) != (head_data["name"], head_data["id_number"]):
        try:
            member_update(actor=actor, member=head, data={"name": head_data["name"], "id_number": head_data["id_number"]})
        except ValidationError as error:
            raise ValidationError({"head_id_number": error.messages})
    for index, row in enumerate(members):
        row = dict(row)
        pk = row.pop("id", None)
        delete = row.pop("DELETE", False)
        version = row.pop("version", None)
        try:
            if pk is None:
                if not delete:
                    member_add(actor=actor, household=household, data=row)
                continue
            member = existing.get(pk)
            if member is None:
                raise ValidationError(_("该成员不属于本户"))
            if delete:
                member_remove(actor=actor, member=member, expected_version=version)
            elif member.relation == Relation.SELF:
                # name and ID number of the head come from the household itself
                row.pop("name", None)
                row.pop("id_number", None)
                row["relation"] = Relation.SELF
                member_update(actor=actor, member=member, data=row, expected_version=version)
            else:
                member_update(actor=actor, member=member, data=row, expected_version=version)
        except StaleVersion:
            raise  # it names the member; the page and the API treat it apart from a row's error
        except ValidationError as error:
            raise _member_row_error(index, error)
    return household


@transaction.atomic
def household_exit(*, actor: User, household: Household, exited_on: dt.date, reason: str,
                   note: str = "") -> Household:
    """Stop the benefit: status 已退出 with the date and reason. A county decision (a confirmed
    finding), so it sets the decisive fields the household page cannot."""
    if household.status != Status.ACTIVE:
        raise ValidationError(_("只有在保家庭可以办理退出（当前状态：%(s)s）") % {"s": household.get_status_display()})
    return household_update(actor=actor, household=household,
                            data={"status": Status.EXITED, "exited_on": exited_on, "exit_reason": reason},
                            note=note or reason, decisive_from_step=True)


@transaction.atomic
def household_stop_payment(*, actor: User, household: Household, reason: str) -> Household:
    """停发, decided by the county on a confirmed finding."""
    return household_update(actor=actor, household=household, data={"payment_stopped": True}, note=reason,
                            decisive_from_step=True)


@transaction.atomic
def household_reveal_id(*, actor: User, household: Household, member: Member | None = None,
                        payee: bool = False) -> str:
    """Return a full ID number (the head's, the payee's or a member's) to a role that may see it,
    leaving a trace of who looked."""
    if member is not None and member.household_id != household.pk:
        raise PermissionDenied(_("该成员不属于本户"))
    if member is not None:
        number = member.id_number
    else:
        number = household.payee_id_number if payee else household.head_id_number
    return id_number_reveal(actor=actor, object_type="member" if member else "household",
                            object_id=member.pk if member else household.pk, region_code=household.region_id,
                            id_number=number)


def _check_member_unique(household: Household, id_number: str, exclude_pk=None) -> None:
    clash = Member.objects.filter(household=household, id_number=id_number)
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"id_number": _("身份证号 %(id)s 在本户已登记") % {"id": idnumber.mask_id(id_number)}})


def _check_single_head(household: Household, relation: str, exclude_pk=None) -> None:
    if relation != Relation.SELF:
        return
    heads = Member.objects.filter(household=household, relation=Relation.SELF)
    if exclude_pk:
        heads = heads.exclude(pk=exclude_pk)
    if heads.exists():
        raise ValidationError({"relation": _("本户已有户主（本人），每户只能有一位")})


@transaction.atomic
def member_add(*, actor: User, household: Household, data: dict[str, Any]) -> Member:
    household = Household.objects.select_for_update().get(pk=household.pk)
    require(actor, "household.update", region_code=household.region_id)
    _refuse_income_change_after_approval(household, _("增加家庭成员"))
    data = _validated_member_data(data)
    _check_member_unique(household, data["id_number"])
    _check_single_head(household, data.get("relation"))
    member = Member(household=household, **data)
    member.full_clean(exclude=["household"], validate_constraints=False)
    member.save()
    audit_change(actor=actor, action="member.create", obj=member, region_code=household.region_id,
                 note=household.household_no)
    return member


@transaction.atomic
def member_update(*, actor: User, member: Member, data: dict[str, Any],
                  expected_version: int | None = None) -> Member:
    member = Member.objects.select_for_update().select_related("household").get(pk=member.pk)
    require(actor, "household.update", region_code=member.household.region_id)
    check_version(member, expected_version, label=_("成员 %(name)s") % {"name": member.name})
    before = snapshot(member)
    data = _validated_member_data({**{"id_number": member.id_number}, **data})
    _check_member_unique(member.household, data["id_number"], exclude_pk=member.pk)
    _check_single_head(member.household, data.get("relation", member.relation), exclude_pk=member.pk)
    if "monthly_income" in data and data["monthly_income"] != member.monthly_income:
        _refuse_income_change_after_approval(member.household, _("成员收入"))
    for key, value in data.items():
        setattr(member, key, value)
    member.full_clean(exclude=["household"], validate_constraints=False)
    member.version += 1
    member.save()
    audit_change(actor=actor, action="member.update", obj=member, region_code=member.household.region_id,
                 before=before)
    return member


@transaction.atomic
def member_remove(*, actor: User, member: Member, expected_version: int | None = None) -> None:
    member = Member.objects.select_for_update().select_related("household").get(pk=member.pk)
    require(actor, "household.update", region_code=member.household.region_id)
    check_version(member, expected_version, label=_("成员 %(name)s") % {"name": member.name})
    if member.relation == Relation.SELF:
        raise ValidationError(_("不能删除户主；请先变更户主"))
    _refuse_income_change_after_approval(member.household, _("减少家庭成员"))
    before = snapshot(member)
    audit_change(actor=actor, action="member.delete", obj=member, region_code=member.household.region_id,
                 before=before, deleted=True, note=member.household.household_no)
    member.delete()


@transaction.atomic
def staff_save(*, actor: User, data: dict[str, Any], staff: Staff | None = None) -> Staff:
    """Create (staff=None) or update a staff roster entry."""
    require(actor, "staff.manage")
    if staff is not None:
        staff = Staff.objects.select_for_update().get(pk=staff.pk)
        require(actor, "staff.manage", region_code=staff.region_id)
    before = snapshot(staff) if staff else None
    staff = staff or Staff()
    for key, value in data.items():
        setattr(staff, key, value)
    staff.id_number = idnumber.validate_id(staff.id_number)
    _require_region_in_scope(actor, staff.region)
    staff.full_clean(exclude=["region", "user"])
    staff.save()
    audit_change(actor=actor, action="staff.update" if before else "staff.create", obj=staff,
                 region_code=staff.region_id, before=before)
    return staff


@transaction.atomic
def filing_save(*, actor: User, data: dict[str, Any], filing: RelativeFiling | None = None) -> RelativeFiling:
    """Create or update a close-relative filing (近亲属备案)."""
    require(actor, "filing.manage")
    if filing is not None:
        filing = RelativeFiling.objects.select_for_update().select_related("staff").get(pk=filing.pk)
        require(actor, "filing.manage", region_code=filing.staff.region_id)
    before = snapshot(filing) if filing else None
    filing = filing or RelativeFiling()
    for key, value in data.items():
        setattr(filing, key, value)
    filing.relative_id_number = idnumber.validate_id(filing.relative_id_number)
    _require_region_in_scope(actor, filing.staff.region)
    if filing.household_id:
        household_ok = Household.objects.for_user(actor).filter(pk=filing.household_id).exists()
        if not household_ok:
            raise ValidationError({"household": _("户编号不在您的管辖范围内")})
    filing.full_clean(exclude=["staff", "household"], validate_constraints=False)
    clash = RelativeFiling.objects.filter(staff=filing.staff, relative_id_number=filing.relative_id_number)
    if filing.pk:
        clash = clash.exclude(pk=filing.pk)
    if clash.exists():
        raise ValidationError({"relative_id_number": _("该备案人已为此亲属备案")})
    filing.save()
    audit_change(actor=actor, action="filing.update" if before else "filing.create", obj=filing,
                 region_code=filing.staff.region_id, before=before)
    return filing


# --------------------------------------------------------------------------- 调标 (re-rating)
@transaction.atomic
def rerate_prepare(*, actor: User, region_code: str, standard: BenefitStandard) -> Rerate:
    """List old → new amounts for every active household of the region whose standard in force,
    from the standard's first month, is this one. Written set-based; nothing changes until another
    county user confirms (rerate_confirm). A list prepared again replaces an unconfirmed one."""
    from cases import benefits
    from dibao.models import natural_code

    region_code = natural_code(region_code)
    require(actor, "rerate.prepare", region_code=region_code)
    standard = BenefitStandard.objects.select_related("region").get(pk=standard.pk)
    if not (region_code.startswith(standard.region_id) or standard.region_id.startswith(region_code)):
        raise ValidationError(_("%(std)s的保障标准不适用于区划 %(region)s") % {
            "std": standard.region.name, "region": region_code})
    month = benefits.first_month_in_force(standard.effective_from)
    Rerate.objects.filter(region_id=region_code, standard=standard, state=Rerate.State.PREPARED).delete()
    rerate = Rerate.objects.create(region_id=region_code, standard=standard, effective_month=month, prepared_by=actor)
    where, params = "h.region_code LIKE %s", [region_code + "%"]
    computed, computed_params = benefits.computed_amounts_sql(where=where, params=params, month=month)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {RerateLine._meta.db_table} (rerate_id, household_id, old_amount, new_amount, "
            "covered_persons, single_coverage_id_number) "
            "SELECT %s, c.household_id, COALESCE(f.amount, c.monthly_amount), c.amount_cents / 100, c.covered_persons, "
            f"c.single_id FROM ({computed}) c LEFT JOIN ({benefits.amounts_in_force_sql()}) f "
            "ON f.household_id = c.household_id "
            "WHERE c.standard_id = %s",
            [rerate.pk, *computed_params, month, standard.pk])
        lines = cursor.rowcount
    audit_record(actor=actor, action="rerate.prepare", object_type="rerate", object_id=rerate.pk,
                 region_code=region_code,
                 after={"standard_id": standard.pk, "effective_month": month.isoformat(), "households": lines},
                 note=str(standard))
    return rerate


@dataclass(frozen=True)
class RerateOutcome:
    changed: int                # households whose new amount took effect
    skipped: list[str]          # 户编号 of lines left alone: the amount in force moved after preparation


@transaction.atomic
def rerate_confirm(*, actor: User, rerate: Rerate) -> RerateOutcome:
    """A second county user confirms the whole list: each changed amount goes into the amount
    history from the standard's first month and becomes the household's amount. A line whose
    household's amount changed after the list was prepared (a change or review decided
    meanwhile) would overwrite that decision, so it is skipped and reported instead."""
    from django.utils import timezone

    from cases.benefits import amounts_in_force_sql

    rerate = Rerate.objects.select_for_update().get(pk=rerate.pk)
    require(actor, "rerate.confirm", region_code=rerate.region_id)
    if rerate.state != Rerate.State.PREPARED:
        raise ValidationError(_("该调标清单已确认，不能重复确认"))
    if rerate.prepared_by_id == actor.pk:
        raise PermissionDenied(_("调标清单由您本人编制，须由另一名县级审核人员确认（编制与确认分离）"))
    now = timezone.now()
    db_now, prepared_at = now, rerate.prepared_at
    if connection.vendor != "postgresql":  # Django keeps naive UTC there
        db_now, prepared_at = (timezone.make_naive(t, dt.timezone.utc) for t in (now, prepared_at))
    ah, h, lines = AmountHistory._meta.db_table, Household._meta.db_table, RerateLine._meta.db_table
    joins = f"FROM {lines} l JOIN {h} hh ON hh.id = l.household_id"
    applies = ("l.rerate_id = %s AND hh.status = 'active' "
               "AND (l.old_amount IS NULL OR l.old_amount <> l.new_amount)")
    note = _("调标：%(std)s") % {"std": rerate.standard}
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {lines} SET stale = true WHERE id IN (SELECT l.id {joins} "
            f"LEFT JOIN ({amounts_in_force_sql()}) f ON f.household_id = l.household_id WHERE {applies} AND ("
            "l.old_amount IS DISTINCT FROM COALESCE(f.amount, hh.monthly_amount) "
            f"OR EXISTS (SELECT 1 FROM {ah} a WHERE a.household_id = l.household_id AND a.created_at > %s)))",
            [rerate.effective_month, rerate.pk, prepared_at])
        changed = f"{joins} WHERE {applies} AND NOT l.stale"
        cursor.execute(
            f"INSERT INTO {ah} (household_id, effective_month, amount, covered_persons, single_coverage_id_number, "
            "source, note, decided_by_id, created_at) SELECT l.household_id, %s, l.new_amount, l.covered_persons, "
            f"l.single_coverage_id_number, %s, %s, %s, %s {changed}",
            [rerate.effective_month, AmountSource.RERATE, note[:200], actor.pk, db_now, rerate.pk])
        count = cursor.rowcount
        cursor.execute(
            f"UPDATE {h} SET monthly_amount = x.new_amount FROM (SELECT l.household_id, l.new_amount {changed}) x "
            f"WHERE {h}.id = x.household_id", [rerate.pk])
    skipped = list(rerate.lines.filter(stale=True).order_by("household__household_no")
                   .values_list("household__household_no", flat=True))
    Rerate.objects.filter(pk=rerate.pk).update(state=Rerate.State.CONFIRMED, confirmed_by=actor, confirmed_at=now)
    audit_record(actor=actor, action="rerate.confirm", object_type="rerate", object_id=rerate.pk,
                 region_code=rerate.region_id, after={"households_changed": count, "households_skipped": skipped,
                                                      "effective_month": rerate.effective_month.isoformat()},
                 note=note)
    return RerateOutcome(changed=count, skipped=skipped)

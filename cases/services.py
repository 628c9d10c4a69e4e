"""Writes to the registry. Each service checks the rules, saves, and leaves an audit
record in the same transaction; pages, API views, imports and tasks all call these."""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cases.models import Household, Member, RelativeFiling, Relation, Staff, Status
from dibao import idnumber
from dibao.audit import audit_record, diff, model_snapshot
from dibao.models import Region, Role, User
from dibao.scoping import in_scope

REGISTRY_EDITORS = {Role.CASEWORKER, Role.COUNTY_REVIEWER, Role.ADMIN}
# Supervisors read the registry; inspectors see only what is referred to them (complaints app).
REGISTRY_READERS = REGISTRY_EDITORS | {Role.SUPERVISOR}


def _require_region_in_scope(user: User, region: Region) -> None:
    if not in_scope(user, region.code):
        raise ValidationError({"region": _("区划 %(code)s 不在您的管辖范围内") % {"code": region.code}})


def _require_editor(user: User) -> None:
    if user.role not in REGISTRY_EDITORS:
        raise PermissionDenied(_("您的角色不能修改低保家庭档案"))


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


def _audit_household(*, actor: User, action: str, household: Household, before: dict | None, note: str = ""):
    after = model_snapshot(household, exclude=("created_at", "updated_at"))
    b, a = diff(before, after)
    if before is not None and not a and not note:
        return  # saved without a change (e.g. only member rows were edited): nothing to trace
    audit_record(actor=actor, action=action, object_type="household", object_id=household.pk,
                 region_code=household.region_id, before=b, after=a, note=note)


def _validated_member_data(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    data["id_number"] = idnumber.validate_id(data.get("id_number"))
    return data


@transaction.atomic
def household_create(*, actor: User, data: dict[str, Any], members: list[dict[str, Any]] | None = None) -> Household:
    _require_editor(actor)
    data = dict(data)
    data["head_id_number"] = idnumber.validate_id(data.get("head_id_number"))
    household = Household(**data)
    _require_region_in_scope(actor, household.region)
    check_household_rules(household)
    household.full_clean(exclude=["region"])
    household.save()
    _audit_household(actor=actor, action="household.create", household=household, before=None)
    for member in members or []:
        member_add(actor=actor, household=household, data=member)
    return household


@transaction.atomic
def household_update(*, actor: User, household: Household, data: dict[str, Any], note: str = "") -> Household:
    _require_editor(actor)
    household = Household.objects.select_for_update().get(pk=household.pk)
    before = model_snapshot(household, exclude=("created_at", "updated_at"))
    for key, value in data.items():
        setattr(household, key, value)
    if "head_id_number" in data:
        household.head_id_number = idnumber.validate_id(household.head_id_number)
    _require_region_in_scope(actor, household.region)
    check_household_rules(household)
    household.full_clean(exclude=["region"])
    household.save()
    _audit_household(actor=actor, action="household.update", household=household, before=before, note=note)
    return household


def _head_member_data(household: Household) -> dict[str, Any]:
    return {"name": household.head_name, "id_number": household.head_id_number, "relation": Relation.SELF}


def _member_row_error(index: int, error: ValidationError) -> ValidationError:
    """Name the member row (1-based, as the form shows it) in an error from a member service."""
    messages = error.messages
    return ValidationError({"members": [_("第 %(n)d 位成员：%(msg)s") % {"n": index + 1, "msg": m} for m in messages]})


@transaction.atomic
def household_save(*, actor: User, data: dict[str, Any], members: list[dict[str, Any]] = (),
                   household: Household | None = None, note: str = "") -> Household:
    """Create (household=None) or update a household with its member rows, all or nothing.

    `members` rows: without "id" a new member; with "id" an update of that member of this
    household; with "id" and "DELETE": True a removal. The head always is the 本人 member:
    it is added when missing and follows the head's name and ID number, so a caseworker
    enters the head once.
    """
    if household is None:
        household = household_create(actor=actor, data=data)
    else:
        household = household_update(actor=actor, household=household, data=data, note=note)
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
        try:
            if pk is None:
                if not delete:
                    member_add(actor=actor, household=household, data=row)
                continue
            member = existing.get(pk)
            if member is None:
                raise ValidationError(_("该成员不属于本户"))
            if delete:
                member_remove(actor=actor, member=member)
            elif member.relation == Relation.SELF:
                # name and ID number of the head come from the household itself
                row.pop("name", None)
                row.pop("id_number", None)
                row["relation"] = Relation.SELF
                member_update(actor=actor, member=member, data=row)
            else:
                member_update(actor=actor, member=member, data=row)
        except ValidationError as error:
            raise _member_row_error(index, error)
    return household


@transaction.atomic
def household_exit(*, actor: User, household: Household, exited_on: dt.date, reason: str,
                   note: str = "") -> Household:
    """Stop the benefit: status 已退出 with the date and reason (used by reviews too)."""
    if household.status != Status.ACTIVE:
        raise ValidationError(_("只有在保家庭可以办理退出（当前状态：%(s)s）") % {"s": household.get_status_display()})
    return household_update(actor=actor, household=household,
                            data={"status": Status.EXITED, "exited_on": exited_on, "exit_reason": reason},
                            note=note or reason)


@transaction.atomic
def household_stop_payment(*, actor: User, household: Household, reason: str) -> Household:
    return household_update(actor=actor, household=household, data={"payment_stopped": True}, note=reason)


@transaction.atomic
def household_reveal_id(*, actor: User, household: Household, member: Member | None = None) -> str:
    """Return a full ID number to a role that may see it, leaving a trace of who looked."""
    if not actor.can_see_full_id:
        raise PermissionDenied(_("您的角色不能查看完整身份证号"))
    number = member.id_number if member else household.head_id_number
    audit_record(actor=actor, action="id_number.reveal", object_type="member" if member else "household",
                 object_id=member.pk if member else household.pk, region_code=household.region_id,
                 note=idnumber.mask_id(number))
    return number


def _audit_member(*, actor: User, action: str, member: Member, before: dict | None):
    after = None if action == "member.delete" else model_snapshot(member)
    b, a = diff(before, after)
    if action == "member.update" and not a:
        return
    audit_record(actor=actor, action=action, object_type="member", object_id=member.pk,
                 region_code=member.household.region_id, before=b, after=a,
                 note=f"{member.household.household_no}")


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
    _require_editor(actor)
    data = _validated_member_data(data)
    _check_member_unique(household, data["id_number"])
    _check_single_head(household, data.get("relation"))
    member = Member(household=household, **data)
    member.full_clean(exclude=["household"], validate_constraints=False)
    member.save()
    _audit_member(actor=actor, action="member.create", member=member, before=None)
    return member


@transaction.atomic
def member_update(*, actor: User, member: Member, data: dict[str, Any]) -> Member:
    _require_editor(actor)
    before = model_snapshot(member)
    data = _validated_member_data({**{"id_number": member.id_number}, **data})
    _check_member_unique(member.household, data["id_number"], exclude_pk=member.pk)
    _check_single_head(member.household, data.get("relation", member.relation), exclude_pk=member.pk)
    for key, value in data.items():
        setattr(member, key, value)
    member.full_clean(exclude=["household"], validate_constraints=False)
    member.save()
    _audit_member(actor=actor, action="member.update", member=member, before=before)
    return member


@transaction.atomic
def member_remove(*, actor: User, member: Member) -> None:
    _require_editor(actor)
    if member.relation == Relation.SELF:
        raise ValidationError(_("不能删除户主；请先变更户主"))
    before = model_snapshot(member)
    _audit_member(actor=actor, action="member.delete", member=member, before=before)
    member.delete()


def _audit_simple(*, actor: User, action: str, obj, region_code: str, before: dict | None):
    after = model_snapshot(obj, exclude=("created_at",))
    b, a = diff(before, after)
    audit_record(actor=actor, action=action, object_type=obj._meta.model_name, object_id=obj.pk,
                 region_code=region_code, before=b, after=a)


@transaction.atomic
def staff_save(*, actor: User, data: dict[str, Any], staff: Staff | None = None) -> Staff:
    """Create (staff=None) or update a staff roster entry."""
    _require_editor(actor)
    before = model_snapshot(staff) if staff else None
    staff = staff or Staff()
    for key, value in data.items():
        setattr(staff, key, value)
    staff.id_number = idnumber.validate_id(staff.id_number)
    _require_region_in_scope(actor, staff.region)
    staff.full_clean(exclude=["region", "user"])
    staff.save()
    _audit_simple(actor=actor, action="staff.update" if before else "staff.create", obj=staff,
                  region_code=staff.region_id, before=before)
    return staff


@transaction.atomic
def filing_save(*, actor: User, data: dict[str, Any], filing: RelativeFiling | None = None) -> RelativeFiling:
    """Create or update a close-relative filing (近亲属备案)."""
    _require_editor(actor)
    before = model_snapshot(filing, exclude=("created_at",)) if filing else None
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
    _audit_simple(actor=actor, action="filing.update" if before else "filing.create", obj=filing,
                  region_code=filing.staff.region_id, before=before)
    return filing


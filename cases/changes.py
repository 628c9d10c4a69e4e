"""Changes (变更) of an 在保 household, workflow.md "Dynamic management": 增员 / 减员, 调整金额,
单人保 on / off, 停发 / 恢复, 退出 (with 渐退) — proposed by the township, confirmed by the county.

The services follow the application's steps (cases/applications.py): the change is re-fetched
under a row lock, the permission table is asked for the household's region, recusal and maker ≠
checker are checked, the state moves through the django-fsm transition of `HouseholdChange`, and
the household's decisive facts change only here, as the result of the confirmation, with the
amount history written from the change's month. A confirmed finding decides its fitting change in
the same step (`change_from_finding`): the system's detection and the township's verification are
the other eyes, so the confirming county reviewer is recorded as both proposer and decider.
"""
from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed

from audits.rules import months_before
from cases import benefits
from cases.applications import (
    _refuse_if_recused,
    _set_household,
    _step_date,
    _text,
    today,
)
from cases.models import (
    AMOUNT_CHANGE_KINDS,
    AmountHistory,
    AmountSource,
    ChangeKind,
    ChangeState,
    Household,
    HouseholdChange,
    Member,
    PaymentSuspension,
    Relation,
    Status,
)
from dibao import idnumber
from dibao.audit import audit_change, audit_record, diff, model_snapshot
from dibao.permissions import is_system, require

# 减员 reasons the change form offers; any other text is accepted too.
LEAVE_REASONS = ("死亡", "婚嫁迁出", "户籍迁出", "财政供养", "其他")


def grace_months() -> int:
    return int(getattr(settings, "EXIT_GRACE_MONTHS", 6))


def add_months(month: dt.date, n: int) -> dt.date:
    """The first day of the month n months after `month` (n may be negative)."""
    return months_before(month.replace(day=1), -n)


def month_end(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def grace_end(decided_on: dt.date) -> dt.date:
    """The last day of the EXIT_GRACE_MONTHS months counted from the month after the decision."""
    return month_end(add_months(decided_on, grace_months()))


def suspended_in(household_id: int, month: dt.date) -> bool:
    """Whether payment was suspended (停发) for the household in that month."""
    first = month.replace(day=1)
    return PaymentSuspension.objects.filter(Q(to_month__isnull=True) | Q(to_month__gte=first),
                                            household_id=household_id, from_month__lte=first).exists()


# --- what a change would do to the amount ----------------------------------------------------------

def _label(change: HouseholdChange) -> str:
    return _("变更 %(no)s（%(head)s户，%(kind)s）") % {"no": change.tracking_no, "head": change.household.head_name,
                                                     "kind": change.get_kind_display()}


def _members_after(household: Household, kind: str, payload: dict) -> list:
    """(income, id_number) of each member once the change is made."""
    rows = [(m.monthly_income, m.id_number) for m in household.members.all()]
    if kind == ChangeKind.ADD_MEMBER:
        income = payload["member"].get("monthly_income")
        rows.append((Decimal(income) if income else None, payload["member"]["id_number"]))
    if kind == ChangeKind.REMOVE_MEMBER:
        rows = [r for r in rows if r[1] != payload["id_number"]]
    return rows


def _single_after(household: Household, kind: str, payload: dict) -> str:
    if kind == ChangeKind.SINGLE_ON:
        return payload["id_number"]
    if kind == ChangeKind.SINGLE_OFF:
        return ""
    if kind == ChangeKind.REMOVE_MEMBER and payload["id_number"] == household.single_coverage_id_number:
        return ""
    return household.single_coverage_id_number


def amount_after(household: Household, *, kind: str, payload: dict, month: dt.date) -> benefits.AmountWorking:
    """The amount with its working once the change is made, with the standard in force for its month."""
    standard = benefits.standard_in_force(region_code=household.region_id, category=household.category, month=month)
    if standard is None:
        raise ValidationError(_("户籍地（%(r)s）%(c)s在 %(m)s 没有生效的保障标准，无法测算金额；请联系管理员录入保障标准")
                              % {"r": household.region.name, "c": household.get_category_display(),
                                 "m": f"{month:%Y-%m}"})
    rows = _members_after(household, kind, payload)
    single_id = _single_after(household, kind, payload)
    single_income = next(((income or Decimal("0")) for income, number in rows if single_id and number == single_id),
                         None)
    return benefits.compute_amount(standard=standard.monthly_standard, incomes=[income for income, _n in rows],
                                   single_member_income=single_income)


# --- checking a proposal ---------------------------------------------------------------------------

def _member_of(household: Household, member_id) -> Member:
    member = household.members.filter(pk=member_id).first() if str(member_id or "").isdigit() else None
    if member is None:
        raise ValidationError({"member": _("请选择户 %(no)s 的一名家庭成员") % {"no": household.household_no}})
    return member


def _clean_payload(household: Household, kind: str, payload: dict, month: dt.date) -> dict:
    """The payload of a kind, checked against the household as it is; errors name the field."""
    payload = dict(payload or {})
    if kind == ChangeKind.ADD_MEMBER:
        member = dict(payload.get("member") or {})
        member["id_number"] = idnumber.validate_id(member.get("id_number"))
        if household.members.filter(id_number=member["id_number"]).exists():
            raise ValidationError({"id_number": _("身份证号 %(id)s 在本户已登记")
                                   % {"id": idnumber.mask_id(member["id_number"])}})
        if member.get("relation") == Relation.SELF:
            raise ValidationError({"relation": _("本户已有户主（本人），新增成员请选择与户主的关系")})
        Member(household=household, **member).full_clean(exclude=["household"], validate_constraints=False)
        income = member.get("monthly_income")
        member["monthly_income"] = None if income in (None, "") else str(Decimal(str(income)))
        return {"member": member}
    if kind == ChangeKind.REMOVE_MEMBER:
        member = _member_of(household, payload.get("member_id"))
        left = household.members.exclude(pk=member.pk)
        if not left.exists():
            raise ValidationError({"member": _("%(n)s 是本户唯一的成员：减员后无人可保，请提出“退出”变更")
                                   % {"n": member.name}})
        cleaned = {"member_id": member.pk, "name": member.name, "id_number": member.id_number,
                   "leave_reason": (payload.get("leave_reason") or "").strip()}
        if member.relation == Relation.SELF:
            new_head = payload.get("new_head_id") or _default_new_head(left).pk
            cleaned["new_head_id"] = _member_of(household, new_head).pk
            if cleaned["new_head_id"] == member.pk:
                raise ValidationError({"new_head_id": _("新户主不能是减员的成员本人")})
        return cleaned
    if kind == ChangeKind.SINGLE_ON:
        member = _member_of(household, payload.get("member_id"))
        from cases.applications import proposal_amount

        proposal_amount(household, month=month, single_coverage_id_number=member.id_number)  # eligibility, edge family
        return {"member_id": member.pk, "name": member.name, "id_number": member.id_number}
    if kind == ChangeKind.SINGLE_OFF and not household.single_coverage_id_number:
        raise ValidationError(_("户 %(no)s 不是单人保，无需取消") % {"no": household.household_no})
    if kind == ChangeKind.SUSPEND and household.payment_stopped:
        raise ValidationError(_("户 %(no)s 已停发") % {"no": household.household_no})
    if kind == ChangeKind.RESUME and not household.payment_stopped:
        raise ValidationError(_("户 %(no)s 未停发，无需恢复") % {"no": household.household_no})
    if kind == ChangeKind.EXIT:
        exit_on = payload.get("exit_on")
        if isinstance(exit_on, str):
            exit_on = dt.date.fromisoformat(exit_on)
        income_above = bool(payload.get("income_above"))
        if not income_above and not exit_on:
            raise ValidationError({"exit_on": _("请填写退出日期")})
        if exit_on and household.decided_on and exit_on < household.decided_on:
            raise ValidationError({"exit_on": _("退出日期 %(d)s 早于审批日期 %(a)s") % {"d": exit_on, "a": household.decided_on}})
        return {"exit_on": exit_on.isoformat() if exit_on else None, "income_above": income_above}
    if kind not in ChangeKind.values:
        raise ValidationError({"kind": _("请选择变更类型")})
    return {}


def _default_new_head(members):
    """The spouse if there is one, else the first member registered."""
    return members.filter(relation=Relation.SPOUSE).first() or members.order_by("id").first()


def _new_tracking_no(household: Household, on: dt.date) -> str:
    prefix = f"BG{household.township_code}-{on.year}-"
    last = (HouseholdChange.objects.filter(tracking_no__startswith=prefix)
            .order_by("-tracking_no").values_list("tracking_no", flat=True).first())
    return f"{prefix}{(int(last.rsplit('-', 1)[1]) + 1 if last else 1):05d}"


def propose_locked(*, actor, household: Household, kind: str, reason: str, effective_month: dt.date | None,
            payload: dict | None, proposed_amount, amount_reason: str, on: dt.date,
            finding_id: int | None) -> HouseholdChange:
    """A proposal for a household the caller has locked and checked the actor's rights on."""
    if household.status != Status.ACTIVE:
        raise ValidationError(_("户 %(no)s 当前为“%(s)s”，只有在保家庭可以办理变更")
                              % {"no": household.household_no, "s": household.get_status_display()})
    if household.planned_exit_on and kind != ChangeKind.SUSPEND:
        raise ValidationError(_("户 %(no)s 处于渐退期（至 %(d)s），期满自动退出，期间只能停发")
                              % {"no": household.household_no, "d": household.planned_exit_on})
    open_change = household.changes.filter(state=ChangeState.PROPOSED).first()
    if open_change:
        raise ValidationError(_("户 %(no)s 已有待县级确认的变更 %(t)s（%(k)s），请先确认或不予确认")
                              % {"no": household.household_no, "t": open_change.tracking_no,
                                 "k": open_change.get_kind_display()})
    reason = _text(reason, "reason", _("变更理由"))
    month = (effective_month or on).replace(day=1)
    if household.decided_on and month < household.decided_on.replace(day=1):
        raise ValidationError({"effective_month": _("生效月份 %(m)s 早于审批月份") % {"m": f"{month:%Y-%m}"}})
    payload = _clean_payload(household, kind, payload or {}, month)
    change = HouseholdChange(household=household, kind=kind, payload=payload, reason=reason, effective_month=month,
                             proposed_by=None if is_system(actor) else actor, proposed_on=on, finding_id=finding_id,
                             amount_before=benefits.amount_in_force(household.pk, month) or household.monthly_amount)
    if kind in AMOUNT_CHANGE_KINDS:
        working = amount_after(household, kind=kind, payload=payload, month=month)
        amount = working.amount if proposed_amount in (None, "") else Decimal(proposed_amount).quantize(Decimal("0.01"))
        amount_reason = (amount_reason or "").strip()
        if amount != working.amount and not amount_reason:
            raise ValidationError({"amount_reason": _("拟保障金额 %(p)s 元与测算金额 %(c)s 元不一致，请写明理由")
                                   % {"p": amount, "c": working.amount}})
        if amount <= 0:
            raise ValidationError({"proposed_amount": _("变更后测算补差为 0 元（%(w)s）：家庭收入不低于保障标准，应提出“退出”变更")
                                   % {"w": working.working}})
        change.computed_amount, change.amount_working, change.covered_persons = \
            working.amount, working.working, working.covered_persons
        change.proposed_amount, change.amount_reason = amount, amount_reason if amount != working.amount else ""
    while True:
        change.tracking_no = _new_tracking_no(household, on)
        try:
            with transaction.atomic():
                change.save()
            break
        except IntegrityError:
            continue  # another clerk of the township took the number in the meantime
    audit_change(actor=actor, action="change.propose", obj=change, region_code=household.region_id,
                 note=f"{change.tracking_no} {change.get_kind_display()}：{reason}")
    return change


@transaction.atomic
def change_propose(*, actor, household: Household, kind: str, reason: str, effective_month: dt.date | None = None,
                   payload: dict | None = None, proposed_amount: Decimal | None = None, amount_reason: str = "",
                   proposed_on: dt.date | None = None) -> HouseholdChange:
    """The township proposes a change of an 在保 household; the amount kinds carry the recomputed
    amount and its working (another figure only with a written reason)."""
    household = Household.objects.select_for_update().select_related("region").get(pk=household.pk)
    require(actor, "change.propose", region_code=household.region_id)
    _refuse_if_recused(actor, household)
    on = _step_date(proposed_on, "proposed_on")
    return propose_locked(actor=actor, household=household, kind=kind, reason=reason, effective_month=effective_month,
                   payload=payload, proposed_amount=proposed_amount, amount_reason=amount_reason, on=on,
                   finding_id=None)


# --- the county's decision ---------------------------------------------------------------------------

def _fetch(change: HouseholdChange) -> HouseholdChange:
    return HouseholdChange.objects.select_for_update().select_related("household__region").get(pk=change.pk)


def _move(change: HouseholdChange, transition, step: str) -> None:
    try:
        transition()
    except TransitionNotAllowed:
        raise ValidationError(_("%(c)s当前状态为“%(s)s”，不能%(step)s")
                              % {"c": _label(change), "s": change.get_state_display(), "step": step})


def _check_decider(actor, change: HouseholdChange) -> None:
    """Maker ≠ checker: never the proposer, nor an investigator of the review that proposed it."""
    if is_system(actor):
        return
    if actor.pk == change.proposed_by_id:
        raise PermissionDenied(_("您是变更 %(no)s 的提出人，不能同时确认；请由县级其他审核人员办理")
                               % {"no": change.tracking_no})
    review = getattr(change, "review", None)
    if review is not None and actor.pk in (review.investigator_1_id, review.investigator_2_id):
        raise PermissionDenied(_("您参加了提出该变更的入户核查，不能确认本变更"))
    _refuse_if_recused(actor, change.household)


@transaction.atomic
def change_confirm(*, actor, change: HouseholdChange, decided_on: dt.date | None = None) -> HouseholdChange:
    """县级确认: the change takes effect from its month, on the household and in the amount history."""
    change = _fetch(change)
    require(actor, "change.confirm", region_code=change.household.region_id)
    _check_decider(actor, change)
    return _decide(actor=actor, change=change, on=_step_date(decided_on, "decided_on",
                                                             (change.proposed_on, _("提出日期"))))


@transaction.atomic
def change_refuse(*, actor, change: HouseholdChange, reason: str, decided_on: dt.date | None = None) -> HouseholdChange:
    change = _fetch(change)
    require(actor, "change.confirm", region_code=change.household.region_id)
    _check_decider(actor, change)
    reason = _text(reason, "reason", _("不予确认的理由"))
    on = _step_date(decided_on, "decided_on", (change.proposed_on, _("提出日期")))
    before = model_snapshot(change)
    _move(change, change.mark_refused, _("不予确认"))
    change.decided_by, change.decided_on, change.decision_reason = actor, on, reason
    change.save()
    _audit(actor=actor, change=change, action="change.refuse", before=before, note=reason)
    return change


def _audit(*, actor, change: HouseholdChange, action: str, before: dict, note: str = "") -> None:
    b, a = diff(before, model_snapshot(change))
    audit_record(actor=actor, action=action, object_type="householdchange", object_id=change.pk,
                 region_code=change.household.region_id, before=b, after=a, note=note or change.tracking_no)


def _decide(*, actor, change: HouseholdChange, on: dt.date) -> HouseholdChange:
    before = model_snapshot(change)
    _move(change, change.mark_confirmed, _("确认"))
    change.decided_by, change.decided_on = (None if is_system(actor) else actor), on
    change.save()
    _audit(actor=actor, change=change, action="change.confirm", before=before,
           note=_("%(no)s %(kind)s，自 %(m)s 起") % {"no": change.tracking_no, "kind": change.get_kind_display(),
                                                    "m": f"{change.effective_month:%Y-%m}"})
    _apply(actor=actor, change=change)
    return change


def _apply(*, actor, change: HouseholdChange) -> None:
    household, payload, kind = change.household, change.payload, change.kind
    data: dict = {}
    if kind == ChangeKind.ADD_MEMBER:
        member = Member(household=household, **payload["member"])
        member.full_clean(exclude=["household"], validate_constraints=False)
        member.save()
        audit_change(actor=actor, action="member.create", obj=member, region_code=household.region_id,
                     note=change.tracking_no)
    elif kind == ChangeKind.REMOVE_MEMBER:
        member = household.members.get(pk=payload["member_id"])
        if payload.get("new_head_id"):
            head = household.members.get(pk=payload["new_head_id"])
            head_before = model_snapshot(head)
            head.relation = Relation.SELF
            head.save()
            audit_change(actor=actor, action="member.update", obj=head, region_code=household.region_id,
                         before=head_before, note=change.tracking_no)
            data.update(head_name=head.name, head_id_number=head.id_number)
        audit_change(actor=actor, action="member.delete", obj=member, region_code=household.region_id,
                     before=model_snapshot(member), deleted=True, note=change.tracking_no)
        member.delete()
    if kind in AMOUNT_CHANGE_KINDS:
        single = _single_after(household, kind, payload)
        data.update(monthly_amount=change.proposed_amount, single_coverage_id_number=single)
        AmountHistory.objects.create(household=household, effective_month=change.effective_month,
                                     amount=change.proposed_amount, covered_persons=change.covered_persons,
                                     single_coverage_id_number=single, source=AmountSource.CHANGE,
                                     note=change.tracking_no, decided_by=change.decided_by)
    elif kind == ChangeKind.SUSPEND:
        data["payment_stopped"] = True
        PaymentSuspension.objects.create(household=household, from_month=change.effective_month,
                                         reason=change.reason, change=change)
    elif kind == ChangeKind.RESUME:
        data["payment_stopped"] = False
        PaymentSuspension.objects.filter(household=household, to_month__isnull=True).update(
            to_month=add_months(change.effective_month, -1))
    elif kind == ChangeKind.EXIT:
        if change.grace:
            data["planned_exit_on"] = grace_end(change.decided_on)
        else:
            data.update(status=Status.EXITED, exited_on=dt.date.fromisoformat(payload["exit_on"]),
                        exit_reason=change.reason[:200], planned_exit_on=None)
    _set_household(actor=actor, app=change, action="household.update", data=data)


# --- from a confirmed finding ---------------------------------------------------------------------------

def change_from_finding(*, actor, household: Household, kind: str, reason: str, effective_month: dt.date,
                        finding_id: int, payload: dict | None = None) -> HouseholdChange:
    """The change a confirmed finding calls for, proposed and decided today in the reviewer's one
    step (the caller holds the transaction and has checked the reviewer's role, region and recusal)."""
    household = Household.objects.select_for_update().select_related("region").get(pk=household.pk)
    require(actor, "change.confirm", region_code=household.region_id)
    change = propose_locked(actor=actor, household=household, kind=kind, reason=reason,
                            effective_month=effective_month, payload=payload, proposed_amount=None,
                            amount_reason="", on=today(), finding_id=finding_id)
    return _decide(actor=actor, change=change, on=today())


# --- 渐退: the scheduled end of the grace months --------------------------------------------------------

@transaction.atomic
def grace_exits_due(*, day: dt.date | None = None) -> list[int]:
    """Households whose 渐退期 has ended: the exit takes effect on the last grace day and its
    退出通知书 is issued (its hash in the trail). Returns the households exited."""
    from cases import documents

    day = day or today()
    due = list(Household.objects.select_for_update(skip_locked=True)
               .filter(status=Status.ACTIVE, planned_exit_on__isnull=False, planned_exit_on__lte=day).order_by("pk"))
    for household in due:
        change = (household.changes.filter(kind=ChangeKind.EXIT, state=ChangeState.CONFIRMED)
                  .order_by("-decided_on", "-id").first())
        _set_household(actor="system", app=change, action="change.grace_exit", data={
            "status": Status.EXITED, "exited_on": household.planned_exit_on, "planned_exit_on": None,
            "exit_reason": (_("渐退期满：") + change.reason)[:200]})
        documents.change_document_issue(actor="system", change=change, key="exit_notice")
    return [h.pk for h in due]

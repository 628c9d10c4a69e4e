"""Periodic reviews (定期核查), workflow.md "Dynamic management": which households of a township are
due this month or overdue by management class (A 12 / B 6 / C 3 months, the arithmetic of
rules.md REVIEW_OVERDUE), and the service that records a review — two investigators, the incomes
found, and the outcome (维持, or a change proposal). Recording it sets `last_reviewed_on`, so the
next rescreening batch no longer flags the household.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, CharField, Count, DateField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, Substr
from django.utils.translation import gettext as _

from audits import rules as audit_rules
from cases import benefits, changes
from cases.applications import (
    _refuse_if_recused,
    _step_date,
    _text,
    check_investigators,
    today,
)
from cases.models import (
    Household,
    HouseholdChange,
    HouseholdReview,
    Member,
    ReviewOutcome,
    ReviewState,
    Status,
)
from dibao.audit import audit_change, audit_record, snapshot
from dibao.models import User
from dibao.permissions import require


def intervals() -> dict[str, int]:
    return {cls: int(n) for cls, n in audit_rules.current_params()["REVIEW_INTERVAL_MONTHS"].items()}


def _late_before(day: dt.date) -> Q:
    """Households whose last review (or decision) is earlier than `day` minus their class interval."""
    q = Q(pk__in=[])
    for cls, months in intervals().items():
        q |= Q(management_class=cls, last_review__lt=audit_rules.months_before(day, months))
    return q


def review_worklist(user, *, day: dt.date | None = None) -> QuerySet:
    """在保 households in the user's jurisdiction with `last_review` and `review_status`:
    "overdue" as REVIEW_OVERDUE would flag them on `day`, "due" when they become so by the first of
    next month, "" otherwise."""
    day = day or today()
    next_month = changes.add_months(day, 1)
    overdue, due = _late_before(day), _late_before(next_month)
    return (Household.objects.for_user(user).filter(status=Status.ACTIVE)
            .annotate(last_review=Coalesce("last_reviewed_on", "decided_on", output_field=DateField()))
            .annotate(review_status=Case(When(overdue, then=Value("overdue")), When(due, then=Value("due")),
                                         default=Value(""), output_field=CharField()))
            .select_related("region"))


def township_counts(worklist: QuerySet) -> list[dict]:
    """Per township: households due this month and overdue."""
    return list(worklist.exclude(review_status="")
                .annotate(township=Substr("region_id", 1, 9)).values("township")
                .annotate(due=Count("pk", filter=Q(review_status="due")),
                          overdue=Count("pk", filter=Q(review_status="overdue")))
                .order_by("township"))


def requested_reviews(user) -> QuerySet:
    """Reviews a confirmed finding asked for, not yet recorded."""
    return (HouseholdReview.objects.for_user(user).filter(state=ReviewState.REQUESTED)
            .select_related("household__region").order_by("created_at", "id"))


def reviews_for(user) -> QuerySet:
    return HouseholdReview.objects.for_user(user).select_related("household__region", "change")


# --- writes ------------------------------------------------------------------------------------------

def review_request(*, actor, household: Household, reason: str, finding_id: int | None = None) -> HouseholdReview:
    """A review task for the township (an asset or income finding confirmed by the county)."""
    require(actor, "finding.review", region_code=household.region_id)
    review = HouseholdReview.objects.create(household=household, state=ReviewState.REQUESTED, requested_reason=reason,
                                            finding_id=finding_id, requested_by=actor)
    audit_record(actor=actor, action="review.request", object_type="householdreview", object_id=review.pk,
                 region_code=household.region_id, after={"household": household.household_no, "reason": reason,
                                                         "finding_id": finding_id}, note=reason)
    return review


def _record_incomes(*, actor, household: Household, incomes: dict, note: str) -> list[dict]:
    """The incomes the visit found, written to the members (only a review or change writes them)."""
    found = []
    members = {m.pk: m for m in Member.objects.select_for_update().filter(household=household)}
    for key, value in (incomes or {}).items():
        member = members.get(int(key))
        if member is None:
            raise ValidationError({"incomes": _("成员 %(id)s 不是户 %(no)s 的家庭成员") % {"id": key, "no": household.household_no}})
        value = None if value in (None, "") else Decimal(str(value)).quantize(Decimal("0.01"))
        if value is not None and value < 0:
            raise ValidationError({"incomes": _("%(n)s 的月收入不能为负数") % {"n": member.name}})
        found.append({"member_id": member.pk, "name": member.name,
                      "before": None if member.monthly_income is None else str(member.monthly_income),
                      "after": None if value is None else str(value)})
        if value != member.monthly_income:
            before = snapshot(member)
            member.monthly_income = value
            member.version += 1
            member.save()
            audit_change(actor=actor, action="member.update", obj=member, region_code=household.region_id,
                         before=before, note=note)
    return found


def _check_maintain(household: Household, month: dt.date) -> None:
    """维持 only when the amount in force still matches the formula (else AMOUNT_MISMATCH would flag it)."""
    working = benefits.household_amount(household, month)
    in_force = benefits.amount_in_force(household.pk, month) or household.monthly_amount
    if working is None or in_force is None:
        return
    tolerance = Decimal(str(audit_rules.current_params()["AMOUNT_TOLERANCE"]))
    if abs(working.amount - in_force) > tolerance:
        raise ValidationError({"outcome": _("按核查后的收入测算补差为 %(c)s 元（%(w)s），与现行金额 %(a)s 元不一致，"
                                            "不能维持：请提出“调整金额”或“退出”变更")
                               % {"c": working.amount, "w": working.working, "a": in_force}})


@transaction.atomic
def review_record(*, actor, household: Household, investigators: Iterable[User], reviewed_on: dt.date | None,
                  situation: str, outcome: str, incomes: dict | None = None, change: dict | None = None,
                  review: HouseholdReview | None = None) -> HouseholdReview:
    """定期核查 by two investigators of the township. `incomes`: member id → monthly income found;
    `change`: for the outcome 提出变更, the keyword arguments of a change proposal (kind, reason,
    effective_month, payload, proposed_amount, amount_reason). `review`: the requested review it completes."""
    household = Household.objects.select_for_update().select_related("region").get(pk=household.pk)
    require(actor, "review.record", region_code=household.region_id)
    _refuse_if_recused(actor, household)
    if household.status != Status.ACTIVE:
        raise ValidationError(_("户 %(no)s 当前为“%(s)s”，定期核查只针对在保家庭")
                              % {"no": household.household_no, "s": household.get_status_display()})
    people = check_investigators(investigators, household)
    on = _step_date(reviewed_on, "reviewed_on", (household.decided_on, _("审批日期")))
    situation = _text(situation, "situation", _("核查情况"))
    if review is not None:
        review = HouseholdReview.objects.select_for_update().get(pk=review.pk, household=household)
        if review.state != ReviewState.REQUESTED:
            raise ValidationError(_("该核查任务已于 %(d)s 登记") % {"d": review.reviewed_on})
    else:
        review = HouseholdReview(household=household)
    before = snapshot(review) if review.pk else None
    label = _("定期核查 %(no)s %(d)s") % {"no": household.household_no, "d": on}
    found = _record_incomes(actor=actor, household=household, incomes=incomes or {}, note=label)
    proposed: HouseholdChange | None = None
    if outcome == ReviewOutcome.MAINTAIN:
        _check_maintain(household, on)
    elif outcome == ReviewOutcome.CHANGE:
        require(actor, "change.propose", region_code=household.region_id)
        proposed = changes.propose_locked(actor=actor, household=household, on=on, finding_id=review.finding_id,
                                   **{"effective_month": None, "payload": None, "proposed_amount": None,
                                      "amount_reason": "", **(change or {})})
    else:
        raise ValidationError({"outcome": _("请选择核查结论：维持或提出变更")})
    review.state, review.reviewed_on, review.situation, review.incomes = ReviewState.DONE, on, situation, found
    review.investigator_1, review.investigator_2 = people
    review.outcome, review.change, review.recorded_by = outcome, proposed, actor
    review.save()
    audit_change(actor=actor, action="review.record", obj=review, region_code=household.region_id, before=before,
                 note=f"{label}：{review.get_outcome_display()}")
    if not household.last_reviewed_on or on > household.last_reviewed_on:
        from cases.services import household_update

        household_update(actor=actor, household=household, data={"last_reviewed_on": on}, note=label)
    return review

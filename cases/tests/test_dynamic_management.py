"""Dynamic management (workflow.md): periodic reviews, changes confirmed by the county, 渐退,
and the change a confirmed finding decides."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audits import services as audit_services
from audits.models import RefKind
from audits.tests.helpers import ref, run
from cases import benefits, changes, reviews
from cases.models import (
    AmountHistory,
    BenefitStandard,
    ChangeKind,
    ChangeState,
    Household,
    Member,
    ReviewOutcome,
    Status,
)
from dibao.models import AuditRecord
from tests.factories import (
    FilingFactory,
    HouseholdFactory,
    MemberFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def standard(regions):
    return BenefitStandard.objects.create(region_id="220102", category="rural", monthly_standard=D("500"),
                                          effective_from=dt.date(2020, 1, 1))


@pytest.fixture
def second_caseworker(regions):
    return UserFactory(username="cw_a2", region=regions["220102001"], role="caseworker")


def two_person(amount="1000.00", incomes=(None, None)):
    household = HouseholdFactory(monthly_amount=D(amount))
    head = household.members.get()
    head.monthly_income = incomes[0]
    head.save()
    MemberFactory(household=household, relation="配偶", monthly_income=incomes[1])
    return household


def this_month():
    return timezone.localdate().replace(day=1)


def test_a_recorded_review_clears_review_overdue_on_the_next_batch(users, standard, second_caseworker):
    household = two_person()
    today = timezone.localdate()
    assert run(region="220102", as_of=today).findings.filter(rule="REVIEW_OVERDUE", household=household).exists()
    worklist = reviews.review_worklist(users["caseworker_a"])
    assert worklist.get(pk=household.pk).review_status == "overdue"
    assert reviews.township_counts(worklist) == [{"township": "220102001", "due": 0, "overdue": 1}]

    reviews.review_record(actor=users["caseworker_a"], household=household,
                          investigators=[users["caseworker_a"], second_caseworker], reviewed_on=today,
                          situation="家庭成员务农，无新增收入", outcome=ReviewOutcome.MAINTAIN)
    household.refresh_from_db()
    assert household.last_reviewed_on == today
    assert not run(region="220102", as_of=today).findings.filter(rule="REVIEW_OVERDUE", household=household).exists()
    assert reviews.review_worklist(users["caseworker_a"]).get(pk=household.pk).review_status == ""


def test_a_review_needs_two_investigators_and_cannot_maintain_a_wrong_amount(users, standard, second_caseworker):
    household = two_person()
    member = household.members.get(relation="配偶")
    with pytest.raises(ValidationError) as exc:
        reviews.review_record(actor=users["caseworker_a"], household=household,
                              investigators=[users["caseworker_a"], users["caseworker_a"]], reviewed_on=None,
                              situation="x", outcome=ReviewOutcome.MAINTAIN)
    assert "两名不同的调查人员" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        reviews.review_record(actor=users["caseworker_a"], household=household,
                              investigators=[users["caseworker_a"], second_caseworker], reviewed_on=None,
                              situation="配偶外出务工", outcome=ReviewOutcome.MAINTAIN, incomes={member.pk: "300"})
    assert "测算补差为 700 元" in str(exc.value)
    review = reviews.review_record(
        actor=users["caseworker_a"], household=household, investigators=[users["caseworker_a"], second_caseworker],
        reviewed_on=None, situation="配偶外出务工", outcome=ReviewOutcome.CHANGE, incomes={member.pk: "300"},
        change={"kind": ChangeKind.ADJUST_AMOUNT, "reason": "配偶务工收入 300 元/月"})
    member.refresh_from_db()
    assert member.monthly_income == D("300.00")
    assert review.change.proposed_amount == D("700") and review.change.state == ChangeState.PROPOSED
    with pytest.raises(PermissionDenied):  # the township proposes, the county confirms
        changes.change_confirm(actor=users["caseworker_a"], change=review.change)
    changes.change_confirm(actor=users["reviewer"], change=review.change)
    assert benefits.amount_in_force(household.pk, this_month()) == D("700")


def test_amount_in_force_after_a_change(users, standard):
    household = two_person()
    AmountHistory.objects.create(household=household, effective_month=dt.date(2020, 3, 1), amount=D("1000"),
                                 source="application")
    change = changes.change_propose(actor=users["caseworker_a"], household=household, kind=ChangeKind.ADD_MEMBER,
                                    reason="新生儿落户", payload={"member": {
                                        "name": "新生儿", "id_number": "220102202401010010", "relation": "子女"}})
    assert change.computed_amount == D("1500") and "500 元 × 3 人" in change.amount_working
    changes.change_confirm(actor=users["reviewer"], change=change)
    household.refresh_from_db()
    assert household.members.count() == 3 and household.monthly_amount == D("1500")
    month = change.effective_month
    assert benefits.amount_in_force(household.pk, month) == D("1500")
    assert benefits.amount_in_force(household.pk, changes.add_months(month, -1)) == D("1000")


def test_maker_is_not_checker_and_recused_reviewers_refuse(users, standard):
    household = two_person()
    change = changes.change_propose(actor=users["admin"], household=household, kind=ChangeKind.SUSPEND,
                                    reason="外出务工长期联系不上")
    with pytest.raises(PermissionDenied) as exc:
        changes.change_confirm(actor=users["admin"], change=change)
    assert "提出人" in str(exc.value)
    staff = StaffFactory(user=users["reviewer"], region_id="220102001001")
    FilingFactory(staff=staff, household=household, relative_id_number=household.head_id_number)
    with pytest.raises(PermissionDenied) as exc:
        changes.change_confirm(actor=users["reviewer"], change=change)
    assert "回避" in str(exc.value)
    with pytest.raises(PermissionDenied):  # another county
        changes.change_confirm(actor=users["reviewer_other"], change=change)
    with pytest.raises(PermissionDenied):  # the township proposes, never confirms
        changes.change_confirm(actor=users["caseworker_a"], change=change)
    assert Household.objects.get(pk=household.pk).payment_stopped is False


def test_suspension_is_answerable_per_month(users, standard):
    household = two_person()
    start = this_month()
    suspend = changes.change_propose(actor=users["caseworker_a"], household=household, kind=ChangeKind.SUSPEND,
                                     reason="长期外出无法核实", effective_month=start)
    changes.change_confirm(actor=users["reviewer"], change=suspend)
    assert Household.objects.get(pk=household.pk).payment_stopped
    resume = changes.change_propose(actor=users["caseworker_a"], household=household, kind=ChangeKind.RESUME,
                                    reason="已返乡核实", effective_month=changes.add_months(start, 2))
    changes.change_confirm(actor=users["reviewer"], change=resume)
    assert not Household.objects.get(pk=household.pk).payment_stopped
    assert [changes.suspended_in(household.pk, changes.add_months(start, n)) for n in (-1, 0, 1, 2)] == \
        [False, True, True, False]


def test_a_deceased_member_confirmed_is_removed_with_the_recomputed_amount(users, standard):
    household = two_person()
    spouse = household.members.get(relation="配偶")
    ref(RefKind.DEATHS, [{"id_number": spouse.id_number, "name": spouse.name, "death_date": dt.date(2026, 1, 5)}])
    finding = run(region="220102", as_of=timezone.localdate()).findings.get(rule="DECEASED")
    assert audit_services.fitting_changes(finding) == ["remove_member"]
    died = timezone.localdate() - dt.timedelta(days=40)
    finding = audit_services.finding_confirm(actor=users["reviewer"], finding=finding, reason="派出所证明已死亡",
                                             change="remove_member", exit_on=died)
    household.refresh_from_db()
    assert household.status == Status.ACTIVE and household.monthly_amount == D("500")
    assert not Member.objects.filter(pk=spouse.pk).exists()
    assert finding.actions["remove_member"]["amount"] == "500.00"
    change = household.changes.get()
    assert change.kind == ChangeKind.REMOVE_MEMBER and change.state == ChangeState.CONFIRMED
    assert change.decided_by == users["reviewer"] and change.effective_month == changes.add_months(died, 1)
    assert benefits.amount_in_force(household.pk, change.effective_month) == D("500")


def test_the_death_of_a_one_person_household_exits_it(users, standard):
    household = HouseholdFactory(monthly_amount=D("500"))
    ref(RefKind.DEATHS, [{"id_number": household.head_id_number, "name": "x", "death_date": dt.date(2026, 1, 5)}])
    finding = run(region="220102", as_of=timezone.localdate()).findings.get(rule="DECEASED")
    assert audit_services.fitting_changes(finding) == ["exit"]
    with pytest.raises(ValidationError):
        audit_services.finding_confirm(actor=users["reviewer"], finding=finding, reason="x", change="remove_member",
                                       exit_on=dt.date(2026, 1, 5))
    audit_services.finding_confirm(actor=users["reviewer"], finding=finding, reason="已死亡",
                                   exit_on=dt.date(2026, 1, 5))
    household.refresh_from_db()
    assert household.status == Status.EXITED and household.exited_on == dt.date(2026, 1, 5)


def test_grace_exit_keeps_the_household_until_the_beat_task_exits_it(users, standard):
    household = two_person(incomes=(D("900"), D("400")))
    decoy = two_person(incomes=(D("900"), D("400")))
    change = changes.change_propose(actor=users["caseworker_a"], household=household, kind=ChangeKind.EXIT,
                                    reason="家庭收入超过保障标准", payload={"income_above": True})
    changes.change_confirm(actor=users["reviewer"], change=change)
    household.refresh_from_db()
    end = changes.grace_end(timezone.localdate())
    assert household.status == Status.ACTIVE and household.planned_exit_on == end
    assert end == changes.month_end(changes.add_months(timezone.localdate(), 6))
    mismatched = run(region="220102", as_of=timezone.localdate()).findings.filter(rule="AMOUNT_MISMATCH")
    assert set(mismatched.values_list("household_id", flat=True)) == {decoy.pk}

    assert changes.grace_exits_due(day=end - dt.timedelta(days=1)) == []
    assert changes.grace_exits_due(day=end) == [household.pk]
    household.refresh_from_db()
    assert household.status == Status.EXITED and household.exited_on == end and household.planned_exit_on is None
    issued = AuditRecord.objects.get(action="change.document", object_id=str(change.pk))
    assert issued.after["document"] == "exit_notice" and len(issued.after["sha256"]) == 64


def test_the_grace_exit_task_is_scheduled():
    from django_celery_beat.models import PeriodicTask

    from cases.apps import GRACE_SCHEDULE_NAME, ensure_grace_exit_schedule

    ensure_grace_exit_schedule(sender=None)
    assert PeriodicTask.objects.get(name=GRACE_SCHEDULE_NAME).task == "cases.tasks.grace_exits"

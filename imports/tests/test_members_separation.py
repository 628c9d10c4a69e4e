"""Members' incomes and composition of a 在保 household change through a review or a change,
not through a members file (workflow.md "Separation of duties"); an admin's legacy migration may."""
from decimal import Decimal

import pytest

from cases.models import Member, Status
from imports.models import ImportJob
from imports.tests.helpers import errors_at, run, write_csv
from tests.factories import HouseholdFactory, MemberFactory, make_id

pytestmark = pytest.mark.django_db

HEADER = ["户编号", "姓名", "身份证号", "与户主关系", "重病", "劳动能力", "月收入"]
REASON = "在保家庭的成员收入和人口变化须通过定期核查或变更办理"


@pytest.fixture
def active_family():
    household = HouseholdFactory(household_no="H300", with_head=False)
    head = MemberFactory(household=household, name="李四", relation="本人", monthly_income=Decimal("300.00"))
    return household, head


def _members_csv(tmp_path, rows):
    return write_csv(tmp_path / "m.csv", HEADER, rows)


def test_caseworker_cannot_change_an_income_or_add_a_member_of_an_active_household(tmp_path, users, active_family):
    _household, head = active_family
    newcomer = make_id()
    job = run(users["caseworker_a"], "members", _members_csv(tmp_path, [
        ["H300", "李四", head.id_number, "本人", "否", "", "1,200.00"],
        ["H300", "新成员", newcomer, "子女", "否", "", ""],
    ]))
    assert job.state == ImportJob.State.INVALID
    [income] = errors_at(job, 2)
    assert (income["column"], Decimal(income["value"])) == ("月收入", Decimal("1200")) and REASON in income["reason"]
    [added] = errors_at(job, 3)
    assert (added["column"], added["value"]) == ("身份证号", newcomer) and REASON in added["reason"]
    assert Member.objects.get(pk=head.pk).monthly_income == Decimal("300.00")
    assert not Member.objects.filter(id_number=newcomer).exists()


def test_descriptive_columns_of_an_active_household_stay_importable(tmp_path, users, active_family):
    _household, head = active_family
    job = run(users["caseworker_a"], "members", _members_csv(tmp_path, [
        ["H300", "李四", head.id_number, "本人", "是", "完全丧失", "300"]]))
    assert job.state == ImportJob.State.DONE, job.report
    member = Member.objects.get(pk=head.pk)
    assert member.serious_illness and member.labour_capacity == "完全丧失"


def test_members_of_a_pending_household_are_imported(tmp_path, users):
    HouseholdFactory(household_no="H301", with_head=False, status=Status.PENDING, decided_on=None, monthly_amount=None)
    job = run(users["caseworker_a"], "members", _members_csv(tmp_path, [
        ["H301", "王五", make_id(), "本人", "否", "", "800"]]))
    assert job.state == ImportJob.State.DONE, job.report
    assert Member.objects.get(household__household_no="H301").monthly_income == Decimal("800")


def test_admin_legacy_migration_may_set_members_of_an_active_household(tmp_path, users, active_family):
    household, head = active_family
    newcomer = make_id()
    job = run(users["admin"], "members", _members_csv(tmp_path, [
        ["H300", "李四", head.id_number, "本人", "否", "", "1200"],
        ["H300", "新成员", newcomer, "子女", "否", "", ""]]))
    assert job.state == ImportJob.State.DONE, job.report
    assert Member.objects.get(pk=head.pk).monthly_income == Decimal("1200")
    assert Member.objects.filter(household=household, id_number=newcomer).exists()

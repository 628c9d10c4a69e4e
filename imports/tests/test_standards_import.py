"""The `standards` kind and the v2 household columns (formats.md v2)."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from cases import benefits
from cases.models import AmountHistory, BenefitStandard, Household
from imports import services
from imports.exports import export_rows
from imports.kinds import get_kind
from imports.models import ImportJob
from imports.tests.helpers import errors_at, run, write_csv, write_xlsx
from tests.factories import HouseholdFactory, MemberFactory, make_id

pytestmark = pytest.mark.django_db
STANDARD_HEADER = ["区划代码", "保障类别", "月保障标准", "生效日期"]


def test_standards_import_adds_history_and_is_idempotent(tmp_path, users):
    path = write_xlsx(tmp_path / "s.xlsx", STANDARD_HEADER, [
        ["220000000000", "农村低保", "400", "2023-01-01"],          # padded province code
        ["2201", "城市低保", "￥535.00", dt.date(2023, 1, 1)],
        ["220102", "rural", "490", "2023年7月1日"],
    ])
    job = run(users["admin"], "standards", path)
    assert job.state == ImportJob.State.DONE, job.report
    assert set(BenefitStandard.objects.values_list("region_id", "category", "monthly_standard", "created_by")) == {
        ("22", "rural", Decimal("400"), users["admin"].pk), ("2201", "urban", Decimal("535"), users["admin"].pk),
        ("220102", "rural", Decimal("490"), users["admin"].pk)}
    assert benefits.standard_in_force(region_code="220102001", category="rural",
                                      month=dt.date(2023, 8, 1)).monthly_standard == Decimal("490")
    again = run(users["admin"], "standards", path)
    assert (again.rows_new, again.rows_updated, again.rows_unchanged) == (0, 0, 3)
    corrected = write_csv(tmp_path / "c.csv", STANDARD_HEADER, [["220102", "农村低保", "495", "2023-07-01"]])
    job = run(users["admin"], "standards", corrected)
    assert (job.rows_new, job.rows_updated) == (0, 1)
    assert BenefitStandard.objects.get(region_id="220102").monthly_standard == Decimal("495")


def test_invalid_standard_rows_are_named_and_nothing_is_imported(tmp_path, users):
    path = write_csv(tmp_path / "bad.csv", STANDARD_HEADER, [
        ["220102", "农村低保", "490", "2024-01-01"],
        ["220102001", "农村低保", "490", "2024-01-01"],    # a township: standards are province/city/county
        ["229999", "农村低保", "490", "2024-01-01"],       # does not exist
        ["2201", "五保", "490", "2024-01-01"],
        ["2201", "农村低保", "0", "2024-01-01"],
        ["2201", "农村低保", "490", "2024-02-30"],
        ["220102", "rural", "500", "2024-01-01"],          # repeats row 2's key
    ])
    job = run(users["admin"], "standards", path)
    assert job.state == ImportJob.State.INVALID
    assert not BenefitStandard.objects.exists()
    columns = {row: {e["column"] for e in errors_at(job, row)} for row in range(3, 9)}
    assert columns == {3: {"区划代码"}, 4: {"区划代码"}, 5: {"保障类别"}, 6: {"月保障标准"}, 7: {"生效日期"},
                       8: {"生效日期"}}
    assert "不存在" in errors_at(job, 4)[0]["reason"]
    assert "第 2 行" in errors_at(job, 8)[0]["reason"]


def test_only_admin_imports_standards(tmp_path, users):
    path = write_csv(tmp_path / "s.csv", STANDARD_HEADER, [["220102", "农村低保", "490", "2024-01-01"]])
    for role in ("caseworker_a", "reviewer", "supervisor"):
        assert "standards" not in services.allowed_kinds(users[role])
        with pytest.raises(PermissionDenied):
            run(users[role], "standards", path)


# ------------------------------------------------------------------ households v2 columns
V2_HEADER = ["户编号", "区划代码", "户主姓名", "户主身份证号", "状态", "申请日期", "审批日期", "月保障金额",
             "保障人数", "单人保对象身份证号", "收款人身份证号", "收款账号", "开户银行"]


def v2_row(no, head, *, covered="", single="", payee="", account="", bank="", amount="980"):
    return [no, "220102001001", "张三", head, "在保", "2023-01-05", "2023-02-17", amount, covered, single, payee,
            account, bank]


def test_household_v2_columns_import_export_and_history(tmp_path, users):
    head, child, guardian = make_id(), make_id(), make_id()
    household = HouseholdFactory(household_no="H1", head_id_number=head)
    MemberFactory(household=household, id_number=child, relation="子女")
    path = write_csv(tmp_path / "h.csv", V2_HEADER, [
        v2_row("H1", head, covered="1", single=child, payee=guardian, account="6217000011112222333", bank="农村信用社")])
    job = run(users["admin"], "households", path)
    assert job.state == ImportJob.State.DONE, job.report
    h = Household.objects.get(household_no="H1")
    assert (h.single_coverage_id_number, h.payee_id_number, h.account_no, h.bank_name) == (
        child, guardian, "6217000011112222333", "农村信用社")
    history = AmountHistory.objects.get(household=h)
    assert (history.effective_month, history.amount, history.covered_persons, history.source) == (
        dt.date(2023, 2, 1), Decimal("980"), 1, "import")
    row = next(export_rows("households", Household.objects.filter(pk=h.pk), full_ids=True))
    exported = dict(zip(get_kind("households").headers, row))
    assert (exported["保障人数"], exported["单人保对象身份证号"], exported["收款账号"]) == ("1", child,
                                                                              "6217000011112222333")
    again = run(users["admin"], "households", path)
    assert again.rows_unchanged == 1 and AmountHistory.objects.filter(household=h).count() == 1


def test_household_v2_columns_are_checked(tmp_path, users):
    heads = [make_id() for _ in range(5)]
    for no, head in zip(["A", "B", "C", "D"], heads):
        h = HouseholdFactory(household_no=no, head_id_number=head)
        MemberFactory(household=h, relation="配偶")
    stranger = make_id()
    path = write_csv(tmp_path / "h.csv", V2_HEADER, [
        v2_row("A", heads[0], covered="1", single=stranger),          # not a member
        v2_row("B", heads[1], covered="3"),                            # 2 members
        v2_row("C", heads[2], covered="1"),                            # 1 of 2 without naming the person
        v2_row("D", heads[3], account="123"),                          # too short
    ])
    job = run(users["admin"], "households", path)
    assert job.state == ImportJob.State.INVALID
    assert "不是本户的家庭成员" in errors_at(job, 2)[0]["reason"]
    assert "与本户成员数不符" in errors_at(job, 3)[0]["reason"]
    assert "请填写单人保对象身份证号" in errors_at(job, 4)[0]["reason"]
    assert errors_at(job, 5)[0]["column"] == "收款账号"
    assert not AmountHistory.objects.exists()


def test_single_coverage_member_may_come_in_the_members_file_of_the_same_upload(tmp_path, users):
    head, child = make_id(), make_id()
    households = write_csv(tmp_path / "h.csv", V2_HEADER, [v2_row("NEW", head, covered="1", single=child)])
    members = write_csv(tmp_path / "m.csv", ["户编号", "姓名", "身份证号", "与户主关系"],
                        [["NEW", "张三", head, "本人"], ["NEW", "张小", child, "子女"]])
    job = services.import_job_create(actor=users["admin"], kind="households", file_name="h.csv", path=str(households),
                                     dry_run=False)
    services.import_job_create(actor=users["admin"], kind="members", file_name="m.csv", path=str(members),
                               dry_run=False, batch=job)
    job = services.import_run(job_id=job.pk)
    assert job.state == ImportJob.State.DONE, job.report
    assert Household.objects.get(household_no="NEW").single_coverage_id_number == child


def test_account_number_typed_as_an_excel_number_is_refused(tmp_path, users):
    head = make_id()
    HouseholdFactory(household_no="X", head_id_number=head)
    path = write_xlsx(tmp_path / "h.xlsx", V2_HEADER, [v2_row("X", head, account=6217000011112222333)])
    job = run(users["admin"], "households", path)
    assert "存成了数字" in errors_at(job, 2)[0]["reason"]


def test_standards_template_is_offered_to_admins_only(users, client_for):
    from io import BytesIO

    from django.urls import reverse
    from openpyxl import load_workbook

    url = reverse("imports:template", args=["standards"])
    response = client_for(users["admin"]).get(url)
    assert response.status_code == 200
    assert [c.value for c in load_workbook(BytesIO(response.content)).active[1]] == STANDARD_HEADER
    assert "保障标准" in client_for(users["admin"]).get(reverse("imports:index")).content.decode()
    assert client_for(users["reviewer"]).get(url).status_code == 403

"""Every rule of spec/formats.md: a bad file writes nothing and the report names row and column."""
import datetime as dt
from decimal import Decimal

import pytest

from audits.models import DeathRecord, RefVersion
from cases.models import Household, Member, RelativeFiling, Staff
from dibao.models import AuditRecord
from imports import services
from imports.models import ImportJob
from imports.tests.helpers import HOUSEHOLD_HEADER, errors_at, run, write_csv, write_xlsx
from tests.factories import HouseholdFactory, StaffFactory, make_id

pytestmark = pytest.mark.django_db


# A household with its decision: townships may not import one (legacy migration, admin only).
DECIDED = {"status": "在保", "审批日期": "2023-02-01", "月保障金额": "980.00"}


def household_row(no="H001", region="220102001001", id_number=None, status="审核中", **over):
    """A township's row: a new household 审核中, without decision date or amount."""
    row = {"户编号": no, "区划代码": region, "户主姓名": "张三", "户主身份证号": id_number or make_id(),
           "保障类别": "农村低保", "状态": status, "申请日期": "2023-01-05", "审批日期": "",
           "退出日期": "", "月保障金额": "", "分类管理": "B", "建档立卡户": "否"}
    row.update(over)
    return [row[h] for h in HOUSEHOLD_HEADER]


def households_csv(tmp_path, rows, name="h.csv", header=HOUSEHOLD_HEADER, encoding="utf-8-sig"):
    return write_csv(tmp_path / name, header, rows, encoding=encoding)


def assert_rejected(job, row, column, fragment=""):
    assert job.state == ImportJob.State.INVALID
    found = [e for e in errors_at(job, row) if e["column"] == column]
    assert found, job.errors
    if fragment:
        assert any(fragment in e["reason"] for e in found), found
    assert all(e["reason_en"] for e in found)
    return found[0]


# ------------------------------------------------------------------ good files
def test_households_import_and_idempotent_reimport(tmp_path, users):
    path = households_csv(tmp_path, [household_row("H001", **DECIDED), household_row("H002")])
    job = run(users["admin"], "households", path)
    assert job.state == ImportJob.State.DONE, job.report
    assert (job.rows_total, job.rows_new, job.rows_updated, job.rows_unchanged) == (2, 2, 0, 0)
    h = Household.objects.get(household_no="H001")
    assert h.monthly_amount == Decimal("980.00") and h.decided_on == dt.date(2023, 2, 1) and h.status == "active"
    again = run(users["admin"], "households", path)
    assert (again.rows_new, again.rows_updated, again.rows_unchanged) == (0, 0, 2)
    assert Household.objects.count() == 2


def test_changed_row_counts_as_updated(tmp_path, users):
    a, b = make_id(), make_id()
    run(users["admin"], "households", households_csv(tmp_path, [household_row("H001", id_number=a, **DECIDED),
                                                                household_row("H002", id_number=b, **DECIDED)]))
    changed = households_csv(tmp_path, [household_row("H001", id_number=a, **{**DECIDED, "月保障金额": "1,100.00"}),
                                        household_row("H002", id_number=b, **DECIDED), household_row("H003")],
                             name="h2.csv")
    job = run(users["admin"], "households", changed)
    assert (job.rows_new, job.rows_updated) == (1, 1)
    assert Household.objects.get(household_no="H001").monthly_amount == Decimal("1100.00")


def test_gbk_csv_and_full_width_digits_are_accepted(tmp_path, users):
    id_number = make_id()
    wide = id_number.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    path = households_csv(tmp_path, [household_row("Ｈ００１", region="２２０１０２００１００１", id_number=wide,
                                                   户主姓名="\u3000王五 ")], encoding="gbk")
    job = run(users["caseworker_a"], "households", path)
    assert job.state == ImportJob.State.DONE, job.report
    h = Household.objects.get()
    assert (h.household_no, h.region_id, h.head_id_number, h.head_name) == ("H001", "220102001001", id_number, "王五")


def test_xlsx_with_real_date_and_number_cells(tmp_path, users):
    row = household_row("H001", **DECIDED)
    row[HOUSEHOLD_HEADER.index("申请日期")] = dt.datetime(2023, 1, 5)
    row[HOUSEHOLD_HEADER.index("月保障金额")] = 980.5
    path = write_xlsx(tmp_path / "h.xlsx", HOUSEHOLD_HEADER, [row])
    job = run(users["admin"], "households", path)
    assert job.state == ImportJob.State.DONE, job.report
    h = Household.objects.get()
    assert h.applied_on == dt.date(2023, 1, 5) and h.monthly_amount == Decimal("980.50")


def test_headers_by_english_key_in_any_order_and_unknown_columns_warned(tmp_path, users):
    id_number = make_id()
    header = ["head_id_number", "household_no", "status", "region_code", "head_name", "applied_on", "备注"]
    path = write_csv(tmp_path / "h.csv", header, [[id_number, "H9", "pending", "220102001", "赵六", "2024/05/06", "x"]])
    job = run(users["caseworker_a"], "households", path)
    assert job.state == ImportJob.State.DONE, job.report
    assert [w["column"] for w in job.warnings] == ["备注"]
    assert Household.objects.get().category == "rural"


def test_dry_run_writes_nothing_but_counts(tmp_path, users):
    path = households_csv(tmp_path, [household_row("H001"), household_row("H002")])
    job = run(users["caseworker_a"], "households", path, dry_run=True)
    assert job.state == ImportJob.State.CHECKED and job.rows_new == 2
    assert Household.objects.count() == 0
    assert not AuditRecord.objects.filter(action__startswith="import.").exists()


def test_each_import_is_one_audit_record_with_counts(tmp_path, users):
    job = run(users["caseworker_a"], "households", households_csv(tmp_path, [household_row("H1"), household_row("H2")]))
    records = AuditRecord.objects.filter(action="import.households")
    assert records.count() == 1
    assert records.get().after["new"] == 2 and records.get().object_id == str(job.pk)


def test_members_staff_and_relatives(tmp_path, users):
    hh = HouseholdFactory(household_no="H100", with_head=False, status="pending")
    a, b = make_id(), make_id()
    members = write_csv(tmp_path / "m.csv", ["户编号", "姓名", "身份证号", "与户主关系", "残疾等级", "重病", "月收入"],
                        [["H100", "户主", a, "本人", "", "否", ""], ["H100", "孩子", b, "子女", "二级", "是", "100"]])
    job = run(users["caseworker_a"], "members", members)
    assert job.state == ImportJob.State.DONE, job.report
    assert Member.objects.get(id_number=b).disability_level == 2
    staff_id = make_id()
    staff = write_csv(tmp_path / "s.csv", ["姓名", "身份证号", "人员类别", "区划代码"],
                      [["村干部", staff_id, "村(居)委会干部", "220102001001"]])
    assert run(users["caseworker_a"], "staff", staff).state == ImportJob.State.DONE
    relatives = write_csv(tmp_path / "r.csv", ["备案人身份证号", "亲属姓名", "亲属身份证号", "关系", "户编号", "备案日期"],
                          [[staff_id, "孩子", b, "子女", "H100", "2026-03-01"]])
    job = run(users["caseworker_a"], "relatives", relatives)
    assert job.state == ImportJob.State.DONE, job.report
    filing = RelativeFiling.objects.get()
    assert filing.staff.id_number == staff_id and filing.household == hh


# ------------------------------------------------------------------ bad files: nothing written
def test_bad_check_digit(tmp_path, users):
    good = make_id()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    job = run(users["caseworker_a"], "households", households_csv(tmp_path, [household_row("H1"), household_row("H2", id_number=bad)]))
    assert_rejected(job, 3, "户主身份证号", "校验位")
    assert Household.objects.count() == 0 and job.rows_invalid == 1


def test_id_stored_as_number_in_xlsx(tmp_path, users):
    row = household_row("H1")
    row[HOUSEHOLD_HEADER.index("户主身份证号")] = int(make_id()[:17] + "0")  # a numeric cell
    path = write_xlsx(tmp_path / "h.xlsx", HOUSEHOLD_HEADER, [household_row("H0"), row])
    job = run(users["caseworker_a"], "households", path)
    err = assert_rejected(job, 3, "户主身份证号", "存成了数字")
    assert "stored as a number" in err["reason_en"]
    assert Household.objects.count() == 0


def test_id_in_scientific_notation_in_csv(tmp_path, users):
    job = run(users["caseworker_a"], "households", households_csv(tmp_path, [household_row("H1", id_number="2.20102199E+17")]))
    assert_rejected(job, 2, "户主身份证号", "存成了数字")


def test_unknown_region_code(tmp_path, users):
    job = run(users["caseworker_a"], "households", households_csv(tmp_path, [household_row("H1"), household_row("H2", region="220102001999")]))
    err = assert_rejected(job, 3, "区划代码", "不存在")
    assert err["value"] == "220102001999"
    assert Household.objects.count() == 0


def test_region_outside_the_caseworkers_township(tmp_path, users):
    job = run(users["caseworker_a"], "households", households_csv(tmp_path, [household_row("H1"), household_row("H2", region="220102002001")]))
    assert_rejected(job, 3, "区划代码", "管辖范围")
    assert Household.objects.count() == 0


def test_county_reviewer_may_import_the_whole_county_but_not_another(tmp_path, users):
    ok = households_csv(tmp_path, [household_row("H1"), household_row("H2", region="220102002001")])
    assert run(users["reviewer"], "households", ok).state == ImportJob.State.DONE
    other = households_csv(tmp_path, [household_row("H3", region="220103001001")], name="o.csv")
    assert_rejected(run(users["reviewer"], "households", other), 2, "区划代码", "管辖范围")


def test_existing_household_of_another_township_cannot_be_overwritten(tmp_path, users):
    HouseholdFactory(household_no="H1", region_id="220102002001")
    job = run(users["caseworker_a"], "households", households_csv(tmp_path, [household_row("H1")]))
    assert_rejected(job, 2, "户编号", "管辖范围以外")
    assert Household.objects.get().region_id == "220102002001"


def test_impossible_date(tmp_path, users):
    job = run(users["caseworker_a"], "households", households_csv(tmp_path, [household_row("H1", 申请日期="2023-02-30")]))
    err = assert_rejected(job, 2, "申请日期", "不存在")
    assert err["value"] == "2023-02-30"
    assert Household.objects.count() == 0


def test_duplicate_key_names_both_rows(tmp_path, users):
    path = households_csv(tmp_path, [household_row("H1"), household_row("H2"), household_row("H1")])
    job = run(users["caseworker_a"], "households", path)
    err = assert_rejected(job, 4, "户编号", "与第 2 行重复")
    assert "row 2" in err["reason_en"]
    assert Household.objects.count() == 0


def test_missing_required_column(tmp_path, users):
    header = [h for h in HOUSEHOLD_HEADER if h != "户主身份证号"]
    rows = [[v for h, v in zip(HOUSEHOLD_HEADER, household_row("H1")) if h != "户主身份证号"]]
    job = run(users["caseworker_a"], "households", write_csv(tmp_path / "h.csv", header, rows))
    err = assert_rejected(job, 1, "户主身份证号", "缺少必填列")
    assert "missing" in err["reason_en"]
    assert Household.objects.count() == 0


def test_cross_field_rules(tmp_path, users):
    rows = [household_row("H1", **{**DECIDED, "月保障金额": ""}), household_row("H2", **{**DECIDED, "status": "已退出"}),
            household_row("H3", status="未通过")]
    job = run(users["admin"], "households", households_csv(tmp_path, rows))
    assert_rejected(job, 2, "月保障金额", "月保障金额")
    assert_rejected(job, 3, "退出日期", "退出日期")
    assert_rejected(job, 4, "审批日期", "审批日期")
    assert job.rows_invalid == 3


def test_every_bad_row_is_listed_and_a_dry_run_still_counts_good_rows(tmp_path, users):
    rows = [household_row("H1"), household_row("H2", 状态="在保", 申请日期="x"), household_row("H3", 分类管理="Z")]
    job = run(users["caseworker_a"], "households", households_csv(tmp_path, rows), dry_run=True)
    assert {e["row"] for e in job.errors} == {3, 4}
    assert (job.rows_invalid, job.rows_new) == (2, 1)


def test_member_of_unknown_household(tmp_path, users):
    HouseholdFactory(household_no="H100", with_head=False, status="pending")
    path = write_csv(tmp_path / "m.csv", ["户编号", "姓名", "身份证号", "与户主关系"],
                     [["H100", "甲", make_id(), "本人"], ["H404", "乙", make_id(), "子女"]])
    job = run(users["caseworker_a"], "members", path)
    err = assert_rejected(job, 3, "户编号", "不存在")
    assert err["value"] == "H404"
    assert Member.objects.count() == 0


def test_member_id_unique_within_household(tmp_path, users):
    HouseholdFactory(household_no="H100", with_head=False, status="pending")
    same = make_id()
    path = write_csv(tmp_path / "m.csv", ["户编号", "姓名", "身份证号", "与户主关系"],
                     [["H100", "甲", same, "本人"], ["H100", "乙", same, "子女"]])
    assert_rejected(run(users["caseworker_a"], "members", path), 3, "身份证号", "与第 2 行重复")


def test_member_of_household_in_another_township(tmp_path, users):
    HouseholdFactory(household_no="H200", region_id="220102002001", with_head=False)
    path = write_csv(tmp_path / "m.csv", ["户编号", "姓名", "身份证号", "与户主关系"], [["H200", "甲", make_id(), "本人"]])
    assert_rejected(run(users["caseworker_a"], "members", path), 2, "户编号", "管辖范围")


def test_relative_of_unknown_staff(tmp_path, users):
    StaffFactory()
    path = write_csv(tmp_path / "r.csv", ["备案人身份证号", "亲属姓名", "亲属身份证号", "关系", "备案日期"],
                     [[make_id(), "某", make_id(), "父母", "2026-01-01"]])
    assert_rejected(run(users["caseworker_a"], "relatives", path), 2, "备案人身份证号", "名册")
    assert RelativeFiling.objects.count() == 0


def test_staff_region_may_be_any_level_but_must_exist(tmp_path, users):
    path = write_csv(tmp_path / "s.csv", ["姓名", "身份证号", "人员类别", "区划代码"],
                     [["局长", make_id(), "civil_affairs", "220102"], ["某", make_id(), "caseworker", "220102999"]])
    job = run(users["reviewer"], "staff", path)
    assert_rejected(job, 3, "区划代码", "不存在")
    assert Staff.objects.count() == 0


def test_unreadable_file_is_reported(tmp_path, users):
    path = tmp_path / "h.xlsx"
    path.write_bytes(b"not a workbook")
    job = run(users["caseworker_a"], "households", path)
    assert job.state == ImportJob.State.INVALID and "Excel" in job.errors[0]["reason"]


# ------------------------------------------------------------------ cross-check data
DEATH_HEADER = ["姓名", "身份证号", "死亡日期"]


def test_cross_check_versions_replace_the_data_set(tmp_path, users):
    admin = users["admin"]
    a, b, c = make_id(), make_id(), make_id()
    v1 = run(admin, "deaths", write_csv(tmp_path / "d1.csv", DEATH_HEADER, [["甲", a, "2024-01-01"], ["乙", b, "2024-02-01"]]))
    assert v1.state == ImportJob.State.DONE, v1.report
    v2 = run(admin, "deaths", write_csv(tmp_path / "d2.csv", DEATH_HEADER, [["甲", a, "2024-01-01"], ["丙", c, "2024-03-01"]]))
    assert (v2.rows_new, v2.rows_updated, v2.rows_unchanged, v2.report["removed"]) == (1, 0, 1, 1)
    versions = list(RefVersion.objects.filter(kind="deaths").order_by("version_no"))
    assert [(v.version_no, v.is_current, v.row_count) for v in versions] == [(1, False, 2), (2, True, 2)]
    assert set(DeathRecord.current().values_list("id_number", flat=True)) == {a, c}
    assert DeathRecord.objects.count() == 4  # the old version is kept
    assert versions[1].loaded_by == admin


def test_cross_check_duplicate_key_and_caseworkers_cannot_import(tmp_path, users):
    a = make_id()
    path = write_csv(tmp_path / "d.csv", DEATH_HEADER, [["甲", a, "2024-01-01"], ["甲", a, "2024-01-02"]])
    assert_rejected(run(users["admin"], "deaths", path), 3, "身份证号", "与第 2 行重复")
    assert not RefVersion.objects.exists()
    with pytest.raises(services.PermissionDenied):
        run(users["caseworker_a"], "deaths", path)


def test_every_cross_check_kind_imports(tmp_path, users):
    i = make_id()
    files = {
        "disability": (["姓名", "身份证号", "残疾类别", "残疾等级", "区划代码"], [["甲", i, "肢体", "二级", "220102001001"]]),
        "illness": (["姓名", "身份证号", "病种", "确诊日期"], [["甲", i, "尿毒症", "2024-01-01"], ["甲", i, "肺癌", ""]]),
        "poverty": (["姓名", "身份证号", "扶贫户编号"], [["甲", i, "P1"]]),
        "payroll": (["姓名", "身份证号", "工作单位"], [["甲", i, "某局"]]),
        "vehicles": (["身份证号", "号牌号码", "车辆类型", "登记日期"], [[i, "吉A12345", "小型轿车", "2020/1/1"]]),
        "business": (["身份证号", "企业名称", "注册资本（万元）", "登记状态"], [[i, "某公司", "50", "存续"]]),
        "property": (["身份证号", "不动产单元号", "用途", "面积（㎡）"], [[i, "U1", "住宅", "88.5"]]),
        "kinship": (["身份证号A", "身份证号B", "关系"], [[i, make_id(), "配偶"]]),
    }
    for kind, (header, rows) in files.items():
        job = run(users["admin"], kind, write_csv(tmp_path / f"{kind}.csv", header, rows))
        assert job.state == ImportJob.State.DONE, (kind, job.report)
        assert RefVersion.objects.get(kind=kind, is_current=True).row_count == len(rows)


# ------------------------------------------------------------------ round trip
def test_export_then_import_changes_nothing(tmp_path, users):
    from imports.services import registry_export

    hh = HouseholdFactory(household_no="H1", registered_poor=True, poverty_cause="因病", management_class="C")
    Member.objects.create(household=hh, name="孩子", id_number=make_id(), relation="子女", disability_level=3,
                          disability_category="肢体", serious_illness=True, monthly_income=Decimal("120.50"),
                          labour_capacity="部分丧失")
    HouseholdFactory(household_no="H2", status="exited", exited_on=dt.date(2024, 5, 1), exit_reason="收入超标")
    staff = StaffFactory(staff_type="civil_affairs", employer="民政局", position="科员")
    RelativeFiling.objects.create(staff=staff, relative_name="亲", relative_id_number=make_id(), relation="父母",
                                  household=hh, filed_on=dt.date(2026, 1, 1))
    for kind in ("households", "members", "staff", "relatives"):
        content = registry_export(actor=users["caseworker_a"], kind=kind)
        path = tmp_path / f"{kind}.xlsx"
        path.write_bytes(content)
        job = run(users["caseworker_a"], kind, path)
        assert job.state == ImportJob.State.DONE, (kind, job.report)
        assert (job.rows_new, job.rows_updated) == (0, 0), kind
        assert job.rows_unchanged > 0, kind


def test_export_is_scoped(tmp_path, users):
    from openpyxl import load_workbook

    from imports.services import registry_export
    HouseholdFactory(household_no="MINE")
    HouseholdFactory(household_no="THEIRS", region_id="220102002001")
    path = tmp_path / "e.xlsx"
    path.write_bytes(registry_export(actor=users["caseworker_a"], kind="households"))
    ws = load_workbook(path).worksheets[0]
    assert [r[0] for r in ws.iter_rows(min_row=2, values_only=True)] == ["MINE"]
    assert ws.cell(row=1, column=4).value == "户主身份证号" and ws.cell(row=2, column=4).number_format == "@"


# ------------------------------------------------------------------ a batch: households + members together
def _batch(actor, tmp_path, household_rows, member_rows, dry_run=False):
    h = households_csv(tmp_path, household_rows, name="bh.csv")
    m = write_csv(tmp_path / "bm.csv", ["户编号", "姓名", "身份证号", "与户主关系"], member_rows)
    job = services.import_job_create(actor=actor, kind="households", file_name="bh.csv", path=str(h), dry_run=dry_run)
    members = services.import_job_create(actor=actor, kind="members", file_name="bm.csv", path=str(m),
                                         dry_run=dry_run, batch=job)
    services.import_run(job_id=job.pk)
    job.refresh_from_db()
    members.refresh_from_db()
    return job, members


def test_members_may_belong_to_households_of_the_same_batch(tmp_path, users):
    head = make_id()
    job, members = _batch(users["caseworker_a"], tmp_path, [household_row("NEW1", id_number=head)],
                          [["NEW1", "张三", head, "本人"], ["NEW1", "孩子", make_id(), "子女"]], dry_run=True)
    assert (job.state, members.state, members.rows_new) == ("checked", "checked", 2), members.report
    assert Household.objects.count() == 0
    services.import_confirm(actor=users["caseworker_a"], job=job)
    services.import_run(job_id=job.pk)
    members.refresh_from_db()
    assert members.state == "done" and Member.objects.filter(household__household_no="NEW1").count() == 2


def test_a_bad_members_file_stops_the_whole_batch(tmp_path, users):
    job, members = _batch(users["caseworker_a"], tmp_path, [household_row("NEW1")],
                          [["NEW1", "张三", make_id(), "本人"], ["NOPE", "某", make_id(), "子女"]])
    assert members.state == "invalid" and errors_at(members, 3)[0]["column"] == "户编号"
    assert job.state == "invalid" and "同批" in job.outcome
    assert Household.objects.count() == 0 and Member.objects.count() == 0


def test_a_file_without_data_rows_is_rejected(tmp_path, users):
    path = write_csv(tmp_path / "d.csv", DEATH_HEADER, [])
    job = run(users["admin"], "deaths", path)
    assert job.state == ImportJob.State.INVALID and "没有数据行" in job.errors[0]["reason"]
    assert not RefVersion.objects.exists()

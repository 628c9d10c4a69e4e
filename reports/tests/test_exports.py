import csv
import datetime as dt
import hashlib
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from cases.models import Status
from dibao.models import AuditRecord
from reports import services
from reports.models import METRIC_KEYS, ExportJob
from tests.factories import HouseholdFactory, MemberFactory, make_id

MARCH = dt.date(2026, 3, 1)


@pytest.fixture
def registry(regions):
    a = HouseholdFactory(region_id="220102001001", household_no="H001", head_name="张三",
                         head_id_number=make_id("220102", born=dt.date(1961, 5, 5), seq=11), monthly_amount=Decimal("980.50"),
                         decided_on=dt.date(2026, 3, 10), applied_on=dt.date(2026, 3, 1))
    MemberFactory(household=a)
    HouseholdFactory(region_id="220102001002", household_no="H002", head_name="李四",
                     monthly_amount=Decimal("300.00"))
    HouseholdFactory(region_id="220102001001", household_no="H003", head_name="王五", status=Status.EXITED,
                     exited_on=dt.date(2026, 3, 20), exit_reason="收入超标")
    HouseholdFactory(region_id="220102001002", household_no="H004", head_name="赵六", status=Status.REJECTED,
                     applied_on=dt.date(2026, 2, 1), decided_on=dt.date(2026, 2, 20), monthly_amount=None,
                     rejection_reason="有车辆")
    HouseholdFactory(region_id="220102002001", household_no="H005", head_name="钱七")
    return a


def test_export_rollup_xlsx_form(registry, tmp_path):
    out = tmp_path / "county.xlsx"
    call_command("rollup", "--month", "2026-03")
    call_command("export_rollup", "--month", "2026-03", "--level", "township", "--region", "220102",
                 "--output", str(out))
    wb = load_workbook(out)
    assert wb.sheetnames == ["月度汇总", "新增疑点分规则"]
    ws = wb["月度汇总"]
    assert ws["A1"].value == "吉林省长春市南关区农村低保月度汇总表（2026年3月，按乡镇）"
    assert ws["A2"].value.startswith("填报单位：吉林省长春市南关区")
    assert any(str(c.value).startswith("填报日期：") for c in ws[2])
    headers = [c.value for c in ws[3]]
    assert headers[:5] == ["区划代码", "区划名称", "在保户数", "在保人数", "月保障金额合计（元）"]
    assert ws.freeze_panes == "A4"
    assert ws.print_title_rows == "$1:$3"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=4)]
    assert [r[0] for r in rows] == ["220102001", "220102002", "合计"]
    assert rows[0][2:4] == [2, 3]  # H001 (+1 member) and H002 active at 03-31
    assert rows[2][2] == 3
    assert rows[2][4] == pytest.approx(980.50 + 300 + 980)
    assert ws.cell(row=4, column=1).data_type == "s"
    assert ws.cell(row=4, column=5).number_format == "#,##0.00"


def test_export_rollup_csv_machine_form(registry, tmp_path):
    out = tmp_path / "r.csv"
    call_command("export_rollup", "--month", "2026-03", "--level", "county", "--output", str(out))
    with open(out, encoding="utf-8") as f:
        records = list(csv.reader(f))
    assert records[0] == ["region_code", "region_name", "level", *METRIC_KEYS]
    assert [r[0] for r in records[1:]] == ["220102", "220103"]
    first = dict(zip(records[0], records[1]))
    assert first["level"] == "county" and first["households_active"] == "3"
    assert first["amount_total"] == "2260.50"
    assert first["applications"] == "1"


def test_screening_workbook(registry, tmp_path):
    out = tmp_path / "s.xlsx"
    call_command("export_form", "screening", "--region", "220102001", "--from", "2026-01-01", "--to", "2026-03-31",
                 "--output", str(out))
    wb = load_workbook(out)
    assert wb.sheetnames == ["在保", "退出", "申请未通过"]
    active = wb["在保"]
    assert active["A1"].value == "南岭街道农村低保排查情况统计表（在保）"
    assert active["A2"].value.startswith("填报单位：")
    assert [c.value for c in active[3]] == ["序号", "村（居）", "户编号", "申请人（户主）", "身份证号", "家庭人口",
                                            "月保障金额", "排查结果", "问题类型", "处理情况"]
    rows = [[c.value for c in r] for r in active.iter_rows(min_row=4)]
    assert [r[2] for r in rows[:-1]] == ["H001", "H002"]
    assert rows[0][:6] == [1, "南岭村", "H001", "张三", registry.head_id_number, 2]
    assert rows[0][6] == pytest.approx(980.50)
    assert rows[0][7] == "无问题"
    assert active.cell(row=4, column=5).data_type == "s"
    assert rows[-1][0] == "合计" and rows[-1][5] == 3 and rows[-1][6] == pytest.approx(1280.50)
    exited = [[c.value for c in r] for r in wb["退出"].iter_rows(min_row=3)]
    assert exited[0][6:8] == ["退出日期", "退出原因"]
    assert exited[1][2] == "H003" and exited[1][7] == "收入超标"
    assert exited[1][6].date() == dt.date(2026, 3, 20)
    rejected = [[c.value for c in r] for r in wb["申请未通过"].iter_rows(min_row=3)]
    assert rejected[0][6:8] == ["申请日期", "未通过原因"]
    assert rejected[1][2] == "H004" and rejected[-1][0] == "合计"
    assert wb["申请未通过"]["A1"].value == "南岭街道农村低保排查情况统计表（申请未通过）"


def test_bulletin(registry, tmp_path):
    out = tmp_path / "b.xlsx"
    call_command("export_form", "bulletin", "--region", "2201", "--from", "2026-01-01", "--to", "2026-03-31",
                 "--output", str(out))
    ws = load_workbook(out)["进度通报"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=4)]
    assert [r[0] for r in rows] == ["220102", "220103", "合计"]
    # no household was reviewed in the period: 220102's townships are open; 220103001 has none to screen
    assert rows[0][2:5] == [2, 0, "0.0%"]
    assert rows[1][2:5] == [1, 1, "100.0%"]
    assert rows[2][2:5] == [3, 1, "33.3%"]


@pytest.fixture
def order(client_for, django_capture_on_commit_callbacks):
    """order(user, **form) -> the ExportJob the exports page queued, after the worker ran it."""
    def make(user, **data):
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(user).post("/reports/exports/", data)
        assert response.status_code == 302, response.content.decode()[:2000]
        return ExportJob.objects.latest("id")
    return make


def test_web_export_job_masks_ids_for_roles_without_the_right(registry, users, client_for, order):
    supervisor = users["supervisor"]
    job = order(supervisor, kind="screening", region="220102001", start="2026-01-01", end="2026-03-31")
    job.refresh_from_db()
    assert job.state == "done" and not job.full_ids and job.rows_written == 4
    page = client_for(supervisor).get(f"/reports/exports/{job.pk}/status/").content.decode()
    assert "hx-trigger" not in page and "下载" in page
    response = client_for(supervisor).get(f"/reports/exports/{job.pk}/download/")
    assert response.status_code == 200
    path = job.file.path
    ws = load_workbook(path)["在保"]
    cell = ws.cell(row=4, column=5)
    assert cell.data_type == "s" and cell.value == registry.head_id_number[:6] + "********" + registry.head_id_number[-4:]
    record = AuditRecord.objects.get(action="file.download", object_type="export_job", object_id=str(job.pk))
    assert record.after["sha256"] == hashlib.sha256(b"".join(response.streaming_content)).hexdigest()
    assert record.after["full_ids"] is False


def test_caseworker_exports_are_masked_and_reviewer_exports_full(registry, users, order):
    job = order(users["caseworker_a"], kind="screening", region="220102001", start="2026-01-01",
                end="2026-03-31")
    ws = load_workbook(ExportJob.objects.get(pk=job.pk).file.path)["在保"]
    assert re.fullmatch(r"\d{6}\*{8}\d{3}[\dX]", ws.cell(row=4, column=5).value)
    job = order(users["reviewer"], kind="screening", region="220102001", start="2026-01-01", end="2026-03-31")
    ws = load_workbook(ExportJob.objects.get(pk=job.pk).file.path)["在保"]
    assert ws.cell(row=4, column=5).value == registry.head_id_number


def test_export_jobs_are_scoped(registry, users, client_for, order):
    services.rollup_compute(actor="system", month=MARCH)
    job = order(users["reviewer"], kind="rollup", region="220102", month="2026-03", level="township")
    other = client_for(users["reviewer_other"])
    for url in (f"/reports/exports/{job.pk}/", f"/reports/exports/{job.pk}/status/",
                f"/reports/exports/{job.pk}/download/"):
        assert other.get(url).status_code == 404
    # ordering an export of another county is refused the same way
    assert other.post("/reports/exports/", {"kind": "rollup", "region": "220102", "month": "2026-03",
                                           "level": "township"}).status_code == 404


def test_rollup_job_needs_a_month_and_level(registry, users, client_for):
    response = client_for(users["reviewer"]).post("/reports/exports/", {"kind": "rollup", "region": "220102"})
    assert response.status_code == 200
    assert "月度汇总表需要选择月份" in response.content.decode()


def test_failed_job_records_the_reason(registry, users, monkeypatch, django_capture_on_commit_callbacks):
    from reports import exports

    def broken(**kwargs):
        raise OSError("磁盘已满")

    monkeypatch.setattr(exports, "write_bulletin", broken)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.export_job_create(actor=users["reviewer"], kind="bulletin", region_code="220102",
                                         params={"from": "2026-01-01", "to": "2026-03-31"})
    job.refresh_from_db()
    assert (job.state, job.error, bool(job.file)) == ("failed", "磁盘已满", False)


def test_rollup_export_needs_a_snapshot(registry, users, client_for):
    response = client_for(users["reviewer"]).post("/reports/exports/", {
        "kind": "rollup", "region": "220102", "month": "2019-01", "level": "township"})
    assert response.status_code == 200
    assert "2019-01 尚未计算月度汇总" in response.content.decode()
    assert not ExportJob.objects.exists()

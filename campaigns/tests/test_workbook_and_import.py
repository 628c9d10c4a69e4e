import datetime as dt

import pytest
from openpyxl import load_workbook

from campaigns import services
from campaigns.models import CampaignHousehold, ScreeningRecord
from campaigns.tests.conftest import PERIOD, confirmed_death, record
from imports.tests.helpers import errors_at, run, write_csv
from reports.exports import write_screening

pytestmark = pytest.mark.django_db
HEADER = ["活动编号", "户编号", "排查日期", "排查人", "排查结果", "问题类型", "处理情况", "备注"]


def sheet_rows(path, sheet):
    return {r[2]: r for r in ([c.value for c in row] for row in load_workbook(path)[sheet].iter_rows(min_row=4))}


def test_workbook_shows_a_confirmed_death_with_exit(users, regions, households, campaign, tmp_path):
    """Without a record of the period: from the finding; with one: from the record."""
    confirmed_death(households["a1"], users["reviewer"])
    out = tmp_path / "other_period.xlsx"
    write_screening(region=regions["220102001"], start=dt.date(2026, 1, 1), end=dt.date(2026, 5, 31), target=str(out),
                    full_ids=False)
    row = sheet_rows(out, "退出")["A1"]
    assert row[8] == "存在问题" and row[9] == "死亡保" and "退出（2026-03-15）" in row[10]
    services.campaign_recompute(actor=users["reviewer"], campaign=campaign)  # A1 has joined the exited
    entry = CampaignHousehold.objects.get(campaign=campaign, household=households["a1"], population="exited")
    record(users["caseworker_a"], entry, result="problem", problem_types=["死亡保"], handling="退出")
    out = tmp_path / "campaign_period.xlsx"
    write_screening(region=regions["220102001"], start=PERIOD["exited_from"], end=PERIOD["exited_to"],
                    target=str(out), full_ids=False)
    assert sheet_rows(out, "退出")["A1"][8:11] == ["存在问题", "死亡保", "退出"]
    assert sheet_rows(out, "在保")["A2"][7] == "存在问题"  # 长期未复核, pending: from the finding


def test_a_finding_confirmed_after_the_record_wins(users, regions, households, campaign, tmp_path):
    entry = CampaignHousehold.objects.get(campaign=campaign, household=households["a1"], population="active")
    record(users["caseworker_a"], entry, result="no_problem")
    confirmed_death(households["a1"], users["reviewer"], exit_on=None)  # confirmed after the record, payment goes on
    out = tmp_path / "s.xlsx"
    write_screening(region=regions["220102001"], start=PERIOD["exited_from"], end=PERIOD["active_end"],
                    target=str(out), full_ids=False)
    row = sheet_rows(out, "在保")["A1"]
    assert row[7:9] == ["存在问题", "死亡保"] and row[9].startswith("属实")


def test_screenings_import(users, households, campaign, tmp_path):
    path = write_csv(tmp_path / "ok.csv", HEADER, [
        [campaign.pk, "A1", "2026-03-01", "张三、李四", "无问题", "", "继续享受", ""],
        [campaign.pk, "A2", "2026/03/02", "张三,李四", "存在问题", "收入超标、资产超标", "退出", "已入户"],
    ])
    job = run(users["caseworker_a"], "screenings", path)
    assert job.state == "done", job.errors
    a2 = ScreeningRecord.objects.get(campaign_household__household=households["a2"])
    assert (a2.result, a2.problem_types, a2.handling, a2.screeners) == ("problem", ["收入超标", "资产超标"], "退出",
                                                                        "张三、李四")
    assert a2.recorded_by == users["caseworker_a"]
    again = run(users["caseworker_a"], "screenings", path)
    assert (again.rows_new, again.rows_unchanged) == (0, 2)


def test_screenings_import_names_every_bad_row(users, households, campaign, tmp_path):
    confirmed_death(households["a3"], users["reviewer"])
    path = write_csv(tmp_path / "bad.csv", HEADER, [
        [campaign.pk, "A1", "2026-03-01", "张三", "存在问题", "", "", ""],
        [campaign.pk, "B1", "2026-03-01", "张三", "无问题", "", "", ""],
        [campaign.pk, "C1", "2026-03-01", "张三", "无问题", "", "", ""],
        [campaign.pk, "A3", "2026-03-01", "张三", "无问题", "", "", ""],
        [campaign.pk + 99, "A2", "2026-03-01", "张三", "无问题", "", "", ""],
        [campaign.pk, "A2", "2026-03-01", "张三", "无问题", "贪污", "", ""],
    ])
    job = run(users["caseworker_a"], "screenings", path)
    assert job.state == "invalid"
    assert not ScreeningRecord.objects.exists()
    assert {e["column"] for e in errors_at(job, 2)} == {"问题类型", "处理情况"}
    assert "管辖范围" in errors_at(job, 3)[0]["reason"]
    assert "不在该排查活动的排查名单中" in errors_at(job, 4)[0]["reason"]
    assert "已核实属实的疑点" in errors_at(job, 5)[0]["reason"]
    assert "不存在" in errors_at(job, 6)[0]["reason"]
    assert "贪污" in errors_at(job, 7)[0]["reason"]

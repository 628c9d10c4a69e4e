"""Progress, the daily bulletin (working days, a holiday in between), summons, reports owed."""
import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from campaigns import dispatch, progress, services
from campaigns.dispatch_selectors import ReportState, report_rows
from campaigns.models import Bulletin, Campaign, CampaignHousehold, ReportRequest, ReportSubmission
from campaigns.tasks import daily_bulletins
from campaigns.tests.conftest import record
from dibao.models import AuditRecord, Region
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# National Day 2025: 1–8 October off, Sunday 28 September a make-up working day (chinesecalendar).
STARTED, DEADLINE = dt.datetime(2025, 9, 22, 9, 0, tzinfo=dt.UTC), dt.date(2025, 10, 17)


@pytest.fixture
def running(campaign):
    """The county campaign of conftest, started on 22 September 2025 with a deadline of 17 October."""
    Campaign.objects.filter(pk=campaign.pk).update(created_at=STARTED, screening_deadline=DEADLINE,
                                                   reporting_deadline=DEADLINE)
    campaign.refresh_from_db()
    return campaign


def screen_township(users, campaign, township, actor):
    for entry in CampaignHousehold.objects.filter(campaign=campaign, township_code=township):
        record(actor, entry)
    services.signoff_submit(actor=actor, campaign=campaign, township_code=township)


def bulletin(campaign, code, day):
    return Bulletin.objects.get(campaign=campaign, region_code=code, day=day)


def test_progress_figures_at_every_level(users, running, households):
    entry = CampaignHousehold.objects.get(campaign=running, household=households["a2"])
    record(users["caseworker_a"], entry, result="problem", problem_types=["错保", "收入超标"], handling="退出")
    screen_township(users, running, "220102002", users["caseworker_b"])
    figures = progress.figures_by_region(running, dt.date(2025, 10, 9))
    county, a, b = figures["220102"], figures["220102001"], figures["220102002"]
    assert (county["townships_total"], county["townships_screened"]) == (2, 1)
    assert (county["households_total"], county["households_screened"]) == (4, 2)
    # 退出 without the change step it starts: a problem found, not yet handled; still in dibao
    assert (a["problems"], a["handled"], a["unhandled"], a["ineligible_not_exited"]) == (1, 0, 1, 1)
    assert a["problems_by_type"] == {"错保": 1, "收入超标": 1} == county["problems_by_type"]
    assert b == {**progress.zero(), "townships_total": 1, "townships_screened": 1, "households_total": 1,
                 "households_screened": 1}
    assert "220103" not in figures and "2201" not in figures  # outside the county's campaign


def test_bulletin_on_working_days_with_the_change_since_the_previous_one(users, running, client_for):
    assert daily_bulletins(day="2025-09-30")["made"] == {running.pk: 1}  # the county's own bulletin
    screen_township(users, running, "220102002", users["caseworker_b"])
    assert daily_bulletins(day="2025-10-03") == {"day": "2025-10-03", "skipped": "not a working day"}
    assert daily_bulletins(day="2025-10-09")["made"] == {running.pk: 1}
    assert daily_bulletins(day="2025-10-09")["made"] == {running.pk: 0}  # made once a day, then frozen
    assert Bulletin.objects.filter(campaign=running).count() == 2

    today = bulletin(running, "220102", dt.date(2025, 10, 9))
    children = {row["code"]: row for row in today.snapshot["children"]}
    # 8 of the period's 15 working days gone (the holiday does not count): 220102001 has screened
    # none of its 3 households, so it is behind by ceil(8/15 × 3) = 2; 220102002 is done.
    assert today.snapshot["elapsed_share"] == round(8 / 15, 4)
    assert (children["220102001"]["standing"], children["220102001"]["shortfall"]) == ("behind", 2)
    assert children["220102002"]["standing"] == "done"

    html = client_for(users["reviewer"]).get(f"/campaigns/bulletins/{today.pk}/").content.decode()
    assert "2025-09-30" in html  # compared with the bulletin before the holiday
    assert "+1 户" in html and "+1 乡镇" in html
    assert "按时间进度应再排查 2 户" in html

    # the frozen snapshot does not move when the work does
    screen_township(users, running, "220102001", users["caseworker_a"])
    today.refresh_from_db()
    assert {r["code"]: r["standing"] for r in today.snapshot["children"]}["220102001"] == "behind"


def test_late_after_the_deadline_with_its_shortfall_and_a_summons(users, running, client_for):
    entries = CampaignHousehold.objects.filter(campaign=running, township_code="220102001")
    record(users["caseworker_a"], entries[0])
    dispatch.bulletins_make(campaign=running, day=dt.date(2025, 10, 20))
    late = bulletin(running, "220102", dt.date(2025, 10, 20))
    rows = {row["code"]: row for row in late.snapshot["children"]}
    assert (rows["220102001"]["standing"], rows["220102001"]["shortfall"]) == ("late", 2)
    assert rows["220102002"]["standing"] == "late"

    supervisor = UserFactory(username="sup_county_campaign", region_id="2201", role="supervisor")
    html = client_for(supervisor).get(f"/campaigns/bulletins/{late.pk}/").content.decode()
    assert "逾期未完成" in html and "截止 2025-10-17" in html and "尚有 2 户未排查" in html
    response = client_for(supervisor).post(f"/campaigns/{running.pk}/summons/new/", {
        "region": "220102001", "held_on": "2025-10-21", "participants": "市民政局王某约谈南岭街道李某",
        "reason": "逾期未完成排查，尚有 2 户", "outcome": "三个工作日内完成"})
    assert response.status_code == 302
    assert AuditRecord.objects.filter(action="summons.record", region_code="220102001").exists()
    assert "逾期未完成排查" in client_for(supervisor).get(f"/campaigns/bulletins/{late.pk}/").content.decode()
    with pytest.raises(PermissionDenied):  # a county reviewer does not summon
        dispatch.summons_record(actor=users["reviewer"], campaign=running, region_code="220102001",
                                held_on=dt.date(2025, 10, 21), participants="x", reason="y")
    with pytest.raises(ValidationError):  # nor does anyone summon a region outside the campaign
        dispatch.summons_record(actor=supervisor, campaign=running, region_code="220103001",
                                held_on=dt.date(2025, 10, 21), participants="x", reason="y")


def test_bulletin_workbook_is_audited_and_formula_safe(users, running, client_for):
    dispatch.bulletins_make(campaign=running, day=dt.date(2025, 10, 9))
    made = bulletin(running, "220102", dt.date(2025, 10, 9))
    response = client_for(users["reviewer"]).get(f"/campaigns/bulletins/{made.pk}/workbook/")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content))["进度通报"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
    assert rows[0][:2] == ["220102001", "南岭街道"] and rows[-1][0] == "合计"
    assert AuditRecord.objects.filter(action="export.bulletin", object_id=str(made.pk)).exists()


def test_bulletin_pages_are_scoped(users, running, client_for):
    dispatch.bulletins_make(campaign=running, day=dt.date(2025, 10, 9))
    made = bulletin(running, "220102", dt.date(2025, 10, 9))
    for path in (f"/campaigns/bulletins/{made.pk}/", f"/campaigns/bulletins/{made.pk}/workbook/"):
        assert client_for(users["reviewer_other"]).get(path).status_code == 404  # another county
        assert client_for(users["caseworker_a"]).get(path).status_code == 403   # a township caseworker
    assert client_for(users["reviewer"]).get(f"/campaigns/{running.pk}/bulletins/").status_code == 200
    assert client_for(users["reviewer_other"]).get(f"/campaigns/{running.pk}/progress/").status_code == 404
    page = client_for(users["caseworker_a"]).get(f"/campaigns/{running.pk}/progress/").content.decode()
    assert "南岭街道" in page and "自由大路街道" not in page  # a township sees its own row only


# --- reports owed upward --------------------------------------------------------------------

def pdf(name="自查报告.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.7\n self-inspection report", content_type="application/pdf")


def test_a_report_owed_on_time_late_and_missing(users, regions, client_for):
    Region.objects.create(code="220104", name="朝阳区", level=3, parent_id="2201")
    today = dt.date.today()
    report = dispatch.report_request_create(actor=users["supervisor"], region_code="2201", title="自查报告",
                                            due_on=today, owed_by_level=ReportRequest.OwedBy.COUNTY)
    on_time = dispatch.report_submission_upload(actor=users["reviewer"], request=report, region_code="220102",
                                                upload=pdf())
    assert not on_time.late and len(on_time.sha256) == 64 and on_time.file.name.startswith("reports_owed/")
    assert "自查报告" not in on_time.file.name  # stored under a random name
    ReportRequest.objects.filter(pk=report.pk).update(due_on=today - dt.timedelta(days=3))
    report.refresh_from_db()
    late = dispatch.report_submission_upload(actor=users["reviewer_other"], request=report, region_code="220103",
                                             upload=pdf("宽城区.pdf"))
    assert late.late
    states = {row["region"].code: row["state"] for row in report_rows(report, day=today)}
    assert states == {"220102": ReportState.SUBMITTED, "220103": ReportState.LATE, "220104": ReportState.MISSING}

    page = client_for(users["supervisor"]).get(f"/campaigns/reports-owed/{report.pk}/").content.decode()
    assert "已按时报送" in page and "逾期报送" in page and "逾期未报" in page
    download = client_for(users["supervisor"]).get(f"/campaigns/reports-owed/files/{on_time.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    assert AuditRecord.objects.filter(action="file.download", object_type="reportsubmission").exists()
    # the other county's copy is not the reviewer's to read; a caseworker's role may not at all
    assert client_for(users["reviewer"]).get(f"/campaigns/reports-owed/files/{late.pk}/").status_code == 404
    assert client_for(users["caseworker_a"]).get(f"/campaigns/reports-owed/files/{on_time.pk}/").status_code == 403
    other_city = UserFactory(username="sup_2202", region=Region.objects.create(
        code="2202", name="吉林市", level=2, parent_id="22"), role="supervisor")
    assert client_for(other_city).get(f"/campaigns/reports-owed/{report.pk}/").status_code == 404


def test_late_and_missing_reports_appear_on_the_bulletin(users, running):
    report = dispatch.report_request_create(actor=users["supervisor"], region_code="2201", title="阶段性总结",
                                            due_on=dt.date.today(), owed_by_level=ReportRequest.OwedBy.COUNTY)
    ReportRequest.objects.filter(pk=report.pk).update(due_on=dt.date(2025, 10, 8))
    dispatch.bulletins_make(campaign=running, day=dt.date(2025, 10, 9))
    reports = bulletin(running, "220102", dt.date(2025, 10, 9)).snapshot["reports"]
    assert [(r["title"], r["region_code"], r["state"]) for r in reports] == [("阶段性总结", "220102", "missing")]


def test_upload_rules(users, regions):
    report = dispatch.report_request_create(actor=users["supervisor"], region_code="2201", title="自查报告",
                                            due_on=dt.date.today(), owed_by_level=ReportRequest.OwedBy.COUNTY)
    with pytest.raises(ValidationError, match="不是 PDF、Word"):
        dispatch.report_submission_upload(actor=users["reviewer"], request=report, region_code="220102",
                                          upload=SimpleUploadedFile("报告.pdf", b"MZ\x90\x00 not a pdf"))
    with pytest.raises(PermissionDenied, match="上级不能代报"):
        dispatch.report_submission_upload(actor=users["supervisor"], request=report, region_code="220102",
                                          upload=pdf())
    with pytest.raises(PermissionDenied):  # another county's slot
        dispatch.report_submission_upload(actor=users["reviewer"], request=report, region_code="220103",
                                          upload=pdf())
    with pytest.raises(PermissionDenied):
        dispatch.report_request_create(actor=users["reviewer"], region_code="220102", title="x",
                                       due_on=dt.date.today(), owed_by_level=ReportRequest.OwedBy.COUNTY)
    with pytest.raises(ValidationError, match="以下没有"):
        dispatch.report_request_create(actor=users["supervisor"], region_code="2201", title="x",
                                       due_on=dt.date.today(), owed_by_level=ReportRequest.OwedBy.CITY)
    assert not ReportSubmission.objects.exists()

"""What a new user meets on the first day (issue 14): names instead of codes, Chinese everywhere, a home
page that says what waits, and the mistakes users ran into."""
import datetime as dt
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from audits import services as audit_services
from audits.catalogue import BY_CODE
from audits.models import FindingState, RefKind, TaskOutcome, VerificationTask
from audits.tests.helpers import ref, run
from cases.models import Household
from complaints import services as complaint_services
from complaints.models import Complaint, ComplaintState
from dibao.models import AuditRecord
from imports.tests.helpers import run as run_import, write_csv
from tests.factories import HouseholdFactory, MemberFactory, StaffFactory, make_id

pytestmark = pytest.mark.django_db


class _VisibleText(HTMLParser):
    """The text a reader sees: no scripts, no attribute values (a code in a tooltip is fine)."""

    def __init__(self):
        super().__init__()
        self.parts, self._hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def visible(response) -> str:
    parser = _VisibleText()
    parser.feed(response.content.decode())
    return " | ".join(parser.parts)


# A township (9) or village (12) code standing alone, not inside an application or clue number.
BARE_CODE = re.compile(r"(?<![\w-])\d{9}(?:\d{3})?(?![\w-])")
RULE_CODE = re.compile(r"\b(?:%s)\b" % "|".join(BY_CODE))
ENGLISH_KEY = re.compile(r"\b[a-z]+_[a-z_]+\b|\b(?:households|members|township|county|pending|confirmed)\b")


@pytest.fixture
def county_at_work(regions, users):
    """A county with a dead member and a salaried one (findings), a five-group person (a task), a
    complaint and a completed rescreening batch."""
    dead = MemberFactory(household=HouseholdFactory(region_id="220102001001"), name="赵五")
    paid = MemberFactory(household=HouseholdFactory(region_id="220102002001"), name="钱六")
    ref(RefKind.DEATHS, [{"id_number": dead.id_number, "name": "赵五", "death_date": dt.date(2026, 1, 5)}])
    ref(RefKind.PAYROLL, [{"id_number": paid.id_number, "name": "钱六", "employer": "县林业局"}])
    ref(RefKind.POVERTY, [{"id_number": make_id("220102"), "name": "贫一", "region_code": "220102001001"}])
    batch = run(region="220102")
    complaint_services.complaint_create(actor=users["reviewer"], data={
        "channel": "phone", "subject_type": "household", "subject_region": regions["220102001001"],
        "content": "反映有家庭有车仍享受低保。", "anonymous": True})
    return batch


PAGES = {
    "caseworker_a": ["home", "cases:household_list", "audits:task_list", "complaints:complaint_list",
                     "imports:index", "reports:exports"],
    "reviewer": ["home", "audits:index", "audits:review_queue", "audits:task_list", "complaints:complaint_list",
                 "imports:index", "reports:exports", "audit_list", "cases:household_list"],
    "supervisor": ["home", "audits:index", "audits:review_queue", "audits:task_list", "reports:index",
                   "audit_list"],
    "inspector": ["home", "complaints:clue_list"],
}


@pytest.mark.parametrize("who", sorted(PAGES))
def test_pages_of_each_role_speak_names_not_codes(county_at_work, users, client_for, who):
    client = client_for(users[who])
    for name in PAGES[who]:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        text = visible(response)
        assert not BARE_CODE.findall(text), (name, BARE_CODE.findall(text))
        assert not RULE_CODE.findall(text), (name, RULE_CODE.findall(text))
        assert not ENGLISH_KEY.findall(text), (name, ENGLISH_KEY.findall(text))


def test_review_queue_names_rules_and_regions_and_puts_deaths_first(county_at_work, users, client_for):
    text = visible(client_for(users["reviewer"]).get(reverse("audits:review_queue")))
    assert "南岭村" in text and "自由村" in text
    assert text.index("死亡保") < text.index("财政供养人员享受低保")
    assert "批次" in text and "乡镇" in text  # every filter box has its label


def test_batch_and_task_pages_show_region_names(county_at_work, users, client_for):
    client = client_for(users["reviewer"])
    text = visible(client.get(reverse("audits:batch_detail", args=[county_at_work.pk])))
    assert "南关区" in text and "死亡人员 v1" in text and "DECEASED_GRACE_DAYS" not in text
    task = VerificationTask.objects.get()
    assert "南岭街道" in visible(client.get(reverse("audits:task_list")))
    assert "南岭村" in visible(client.get(reverse("audits:task_detail", args=[task.pk])))


def test_home_is_each_roles_worklist(county_at_work, users, client_for):
    reviewer = visible(client_for(users["reviewer"]).get(reverse("home")))
    assert "待复核疑点" in reviewer and reviewer.index("死亡保") < reviewer.index("财政供养人员享受低保")
    caseworker = visible(client_for(users["caseworker_a"]).get(reverse("home")))
    assert "五类人员核查任务" in caseworker and "低保申请" in caseworker and "定期复核" in caseworker
    assert "移交本机关的问题线索" in visible(client_for(users["inspector"]).get(reverse("home")))
    assert "核查任务超期的地区" in visible(client_for(users["supervisor"]).get(reverse("home")))


def test_audit_log_reads_fields_and_values_in_chinese(users, client_for, regions):
    household = HouseholdFactory(region_id="220102001001")
    from cases import services as case_services
    case_services.household_stop_payment(actor=users["reviewer"], household=household, reason="待核实")
    text = visible(client_for(users["supervisor"]).get(reverse("audit_list")))
    assert "已停发" in text and "否 → 是" in text
    assert "payment_stopped" not in text and "{" not in text
    assert "（县级审核）" in text  # people by name and role


def test_trail_of_a_change_reads_in_chinese_and_masks_ids(users, client_for, regions):
    from dibao.audit import audit_record
    household = HouseholdFactory(region_id="220102001001", account_no="6217000000001234")
    member_id = make_id("220102", dt.date(1950, 3, 4))
    audit_record(actor=users["caseworker_a"], action="change.propose", object_type="householdchange", object_id=1,
                 region_code=household.region_id,
                 after={"payload": {"member_id": 5, "name": "孙二", "id_number": member_id, "leave_reason": "死亡"}})
    audit_record(actor=users["caseworker_a"], action="household.update", object_type="household",
                 object_id=household.pk, region_code=household.region_id,
                 before={"account_no": ""}, after={"account_no": household.account_no})
    text = visible(client_for(users["supervisor"]).get(reverse("audit_list")))
    assert "减员原因：死亡" in text and "姓名：孙二" in text and "leave_reason" not in text
    assert member_id not in text and member_id[-4:] in text  # masked as on every page
    assert household.account_no not in text and "****1234" in text


@pytest.mark.parametrize("status, page", [(403, "403.html"), (404, "404.html"), (500, "500.html")])
def test_error_pages_are_chinese(status, page):
    from django.template.loader import render_to_string
    text = render_to_string(page)
    assert re.search(r"[\u4e00-\u9fff]{4,}", text) and "Forbidden" not in text and "Not Found" not in text


def test_member_name_finds_the_household(users, client_for):
    household = HouseholdFactory(region_id="220102001001", head_name="孙大")
    MemberFactory(household=household, name="孙小妹", relation="子女")
    page = client_for(users["caseworker_a"]).get(reverse("cases:household_list"), {"q": "孙小"}).content.decode()
    assert household.household_no in page


def test_household_review_due_filter(users, client_for):
    due = HouseholdFactory(region_id="220102001001", management_class="C", last_reviewed_on=dt.date(2020, 1, 1))
    fresh = HouseholdFactory(region_id="220102001001", management_class="A", last_reviewed_on=timezone.localdate())
    page = client_for(users["caseworker_a"]).get(reverse("cases:household_list"), {"review": "due"}).content.decode()
    assert due.household_no in page and fresh.household_no not in page


def test_typical_case_form_keeps_what_was_typed(users, client_for, regions):
    clue = complaint_services.clue_create(actor=users["reviewer"], data={
        "source": "complaint", "region": regions["220102001001"], "category": "关系保", "summary": "优亲厚友"})
    referral = complaint_services.clue_refer(actor=users["reviewer"], clue=clue, body_region=regions["220102"],
                                             body_name="")
    complaint_services.referral_record(actor=users["inspector"], referral=referral, investigation="属实",
                                       outcome="属实", funds_recovered=Decimal("0"), disciplines=[])
    complaint_services.referral_conclude(actor=users["inspector"], referral=referral)
    response = client_for(users["inspector"]).post(reverse("complaints:clue_action", args=[clue.pk, "typical"]), {
        "title": "某村主任优亲厚友案", "summary": "联系电话13912345678", "month": "2026-11-15"})
    page = response.content.decode()
    assert "含有身份证号或手机号" in page
    assert 'value="某村主任优亲厚友案"' in page and "联系电话13912345678" in page and 'value="2026-11-15"' in page


def test_cross_check_replacement_shows_both_counts_and_asks(tmp_path, users, client_for):
    first = write_csv(tmp_path / "d1.csv", ["姓名", "身份证号", "死亡日期"],
                      [["甲", make_id(), "2024-01-01"], ["乙", make_id(), "2024-02-01"]])
    run_import(users["admin"], "deaths", first)
    second = write_csv(tmp_path / "d2.csv", ["姓名", "身份证号", "死亡日期"], [["丙", make_id(), "2024-03-01"]])
    job = run_import(users["admin"], "deaths", second, dry_run=True)
    page = client_for(users["admin"]).get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "死亡人员数据 v1（2 行），新版本共 1 行" in page
    assert 'id="confirm-import" data-confirm=' in page


def test_entry_check_warning_must_be_answered_and_stays_on_household(users, client_for):
    from cases.tests.test_household_pages import form_data
    staff = StaffFactory(staff_type="caseworker")
    client = client_for(users["caseworker_a"])
    data = form_data(head_id_number=staff.id_number, head_name=staff.name)
    refused = client.post(reverse("cases:household_create"), data)
    assert refused.status_code == 200 and not Household.objects.exists()
    assert "请逐条核实后写明核实情况再保存" in refused.content.decode()
    client.post(reverse("cases:household_create"), {**data, "entry_check_note": "已核实：本人已于上月离职"})
    household = Household.objects.get()
    record = AuditRecord.objects.get(action="household.create", object_id=str(household.pk))
    assert "已核实：本人已于上月离职" in record.note and "工作人员名册" in record.note
    detail = client.get(reverse("cases:household_detail", args=[household.pk])).content.decode()
    assert "已核实：本人已于上月离职" in detail


def test_unreachable_keeps_the_task_open(county_at_work, users, client_for):
    task = VerificationTask.objects.get()
    response = client_for(users["caseworker_a"]).post(reverse("audits:task_detail", args=[task.pk]), {
        "visited_on": "2026-11-02", "investigator_1": "张三", "investigator_2": "李四",
        "outcome": TaskOutcome.UNREACHABLE, "reason": "家中无人，邻居称外出务工"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.outcome == TaskOutcome.OPEN and not task.is_done and task.visited_on == dt.date(2026, 11, 2)
    assert AuditRecord.objects.filter(action="verification_task.unreachable", object_id=str(task.pk)).exists()
    page = client_for(users["caseworker_a"]).get(reverse("audits:task_detail", args=[task.pk])).content.decode()
    assert "未能联系" in page and "— 请选择 —" in page  # the outcome is not preset


def test_confirmed_suspended_household_is_not_pending_again(county_at_work, users):
    finding = county_at_work.findings.get(rule="PUBLIC_PAYROLL")
    audit_services.finding_confirm(actor=users["reviewer"], finding=finding, expected_version=finding.version,
                                   reason="属实，先停发", stop_payment=True)
    again = run(region="220102").findings.get(rule="PUBLIC_PAYROLL")
    assert again.state == FindingState.CONFIRMED and again.carried_from_id == finding.pk
    dead = run(region="220102").findings.get(rule="DECEASED")
    assert dead.state == FindingState.PENDING  # never decided: still waits for review


def test_complaint_kept_by_receiving_unit_has_deadline_and_turns_overdue(users, regions, client_for):
    complaint = complaint_services.complaint_create(actor=users["caseworker_a"], data={
        "channel": "visit", "subject_type": "household", "subject_region": regions["220102001001"],
        "content": "反映低保评定不公。", "anonymous": True})
    assert complaint.deadline and complaint.deadline > complaint.received_on
    complaint_services.complaint_verify(actor=users["caseworker_a"], complaint=complaint, verification="已入户核查")
    Complaint.objects.filter(pk=complaint.pk).update(deadline=dt.date(2020, 1, 1))
    page = client_for(users["caseworker_a"]).get(reverse("complaints:complaint_list"), {"overdue": "1"})
    text = page.content.decode()
    assert reverse("complaints:complaint_detail", args=[complaint.pk]) in text and "超期" in text
    assert Complaint.objects.get(pk=complaint.pk).state == ComplaintState.VERIFYING


def test_public_notice_of_a_county_lists_its_townships_and_links_the_hotlines(client, regions):
    page = client.get(reverse("public_notice:notice", args=["220102"]))
    text = page.content.decode()
    assert page.status_code == 200 and "南岭街道" in text and "自由大路街道" in text
    assert reverse("public_notice:notice", args=["220102001"]) in text
    assert reverse("complaints_public:hotlines") in text and reverse("complaints_public:complaint") in text


def test_long_work_runs_in_a_background_thread_without_redis(settings, django_capture_on_commit_callbacks):
    import threading

    from dibao.dispatch import enqueue

    ran = threading.Event()

    class FakeTask:
        name = "fake"

        def apply(self, args):
            ran.thread = threading.current_thread()
            ran.set()

        def delay(self, *args):
            raise AssertionError("with the thread on, nothing goes to Celery")

    settings.TASKS_IN_THREAD = True
    with django_capture_on_commit_callbacks(execute=True):
        enqueue(FakeTask(), 1)
    assert ran.wait(5) and ran.thread is not threading.main_thread()


def test_the_admin_index_names_every_application_in_chinese(users, client_for):
    admin = users["admin"]
    admin.is_staff = admin.is_superuser = True  # as seed_demo and createsuperuser make the admin
    admin.save()
    response = client_for(admin).get(reverse("admin:index"))
    assert response.status_code == 200
    text = visible(response)
    assert "登录安全" in text and "周期任务" in text
    # every application's caption, e.g. django-axes' "Axes" before it was named
    captions = re.findall(r'<caption>\s*<a[^>]*>([^<]+)</a>', response.content.decode())
    assert captions and all(re.search(r"[\u4e00-\u9fff]", c) for c in captions), captions

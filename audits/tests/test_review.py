"""County review, recusal, verification tasks, entry check, and scoping of every endpoint."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audits import services
from audits.models import FindingState, RefKind, TaskOutcome, VerificationTask
from audits.selectors import entry_check, is_recused
from audits.tests.helpers import ref, run
from cases.models import Household, Staff, Status
from dibao.idnumber import mask_id
from dibao.models import AuditRecord
from tests.factories import FilingFactory, HouseholdFactory, MemberFactory, StaffFactory, make_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def flagged(regions):
    """A dead member in county 220102 and one in 220103, a five-group person in each township."""
    here = MemberFactory(household=HouseholdFactory(region_id="220102001001"), name="赵五")
    there = MemberFactory(household=HouseholdFactory(region_id="220103001001"))
    ref(RefKind.DEATHS, [{"id_number": here.id_number, "name": "赵五", "death_date": dt.date(2026, 1, 5)},
                         {"id_number": there.id_number, "name": "x", "death_date": dt.date(2026, 1, 5)}])
    ref(RefKind.POVERTY, [{"id_number": make_id("220102"), "name": "贫一", "region_code": "220102001001"},
                          {"id_number": make_id("220103"), "name": "贫二", "region_code": "220103001001"}])
    batch = run(region="22")
    return {"batch": batch, "here": batch.findings.get(rule="DECEASED", id_number=here.id_number),
            "there": batch.findings.get(rule="DECEASED", id_number=there.id_number), "member": here}


def test_reviewer_confirms_a_death_with_removal_and_household_shows_trace(flagged, users, client_for):
    """A member's death removes that member with the recomputed amount, never the whole household."""
    from cases.models import BenefitStandard, Member

    BenefitStandard.objects.create(region_id="22", category="rural", monthly_standard=Decimal("490"),
                                   effective_from=dt.date(2020, 1, 1))
    finding = flagged["here"]
    client = client_for(users["reviewer"])
    page = client.get(reverse("audits:finding_detail", args=[finding.pk]))
    assert page.status_code == 200 and "死亡人员数据 v1：死亡日期 2026-01-05" in page.content.decode()
    assert 'value="remove_member"' in page.content.decode() and 'value="exit"' not in page.content.decode()
    response = client.post(reverse("audits:finding_detail", args=[finding.pk]), {
        "decision": "confirm", "reason": "经核实本人已于 2026-01-05 死亡", "change": "remove_member",
        "exit_on": "2026-01-05", "exit_reason": "死亡", "stop_payment": "on", "recover": "on",
        "recover_amount": "980.00"})
    assert response.status_code == 302
    finding.refresh_from_db()
    household = Household.objects.get(pk=finding.household_id)
    assert finding.state == FindingState.CONFIRMED and finding.funds_recovered == Decimal("980.00")
    assert household.status == Status.ACTIVE and household.monthly_amount == Decimal("490")
    assert not Member.objects.filter(pk=flagged["member"].pk).exists()
    assert household.payment_stopped
    actions = set(AuditRecord.objects.filter(object_type="household", object_id=str(household.pk))
                  .values_list("action", flat=True))
    assert {"finding.confirm", "household.update"} <= actions
    page = client.get(reverse("audits:finding_detail", args=[finding.pk])).content.decode()
    assert "确认疑点" in page and "已办理减员：赵五（2026-01-05），重新核定月保障金额 490.00 元" in page
    assert "finding.confirm" not in page


def test_dismiss_needs_reason_and_decides_once(flagged, users):
    with pytest.raises(ValidationError):
        services.finding_dismiss(actor=users["reviewer"], finding=flagged["here"], reason=" ")
    services.finding_dismiss(actor=users["reviewer"], finding=flagged["here"], reason="身份信息误报")
    with pytest.raises(ValidationError):
        services.finding_dismiss(actor=users["reviewer"], finding=flagged["here"], reason="again")


def test_other_county_reviewer_gets_404(flagged, users, client_for):
    client = client_for(users["reviewer_other"])
    assert client.get(reverse("audits:finding_detail", args=[flagged["here"].pk])).status_code == 404
    assert client.post(reverse("audits:finding_detail", args=[flagged["here"].pk]),
                       {"decision": "dismiss", "reason": "x"}).status_code == 404
    assert client.post(reverse("audits:bulk_decide"), {"ids": [flagged["here"].pk], "decision": "dismiss",
                                                       "reason": "x"}).status_code == 404
    queue = client.get(reverse("audits:review_queue")).content.decode()
    assert flagged["there"].household.household_no in queue
    assert flagged["here"].household.household_no not in queue
    with pytest.raises(PermissionDenied):
        services.finding_dismiss(actor=users["reviewer_other"], finding=flagged["here"], reason="x")


def test_bulk_dismiss_with_one_reason(flagged, users, client_for):
    extra = MemberFactory(household=HouseholdFactory(region_id="220102002001"))
    ref(RefKind.PAYROLL, [{"id_number": extra.id_number, "name": "x", "employer": "乡政府"},
                          {"id_number": flagged["member"].id_number, "name": "y", "employer": "乡政府"}])
    batch = run(region="220102")
    ids = list(batch.findings.filter(rule="PUBLIC_PAYROLL").values_list("pk", flat=True))
    response = client_for(users["reviewer"]).post(reverse("audits:bulk_decide"),
                                                  {"ids": ids, "decision": "dismiss", "reason": "已清退，数据滞后"})
    assert response.status_code == 302
    assert set(batch.findings.filter(pk__in=ids).values_list("state", "decision_reason")) == {
        (FindingState.DISMISSED, "已清退，数据滞后")}


def test_recusal_by_filing_and_by_kinship(flagged, users, client_for):
    reviewer = users["reviewer"]
    household = flagged["here"].household
    staff = StaffFactory(user=reviewer, staff_type="civil_affairs")
    assert not is_recused(user=reviewer, household=household)
    FilingFactory(staff=staff, relative_id_number=flagged["member"].id_number)
    assert is_recused(user=reviewer, household=household)
    with pytest.raises(PermissionDenied, match="回避"):
        services.finding_dismiss(actor=reviewer, finding=flagged["here"], reason="x")
    page = client_for(reviewer).get(reverse("audits:finding_detail", args=[flagged["here"].pk])).content.decode()
    assert "应当回避" in page and 'id="decision-form"' not in page
    staff.filings.all().delete()
    ref(RefKind.KINSHIP, [{"id_number_a": flagged["member"].id_number, "id_number_b": staff.id_number,
                           "relation": "子女"}])
    assert is_recused(user=reviewer, household=household)
    ref(RefKind.KINSHIP, [{"id_number_a": staff.id_number, "id_number_b": household.head_id_number,
                           "relation": "父母"}])
    assert is_recused(user=reviewer, household=household)
    ref(RefKind.KINSHIP, [])
    assert not is_recused(user=reviewer, household=household)


def test_clue_referral_is_recorded(flagged, users):
    finding = services.finding_confirm(actor=users["reviewer"], finding=flagged["here"], reason="属实",
                                       refer_clue=True, clue_summary="死亡后仍领取低保金")
    assert finding.actions["clue"]["summary"] == "死亡后仍领取低保金"


def test_five_group_and_quality_findings_are_not_reviewed(flagged, users):
    poor = flagged["batch"].findings.filter(rule="MISSED_POOR", region_code__startswith="220102").get()
    with pytest.raises(ValidationError):
        services.finding_dismiss(actor=users["reviewer"], finding=poor, reason="x")


def test_caseworker_works_task_of_own_township(flagged, users, client_for):
    task = VerificationTask.objects.get(township_code="220102001")
    other = VerificationTask.objects.get(township_code="220103001")
    cw = client_for(users["caseworker_a"])
    assert "贫一" in cw.get(reverse("audits:task_list")).content.decode()
    assert cw.get(reverse("audits:task_detail", args=[other.pk])).status_code == 404
    assert client_for(users["caseworker_b"]).get(reverse("audits:task_detail", args=[task.pk])).status_code == 404
    bad = cw.post(reverse("audits:task_detail", args=[task.pk]), {
        "visited_on": "2026-11-02", "investigator_1": "刘一", "investigator_2": "刘一", "outcome": "not_eligible",
        "reason": "家庭收入超标"})
    assert bad.status_code == 200 and "两名调查人员不能是同一人" in bad.content.decode()
    enrolled = HouseholdFactory(region_id="220102001002")
    cw.post(reverse("audits:task_detail", args=[task.pk]), {
        "visited_on": "2026-11-02", "investigator_1": "刘一", "investigator_2": "陈二", "outcome": "enrolled",
        "household_no": enrolled.household_no})
    task.refresh_from_db()
    assert task.outcome == TaskOutcome.ENROLLED and task.enrolled_household_id == enrolled.pk
    assert AuditRecord.objects.filter(action="verification_task.complete", object_id=str(task.pk)).exists()


def test_task_enrolment_household_must_be_in_scope(flagged, users):
    task = VerificationTask.objects.get(township_code="220102001")
    elsewhere = HouseholdFactory(region_id="220103001001")
    with pytest.raises(ValidationError) as err:
        services.task_complete(actor=users["caseworker_a"], task=task, visited_on=dt.date(2026, 11, 2),
                               investigator_1="甲", investigator_2="乙", outcome="enrolled",
                               household_no=elsewhere.household_no)
    assert "household_no" in err.value.message_dict


def test_task_deadline_and_overdue_list(flagged, users, client_for, settings):
    task = VerificationTask.objects.get(township_code="220102001")
    assert task.deadline == task.created_on + dt.timedelta(days=30)
    VerificationTask.objects.filter(pk=task.pk).update(deadline=dt.date(2020, 1, 1))
    page = client_for(users["caseworker_a"]).get(reverse("audits:task_list") + "?view=overdue").content.decode()
    assert "贫一" in page and "超期" in page
    summary = client_for(users["reviewer"]).get(reverse("audits:task_list")).content.decode()
    assert "0/1" in summary


def test_entry_check_selector(regions):
    dead = make_id()
    car = make_id()
    active = MemberFactory()
    ref(RefKind.DEATHS, [{"id_number": dead, "name": "亡者", "death_date": dt.date(2026, 1, 1)}])
    ref(RefKind.VEHICLES, [{"id_number": car, "plate_no": "吉B1", "vehicle_type": "小型轿车"},
                           {"id_number": dead, "plate_no": "吉B2", "vehicle_type": "摩托车"}])
    ref(RefKind.DISABILITY, [{"id_number": car, "name": "残", "category": "肢体", "level": 2}])
    warnings = entry_check(id_numbers=[dead, car, active.id_number, "", "bad"])
    by_rule = {(w.rule, w.id_number_masked) for w in warnings}
    assert ("DECEASED", dead[:6] + "********" + dead[-4:]) in by_rule
    assert {w.rule for w in warnings} == {"DECEASED", "ASSET_VEHICLE", "DUPLICATE", "INFO_DISABILITY"}
    # Editing that household itself: being its member is no duplicate.
    assert not [w for w in entry_check(id_numbers=[active.id_number], household_id=active.household_id)]


def test_entry_check_endpoint_and_api(regions, users, client_for):
    staff = StaffFactory(staff_type="caseworker")
    cw = client_for(users["caseworker_a"])
    html = cw.post(reverse("audits:entry_check"), {"head_id_number": staff.id_number,
                                                   "members-0-id_number": make_id(), "name": "x"}).content.decode()
    assert "村干部/经办人员本人享受" in html and "STAFF_SELF" not in html and staff.id_number not in html
    clean = cw.post(reverse("audits:entry_check"), {"head_id_number": make_id()}).content.decode()
    assert "未发现疑点" in clean
    api = cw.post("/api/v1/entry-check/", {"id_numbers": [staff.id_number]}, content_type="application/json")
    assert api.status_code == 200 and api.json()["warnings"][0]["rule"] == "STAFF_SELF"
    assert api.json()["clear"] is False
    other_household = HouseholdFactory(region_id="220103001001")
    assert cw.post("/api/v1/entry-check/", {"id_numbers": [make_id()], "household_id": other_household.pk},
                   content_type="application/json").status_code == 404
    assert client_for(users["inspector"]).post("/api/v1/entry-check/", {"id_numbers": []},
                                               content_type="application/json").status_code == 403


def test_api_findings_scoped_and_masked(flagged, users, client_for):
    mine = client_for(users["reviewer"]).get("/api/v1/findings/?rule=DECEASED").json()
    assert [f["id"] for f in mine["results"]] == [flagged["here"].pk]
    assert mine["results"][0]["id_number"] == mask_id(flagged["here"].id_number)  # lists never show it in full
    sup = client_for(users["supervisor"]).get("/api/v1/findings/?rule=DECEASED").json()
    assert {f["id"] for f in sup["results"]} == {flagged["here"].pk, flagged["there"].pk}
    assert all("*" in f["id_number"] for f in sup["results"])
    other = client_for(users["reviewer_other"]).get(f"/api/v1/findings/{flagged['here'].pk}/")
    assert other.status_code == 404
    tasks = client_for(users["caseworker_b"]).get("/api/v1/verification-tasks/").json()
    assert tasks["results"] == []


def test_batch_pages_start_progress_and_export(flagged, users, client_for, django_capture_on_commit_callbacks):
    client = client_for(users["reviewer"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("audits:batch_start"), {"region_code": "220102", "as_of": "2026-10-31"})
    assert response.status_code == 302
    batch_id = int(response["Location"].rstrip("/").split("/")[-1])
    detail = client.get(response["Location"]).content.decode()
    assert "DECEASED" in detail and "100%" in detail
    progress = client.get(reverse("audits:batch_progress", args=[batch_id]))
    assert progress.status_code == 200
    sup = client_for(users["supervisor"])
    csv_text = sup.get(reverse("audits:batch_export", args=[flagged["batch"].pk]) + "?format=csv").content.decode()
    assert flagged["member"].id_number not in csv_text and flagged["member"].id_number[-4:] in csv_text
    full = client.get(reverse("audits:batch_export", args=[flagged["batch"].pk]) + "?format=csv").content.decode()
    assert flagged["member"].id_number in full and flagged["there"].id_number not in full
    assert client_for(users["reviewer_other"]).get(reverse("audits:batch_detail", args=[batch_id])).status_code == 404
    assert client_for(users["reviewer_other"]).post(reverse("audits:batch_start"),
                                                    {"region_code": "220102"}).status_code == 302
    assert client_for(users["caseworker_a"]).get(reverse("audits:batch_detail", args=[batch_id])).status_code == 403


def test_index_pages_render(flagged, users, client_for):
    for user in ("reviewer", "supervisor", "admin"):
        assert client_for(users[user]).get(reverse("audits:index")).status_code == 200
        assert client_for(users[user]).get(reverse("audits:review_queue") + "?section=C").status_code == 200
    assert client_for(users["caseworker_a"]).get(reverse("audits:index")).status_code == 302
    assert Staff.objects.count() == 0


def test_household_findings_summary_for_forms(flagged, users):
    from audits.selectors import household_findings_summary
    finding = services.finding_confirm(actor=users["reviewer"], finding=flagged["here"], reason="属实",
                                       stop_payment=True)
    summary = household_findings_summary([finding.household_id, flagged["there"].household_id])
    # The factory's households were approved in 2020 and never reviewed: overdue as well.
    assert summary[finding.household_id] == (["死亡保", "长期未复核"], "属实，停发")
    assert summary[flagged["there"].household_id] == (["死亡保", "长期未复核"], "")

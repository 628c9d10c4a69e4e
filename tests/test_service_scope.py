"""Every write service checks the row it acts on: called directly (no view in front of it) with an
object of another township or county, it refuses and writes nothing.

The permission matrix test covers the pages and the API; this one proves that the services do
not trust their caller, which is what keeps the command line, tasks and future pages safe.
"""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from audits import services as audits_services
from audits.models import FindingState, RefKind, VerificationTask
from audits.tests.helpers import ref, run
from cases import services as cases_services
from cases.models import Household
from complaints import services as complaints_services
from complaints.tests.conftest import staff_complaint_data
from dibao.models import AuditRecord
from dibao.permissions import PERMISSIONS, can, require
from reports import services as reports_services
from tests.factories import FilingFactory, HouseholdFactory, MemberFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(users, regions):
    """Rows of township 220102001 (county 220102), and outsiders of each role."""
    household = HouseholdFactory(region_id="220102001001")
    member = MemberFactory(household=household)
    ref(RefKind.DEATHS, [{"id_number": member.id_number, "name": member.name, "death_date": dt.date(2026, 1, 5)}])
    batch = run(region="220102")
    finding = batch.findings.get(rule="DECEASED")
    task = VerificationTask.objects.create(id_number=member.id_number, township_code="220102001",
                                           region_code="220102001001", created_on=dt.date(2026, 11, 2),
                                           deadline=dt.date(2026, 12, 1), outcome="")
    hotline = complaints_services.hotline_save(actor=users["reviewer"], data={
        "region": regions["220102"], "unit": "南关区民政局", "numbers": "0431-88612347", "hours": "工作日",
        "online_channel": "", "postal_address": ""})
    complaint = complaints_services.complaint_create(actor=users["reviewer"],
                                                     data=staff_complaint_data(regions["220102001001"]))
    clue = complaints_services.clue_create(actor=users["reviewer"], data={
        "source": "complaint", "region": regions["220102001001"], "category": "关系保",
        "summary": "村主任为其弟违规办理低保。", "people_involved": "赵某"})
    referral = complaints_services.clue_refer(actor=users["reviewer"], clue=clue, body_region=regions["220102"],
                                              body_name="南关区纪委监委")
    supervisor_a = UserFactory(username="sup_a", region=regions["220102"], role="supervisor")
    item = complaints_services.rectification_create(actor=supervisor_a, data={
        "region": regions["220102001"], "source": "inspection", "problem": "台账不全", "measures": "补齐",
        "responsible_unit": "南岭街道", "responsible_person": "张三", "deadline": dt.date(2026, 12, 31)})
    inspection = complaints_services.inspection_create(actor=supervisor_a, data={
        "region": regions["220102"], "checklist": complaints_services.default_checklist(),
        "inspected_on": dt.date(2026, 11, 20), "team": "督导组"})
    return {
        "household": household, "member": member, "batch": batch, "finding": finding, "task": task,
        "staff": StaffFactory(region_id="220102001001"), "filing": FilingFactory(staff__region_id="220102001001"),
        "hotline": hotline, "complaint": complaint, "clue": clue, "referral": referral, "item": item,
        "inspection": inspection,
        "supervisor_other": UserFactory(username="sup_o", region=regions["220103"], role="supervisor"),
        "inspector_other": UserFactory(username="insp_o", region=regions["220103"], role="inspector"),
    }


def _calls(w, users, regions):
    """(name, actor from elsewhere, call) for each write service of each app."""
    cw, rev, sup, insp = users["caseworker_c"], users["reviewer_other"], w["supervisor_other"], w["inspector_other"]
    return [
        ("household_update", cw, lambda: cases_services.household_update(
            actor=cw, household=w["household"], data={"phone": "1"})),
        ("household_update moved into own township", cw, lambda: cases_services.household_update(
            actor=cw, household=w["household"], data={"region": regions["220103001001"]})),
        ("household_reveal_id", cw, lambda: cases_services.household_reveal_id(actor=cw, household=w["household"])),
        ("member_add", cw, lambda: cases_services.member_add(
            actor=cw, household=w["household"], data={"name": "x", "id_number": w["member"].id_number})),
        ("member_update", cw, lambda: cases_services.member_update(actor=cw, member=w["member"], data={"name": "y"})),
        ("member_remove", cw, lambda: cases_services.member_remove(actor=cw, member=w["member"])),
        ("staff_save", cw, lambda: cases_services.staff_save(actor=cw, staff=w["staff"], data={"position": "x"})),
        ("filing_save", cw, lambda: cases_services.filing_save(actor=cw, filing=w["filing"], data={"relation": "子女"})),
        ("batch_resume", rev, lambda: audits_services.batch_resume(actor=rev, batch=w["batch"], enqueue=False)),
        ("finding_dismiss", rev, lambda: audits_services.finding_dismiss(actor=rev, finding=w["finding"], reason="x")),
        ("finding_confirm", rev, lambda: audits_services.finding_confirm(actor=rev, finding=w["finding"], reason="x")),
        ("task_complete", cw, lambda: audits_services.task_complete(
            actor=cw, task=w["task"], visited_on=dt.date(2026, 11, 20), investigator_1="甲", investigator_2="乙",
            outcome="not_eligible", reason="x")),
        ("hotline_save", rev, lambda: complaints_services.hotline_save(
            actor=rev, hotline=w["hotline"], data={"region": regions["220103"], "unit": "x", "numbers": "1",
                                                   "hours": "", "online_channel": "", "postal_address": ""})),
        ("dial_test_record", sup, lambda: complaints_services.dial_test_record(
            actor=sup, hotline=w["hotline"], called_at=dt.datetime(2026, 11, 1, 9, tzinfo=dt.timezone.utc),
            number="0431-88612347", answered=True, handled_properly=True)),
        ("complaint_verify", rev, lambda: complaints_services.complaint_verify(
            actor=rev, complaint=w["complaint"], verification="x")),
        ("complaint_answer_on_spot", rev, lambda: complaints_services.complaint_answer_on_spot(
            actor=rev, complaint=w["complaint"], reply="x")),
        ("clue_update", rev, lambda: complaints_services.clue_update(actor=rev, clue=w["clue"], data={"summary": "x"})),
        ("clue_conclude_directly", rev, lambda: complaints_services.clue_conclude_directly(
            actor=rev, clue=w["clue"], handling="x")),
        ("clue_refer", rev, lambda: complaints_services.clue_refer(
            actor=rev, clue=w["clue"], body_region=regions["220103"], body_name="x")),
        ("referral_record", insp, lambda: complaints_services.referral_record(
            actor=insp, referral=w["referral"], investigation="x", outcome="属实", funds_recovered=Decimal("0"),
            disciplines=[])),
        ("typical_case_mark", rev, lambda: complaints_services.typical_case_mark(
            actor=rev, clue=w["clue"], title="x", summary="x")),
        ("rectification_update", sup, lambda: complaints_services.rectification_update(
            actor=sup, item=w["item"], progress="x", evidence="x", done=True)),
        ("rectification_close", sup, lambda: complaints_services.rectification_close(actor=sup, item=w["item"])),
        ("inspection_record_results", sup, lambda: complaints_services.inspection_record_results(
            actor=sup, inspection=w["inspection"], results={}, summary="x")),
        ("sample_draw", sup, lambda: complaints_services.sample_draw(
            actor=sup, inspection=w["inspection"], township=regions["220102001"], count=1)),
        ("rollup_compute", rev, lambda: reports_services.rollup_compute(
            actor=rev, month=dt.date(2026, 10, 1), scope="220102")),
        ("export_job_create", rev, lambda: reports_services.export_job_create(
            actor=rev, kind="screening", region_code="220102",
            params={"population": "active", "period_start": "2026-01-01", "period_end": "2026-10-31"})),
    ]


def test_every_write_service_refuses_a_row_outside_the_actors_jurisdiction(world, users, regions):
    refused = []
    for name, _actor, call in _calls(world, users, regions):
        before = AuditRecord.objects.count()
        try:
            call()
        except PermissionDenied as exc:
            assert any(word in str(exc) for word in ("管辖范围", "只有", "受理")), (name, str(exc))
            assert AuditRecord.objects.count() == before, name
            refused.append(name)
        except Exception as exc:  # noqa: BLE001 - report which service let the call through
            pytest.fail(f"{name}: expected PermissionDenied, got {type(exc).__name__}: {exc}")
        else:
            pytest.fail(f"{name}: accepted an out-of-scope row")
    assert len(refused) == len(_calls(world, users, regions))
    household = Household.objects.get(pk=world["household"].pk)
    assert household.region_id == "220102001001" and household.phone == ""
    assert world["finding"].__class__.objects.get(pk=world["finding"].pk).state == FindingState.PENDING


def test_require_names_the_role_and_the_region_in_chinese(users, regions):
    with pytest.raises(PermissionDenied, match="督导.*不能复核疑点"):
        require(users["supervisor"], "finding.review")
    with pytest.raises(PermissionDenied, match="宽城区.*不在您的管辖范围内"):
        require(users["reviewer"], "finding.review", region_code="220103")
    require(users["reviewer"], "finding.review", region_code="220102001001")
    require("system", "finding.review", region_code="220103")


def test_every_action_names_roles_that_exist_and_unknown_actions_fail_loudly(users):
    from dibao.models import Role

    for action, (roles, label) in PERMISSIONS.items():
        assert roles <= set(Role.values), action
        assert str(label), action
    with pytest.raises(KeyError, match="no permission rule"):
        can(users["admin"], "household.teleport")


def test_user_without_role_or_inactive_may_do_nothing(regions):
    nobody = UserFactory(username="nobody", region=regions["220102"])
    gone = UserFactory(username="gone", region=regions["220102"], role="county_reviewer", is_active=False)
    assert not any(can(nobody, action) for action in PERMISSIONS)
    assert not any(can(gone, action) for action in PERMISSIONS)

"""The application's steps and their rules (workflow.md "The application", "Separation of duties")."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audits.models import RefKind
from audits.tests.helpers import ref
from cases import application_selectors as sel
from cases import applications as svc
from cases.models import AmountHistory, ApplicationState, Status
from cases.tests.application_fixtures import (  # noqa: F401 (fixtures)
    accept, applicant, notice, people, propose, scan, to_notice, today, visit,
)
from dibao.models import AuditRecord
from tests.factories import FilingFactory, HouseholdFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_accept_takes_the_entry_check_and_makes_the_household_pending(people, applicant, today):
    ref(RefKind.DEATHS, [{"id_number": applicant.head_id_number, "name": "王大山", "death_date": dt.date(2025, 1, 1)}])
    app = accept(people, applicant)
    assert app.state == ApplicationState.ACCEPTED
    assert app.tracking_no == "SQ220102001-2026-00001" and app.round_no == 1
    check = app.checks.get()
    assert check.stage == "accept" and check.warnings == 1 and check.versions == {"deaths": 1}
    assert check.result[0]["rule"] == "DECEASED"
    assert app.authorisation_scan.sha256 and len(app.authorisation_scan.sha256) == 64
    assert AuditRecord.objects.filter(action="application.attachment", object_id=str(app.pk),
                                      after__sha256=app.authorisation_scan.sha256).exists()
    applicant.refresh_from_db()
    assert applicant.status == Status.PENDING and applicant.applied_on == dt.date(2026, 9, 1)
    with pytest.raises(ValidationError, match="已有办理中的申请"):
        accept(people, applicant)


def test_accept_only_in_the_township_of_registration(people, applicant, today, regions):
    with pytest.raises(PermissionDenied):
        svc.application_accept(actor=people["caseworker_b"], household=applicant, authorisation=scan())
    county_clerk = UserFactory(username="cw_county", region=regions["220102"], role="caseworker")
    with pytest.raises(PermissionDenied, match="户籍所在乡镇"):
        svc.application_accept(actor=county_clerk, household=applicant, authorisation=scan())
    with pytest.raises(ValidationError, match="核对授权书"):
        svc.application_accept(actor=people["caseworker_a"], household=applicant, authorisation=None)


def test_not_accepted_household_is_kept_as_rejected(people, applicant, today):
    app = svc.application_not_accept(actor=people["caseworker_a"], household=applicant, reason="户籍不在本乡镇")
    assert app.state == ApplicationState.NOT_ACCEPTED and app.not_accepted_reason == "户籍不在本乡镇"
    applicant.refresh_from_db()
    assert applicant.status == Status.REJECTED and "不予受理" in applicant.rejection_reason


def test_two_distinct_investigators_of_the_township(people, applicant, today):
    app = accept(people, applicant)
    with pytest.raises(ValidationError, match="两名不同"):
        visit(people, app, investigators=("caseworker_a", "caseworker_a"))
    with pytest.raises(ValidationError, match="不是户籍所在乡镇"):
        visit(people, app, investigators=("caseworker_a", "caseworker_b"))
    with pytest.raises(ValidationError, match="早于受理日期"):
        visit(people, app, on=dt.date(2026, 8, 31))
    app = visit(people, app)
    assert app.state == ApplicationState.VISITED
    assert {app.investigator_1, app.investigator_2} == {people["caseworker_a"], people["caseworker_a2"]}
    assert app.survey_scan is not None


def test_recused_investigator_by_filing_and_by_kinship(people, applicant, today):
    app = accept(people, applicant)
    staff = StaffFactory(user=people["caseworker_a2"], staff_type="caseworker")
    filing = FilingFactory(staff=staff, relative_id_number=applicant.head_id_number)
    with pytest.raises(PermissionDenied, match="回避"):
        visit(people, app)
    filing.delete()
    ref(RefKind.KINSHIP, [{"id_number_a": staff.id_number, "id_number_b": applicant.head_id_number,
                           "relation": "父母"}])
    with pytest.raises(PermissionDenied, match="调查人员.*回避"):
        visit(people, app)
    ref(RefKind.KINSHIP, [])
    assert visit(people, app).state == ApplicationState.VISITED


def test_proposal_by_another_caseworker_with_the_computed_amount(people, applicant, today):
    app = visit(people, accept(people, applicant))
    with pytest.raises(PermissionDenied, match="受理人不能同时提出审核意见"):
        svc.application_propose(actor=people["caseworker_a"], application=app, proposal="approve")
    with pytest.raises(ValidationError, match="请写明理由"):
        propose(people, app, proposed_amount=Decimal("1000"))
    app = propose(people, app)
    assert (app.computed_amount, app.proposed_amount, app.covered_persons) == (Decimal("900"), Decimal("900"), 2)
    assert "600" in app.amount_working and "900" in app.amount_working
    assert app.checks.filter(stage="proposal").exists()


def test_accepter_may_propose_when_alone_in_the_township(people, applicant, today):
    people["caseworker_a2"].groups.clear()
    app = visit(people, accept(people, applicant), investigators=("caseworker_a", "caseworker_a2"))
    app = svc.application_propose(actor=people["caseworker_a"], application=app, proposal="approve",
                                  proposed_amount=Decimal("950"), amount_reason="户主长期患病，医疗支出大")
    assert app.proposed_amount == Decimal("950") and app.computed_amount == Decimal("900")


def test_objection_returns_the_case_to_the_home_visit(people, applicant, today):
    app = to_notice(people, applicant, dt.date(2026, 10, 15))
    objection = svc.application_object(actor=people["caseworker_a"], application=app, content="该户有一辆货车",
                                       received_on=dt.date(2026, 10, 16))
    app.refresh_from_db()
    assert app.state == ApplicationState.ACCEPTED and app.submitted_on is None
    assert app.renotice_due_on == dt.date(2026, 11, 6)  # 15 working days after 2026-10-16
    assert not objection.handled
    app = visit(people, app, on=dt.date(2026, 10, 19))
    with pytest.raises(ValidationError, match="民主评议"):
        propose(people, app, on=dt.date(2026, 10, 19))
    app = svc.application_appraise(actor=people["caseworker_a"], application=app, appraised_on=dt.date(2026, 10, 19),
                                   participants="村民代表 9 人", result="9 票同意", minutes=scan("minutes.pdf"))
    app = propose(people, app, on=dt.date(2026, 10, 19))
    objection.refresh_from_db()
    assert objection.handled and app.state == ApplicationState.PROPOSED


def test_confirmation_never_by_the_proposer_and_only_after_the_notice(people, applicant, today):
    app = to_notice(people, applicant, dt.date(2026, 10, 15))
    with pytest.raises(ValidationError, match="尚未报送县级"):
        svc.application_confirm(actor=people["reviewer"], application=app)
    today(dt.date(2026, 10, 22))
    admin = people["admin"]
    app.proposed_by = admin
    app.save(update_fields=["proposed_by"])
    with pytest.raises(PermissionDenied, match="提出人"):
        svc.application_confirm(actor=admin, application=app)
    with pytest.raises(PermissionDenied):
        svc.application_confirm(actor=people["caseworker_a"], application=app)
    with pytest.raises(PermissionDenied):
        svc.application_confirm(actor=people["reviewer_other"], application=app)


def test_approval_makes_the_household_active_with_amount_history(people, applicant, today):
    app = to_notice(people, applicant)  # notice 2026-09-07..13, submitted 2026-09-14
    assert app.submitted_on == dt.date(2026, 9, 14) and app.notice_ends_on == dt.date(2026, 9, 13)
    app = svc.application_confirm(actor=people["reviewer"], application=app, decided_on=dt.date(2026, 9, 15))
    assert app.state == ApplicationState.APPROVED and app.decided_amount == Decimal("900")
    applicant.refresh_from_db()
    assert (applicant.status, applicant.decided_on, applicant.monthly_amount) == (
        Status.ACTIVE, dt.date(2026, 9, 15), Decimal("900"))
    history = AmountHistory.objects.get(household=applicant)
    assert (history.effective_month, history.amount, history.covered_persons, history.source) == (
        dt.date(2026, 9, 1), Decimal("900"), 2, "application")
    actions = list(sel.timeline(app).values_list("action", flat=True))
    for step in ("application.accept", "application.visit", "application.propose", "application.notice",
                 "application.confirm"):
        assert step in actions
    app = svc.application_notify(actor=people["caseworker_a"], application=app, notified_on=dt.date(2026, 9, 16))
    with pytest.raises(ValidationError, match="不能办理"):
        svc.application_notify(actor=people["caseworker_a"], application=app)


def test_refusal_makes_the_household_rejected_with_reasons(people, applicant, today):
    app = visit(people, accept(people, applicant))
    app = propose(people, app, proposal="refuse", refusal_reasons="家庭人均收入高于保障标准")
    assert app.submitted_on == dt.date(2026, 9, 4)
    app = svc.application_refuse(actor=people["reviewer"], application=app, reasons="核实家庭有经营性收入",
                                 decided_on=dt.date(2026, 9, 8))
    assert app.state == ApplicationState.REFUSED and app.refusal_notice_due_on == dt.date(2026, 9, 11)
    applicant.refresh_from_db()
    assert applicant.status == Status.REJECTED and applicant.rejection_reason == "核实家庭有经营性收入"
    assert not AmountHistory.objects.filter(household=applicant).exists()


def test_filed_relative_needs_appraisal_and_a_county_visit_by_another_reviewer(people, applicant, today):
    staff = StaffFactory(staff_type="village_cadre")
    FilingFactory(staff=staff, household=applicant, relative_id_number=applicant.head_id_number)
    app = visit(people, accept(people, applicant))
    with pytest.raises(ValidationError, match="备案近亲属.*民主评议"):
        propose(people, app)
    svc.application_appraise(actor=people["caseworker_a"], application=app, appraised_on=dt.date(2026, 9, 4),
                             participants="村民代表", result="同意", minutes=scan("m.pdf"))
    app = notice(people, propose(people, app))
    with pytest.raises(ValidationError, match="县级工作人员入户核查"):
        svc.application_confirm(actor=people["reviewer"], application=app)
    svc.application_county_visit(actor=people["reviewer"], application=app, visited_on=dt.date(2026, 9, 15),
                                 findings="情况属实")
    with pytest.raises(PermissionDenied, match="另一名县级审核人员"):
        svc.application_confirm(actor=people["reviewer"], application=app)
    app = svc.application_confirm(actor=people["reviewer_2"], application=app)
    assert app.state == ApplicationState.APPROVED


def test_recused_county_reviewer_cannot_confirm(people, applicant, today):
    app = to_notice(people, applicant)
    staff = StaffFactory(user=people["reviewer"], staff_type="civil_affairs")
    ref(RefKind.KINSHIP, [{"id_number_a": staff.id_number, "id_number_b": applicant.head_id_number,
                           "relation": "兄弟姐妹"}])
    with pytest.raises(PermissionDenied, match="回避"):
        svc.application_confirm(actor=people["reviewer"], application=app)


def test_deadlines_across_national_day_and_a_weekend(people, applicant, today):
    app = accept(people, applicant, on=dt.date(2026, 9, 30))
    assert app.process_due_on == dt.date(2026, 11, 17)  # 30 working days, 10-01..07 off, 10-10 worked
    svc.application_extend(actor=people["caseworker_a"], application=app, reason="申请人外出务工，需补充材料")
    app.refresh_from_db()
    assert app.process_due_on == dt.date(2026, 12, 8)
    with pytest.raises(ValidationError):
        svc.application_extend(actor=people["caseworker_a"], application=app, reason="再延一次")
    visit(people, app, on=dt.date(2026, 9, 30))
    propose(people, app, on=dt.date(2026, 9, 30))
    app = notice(people, app, dt.date(2026, 9, 30))
    # notice 09-30..10-06, submitted 10-07 (a holiday): working days from 10-08, 10-10 (Saturday) worked
    assert (app.submitted_on, app.confirm_due_on) == (dt.date(2026, 10, 7), dt.date(2026, 10, 20))
    today(dt.date(2026, 11, 20))  # a Friday
    app = svc.application_refuse(actor=people["reviewer"], application=app, reasons="收入超标")
    assert app.refusal_notice_due_on == dt.date(2026, 11, 25)  # Mon, Tue, Wed


def test_overdue_worklist_and_rollup(people, applicant, today):
    app = to_notice(people, applicant)  # confirm due 10 working days after 2026-09-14 = 2026-09-28
    assert app.confirm_due_on == dt.date(2026, 9, 28)
    user = people["reviewer"]
    assert list(sel.worklist(user, due="today", day=dt.date(2026, 9, 28))) == [app]
    assert list(sel.worklist(user, due="overdue", day=dt.date(2026, 9, 29))) == [app]
    assert list(sel.worklist(user, step=sel.AWAITING, day=dt.date(2026, 9, 14))) == [app]
    assert not sel.worklist(people["caseworker_b"], due="overdue", day=dt.date(2026, 9, 29)).exists()
    assert sel.rollup_metrics(start=dt.date(2026, 9, 1), end=dt.date(2026, 9, 30)) == {
        "220102001": {"applications_overdue": 1}}
    assert sel.rollup_metrics(start=dt.date(2026, 8, 1), end=dt.date(2026, 8, 31)) == {}
    assert sel.overdue_by_region(people["supervisor"], length=6, day=dt.date(2026, 9, 29)) == {"220102": 1}


def test_new_round_for_a_refused_household(people, today):
    household = HouseholdFactory(region_id="220102001001", status=Status.REJECTED, decided_on=dt.date(2025, 5, 1),
                                 monthly_amount=None, rejection_reason="收入超标")
    first = svc.application_not_accept(actor=people["caseworker_a"], household=household, reason="材料不全")
    second = accept(people, household, on=dt.date(2026, 9, 2))
    assert (first.round_no, second.round_no) == (1, 2)
    assert second.tracking_no == "SQ220102001-2026-00002"
    active = HouseholdFactory(region_id="220102001001")
    with pytest.raises(ValidationError, match="在保家庭"):
        accept(people, active)


def test_rollup_and_dashboard_count_overdue_applications(people, applicant, today, client_for):
    from django.urls import reverse

    from reports import services as report_services
    from reports.models import RollupRow

    to_notice(people, applicant)  # county confirmation due 2026-09-28, never decided
    report_services.rollup_compute(actor="system", month=dt.date(2026, 9, 1), scope="220102")
    rows = dict(RollupRow.objects.filter(month=dt.date(2026, 9, 1)).values_list("region_code", "applications_overdue"))
    assert rows["220102001"] == 1 and rows["220102"] == 1 and rows["220102002"] == 0
    page = client_for(people["supervisor"]).get(reverse("reports:dashboard", args=["2201"])).content.decode()
    assert 'id="overdue-applications"' in page and "南关区" in page

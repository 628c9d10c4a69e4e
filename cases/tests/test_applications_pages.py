"""The application pages: worklist, intake, step forms, the case page and the scans' download."""
import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from cases import applications as svc
from cases.models import Application, ApplicationState, Household, Status
from cases.tests.application_fixtures import (  # noqa: F401 (fixtures)
    TODAY, accept, applicant, notice, people, propose, scan, to_notice, today, visit,
)
from tests.factories import make_id

pytestmark = pytest.mark.django_db


def test_intake_creates_the_household_and_accepts_it(people, client_for, today):
    client = client_for(people["caseworker_a"])
    page = client.get(reverse("cases:application_intake")).content.decode()
    assert "测算金额" in page and "核对授权书" in page
    head, spouse = make_id(), make_id(male=False)
    response = client.post(reverse("cases:application_intake"), {
        "household_no": "H-NEW-1", "region": "220102001001", "head_name": "李春华", "head_id_number": head,
        "category": "rural", "management_class": "B", "head_monthly_income": "150",
        "members-TOTAL_FORMS": "1", "members-INITIAL_FORMS": "0", "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "1000", "members-0-name": "赵秀兰", "members-0-id_number": spouse,
        "members-0-relation": "配偶", "members-0-monthly_income": "250", "members-0-labour_capacity": "有",
        "accepted_on": TODAY.isoformat(), "declared_assets": "无", "authorisation": scan()})
    app = Application.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("cases:application_detail", args=[app.pk])
    household = app.household
    assert household.status == Status.PENDING and household.members.count() == 2
    assert household.members.get(relation="本人").monthly_income == Decimal("150")
    preview = client.post(reverse("cases:application_amount"), {
        "region": "220102001001", "category": "rural", "head_name": "李春华", "head_monthly_income": "150",
        "members-0-name": "赵秀兰", "members-0-monthly_income": "250"}).content.decode()
    assert "800 元/月" in preview  # 600 × 2 − 400


def test_worklist_case_page_and_steps(people, applicant, client_for, today):
    app = visit(people, accept(people, applicant))
    client = client_for(people["caseworker_a2"])
    listing = client.get(reverse("cases:application_list"), {"step": "visited"}).content.decode()
    assert app.tracking_no in listing and "待提出审核意见" in listing and "南岭村" in listing
    case = client.get(reverse("cases:application_detail", args=[app.pk])).content.decode()
    assert 'data-step="propose"' in case and "900 元/月" in case and "登记入户调查" in case
    assert 'id="application-documents"' in case and "全程办结" in case
    response = client.post(reverse("cases:application_propose", args=[app.pk]),
                           {"proposal": "approve", "proposed_on": TODAY.isoformat(), "proposed_amount": "950"})
    assert response.status_code == 200 and "请写明理由" in response.content.decode()
    response = client.post(reverse("cases:application_propose", args=[app.pk]),
                           {"proposal": "approve", "proposed_on": TODAY.isoformat()})
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.state == ApplicationState.PROPOSED and app.proposed_amount == Decimal("900")


def test_reviewer_sees_awaiting_with_the_evidence_and_confirms(people, applicant, client_for, today):
    app = to_notice(people, applicant)
    client = client_for(people["reviewer"])
    listing = client.get(reverse("cases:application_list"), {"step": "awaiting"}).content.decode()
    assert app.tracking_no in listing
    page = client.get(reverse("cases:application_confirm", args=[app.pk])).content.decode()
    assert 'id="evidence-panel"' in page and "未发现工作人员近亲属备案" in page and "900" in page
    response = client.post(reverse("cases:application_confirm", args=[app.pk]), {})
    assert response.status_code == 302, [l for l in response.content.decode().splitlines() if "danger" in l or "warning" in l]
    assert Household.objects.get(pk=applicant.pk).status == Status.ACTIVE


def test_overdue_shows_on_the_worklist(people, applicant, client_for, today):
    to_notice(people, applicant)  # county confirmation due 2026-09-28; today is 2026-10-20
    page = client_for(people["reviewer"]).get(reverse("cases:application_list"), {"due": "overdue"}).content.decode()
    assert "H-APP" in page and "已超期" in page


def test_attachment_download_is_scoped_and_traced(people, applicant, client_for, today):
    app = accept(people, applicant)
    attachment = app.authorisation_scan
    url = reverse("cases:application_attachment", args=[app.pk, attachment.pk])
    response = client_for(people["reviewer"]).get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    assert client_for(people["caseworker_b"]).get(url).status_code == 404
    assert client_for(people["inspector"]).get(url).status_code == 403


def test_calendar_unknown_year_is_said_on_the_case(people, applicant, client_for, today):
    today(dt.date(2026, 12, 10))
    app = accept(people, applicant, on=dt.date(2026, 12, 10))  # 30 working days run into 2027
    page = client_for(people["caseworker_a"]).get(reverse("cases:application_detail", args=[app.pk])).content.decode()
    assert 'id="calendar-unknown"' in page and "2027 年的节假日安排尚未收录" in page


def test_navigation_links_applications(people, client_for):
    page = client_for(people["caseworker_a"]).get(reverse("home")).content.decode()
    assert reverse("cases:application_list") in page
    page = client_for(people["inspector"]).get(reverse("home")).content.decode()
    assert reverse("cases:application_list") not in page

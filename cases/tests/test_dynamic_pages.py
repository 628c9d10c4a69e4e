"""Pages and API of dynamic management: what each role sees, scoping (another township 404,
a role that may not act 403), and a change worked from proposal to its document."""
import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import changes
from cases.models import BenefitStandard, ChangeKind, ChangeState, Household
from dibao.models import AuditRecord
from tests.factories import HouseholdFactory, MemberFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting(regions, users):
    BenefitStandard.objects.create(region_id="220102", category="rural", monthly_standard=Decimal("500"),
                                   effective_from=dt.date(2020, 1, 1))
    here = HouseholdFactory(region_id="220102001001", monthly_amount=Decimal("1000"))
    MemberFactory(household=here, relation="配偶")
    there = HouseholdFactory(region_id="220102002001")
    return {"here": here, "there": there}


def test_review_pages_are_scoped(setting, users, client_for):
    here, there = setting["here"], setting["there"]
    page = client_for(users["caseworker_a"]).get(reverse("cases:review_list"))
    text = page.content.decode()
    assert page.status_code == 200 and here.household_no in text and there.household_no not in text
    assert client_for(users["reviewer"]).get(reverse("cases:review_list")).content.decode().count('data-township=') == 2
    assert client_for(users["caseworker_a"]).get(reverse("cases:review_record", args=[here.pk])).status_code == 200
    assert client_for(users["caseworker_a"]).get(reverse("cases:review_record", args=[there.pk])).status_code == 404
    assert client_for(users["reviewer"]).get(reverse("cases:review_record", args=[here.pk])).status_code == 403
    assert client_for(users["inspector"]).get(reverse("cases:review_list")).status_code == 403


def test_the_county_narrows_the_review_list_to_one_township(setting, users, client_for):
    here, there = setting["here"], setting["there"]
    page = client_for(users["reviewer"]).get(reverse("cases:review_list"), {"status": "overdue", "township": "220102001"})
    text = page.content.decode()
    assert page.status_code == 200 and here.household_no in text and there.household_no not in text


def test_a_change_from_the_page_to_the_county_and_its_document(setting, users, client_for):
    here = setting["here"]
    spouse = here.members.get(relation="配偶")
    assert client_for(users["caseworker_a"]).get(reverse("cases:change_propose", args=[setting["there"].pk])) \
        .status_code == 404
    assert client_for(users["reviewer"]).get(reverse("cases:change_propose", args=[here.pk])).status_code == 403
    response = client_for(users["caseworker_a"]).post(reverse("cases:change_propose", args=[here.pk]), {
        "kind": "remove_member", "reason": "配偶婚嫁迁出", "member": spouse.pk, "leave_reason": "婚嫁迁出"})
    assert response.status_code == 302
    change = here.changes.get()
    assert change.proposed_amount == Decimal("500")
    assert client_for(users["caseworker_b"]).get(reverse("cases:change_detail", args=[change.pk])).status_code == 404
    assert client_for(users["reviewer_other"]).get(f"/api/v1/changes/{change.pk}/").status_code == 404
    assert client_for(users["caseworker_a"]).post(f"/api/v1/changes/{change.pk}/confirm/", {},
                                                  content_type="application/json").status_code == 403
    response = client_for(users["reviewer"]).post(f"/api/v1/changes/{change.pk}/confirm/", {},
                                                  content_type="application/json")
    assert response.status_code == 200 and response.json()["state"] == ChangeState.CONFIRMED
    assert Household.objects.get(pk=here.pk).monthly_amount == Decimal("500")
    page = client_for(users["caseworker_a"]).get(reverse("cases:change_detail", args=[change.pk])).content.decode()
    assert "低保变更通知书" in page
    doc = client_for(users["caseworker_a"]).get(reverse("cases:change_document_print", args=[change.pk, "change_notice"]))
    assert doc.status_code == 200 and "变更后月保障金额" in doc.content.decode() and "500.00 元" in doc.content.decode()
    docx = client_for(users["caseworker_a"]).get(reverse("cases:change_document_docx", args=[change.pk, "change_notice"]))
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    assert AuditRecord.objects.filter(action="change.document", object_id=str(change.pk)).exists()
    assert client_for(users["caseworker_a"]).get(
        reverse("cases:change_document_print", args=[change.pk, "exit_notice"])).status_code == 404


def test_review_and_change_api(setting, users, client_for):
    here, there = setting["here"], setting["there"]
    cw2 = UserFactory(username="cw_a2", region=users["caseworker_a"].region, role="caseworker")
    client = client_for(users["caseworker_a"])
    listed = client.get("/api/v1/reviews/").json()
    assert {row["household_no"] for row in listed["results"]} == {here.household_no}
    assert client.get("/api/v1/reviews/counts/").json() == [{"township": "220102001", "due": 0, "overdue": 1}]
    body = {"household": there.pk, "reviewed_on": str(timezone.localdate()), "investigator_1": users["caseworker_a"].pk,
            "investigator_2": cw2.pk, "situation": "无变化", "outcome": "maintain"}
    assert client.post("/api/v1/reviews/", body, content_type="application/json").status_code == 404
    response = client.post("/api/v1/reviews/", {**body, "household": here.pk}, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert Household.objects.get(pk=here.pk).last_reviewed_on == timezone.localdate()
    assert client_for(users["reviewer"]).post("/api/v1/reviews/", {**body, "household": here.pk},
                                              content_type="application/json").status_code == 403
    response = client.post("/api/v1/changes/", {"household": here.pk, "kind": "suspend", "reason": "外出"},
                           content_type="application/json")
    assert response.status_code == 201 and response.json()["kind"] == ChangeKind.SUSPEND
    response = client_for(users["reviewer"]).post(f"/api/v1/changes/{response.json()['id']}/refuse/",
                                                  {"reason": "材料不全"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["state"] == ChangeState.REFUSED
    assert not Household.objects.get(pk=here.pk).payment_stopped
    assert changes.suspended_in(here.pk, timezone.localdate()) is False

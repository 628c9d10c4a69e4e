"""Jurisdiction: every page and API endpoint is 404 for another township, county or body,
and a complaint about a township's staff never reaches that township."""
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from dibao.models import AuditRecord
from tests.factories import HouseholdFactory, StaffFactory, UserFactory
from complaints import services
from complaints.models import Complaint
from complaints.tests.conftest import staff_complaint_data

pytestmark = pytest.mark.django_db


def test_complaint_about_township_staff_goes_to_county_and_is_hidden_from_township(client, client_for, users, regions):
    data = {"complainant_name": "张三", "complainant_phone": "13912345678", "subject_type": "staff",
            "subject_name": "南岭街道低保专干", "subject_region": "220102001001",
            "content": "低保专干为亲属违规办理低保。"}
    client.post(reverse("complaints_public:complaint"), data)
    complaint = Complaint.objects.get()
    assert complaint.accuses_staff and complaint.region_id == "220102" and complaint.accused_region_id == "220102001"

    accused = client_for(users["caseworker_a"])
    assert accused.get(reverse("complaints:complaint_detail", args=[complaint.pk])).status_code == 404
    assert f"#{complaint.pk}" not in accused.get(reverse("complaints:complaint_list")).content.decode()
    assert accused.get(f"/api/v1/complaints/{complaint.pk}/").status_code == 404
    assert accused.post(reverse("complaints:complaint_action", args=[complaint.pk, "verify"]),
                        {"text": "x"}).status_code == 404

    # the county cannot hand it to the accused township either
    county = client_for(users["reviewer"])
    r = county.post(reverse("complaints:complaint_action", args=[complaint.pk, "assign"]),
                    {"region": "220102001", "working_days": "10"}, follow=True)
    assert "不能交给被反映单位核查" in r.content.decode()
    complaint.refresh_from_db()
    assert complaint.region_id == "220102"
    # ... but may ask the other township to verify
    county.post(reverse("complaints:complaint_action", args=[complaint.pk, "assign"]),
                {"region": "220102002", "working_days": "10"})
    complaint.refresh_from_db()
    assert complaint.region_id == "220102002"
    assert accused.get(reverse("complaints:complaint_detail", args=[complaint.pk])).status_code == 404


def test_identity_visible_only_to_the_receiving_handlers(client, client_for, users, regions):
    client.post(reverse("complaints_public:complaint"), {
        "complainant_name": "张三丰", "complainant_phone": "13912345678", "subject_type": "household",
        "subject_region": "220102001001", "content": "某户不符合条件"})
    complaint = Complaint.objects.get()
    services.complaint_assign(actor=users["reviewer"], complaint=complaint, region=regions["220102001"])
    url = reverse("complaints:complaint_detail", args=[complaint.pk])
    reveal = reverse("complaints:complaint_reveal", args=[complaint.pk])

    handler = client_for(users["reviewer"])
    page = handler.get(url).content.decode()
    assert "张**" in page and "139****5678" in page and "13912345678" not in page  # masked until revealed
    revealed = handler.post(reveal).content.decode()
    assert "张三丰" in revealed and "13912345678" in revealed
    assert AuditRecord.objects.filter(action="complaint.reveal_identity", actor=users["reviewer"]).exists()

    for key in ("caseworker_a", "supervisor", "admin"):
        c = client_for(users[key])
        page = c.get(url).content.decode()
        assert "张三丰" not in page and "13912345678" not in page, key
        assert c.post(reveal).status_code == 403, key
        api = c.get(f"/api/v1/complaints/{complaint.pk}/").json()
        assert "13912345678" not in str(api) and "张三丰" not in str(api)


def test_county_staff_complaint_goes_to_city(users, regions):
    staff = StaffFactory(region_id="220102", staff_type="civil_affairs")
    complaint = services.complaint_create(actor=users["supervisor"], data=staff_complaint_data(
        regions["220102001001"], subject_staff=staff))
    assert complaint.region_id == "2201" and complaint.accused_region_id == "220102"
    assert not Complaint.objects.for_user(users["reviewer"]).filter(pk=complaint.pk).exists()


def test_caseworker_intake_stays_in_township_unless_staff_accused(users, regions):
    plain = services.complaint_create(actor=users["caseworker_a"], data={
        "channel": "visit", "anonymous": True, "subject_type": "household",
        "subject_region": regions["220102001001"], "content": "某户有车"})
    assert plain.region_id == "220102001"
    about_staff = services.complaint_create(actor=users["caseworker_a"], data=staff_complaint_data(
        regions["220102001001"]))
    assert about_staff.region_id == "220102"
    assert not Complaint.objects.for_user(users["caseworker_a"]).filter(pk=about_staff.pk).exists()


@pytest.fixture
def world(users, regions):
    """One object of every kind in township 220102001 (county 220102)."""
    reviewer, supervisor = users["reviewer"], users["supervisor"]
    HouseholdFactory(region_id="220102001001")
    complaint = services.complaint_create(actor=reviewer, data={
        "channel": "phone", "anonymous": True, "subject_type": "household", "subject_region": regions["220102001001"],
        "content": "某户有车"})
    services.complaint_assign(actor=reviewer, complaint=complaint, region=regions["220102001"])
    clue = services.clue_create(actor=reviewer, data={"source": "media", "region": regions["220102001"],
                                                      "category": "错保", "summary": "s"})
    services.clue_refer(actor=reviewer, clue=clue, body_region=regions["220102"], body_name="")
    hotline = services.hotline_save(actor=reviewer, data={"region": regions["220102"], "unit": "南关区民政局",
                                                          "numbers": "0431-1234567"})
    services.dial_test_record(actor=supervisor, hotline=hotline, called_at=dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone.utc),
                              number="", answered=True, handled_properly=True)
    item = services.rectification_create(actor=reviewer, data={
        "region": regions["220102001"], "source": "clue", "clue": clue, "problem": "p", "measures": "m",
        "responsible_unit": "南岭街道", "responsible_person": "李", "deadline": dt.date(2026, 12, 31)})
    inspection = services.inspection_create(actor=supervisor, data={
        "region": regions["220102001"], "checklist": services.default_checklist(),
        "inspected_on": dt.date(2026, 3, 2), "team": "督查组"})
    sample = services.sample_draw(actor=supervisor, inspection=inspection, township=regions["220102001"], count=1)
    return {"complaint": complaint, "clue": clue, "hotline": hotline, "item": item, "inspection": inspection,
            "visit": sample.visits.get()}


def _urls(w):
    c, clue = w["complaint"].pk, w["clue"].pk
    return {
        "complaint": [("get", reverse("complaints:complaint_detail", args=[c])),
                      ("post", reverse("complaints:complaint_action", args=[c, "verify"])),
                      ("post", reverse("complaints:complaint_reveal", args=[c])),
                      ("get", f"/api/v1/complaints/{c}/")],
        "clue": [("get", reverse("complaints:clue_detail", args=[clue])),
                 ("post", reverse("complaints:clue_action", args=[clue, "outcome"])),
                 ("get", f"/api/v1/clues/{clue}/")],
        "rect": [("get", reverse("complaints:rectification_detail", args=[w["item"].pk])),
                 ("post", reverse("complaints:rectification_detail", args=[w["item"].pk])),
                 ("get", f"/api/v1/rectifications/{w['item'].pk}/")],
        "inspection": [("get", reverse("complaints:inspection_detail", args=[w["inspection"].pk])),
                       ("post", reverse("complaints:visit_record", args=[w["visit"].pk]))],
        "hotline": [("get", f"/api/v1/hotlines/{w['hotline'].pk}/")],
    }


def test_every_endpoint_is_404_for_another_region(world, client_for, users, regions):
    outsiders = {
        "complaint": [users["caseworker_b"], users["caseworker_c"], users["reviewer_other"]],
        "clue": [users["reviewer_other"], UserFactory(username="i2", region=regions["220103"], role="inspector"),
                 UserFactory(username="i3", region=regions["2201"], role="inspector")],
        "rect": [users["caseworker_b"], users["caseworker_c"], users["reviewer_other"]],
        "inspection": [users["reviewer_other"],
                       UserFactory(username="s2", region=regions["220103"], role="supervisor")],
        "hotline": [users["reviewer_other"], users["caseworker_c"]],
    }
    urls = _urls(world)
    for kind, people in outsiders.items():
        for user in people:
            c = client_for(user)
            for method, url in urls[kind]:
                assert getattr(c, method)(url).status_code == 404, (kind, user.username, method, url)


def test_insiders_can_open_them(world, client_for, users):
    urls = _urls(world)
    insiders = {"complaint": users["caseworker_a"], "clue": users["inspector"], "rect": users["caseworker_a"],
                "inspection": users["supervisor"], "hotline": users["reviewer"]}
    for kind, user in insiders.items():
        for method, url in urls[kind]:
            if method == "get":
                assert client_for(user).get(url).status_code == 200, (kind, url)


def test_lists_and_exports_are_scoped(world, client_for, users):
    other = client_for(users["reviewer_other"])
    assert world["clue"].number not in other.get(reverse("complaints:clue_list")).content.decode()
    assert other.get("/api/v1/complaints/").json()["results"] == []
    assert other.get("/api/v1/rectifications/").json()["results"] == []
    assert other.get("/api/v1/dial-tests/").json()["results"] == []
    assert world["item"].number not in other.get(reverse("complaints:rectification_list")).content.decode()
    response = other.get(reverse("complaints:export", args=["clues"]))
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert world["clue"].number not in str([c.value for row in wb.active.iter_rows() for c in row])


def test_roles_without_access_are_refused(world, client_for, users):
    assert client_for(users["caseworker_a"]).get(reverse("complaints:clue_list")).status_code == 403
    assert client_for(users["inspector"]).get(reverse("complaints:complaint_list")).status_code == 403
    assert client_for(users["inspector"]).get("/api/v1/complaints/").status_code == 403
    assert client_for(users["caseworker_a"]).get(reverse("complaints:dial_test_create")).status_code == 403


def test_inspector_funds_decimal(world, users):
    referral = world["clue"].referral
    services.referral_record(actor=users["inspector"], referral=referral, investigation="i", outcome="部分属实",
                             funds_recovered=Decimal("0.1") + Decimal("0.2"), disciplines=[])
    referral.refresh_from_db()
    assert referral.funds_recovered == Decimal("0.30")

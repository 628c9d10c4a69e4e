"""The API speaks the same services and scoping as the pages."""
import pytest

from tests.factories import UserFactory
from complaints import services
from complaints.models import ComplaintState

pytestmark = pytest.mark.django_db


def test_complaint_workflow_over_the_api(client_for, users, regions):
    complaint = services.complaint_create(actor=users["reviewer"], data={
        "channel": "12345", "complainant_name": "钱七", "complainant_phone": "13600009999",
        "subject_type": "household", "subject_region": regions["220102002001"], "content": "某户有营业执照"})
    api = client_for(users["reviewer"])
    base = f"/api/v1/complaints/{complaint.pk}/"
    r = api.post(base + "assign/", {"region": "220102002000", "working_days": 10}, content_type="application/json")
    assert r.status_code == 200 and r.json()["region"] == "220102002" and r.json()["deadline"]
    assert "钱七" not in str(r.json()) and "13600009999" not in str(r.json())
    r = api.post(base + "reply/", {"text": "x"}, content_type="application/json")
    assert r.status_code == 400 and "不能执行此操作" in str(r.json())
    township = client_for(users["caseworker_a"])
    assert township.post(base + "verify/", {"text": "核查"}, content_type="application/json").status_code == 404
    assert client_for(users["caseworker_b"]).post(base + "verify/", {"text": "核查属实"},
                                                  content_type="application/json").status_code == 200
    api.post(base + "reply/", {"text": "已停发"}, content_type="application/json")
    assert api.post(base + "close/", content_type="application/json").json()["state"] == ComplaintState.CLOSED


def test_outcome_over_the_api(clue, client_for, users, regions):
    services.clue_refer(actor=users["reviewer"], clue=clue, body_region=regions["220102"], body_name="")
    payload = {"investigation": "属实", "outcome": "属实", "funds_recovered": "88.80",
               "disciplines": [{"kind": "政务处分", "count": 1}], "conclude": True}
    url = f"/api/v1/clues/{clue.pk}/outcome/"
    assert client_for(users["reviewer"]).post(url, payload, content_type="application/json").status_code == 403
    other = UserFactory(username="insp_x", region=regions["220103"], role="inspector")
    assert client_for(other).post(url, payload, content_type="application/json").status_code == 404
    r = client_for(users["inspector"]).post(url, payload, content_type="application/json")
    assert r.status_code == 200
    body = r.json()
    assert body["state"] == "concluded" and body["referral"]["funds_recovered"] == "88.80"
    assert body["referral"]["disciplines"] == [{"kind": "政务处分", "count": 1}]
    bad = client_for(users["inspector"]).post(url, dict(payload, disciplines=[{"kind": "枪毙", "count": 1}]),
                                              content_type="application/json")
    assert bad.status_code == 400 and "处理方式无效" in str(bad.json())

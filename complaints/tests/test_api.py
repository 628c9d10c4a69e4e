"""The API speaks the same services and scoping as the pages."""
import datetime as dt

import pytest

from complaints import services
from complaints.models import (
    Clue, ClueState, Complaint, ComplaintState, HomeVisit, Inspection, RectificationItem, RectificationStatus,
    TypicalCase,
)
from dibao.models import AuditRecord, Region
from tests.factories import HouseholdFactory, UserFactory

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


# --- the page's other actions, over the API ---------------------------------------------------------

JSON = "application/json"


def _audited(action, obj) -> bool:
    return AuditRecord.objects.filter(action=action, object_id=str(obj.pk)).exists()


def test_register_refer_and_mark_a_clue(users, client_for):
    body = {"received_on": "2026-03-01", "source": "complaint", "channel": "12345", "region": "220102001001",
            "category": "关系保", "summary": "村主任为其弟违规办理低保。", "people_involved": "赵某"}
    assert client_for(users["caseworker_a"]).post("/api/v1/clues/", body, content_type=JSON).status_code == 403
    reviewer = client_for(users["reviewer"])
    bad = reviewer.post("/api/v1/clues/", dict(body, region="999999"), content_type=JSON)
    assert bad.status_code == 400 and "区划代码 999999 不存在" in str(bad.json()["region"])
    r = reviewer.post("/api/v1/clues/", body, content_type=JSON)
    assert r.status_code == 201, r.json()
    clue = Clue.objects.get(pk=r.json()["id"])
    assert clue.number.startswith("XS-220102-") and _audited("clue.create", clue)

    url = f"/api/v1/clues/{clue.pk}/"
    assert client_for(users["reviewer_other"]).post(url + "refer/", {"body_region": "220103"},
                                                    content_type=JSON).status_code == 404
    assert client_for(users["inspector"]).post(url + "refer/", {"body_region": "220102"},
                                               content_type=JSON).status_code == 403
    r = reviewer.post(url + "refer/", {"body_region": "220102"}, content_type=JSON)
    assert r.status_code == 200 and r.json()["state"] == ClueState.REFERRED
    assert r.json()["referral"]["body_name"] == "南关区纪委监委" and _audited("clue.refer", clue)

    inspector = client_for(users["inspector"])
    inspector.post(url + "outcome/", {"investigation": "属实", "outcome": "属实", "funds_recovered": "0",
                                      "conclude": True}, content_type=JSON)
    typical = {"title": "村主任优亲厚友", "summary": "某村主任为其弟违规办理低保，已给予党内警告。"}
    assert client_for(users["caseworker_a"]).post(url + "typical/", typical, content_type=JSON).status_code == 403
    other_inspector = UserFactory(username="insp_o", region=users["reviewer_other"].region, role="inspector")
    assert client_for(other_inspector).post(url + "typical/", typical, content_type=JSON).status_code == 404
    r = inspector.post(url + "typical/", typical, content_type=JSON)
    assert r.status_code == 201, r.json()
    case = TypicalCase.objects.get(clue=clue)
    assert r.json()["title"] == case.title and _audited("typical_case.mark", case)
    listed = reviewer.get("/api/v1/typical-cases/").json()["results"]
    assert [row["id"] for row in listed] == [case.pk]


def test_conclude_a_clue_directly(clue, users, client_for):
    url = f"/api/v1/clues/{clue.pk}/conclude/"
    assert client_for(users["inspector"]).post(url, {"text": "已停发"}, content_type=JSON).status_code == 403
    r = client_for(users["reviewer"]).post(url, {"text": "已停发并追回"}, content_type=JSON)
    assert r.status_code == 200 and r.json()["state"] == ClueState.CONCLUDED


def test_rectification_create_progress_close(users, client_for):
    body = {"region": "220102001", "source": "finding", "problem": "死亡人员未及时退保", "measures": "停发并追回",
            "responsible_unit": "南岭街道", "responsible_person": "李建国", "deadline": "2026-06-30"}
    assert client_for(users["caseworker_a"]).post("/api/v1/rectifications/", body,
                                                  content_type=JSON).status_code == 403
    r = client_for(users["reviewer"]).post("/api/v1/rectifications/", body, content_type=JSON)
    assert r.status_code == 201, r.json()
    item = RectificationItem.objects.get(pk=r.json()["id"])
    assert _audited("rectification.create", item)
    url = f"/api/v1/rectifications/{item.pk}/"
    progress = {"progress": "已停发", "evidence": "停发通知书", "done": True}
    assert client_for(users["caseworker_c"]).post(url + "progress/", progress, content_type=JSON).status_code == 404
    r = client_for(users["caseworker_a"]).post(url + "progress/", progress, content_type=JSON)
    assert r.status_code == 200 and r.json()["status"] == RectificationStatus.DONE
    assert client_for(users["reviewer"]).post(url + "close/").status_code == 403
    r = client_for(users["supervisor"]).post(url + "close/")
    assert r.status_code == 200 and r.json()["status"] == RectificationStatus.CLOSED
    assert _audited("rectification.close", item)


def test_spot_check_create_results_sample_visit(users, client_for, regions):
    for _ in range(3):
        HouseholdFactory(region_id="220102001001")
    checklist = services.default_checklist()
    body = {"region": "220102", "checklist": checklist.pk, "inspected_on": "2026-03-02", "team": "市民政局督查组"}
    assert client_for(users["reviewer"]).post("/api/v1/inspections/", body, content_type=JSON).status_code == 403
    supervisor = client_for(users["supervisor"])
    r = supervisor.post("/api/v1/inspections/", body, content_type=JSON)
    assert r.status_code == 201, r.json()
    inspection = Inspection.objects.get(pk=r.json()["id"])
    assert _audited("inspection.create", inspection)
    url = f"/api/v1/inspections/{inspection.pk}/"
    item = checklist.items.first()
    r = supervisor.post(url + "results/", {"results": [{"item": item.pk, "result": "problem", "note": "未公示"}],
                                           "summary": "公示不到位"}, content_type=JSON)
    assert r.status_code == 200 and r.json()["results"] == [{"item": item.pk, "result": "problem", "note": "未公示"}]
    r = supervisor.post(url + "sample/", {"township": "220102001", "count": 2, "seed": "abc"}, content_type=JSON)
    assert r.status_code == 201 and len(r.json()["visits"]) == 2 and r.json()["seed"] == "abc"
    visit = HomeVisit.objects.get(pk=r.json()["visits"][0]["id"])
    record = {"result": "ok", "visited_on": "2026-03-03"}
    assert client_for(users["caseworker_a"]).post(f"/api/v1/home-visits/{visit.pk}/record/", record,
                                                  content_type=JSON).status_code == 403
    Region.objects.get_or_create(code="2202", defaults={"name": "吉林市", "level": 2, "parent_id": "22"})
    far = UserFactory(username="sup_far", region_id="2202", role="supervisor")
    assert client_for(far).post(url + "sample/", {"township": "220102001", "count": 1},
                                content_type=JSON).status_code == 404
    assert client_for(far).post(f"/api/v1/home-visits/{visit.pk}/record/", record,
                                content_type=JSON).status_code == 404
    r = supervisor.post(f"/api/v1/home-visits/{visit.pk}/record/", record, content_type=JSON)
    assert r.status_code == 200, r.json()
    visit.refresh_from_db()
    assert (visit.result, visit.visited_on) == ("ok", dt.date(2026, 3, 3))


def test_ledger_exports(clue, users, client_for):
    r = client_for(users["reviewer"]).get("/api/v1/ledger-exports/clues/")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert AuditRecord.objects.filter(object_id="clues", action__contains="export").exists()
    assert client_for(users["caseworker_a"]).get("/api/v1/ledger-exports/clues/").status_code == 403
    assert client_for(users["caseworker_a"]).get("/api/v1/ledger-exports/rectification/").status_code == 200
    assert client_for(users["inspector"]).get("/api/v1/ledger-exports/rectification/").status_code == 403


def test_register_a_complaint_answer_on_the_spot_and_turn_one_into_a_clue(users, client_for):
    body = {"channel": "phone", "received_on": "2026-03-01", "complainant_name": "钱七",
            "complainant_phone": "13600009999", "subject_type": "household", "subject_region": "220102001001",
            "content": "某户有营业执照"}
    assert client_for(users["inspector"]).post("/api/v1/complaints/", body, content_type=JSON).status_code == 403
    township = client_for(users["caseworker_a"])
    r = township.post("/api/v1/complaints/", body, content_type=JSON)
    assert r.status_code == 201, r.json()
    complaint = Complaint.objects.get(tracking_code=r.json()["tracking_code"])
    assert r.json()["id"] == complaint.pk and _audited("complaint.create", complaint)
    r = township.post(f"/api/v1/complaints/{complaint.pk}/on-spot/", {"text": "已当面解释政策"}, content_type=JSON)
    assert r.status_code == 200 and r.json()["state"] == ComplaintState.CLOSED
    assert client_for(users["caseworker_b"]).post(f"/api/v1/complaints/{complaint.pk}/on-spot/", {"text": "x"},
                                                  content_type=JSON).status_code == 404
    assert township.post(f"/api/v1/complaints/{complaint.pk}/clue/", {"category": "错保"},
                         content_type=JSON).status_code == 403  # clues are the county's
    other = services.complaint_create(actor=users["reviewer"], data={
        "channel": "12345", "subject_type": "household", "subject_region": users["caseworker_a"].region,
        "content": "另一户有轿车", "complainant_name": "孙八", "complainant_phone": "13700001111"})
    assert client_for(users["reviewer_other"]).post(f"/api/v1/complaints/{other.pk}/clue/", {"category": "错保"},
                                                    content_type=JSON).status_code == 404
    r = client_for(users["reviewer"]).post(f"/api/v1/complaints/{other.pk}/clue/", {"category": "错保"},
                                           content_type=JSON)
    assert r.status_code == 201 and Clue.objects.get(pk=r.json()["id"]).complaint == other


def test_a_complaint_about_ones_own_staff_goes_up_and_out_of_sight(users, client_for):
    body = {"channel": "visit", "received_on": "2026-03-01", "anonymous": True, "subject_type": "staff",
            "subject_name": "南岭街道低保专干", "accuses_staff": True, "subject_region": "220102001001",
            "content": "低保专干为亲属违规办理低保"}
    r = client_for(users["caseworker_a"]).post("/api/v1/complaints/", body, content_type=JSON)
    assert r.status_code == 201, r.json()
    assert r.json()["id"] is None and r.json()["tracking_code"] and r.json()["owner_region"] == "220102"


def test_edit_a_clue(clue, users, client_for):
    body = {"received_on": "2026-03-01", "source": "complaint", "channel": "12345", "region": "220102001001",
            "category": "关系保", "summary": "村主任为其弟违规办理低保（已核实户籍）。", "people_involved": "赵某"}
    assert client_for(users["inspector"]).put(f"/api/v1/clues/{clue.pk}/", body, content_type=JSON).status_code == 403
    assert client_for(users["reviewer_other"]).put(f"/api/v1/clues/{clue.pk}/", body,
                                                   content_type=JSON).status_code == 404
    r = client_for(users["reviewer"]).put(f"/api/v1/clues/{clue.pk}/", body, content_type=JSON)
    assert r.status_code == 200, r.json()
    clue.refresh_from_db()
    assert "已核实户籍" in clue.summary and _audited("clue.update", clue)


def test_hotlines_and_dial_tests(users, client_for):
    body = {"region": "220102", "unit": "南关区民政局", "numbers": "0431-88612347", "hours": "工作日 8:30-17:00",
            "online_channel": "", "postal_address": "", "active": True}
    assert client_for(users["caseworker_a"]).post("/api/v1/hotlines/", body, content_type=JSON).status_code == 403
    r = client_for(users["reviewer"]).post("/api/v1/hotlines/", body, content_type=JSON)
    assert r.status_code == 201, r.json()
    hotline_id = r.json()["id"]
    r = client_for(users["reviewer"]).put(f"/api/v1/hotlines/{hotline_id}/", dict(body, hours="24 小时"),
                                          content_type=JSON)
    assert r.status_code == 200 and r.json()["hours"] == "24 小时"
    assert client_for(users["reviewer_other"]).put(f"/api/v1/hotlines/{hotline_id}/", body,
                                                   content_type=JSON).status_code == 404
    test = {"hotline": hotline_id, "called_at": "2026-03-02T10:00", "answered": True, "handled_properly": True}
    assert client_for(users["reviewer"]).post("/api/v1/dial-tests/", test, content_type=JSON).status_code == 403
    r = client_for(users["supervisor"]).post("/api/v1/dial-tests/", test, content_type=JSON)
    assert r.status_code == 201, r.json()
    assert r.json()["answered"] and r.json()["number"] == "0431-88612347"

import pytest

from campaigns.models import CampaignHousehold, ScreeningRecord
from campaigns.tests.conftest import record

pytestmark = pytest.mark.django_db


def entry_of(campaign, household):
    return CampaignHousehold.objects.get(campaign=campaign, household=household)


def test_county_creates_a_campaign_in_the_browser(users, households, client_for):
    client = client_for(users["reviewer"])
    response = client.post("/campaigns/new/", {
        "name": "专项排查", "region": "220102", "active_end": "2026-06-30", "exited_from": "2026-01-01",
        "exited_to": "2026-06-30", "rejected_from": "2026-01-01", "rejected_to": "2026-06-30",
        "screening_deadline": "2026-08-31", "reporting_deadline": "2026-09-10"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "南岭街道" in page and "已排查 0 / 4 户" in page
    assert client_for(users["caseworker_a"]).get("/campaigns/new/").status_code == 403


def test_worklist_saves_a_row_and_refuses_a_contradiction(users, households, campaign, client_for):
    client = client_for(users["caseworker_a"])
    page = client.get(f"/campaigns/{campaign.pk}/villages/220102001001/").content.decode()
    assert 'data-household="A1"' in page and 'data-household="A2"' in page and 'data-household="A3"' not in page
    entry = entry_of(campaign, households["a1"])
    prefix = f"e{entry.pk}-"
    url = f"/campaigns/{campaign.pk}/entries/{entry.pk}/record/"
    bad = client.post(url, {prefix + "screened_on": "2026-03-01", prefix + "screeners": "张三",
                            prefix + "result": "problem"}, HTTP_HX_REQUEST="true").content.decode()
    assert "必须填写问题类型" in bad and "必须填写处理情况" in bad
    assert not ScreeningRecord.objects.exists()
    ok = client.post(url, {prefix + "screened_on": "2026-03-01", prefix + "screeners": "张三", prefix + "result": "problem",
                           prefix + "problem_types": ["收入超标"], prefix + "handling": "调整金额"}).content.decode()
    assert "已保存" in ok
    assert ScreeningRecord.objects.get().problem_types == ["收入超标"]


def test_pages_are_scoped(users, households, campaign, client_for):
    entry = entry_of(campaign, households["a1"])
    other_township, other_county = client_for(users["caseworker_b"]), client_for(users["reviewer_other"])
    assert other_township.get(f"/campaigns/{campaign.pk}/").status_code == 200   # its county's campaign
    assert other_township.get(f"/campaigns/{campaign.pk}/townships/220102001/").status_code == 404
    assert other_township.get(f"/campaigns/{campaign.pk}/villages/220102001001/").status_code == 404
    form = {f"e{entry.pk}-screened_on": "2026-03-01", f"e{entry.pk}-screeners": "x", f"e{entry.pk}-result": "no_problem"}
    assert other_township.post(f"/campaigns/{campaign.pk}/entries/{entry.pk}/record/", form).status_code == 404
    assert other_township.post(f"/campaigns/{campaign.pk}/townships/220102001/submit/").status_code == 404
    assert other_county.get(f"/campaigns/{campaign.pk}/").status_code == 404
    assert other_county.get("/campaigns/").content.decode().count(campaign.name) == 0
    assert client_for(users["inspector"]).get("/campaigns/").status_code == 403
    assert client_for(users["reviewer"]).post(f"/campaigns/{campaign.pk}/entries/{entry.pk}/record/", form
                                              ).status_code == 403
    assert client_for(users["caseworker_a"]).post(f"/campaigns/{campaign.pk}/townships/220102001/accept/"
                                                  ).status_code == 403


def test_signoff_pages(users, households, campaign, client_for):
    cw, county = client_for(users["caseworker_a"]), client_for(users["reviewer"])
    url = f"/campaigns/{campaign.pk}/townships/220102001/"
    page = cw.post(url + "submit/", follow=True).content.decode()
    assert "还有 3 户（共 3 户）没有排查记录" in page
    for key in ("a1", "a2", "a3"):
        record(users["caseworker_a"], entry_of(campaign, households[key]))
    assert "已确认上报" in cw.post(url + "submit/", follow=True).content.decode()
    assert county.post(url + "return/", {"reason": ""}, follow=True).content.decode().count("退回时请写明原因") == 1
    county.post(url + "accept/")
    detail = county.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "已上报乡镇 1 / 2（50.0%）" in detail


def test_api(users, households, campaign, client_for):
    cw, county = client_for(users["caseworker_a"]), client_for(users["reviewer"])
    listed = cw.get("/api/v1/campaigns/").json()
    assert [c["id"] for c in listed["results"]] == [campaign.pk]
    detail = county.get(f"/api/v1/campaigns/{campaign.pk}/").json()
    assert detail["progress"]["households_total"] == 4
    entry = entry_of(campaign, households["a1"])
    body = {"campaign_household": entry.pk, "screened_on": "2026-03-01", "screeners": "张三", "result": "problem",
            "problem_types": ["收入超标"], "handling": ""}
    refused = cw.post("/api/v1/screening-records/", body, content_type="application/json")
    assert refused.status_code == 400 and "handling" in refused.json()
    body["handling"] = "调整金额"
    created = cw.post("/api/v1/screening-records/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    rid = created.json()["id"]
    assert client_for(users["caseworker_b"]).put(f"/api/v1/screening-records/{rid}/", body,
                                                 content_type="application/json").status_code == 404
    assert client_for(users["caseworker_b"]).post("/api/v1/screening-records/", body,
                                                  content_type="application/json").status_code == 404
    assert county.post("/api/v1/screening-records/", body, content_type="application/json").status_code == 403
    body["screeners"] = "王五"
    updated = cw.put(f"/api/v1/screening-records/{rid}/", body, content_type="application/json",
                     HTTP_IF_MATCH='"1"')
    assert updated.status_code == 200 and updated.json()["version"] == 2
    submit = cw.post(f"/api/v1/campaigns/{campaign.pk}/townships/220102001/submit/")
    assert submit.status_code == 400 and "没有排查记录" in str(submit.json())
    assert client_for(users["reviewer_other"]).get(f"/api/v1/campaigns/{campaign.pk}/").status_code == 404
    assert client_for(users["reviewer_other"]).post(
        f"/api/v1/campaigns/{campaign.pk}/townships/220102001/accept/").status_code == 404
    assert cw.post(f"/api/v1/campaigns/{campaign.pk}/townships/220102001/accept/").status_code == 403


def _home_items(client) -> dict[str, dict[str, int]]:
    sections = client.get("/").context["worklist"]
    return {s.title: {i.label: i.count for i in s.items} for s in sections}


def test_home_pages_say_what_the_campaign_waits_for(users, households, campaign, client_for):
    caseworker = client_for(users["caseworker_a"])
    assert _home_items(caseworker)["专项排查"] == {"待排查户数": 3, "被县级退回待更正": 0}
    for key in ("a1", "a2", "a3"):
        record(users["caseworker_a"], entry_of(campaign, households[key]))
    assert _home_items(caseworker)["专项排查"]["待排查户数"] == 0
    reviewer = client_for(users["reviewer"])
    assert _home_items(reviewer)["专项排查"] == {"乡镇排查结果待确认": 0}
    caseworker.post(f"/campaigns/{campaign.pk}/townships/220102001/submit/")
    assert _home_items(reviewer)["专项排查"] == {"乡镇排查结果待确认": 1}
    assert "专项排查" not in _home_items(client_for(users["reviewer_other"]))

"""Two people working on the same clue: the second save is refused, nothing is lost; the API's
ETag / If-Match on the clue actions."""
import pytest
from django.urls import reverse

from complaints.models import ClueState

pytestmark = pytest.mark.django_db
STALE = "该记录已被他人修改，请刷新后重试"
JSON = "application/json"


def as_posted(response) -> dict:
    data = {}
    for field in response.context["form"]:
        value = field.value()
        if value not in (None, "", [], False):
            data[field.html_name] = value
    return data


def test_second_edit_of_a_clue_is_refused_and_keeps_its_input(clue, users, client_for):
    url = reverse("complaints:clue_edit", args=[clue.pk])
    first, second = client_for(users["reviewer"]), client_for(users["supervisor"])
    page_1, page_2 = first.get(url), second.get(url)

    assert first.post(url, {**as_posted(page_1), "people_involved": "赵某、钱某"}).status_code == 302
    refused = second.post(url, {**as_posted(page_2), "summary": "另一人补充的摘要"})
    assert refused.status_code == 200
    assert any(STALE in e for e in refused.context["form"].non_field_errors())
    assert "另一人补充的摘要" in refused.content.decode()
    clue.refresh_from_db()
    assert (clue.people_involved, clue.summary, clue.version) == ("赵某、钱某", "村主任为其弟违规办理低保。", 2)


def test_referring_a_clue_changed_meanwhile_is_refused(clue, users, client_for):
    shown = clue.version
    client_for(users["supervisor"]).post(reverse("complaints:clue_edit", args=[clue.pk]), {
        "received_on": clue.received_on, "source": clue.source, "region": clue.region_id, "category": clue.category,
        "summary": "补充：涉及两户", "version": shown})
    response = client_for(users["reviewer"]).post(reverse("complaints:clue_action", args=[clue.pk, "refer"]),
                                                   {"body_region": "220102", "version": shown}, follow=True)
    assert STALE in response.content.decode()
    clue.refresh_from_db()
    assert clue.state == ClueState.REGISTERED and clue.summary == "补充：涉及两户"


def test_api_clue_actions_honour_if_match(clue, users, client_for):
    api = client_for(users["reviewer"])
    url = f"/api/v1/clues/{clue.pk}/"
    etag = api.get(url)["ETag"]
    assert etag == '"1"'
    referred = api.post(url + "refer/", {"body_region": "220102"}, content_type=JSON, HTTP_IF_MATCH=etag)
    assert referred.status_code == 200 and referred["ETag"] == '"2"'
    # the body's outcome, sent with the tag read before the referral, is refused
    stale = client_for(users["inspector"]).post(url + "outcome/", {
        "investigation": "经查属实", "outcome": "属实", "funds_recovered": "0"},
        content_type=JSON, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412 and STALE in stale.json()["detail"]
    fresh = client_for(users["inspector"]).post(url + "outcome/", {
        "investigation": "经查属实", "outcome": "属实", "funds_recovered": "0"},
        content_type=JSON, HTTP_IF_MATCH='"2"')
    assert fresh.status_code == 200 and fresh["ETag"] == '"3"'

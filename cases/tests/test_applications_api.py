"""The application API: the same steps and rules as the pages, documented in the schema."""
import datetime as dt

import pytest

from cases.models import ApplicationState, Household, Status
from cases.tests.application_fixtures import applicant, people, scan, today  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db
API = "/api/v1/applications/"


def test_the_steps_through_the_api(people, applicant, client_for, today):
    cw, cw2, reviewer = (client_for(people[k]) for k in ("caseworker_a", "caseworker_a2", "reviewer"))
    response = cw.post(API, {"household": applicant.pk, "accepted_on": "2026-09-01", "authorisation": scan()})
    assert response.status_code == 201, response.json()
    app = response.json()
    assert app["state"] == "accepted" and app["tracking_no"].startswith("SQ220102001-2026-")
    url = f"{API}{app['id']}/"
    response = cw.post(url + "visit/", {"visited_on": "2026-09-03", "investigator_1": people["caseworker_a"].pk,
                                        "investigator_2": people["caseworker_a"].pk, "members_present": "户主",
                                        "housing": "平房", "income": "务农", "assets": "无", "survey": scan()})
    assert response.status_code == 400 and "两名不同" in str(response.json())
    response = cw.post(url + "visit/", {"visited_on": "2026-09-03", "investigator_1": people["caseworker_a"].pk,
                                        "investigator_2": people["caseworker_a2"].pk, "members_present": "户主",
                                        "housing": "平房", "income": "务农", "assets": "无", "survey": scan()})
    assert response.status_code == 200 and response.json()["state"] == "visited"
    response = cw.post(url + "propose/", {"proposal": "approve"}, content_type="application/json")
    assert response.status_code == 403 and "受理人" in response.json()["detail"]
    response = cw2.post(url + "propose/", {"proposal": "approve", "proposed_on": "2026-09-04"},
                        content_type="application/json")
    assert response.json()["computed_amount"] == "900.00"
    cw2.post(url + "notice/", {"started_on": "2026-09-07"}, content_type="application/json")
    assert cw.post(url + "confirm/", {}, content_type="application/json").status_code == 403
    assert client_for(people["caseworker_b"]).get(url).status_code == 404
    assert client_for(people["reviewer_other"]).post(url + "confirm/", {}, content_type="application/json"
                                                     ).status_code == 404
    response = reviewer.post(url + "confirm/", {}, content_type="application/json")
    assert response.status_code == 200 and response.json()["state"] == ApplicationState.APPROVED
    assert Household.objects.get(pk=applicant.pk).status == Status.ACTIVE
    listing = reviewer.get(API, {"step": "to_notify"}).json()
    assert [row["id"] for row in listing["results"]] == [app["id"]]
    # accepted 09-01, due 30 working days later (10-19), decided 10-20: one day late
    assert listing["results"][0]["timers"][0]["status"] == "late"


def test_schema_documents_every_step(people, client_for):
    schema = client_for(people["reviewer"]).get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for op in ("visit", "appraise", "propose", "notice", "object", "county-visit", "confirm", "refuse", "notify",
               "extend"):
        assert f"/api/v1/applications/{{id}}/{op}/" in paths
    assert "/api/v1/applications/not-accept/" in paths and "post" in paths["/api/v1/applications/"]

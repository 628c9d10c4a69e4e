"""The audits API: the same services and permissions as the review and task pages; ID numbers
masked in every list, revealed one at a time and audited."""
import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audits.models import BatchChunk, Finding, FindingState, RescreenBatch, VerificationTask
from dibao.jobs import JobState
from dibao.idnumber import mask_id
from dibao.models import AuditRecord
from tests.factories import HouseholdFactory, MemberFactory, UserFactory

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def batch(regions):
    return RescreenBatch.objects.create(region_code="220102001", as_of=dt.date(2026, 3, 1), state=JobState.DONE)


@pytest.fixture
def finding(batch):
    household = HouseholdFactory(region_id="220102001001")
    chunk = BatchChunk.objects.create(batch=batch, region_code="220102001", state=JobState.DONE)
    return Finding.objects.create(batch=batch, chunk=chunk, rule="DECEASED", household=household,
                                  id_number=household.head_id_number, name=household.head_name,
                                  region_code="220102001001", subject_key=household.head_id_number,
                                  detail="户主已死亡", evidence_hash="e", first_raised_on=dt.date(2026, 3, 1))


@pytest.fixture
def task(regions):
    member = MemberFactory(household=HouseholdFactory(region_id="220102001001"))
    return VerificationTask.objects.create(scope_region="220102001", id_number=member.id_number, name=member.name,
                                           region_code="220102001001", township_code="220102001", is_disabled=True,
                                           created_on=dt.date(2026, 3, 1), deadline=dt.date(2026, 4, 1))


def _audited(action, object_id=None):
    qs = AuditRecord.objects.filter(action=action)
    return qs.filter(object_id=str(object_id)).exists() if object_id is not None else qs.exists()


def test_start_a_batch(users, client_for):
    r = client_for(users["reviewer"]).post("/api/v1/rescreen-batches/", {"region_code": "220102",
                                                                         "as_of": "2026-03-01"}, content_type=JSON)
    assert r.status_code == 202, r.json()
    batch = RescreenBatch.objects.get(pk=r.json()["id"])
    assert (batch.region_code, batch.as_of) == ("220102", dt.date(2026, 3, 1))
    assert _audited("rescreen.start", batch.pk)
    for who in ("caseworker_a", "inspector"):
        assert client_for(users[who]).post("/api/v1/rescreen-batches/", {}, content_type=JSON).status_code == 403
    other = client_for(users["reviewer_other"]).post("/api/v1/rescreen-batches/", {"region_code": "220102"},
                                                     content_type=JSON)
    assert other.status_code == 403 and "管辖范围" in other.json()["detail"]


def test_batches_and_progress_closed_to_inspectors_and_roleless(batch, users, client_for):
    roleless = UserFactory(username="nobody", region=users["caseworker_a"].region)
    for user in (users["inspector"], roleless):
        client = client_for(user)
        assert client.get("/api/v1/rescreen-batches/").status_code == 403
        assert client.get(f"/audits/batches/{batch.pk}/progress/").status_code == 403
    assert client_for(users["caseworker_a"]).get(f"/audits/batches/{batch.pk}/progress/").status_code == 200


def test_dismiss_and_confirm(finding, users, client_for, batch):
    url = f"/api/v1/findings/{finding.pk}/"
    assert client_for(users["supervisor"]).post(url + "dismiss/", {"reason": "x"}, content_type=JSON).status_code == 403
    assert client_for(users["reviewer_other"]).post(url + "dismiss/", {"reason": "x"},
                                                    content_type=JSON).status_code == 404
    reviewer = client_for(users["reviewer"])
    r = reviewer.post(url + "dismiss/", {"reason": ""}, content_type=JSON)
    assert r.status_code == 400 and "reason" in r.json()
    r = reviewer.post(url + "confirm/", {"reason": "死亡证明属实", "stop_payment": True}, content_type=JSON)
    assert r.status_code == 200, r.json()
    finding.refresh_from_db()
    finding.household.refresh_from_db()
    assert finding.state == FindingState.CONFIRMED and finding.household.payment_stopped
    assert r.json()["id_number"] == mask_id(finding.id_number)
    assert _audited("finding.confirm")
    again = reviewer.post(url + "dismiss/", {"reason": "x"}, content_type=JSON)
    assert again.status_code == 400 and "已复核" in str(again.json())


def test_complete_a_task(task, users, client_for):
    url = f"/api/v1/verification-tasks/{task.pk}/complete/"
    body = {"visited_on": "2026-03-10", "investigator_1": "张", "investigator_2": "李", "outcome": "not_eligible",
            "reason": "家庭收入超过标准"}
    assert client_for(users["supervisor"]).post(url, body, content_type=JSON).status_code == 403
    assert client_for(users["caseworker_b"]).post(url, body, content_type=JSON).status_code == 404
    r = client_for(users["caseworker_a"]).post(url, body, content_type=JSON)
    assert r.status_code == 200, r.json()
    task.refresh_from_db()
    assert task.outcome == "not_eligible" and task.investigator_2 == "李"
    assert _audited("verification_task.complete", task.pk)


def test_task_list_masked_and_closed_to_inspectors(task, users, client_for, regions):
    rows = client_for(users["caseworker_a"]).get("/api/v1/verification-tasks/").json()["results"]
    assert [row["id_number"] for row in rows] == [mask_id(task.id_number)]
    city_inspector = UserFactory(username="insp_city", region=regions["2201"], role="inspector")
    for inspector in (users["inspector"], city_inspector):
        response = client_for(inspector).get("/api/v1/verification-tasks/")
        assert response.status_code == 403 and task.id_number not in response.content.decode()


def test_reveal_is_audited_and_role_bound(finding, task, users, client_for):
    reviewer = client_for(users["reviewer"])
    r = reviewer.post(f"/api/v1/findings/{finding.pk}/reveal-id/", content_type=JSON)
    assert r.status_code == 200 and r.json() == {"id_number": finding.id_number}
    record = AuditRecord.objects.get(action="id_number.reveal", object_type="finding", object_id=str(finding.pk))
    assert record.actor == users["reviewer"] and finding.id_number not in record.note
    assert client_for(users["supervisor"]).post(f"/api/v1/findings/{finding.pk}/reveal-id/").status_code == 403
    fragment = client_for(users["caseworker_a"]).post(f"/api/v1/verification-tasks/{task.pk}/reveal-id/",
                                                       HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and fragment.content.decode() == f'<span class="id-full">{task.id_number}</span>'
    assert client_for(users["caseworker_b"]).post(f"/api/v1/verification-tasks/{task.pk}/reveal-id/").status_code == 404
    assert AuditRecord.objects.filter(action="id_number.reveal").count() == 2


def test_review_queue_and_task_list_pages_mask_with_a_reveal(finding, task, users, client_for):
    queue = client_for(users["reviewer"]).get("/audits/findings/?state=pending&batch=" + str(finding.batch_id))
    html = queue.content.decode()
    assert mask_id(finding.id_number) in html and finding.id_number not in html
    assert f"/api/v1/findings/{finding.pk}/reveal-id/" in html
    tasks = client_for(users["caseworker_a"]).get("/audits/tasks/").content.decode()
    assert mask_id(task.id_number) in tasks and task.id_number not in tasks
    assert f"/api/v1/verification-tasks/{task.pk}/reveal-id/" in tasks
    supervisor = client_for(users["supervisor"]).get("/audits/findings/?batch=" + str(finding.batch_id)).content.decode()
    assert mask_id(finding.id_number) in supervisor and "reveal-id" not in supervisor
    assert not AuditRecord.objects.filter(action="id_number.reveal").exists()


def test_findings_export(finding, batch, users, client_for):
    url = f"/api/v1/rescreen-batches/{batch.pk}/export/?file_type=csv"
    r = client_for(users["supervisor"]).get(url)
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    text = r.content.decode()
    assert mask_id(finding.id_number) in text and finding.id_number not in text  # supervisors' exports are masked
    assert AuditRecord.objects.filter(object_type="rescreen_batch", object_id=str(batch.pk),
                                      action__contains="export").exists()
    assert client_for(users["caseworker_a"]).get(url).status_code == 403
    assert client_for(users["reviewer_other"]).get(url).status_code == 404
    full = client_for(users["reviewer"]).get(url).content.decode()
    assert finding.id_number in full


def test_the_list_reveal_button_works_from_the_page(task, users):
    """The button posts with the page's CSRF token (htmx's hx-headers), as a browser would."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(users["caseworker_a"], backend="django.contrib.auth.backends.ModelBackend")
    page = browser.get("/audits/tasks/").content.decode()
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    url = re.search(r'hx-post="(/api/v1/verification-tasks/\d+/reveal-id/)"', page).group(1)
    assert browser.post(url, HTTP_HX_REQUEST="true").status_code == 403  # no token, no reveal
    r = browser.post(url, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token)
    assert r.status_code == 200 and task.id_number in r.content.decode()


def test_bulk_decide(finding, users, client_for):
    second = Finding.objects.create(batch=finding.batch, chunk=finding.chunk, rule="DECEASED",
                                    household=HouseholdFactory(region_id="220102001001"), id_number="x", name="y",
                                    region_code="220102001001", subject_key="2", detail="死亡", evidence_hash="e",
                                    first_raised_on=dt.date(2026, 3, 1))
    body = {"ids": [finding.pk, second.pk], "decision": "dismiss", "reason": "死亡人员系同名同姓"}
    assert client_for(users["supervisor"]).post("/api/v1/findings/bulk-decide/", body,
                                                content_type=JSON).status_code == 403
    assert client_for(users["reviewer_other"]).post("/api/v1/findings/bulk-decide/", body,
                                                    content_type=JSON).status_code == 404
    r = client_for(users["reviewer"]).post("/api/v1/findings/bulk-decide/", body, content_type=JSON)
    assert r.status_code == 200, r.json()
    assert {f["state"] for f in r.json()} == {FindingState.DISMISSED}
    assert AuditRecord.objects.filter(action="finding.dismiss").count() == 2


def test_county_task_progress_is_shared_for_a_few_minutes_a_townships_is_always_fresh(task, users, client_for,
                                                                                      settings):
    from django.core.cache import cache

    settings.LIVE_SUMMARY_SECONDS = 300
    cache.clear()
    url = reverse("audits:task_list")
    county, township = client_for(users["reviewer"]), client_for(users["caseworker_a"])
    assert county.get(url).context["progress"][0]["done"] == 0
    VerificationTask.objects.filter(pk=task.pk).update(outcome="not_eligible", completed_at=timezone.now())
    page = county.get(url)
    assert page.context["progress"][0]["done"] == 0  # the county's counts of a minute ago, and it says when
    assert f"统计于 {timezone.localtime(page.context['progress_at']):%H:%M}" in page.content.decode()
    assert township.get(url).context["progress"][0]["done"] == 1

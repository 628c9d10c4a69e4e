"""The reports API: rollups (read, compute) and statistics-form export jobs, with the pages'
permissions; inspectors and users without a role get 403."""
import datetime as dt

import pytest

from dibao.jobs import JobState
from dibao.models import AuditRecord
from reports import services
from reports.models import ExportJob, RollupRun
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
JSON = "application/json"


def test_rollups_closed_to_inspectors_and_roleless(regions, users, client_for):
    services.rollup_compute(actor="system", month=dt.date(2026, 2, 1))
    assert client_for(users["reviewer"]).get("/api/v1/rollups/?month=2026-02").json()["results"]
    roleless = UserFactory(username="nobody", region=regions["220102"])
    for user in (users["inspector"], roleless):
        assert client_for(user).get("/api/v1/rollups/").status_code == 403


def test_compute_a_rollup(regions, users, client_for):
    assert client_for(users["caseworker_a"]).post("/api/v1/rollups/compute/", {"month": "2026-02"},
                                                  content_type=JSON).status_code == 403
    bad = client_for(users["reviewer"]).post("/api/v1/rollups/compute/", {"month": "2026-13"}, content_type=JSON)
    assert bad.status_code == 400 and "month" in bad.json()
    r = client_for(users["reviewer"]).post("/api/v1/rollups/compute/", {"month": "2026-02", "region": "220102"},
                                           content_type=JSON)
    assert r.status_code == 200, r.json()
    assert r.json()["month"] == "2026-02" and RollupRun.objects.filter(month=dt.date(2026, 2, 1)).exists()


def test_order_follow_and_download_an_export(regions, users, client_for, settings, tmp_path,
                                             django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    body = {"kind": "screening", "region": "220102", "start": "2026-01-01", "end": "2026-03-31"}
    assert client_for(users["inspector"]).post("/api/v1/export-jobs/", body, content_type=JSON).status_code == 403
    supervisor = client_for(users["supervisor"])
    with django_capture_on_commit_callbacks(execute=True):
        r = supervisor.post("/api/v1/export-jobs/", body, content_type=JSON)
    assert r.status_code == 202, r.json()
    job = ExportJob.objects.get(pk=r.json()["id"])
    assert job.requested_by == users["supervisor"] and not job.full_ids
    assert AuditRecord.objects.filter(object_type="export_job", object_id=str(job.pk)).exists()
    job.refresh_from_db()
    assert supervisor.get(f"/api/v1/export-jobs/{job.pk}/").json()["state"] == job.state == JobState.DONE
    download = supervisor.get(f"/api/v1/export-jobs/{job.pk}/download/")
    assert download.status_code == 200 and download["Content-Type"].startswith("application/vnd.openxmlformats")
    assert AuditRecord.objects.filter(object_type="export_job", object_id=str(job.pk), action__contains="download")
    # the file carries its requester's ID-number rights: nobody else's to download
    assert client_for(users["reviewer"]).get(f"/api/v1/export-jobs/{job.pk}/download/").status_code == 404

"""Stored files leave only through a view that checks role and jurisdiction and audits the copy
(issue 9): import uploads, complaint and clue attachments, export jobs' workbooks."""
import hashlib
import importlib
import io
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import clear_url_caches, reverse

from complaints import services as complaint_services
from complaints.models import Complaint, ComplaintAttachment
from complaints.tests.conftest import PUBLIC_DATA
from dibao.jobs import JobState
from dibao.downloads import download_name
from dibao.models import AuditRecord
from imports import services as import_services
from reports.models import ExportJob

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
UPLOAD_NAME = "南岭村低保名单.csv"
RANDOM_NAME = re.compile(r"[a-z]+/\d{4}/\d{2}/[0-9a-f]{32}\.[a-z]+")  # nothing of the upload's name or the export


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()  # the public complaint form's rate limit
    yield
    cache.clear()


def _content(response) -> bytes:
    return b"".join(response.streaming_content)


def _audited(object_type: str, object_id, user) -> AuditRecord:
    return AuditRecord.objects.get(action="file.download", object_type=object_type, object_id=str(object_id),
                                   actor=user)


def test_media_is_not_served_even_with_debug_on(settings, client):
    (settings.MEDIA_ROOT / "imports").mkdir(parents=True)
    (settings.MEDIA_ROOT / "imports" / "names.csv").write_text("张三,220102197001010011")
    import config.urls

    settings.DEBUG = True
    importlib.reload(config.urls)
    clear_url_caches()
    try:
        assert client.get("/media/imports/names.csv").status_code == 404
    finally:
        settings.DEBUG = False
        importlib.reload(config.urls)
        clear_url_caches()


# --- import uploads ------------------------------------------------------------------------

def _import_job(user, content: bytes = "户编号,姓名\nH1,张三\n".encode()):
    return import_services.import_job_create(actor=user, kind="households", file_name=UPLOAD_NAME,
                                             upload=io.BytesIO(content), dry_run=True)


def test_import_upload_download_by_owner_other_township_and_other_role(users, client_for):
    content = "户编号,姓名\nH1,张三\n".encode()
    job = _import_job(users["caseworker_a"], content)
    url = reverse("imports:job_file", args=[job.pk])

    response = client_for(users["caseworker_a"]).get(url)
    assert response.status_code == 200 and _content(response) == content
    assert "attachment" in response["Content-Disposition"] and "filename*=utf-8''" in response["Content-Disposition"]
    record = _audited("import_job", job.pk, users["caseworker_a"])
    assert record.after["sha256"] == hashlib.sha256(content).hexdigest() and record.region_code == "220102001"

    assert client_for(users["caseworker_b"]).get(url).status_code == 404
    assert client_for(users["supervisor"]).get(url).status_code == 403
    assert client_for(users["inspector"]).get(url).status_code == 403
    assert AuditRecord.objects.filter(action="file.download").count() == 1


def test_import_uploads_are_stored_under_random_names(users):
    first, second = _import_job(users["caseworker_a"]), _import_job(users["caseworker_a"])
    assert first.file.name != second.file.name
    for job in (first, second):
        assert RANDOM_NAME.fullmatch(job.file.name) and job.file.name.startswith("imports/")
        assert job.file_name == UPLOAD_NAME  # what the user called it is kept on the row


def test_command_line_import_has_no_file_to_download(users, client_for, tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("户编号\n")
    job = import_services.import_job_create(actor=users["caseworker_a"], kind="households", file_name="h.csv",
                                            path=str(path))
    assert client_for(users["caseworker_a"]).get(reverse("imports:job_file", args=[job.pk])).status_code == 404


# --- complaint and clue attachments ----------------------------------------------------------

def _complaint_with_photo(client, name: str = "证据照片.png") -> Complaint:
    response = client.post(reverse("complaints_public:complaint"),
                           {**PUBLIC_DATA, "attachments": [SimpleUploadedFile(name, PNG, "image/png")]})
    assert response.status_code == 200
    return Complaint.objects.latest("id")


def test_complaint_attachment_download(client, users, regions, client_for):
    complaint = _complaint_with_photo(client)  # handled by county 220102
    attachment = complaint.attachments.get()
    url = reverse("complaints:attachment", args=[attachment.pk])

    response = client_for(users["reviewer"]).get(url)
    assert response.status_code == 200 and _content(response) == PNG
    assert response["Content-Type"] == "image/png" and response["Content-Disposition"].startswith("attachment")
    assert _audited("complaint_attachment", attachment.pk, users["reviewer"]).after["sha256"] == \
        hashlib.sha256(PNG).hexdigest()

    assert client_for(users["reviewer_other"]).get(url).status_code == 404
    assert client_for(users["inspector"]).get(url).status_code == 403


def test_clue_attachment_download(client, users, regions, client_for):
    complaint = _complaint_with_photo(client)
    clue = complaint_services.clue_create_from_complaint(actor=users["reviewer"], complaint=complaint,
                                                         category="关系保")
    attachment = complaint.attachments.get()
    url = reverse("complaints:clue_attachment", args=[clue.pk, attachment.pk])

    assert client_for(users["reviewer"]).get(url).status_code == 200
    _audited("complaint_attachment", attachment.pk, users["reviewer"])
    assert client_for(users["reviewer_other"]).get(url).status_code == 404
    assert client_for(users["caseworker_a"]).get(url).status_code == 403


def test_attachments_of_the_same_name_get_different_random_stored_names(client, regions):
    _complaint_with_photo(client, "照片.png")
    _complaint_with_photo(client, "照片.png")
    names = list(ComplaintAttachment.objects.values_list("file", flat=True))
    assert len(set(names)) == 2
    assert all(RANDOM_NAME.fullmatch(name) and name.startswith("complaints/") and name.endswith(".png")
               for name in names)


# --- export jobs ------------------------------------------------------------------------------

def test_export_job_file_download(users, client_for, django_capture_on_commit_callbacks):
    supervisor = users["supervisor"]
    with django_capture_on_commit_callbacks(execute=True):
        client_for(supervisor).post("/reports/exports/", {"kind": "bulletin", "region": "220102",
                                                          "start": "2026-01-01", "end": "2026-03-31"})
    job = ExportJob.objects.get()
    assert job.state == JobState.DONE, job.error
    assert RANDOM_NAME.fullmatch(job.file.name) and job.file.name.startswith("exports/")
    url = reverse("reports:job_download", args=[job.pk])

    response = client_for(supervisor).get(url)
    content = _content(response)
    assert response.status_code == 200 and content.startswith(b"PK")
    assert _audited("export_job", job.pk, supervisor).after["sha256"] == hashlib.sha256(content).hexdigest()
    # another user in the same county, and an inspector, get nothing of someone else's export
    assert client_for(users["reviewer"]).get(url).status_code == 404
    assert client_for(users["inspector"]).get(url).status_code == 403


def test_a_missing_file_is_a_404_with_a_reason_not_a_500(users, client_for):
    job = _import_job(users["caseworker_a"])
    job.file.delete(save=False)
    response = client_for(users["caseworker_a"]).get(reverse("imports:job_file", args=[job.pk]))
    assert response.status_code == 404
    assert not AuditRecord.objects.filter(action="file.download").exists()


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd", "passwd"), ("C:\\Users\\张三\\名单.xlsx", "名单.xlsx"),
    ('a"b\r\nSet-Cookie: x.csv', "abSet-Cookie: x.csv"), ("", "download.csv"), ("..", "download.csv"),
])
def test_download_names_are_safe(name, expected):
    assert download_name(name, "download.csv") == expected

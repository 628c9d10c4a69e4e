import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cases.models import Household
from imports.models import ImportJob
from imports.tests.helpers import HOUSEHOLD_HEADER, run, write_csv
from tests.factories import make_id

pytestmark = pytest.mark.django_db


def csv_upload(tmp_path, region="220102001001", bad=False, name="h.csv"):
    id_number = make_id()
    if bad:
        id_number = id_number[:-1] + ("0" if id_number[-1] != "0" else "1")
    path = write_csv(tmp_path / name, HOUSEHOLD_HEADER,
                     [["H1", region, "张三", id_number, "农村低保", "审核中", "2023-01-05", "", "", "", "B", "否"]])
    f = open(path, "rb")
    return f


def test_upload_dry_run_then_confirm(tmp_path, users, client_for, django_capture_on_commit_callbacks):
    c = client_for(users["caseworker_a"])
    assert c.get(reverse("imports:index")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(reverse("imports:index"), {"kind": "households", "file": csv_upload(tmp_path)})
    job = ImportJob.objects.get()
    assert r.status_code == 302 and r.url == reverse("imports:job", args=[job.pk])
    assert job.state == ImportJob.State.CHECKED and job.rows_new == 1 and job.file.name.startswith("imports/")
    assert Household.objects.count() == 0
    page = c.get(r.url).content.decode()
    assert "预检通过" in page and "确认导入" in page
    with django_capture_on_commit_callbacks(execute=True):
        c.post(reverse("imports:job_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE and Household.objects.count() == 1
    status = c.get(reverse("imports:job_status", args=[job.pk])).content.decode()
    assert "已导入" in status and "hx-trigger" not in status


def test_bad_file_shows_report(tmp_path, users, client_for, django_capture_on_commit_callbacks):
    c = client_for(users["caseworker_a"])
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(reverse("imports:index"), {"kind": "households", "file": csv_upload(tmp_path, bad=True)})
    page = c.get(r.url).content.decode()
    assert "error-report" in page and "户主身份证号" in page and "校验位" in page
    assert "确认导入" not in page


def test_running_job_polls_its_status(users, client_for, tmp_path):
    from imports import services
    path = write_csv(tmp_path / "h.csv", HOUSEHOLD_HEADER, [])
    job = services.import_job_create(actor=users["caseworker_a"], kind="households", file_name="h.csv", path=str(path))
    html = client_for(users["caseworker_a"]).get(reverse("imports:job_status", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in html and "progress-bar" in html


def test_jobs_of_another_township_are_404(tmp_path, users, client_for):
    job = run(users["caseworker_a"], "households", write_csv(tmp_path / "h.csv", HOUSEHOLD_HEADER, []))
    other = client_for(users["caseworker_b"])
    for name in ("imports:job", "imports:job_status"):
        assert other.get(reverse(name, args=[job.pk])).status_code == 404
    assert other.post(reverse("imports:job_confirm", args=[job.pk])).status_code == 404
    assert "h.csv" not in other.get(reverse("imports:index")).content.decode()
    # the county sees its townships' imports, the admin everything
    assert client_for(users["reviewer"]).get(reverse("imports:job", args=[job.pk])).status_code == 200
    assert client_for(users["reviewer_other"]).get(reverse("imports:job", args=[job.pk])).status_code == 404
    assert client_for(users["admin"]).get(reverse("imports:job", args=[job.pk])).status_code == 200
    assert other.get(f"/api/v1/imports/{job.pk}/").status_code == 404


def test_caseworker_cannot_pick_cross_check_kinds(tmp_path, users, client_for):
    c = client_for(users["caseworker_a"])
    page = c.get(reverse("imports:index")).content.decode()
    assert 'value="households"' in page and 'value="deaths"' not in page
    r = c.post(reverse("imports:index"), {"kind": "deaths", "file": csv_upload(tmp_path)})
    assert r.status_code == 200 and not ImportJob.objects.exists()
    assert c.get(reverse("imports:template", args=["deaths"])).status_code == 403
    assert client_for(users["supervisor"]).get(reverse("imports:index")).status_code == 403


def test_admin_page_shows_cross_check_versions(tmp_path, users, client_for):
    path = write_csv(tmp_path / "d.csv", ["姓名", "身份证号", "死亡日期"], [["甲", make_id(), "2024-01-01"]])
    run(users["admin"], "deaths", path)
    page = client_for(users["admin"]).get(reverse("imports:index")).content.decode()
    assert "v1" in page and "adm" in page


def test_template_download_has_headers_and_text_id_columns(users, client_for):
    r = client_for(users["caseworker_a"]).get(reverse("imports:template", args=["members"]))
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    assert [c.value for c in ws[1]] == ["户编号", "姓名", "身份证号", "与户主关系", "残疾类别", "残疾等级", "重病",
                                        "劳动能力", "月收入"]
    assert ws["C2"].number_format == "@"


def test_export_download_audited(users, client_for):
    from dibao.models import AuditRecord
    r = client_for(users["caseworker_a"]).get(reverse("imports:export", args=["households"]))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert AuditRecord.objects.filter(action="export.households").count() == 1


def test_api_upload_reports_english_reasons(tmp_path, users, django_capture_on_commit_callbacks):
    from rest_framework.test import APIClient
    api = APIClient()
    api.force_authenticate(users["caseworker_a"])
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post("/api/v1/imports/", {"kind": "households", "file": csv_upload(tmp_path, bad=True)}, format="multipart")
    assert r.status_code == 202
    job = api.get(f"/api/v1/imports/{r.data['id']}/").data
    assert job["state"] == "invalid" and "check digit" in job["report"]["errors"][0]["reason_en"]


def test_households_and_members_uploaded_together(tmp_path, users, client_for, django_capture_on_commit_callbacks):
    from cases.models import Member
    head = make_id()
    h = write_csv(tmp_path / "h.csv", HOUSEHOLD_HEADER,
                  [["N1", "220102001001", "张三", head, "农村低保", "审核中", "2023-01-05", "", "", "", "B", "否"]])
    m = write_csv(tmp_path / "m.csv", ["户编号", "姓名", "身份证号", "与户主关系"], [["N1", "张三", head, "本人"]])
    c = client_for(users["caseworker_a"])
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(reverse("imports:index"), {"kind": "households", "file": open(h, "rb"), "members_file": open(m, "rb")})
    page = c.get(r.url).content.decode()
    assert page.count('data-state="checked"') == 2 and "m.csv" in page
    job = ImportJob.objects.get(kind="households")
    with django_capture_on_commit_callbacks(execute=True):
        c.post(reverse("imports:job_confirm", args=[job.pk]))
    assert Member.objects.filter(household__household_no="N1").count() == 1


def test_members_file_only_with_households(tmp_path, users, client_for):
    m = write_csv(tmp_path / "m.csv", ["户编号", "姓名", "身份证号", "与户主关系"], [])
    r = client_for(users["caseworker_a"]).post(reverse("imports:index"),
                                               {"kind": "staff", "file": open(m, "rb"), "members_file": open(m, "rb")})
    assert r.status_code == 200 and not ImportJob.objects.exists()

"""Import limits (issue 9, item 5): file size, rows, an .xlsx that would inflate to gigabytes
(refused from its zip directory, fast), control characters in cells, and one person heading
several households of one file."""
import time
import zipfile

import pytest

from cases.models import Household
from imports.tests.helpers import HOUSEHOLD_HEADER, errors_at, run, write_csv, write_xlsx
from tests.factories import make_id

pytestmark = pytest.mark.django_db


def household(no, head_id, name="张三"):
    return [no, "220102001001", name, head_id, "农村低保", "审核中", "2023-01-05", "", "", "", "B", "否"]


def zip_bomb(path, expanded_bytes):
    """A well-formed .xlsx whose first sheet is `expanded_bytes` of XML compressing to almost nothing."""
    template = write_xlsx(path.with_name("t.xlsx"), HOUSEHOLD_HEADER, [])
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(item, src.read(item))
        chunk = b"<!--" + b" " * (1024 * 1024 - 7) + b"-->"
        with dst.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(src.read("xl/worksheets/sheet1.xml")[:-len("</worksheet>")])
            for _ in range(expanded_bytes // len(chunk)):
                sheet.write(chunk)
            sheet.write(b"</worksheet>")
    return path


def test_an_xlsx_bomb_is_refused_from_its_directory_in_well_under_a_second(tmp_path, users, settings):
    settings.IMPORT_MAX_XLSX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024
    path = zip_bomb(tmp_path / "bomb.xlsx", 200 * 1024 * 1024)
    assert path.stat().st_size < 2 * 1024 * 1024
    started = time.monotonic()
    job = run(users["caseworker_a"], "households", path)
    assert time.monotonic() - started < 1.0
    assert job.state == "failed" or job.errors
    reasons = " ".join(e["reason"] for e in job.errors)
    assert "解压后" in reasons and "超过上限" in reasons
    assert Household.objects.count() == 0


def test_an_xlsx_with_a_bomb_ratio_is_refused_below_the_size_limit(tmp_path, users, settings):
    path = zip_bomb(tmp_path / "ratio.xlsx", 50 * 1024 * 1024)
    job = run(users["caseworker_a"], "households", path)
    assert "压缩比异常" in " ".join(e["reason"] for e in job.errors)


def test_a_normal_xlsx_still_imports(tmp_path, users):
    path = write_xlsx(tmp_path / "ok.xlsx", HOUSEHOLD_HEADER, [household("H1", make_id())])
    job = run(users["caseworker_a"], "households", path)
    assert job.errors == [] and Household.objects.filter(household_no="H1").exists()


def test_too_many_rows_and_too_big_a_file_are_refused(tmp_path, users, settings):
    path = write_csv(tmp_path / "h.csv", HOUSEHOLD_HEADER, [household(f"H{i}", make_id()) for i in range(5)])
    settings.IMPORT_MAX_ROWS = 3
    job = run(users["caseworker_a"], "households", path)
    assert "3 行数据的上限" in " ".join(e["reason"] for e in job.errors)
    settings.IMPORT_MAX_ROWS = 100
    settings.IMPORT_MAX_FILE_BYTES = 100
    job = run(users["caseworker_a"], "households", path)
    assert "文件过大" in " ".join(e["reason"] for e in job.errors)
    assert Household.objects.count() == 0


def test_the_upload_form_refuses_a_file_above_the_size_limit(users, client_for, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile
    settings.IMPORT_MAX_FILE_BYTES = 10
    response = client_for(users["caseworker_a"]).post("/imports/", {
        "kind": "households", "file": SimpleUploadedFile("h.csv", b"x" * 100)})
    assert response.status_code == 200
    assert "文件过大" in str(response.context["form"].errors["file"])


def test_a_control_character_in_a_cell_is_an_error_naming_the_cell(tmp_path, users):
    path = write_csv(tmp_path / "h.csv", HOUSEHOLD_HEADER,
                  [household("H1", make_id()), household("H2", make_id(), name="李\x0b四")])
    job = run(users["caseworker_a"], "households", path)
    [error] = errors_at(job, 3)
    assert error["column"] == "户主姓名" and "U+000B" in error["reason"]
    assert Household.objects.count() == 0


def test_one_person_heading_two_households_is_an_error_naming_both_rows(tmp_path, users):
    head = make_id()
    path = write_csv(tmp_path / "h.csv", HOUSEHOLD_HEADER,
                     [household("H1", make_id()), household("H2", head), household("H3", head)])
    job = run(users["caseworker_a"], "households", path)
    [second] = errors_at(job, 3)
    [third] = errors_at(job, 4)
    assert "第 4 行（户编号 H3）" in second["reason"] and second["column"] == "户主身份证号"
    assert "第 3 行（户编号 H2）" in third["reason"]
    assert errors_at(job, 2) == []
    assert Household.objects.count() == 0

import io

import pytest
from django.core.management import CommandError, call_command

from cases.models import Household
from dibao.models import AuditRecord
from imports.models import ImportJob
from imports.tests.helpers import HOUSEHOLD_HEADER, write_csv
from tests.factories import make_id

pytestmark = pytest.mark.django_db


def rows(bad_id=False):
    good = make_id()
    id_number = good[:-1] + ("0" if good[-1] != "0" else "1") if bad_id else good
    return [["H1", "220102001001", "张三", make_id(), "农村低保", "在保", "2023-01-05", "2023-02-01", "", "980", "B", "否"],
            ["H2", "220102001001", "李四", id_number, "农村低保", "审核中", "2023-01-05", "", "", "", "B", "否"]]


def call(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_data", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_success_prints_one_summary_line_and_audits_as_system(tmp_path, regions):
    path = write_csv(tmp_path / "h.csv", HOUSEHOLD_HEADER, rows())
    out, err = call("households", str(path))
    assert out.count("\n") == 1 and "new 2" in out and err == ""
    assert Household.objects.count() == 2
    record = AuditRecord.objects.get(action="import.households")
    assert record.actor_name == "system" and record.after["new"] == 2
    out, _ = call("households", str(path))
    assert "new 0, updated 0, unchanged 2" in out


def test_invalid_row_nonzero_exit_report_on_stderr_nothing_written(tmp_path, regions):
    path = write_csv(tmp_path / "h.csv", HOUSEHOLD_HEADER, rows(bad_id=True))
    err = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("import_data", "households", str(path), stderr=err)
    assert exc.value.returncode == 1
    report = err.getvalue()
    assert "3\t户主身份证号" in report and "校验位" in report and "check digit" in report
    assert Household.objects.count() == 0
    assert ImportJob.objects.get().state == ImportJob.State.INVALID


def test_dry_run_writes_nothing(tmp_path, regions):
    path = write_csv(tmp_path / "h.csv", HOUSEHOLD_HEADER, rows())
    out, _ = call("households", str(path), "--dry-run")
    assert "dry run OK" in out and "new 2" in out
    assert Household.objects.count() == 0


def test_as_user_applies_their_jurisdiction(tmp_path, users):
    data = rows()
    data[1][1] = "220102002001"
    path = write_csv(tmp_path / "h.csv", HOUSEHOLD_HEADER, data)
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_data", "households", str(path), "--as-user", "cw_a", stderr=err)
    assert "3\t区划代码" in err.getvalue() and "jurisdiction" in err.getvalue()
    with pytest.raises(CommandError):
        call_command("import_data", "deaths", str(path), "--as-user", "cw_a", stderr=io.StringIO())


def test_missing_file(regions):
    with pytest.raises(CommandError):
        call_command("import_data", "households", "/nonexistent.csv")


def test_members_in_the_same_batch(tmp_path, regions):
    from cases.models import Member
    data = rows()
    h = write_csv(tmp_path / "h.csv", HOUSEHOLD_HEADER, data)
    m = write_csv(tmp_path / "m.csv", ["户编号", "姓名", "身份证号", "与户主关系"], [["H1", "张三", data[0][3], "本人"]])
    out, _ = call("households", str(h), "--members", str(m))
    assert out.count("imported") == 2 and Member.objects.count() == 1


def test_row_numbers_are_excel_rows_even_with_a_multi_line_cell(tmp_path, regions):
    data = rows(bad_id=True)
    data[0][2] = "张\n三"  # a cell with a line break: still one Excel row
    path = write_csv(tmp_path / "h.csv", HOUSEHOLD_HEADER, data)
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_data", "households", str(path), stderr=err)
    assert "\n3\t户主身份证号" in err.getvalue()

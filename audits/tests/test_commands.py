import csv
import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from audits.apps import SCHEDULE_NAME
from audits.models import RefKind, RescreenBatch
from audits.tests.helpers import ref
from dibao.models import AuditRecord
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead(regions):
    person = MemberFactory(name="李四")
    ref(RefKind.DEATHS, [{"id_number": person.id_number, "name": "李四", "death_date": dt.date(2026, 1, 5)}])
    return person


def test_rescreen_prints_batch_and_counts(dead):
    out = io.StringIO()
    call_command("rescreen", "--region", "220102", "--as-of", "2026-10-31", stdout=out)
    text = out.getvalue()
    batch = RescreenBatch.objects.get()
    assert "DECEASED\t1" in text and f"batch {batch.pk}:" in text
    assert batch.region_code == "220102" and batch.as_of == dt.date(2026, 10, 31)
    assert AuditRecord.objects.filter(action="rescreen.start", actor_name="system").exists()


def test_rescreen_rejects_bad_input(regions):
    with pytest.raises(CommandError):
        call_command("rescreen", "--as-of", "31/10/2026", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("rescreen", "--region", "999999", stdout=io.StringIO())


def test_export_findings_csv_and_xlsx(dead, tmp_path):
    call_command("rescreen", "--as-of", "2026-10-31", stdout=io.StringIO())
    path = tmp_path / "f.csv"
    call_command("export_findings", "--output", str(path), stdout=io.StringIO())
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert list(rows[0]) == ["rule", "household_no", "id_number", "name", "region_code", "month", "detail"]
    assert {r["month"] for r in rows} == {""}  # only the funds rules have a pay month
    death = next(r for r in rows if r["rule"] == "DECEASED")
    assert death["id_number"] == dead.id_number and death["household_no"] == dead.household.household_no
    assert death["detail"] == "死亡人员数据 v1：死亡日期 2026-01-05"
    xlsx = tmp_path / "f.xlsx"
    call_command("export_findings", "--batch", str(RescreenBatch.objects.get().pk), "--output", str(xlsx),
                 stdout=io.StringIO())
    sheet = load_workbook(xlsx).active
    values = list(sheet.values)
    assert values[0] == ("规则代码", "户编号", "身份证号", "姓名", "区划代码", "月份", "说明")
    assert (("DECEASED", dead.household.household_no, dead.id_number) in {v[:3] for v in values[1:]})
    assert sheet["C2"].number_format == "@"


def test_export_without_batch_fails_clearly(db, tmp_path):
    with pytest.raises(CommandError, match="rescreen"):
        call_command("export_findings", "--output", str(tmp_path / "x.csv"))


def test_monthly_schedule_exists(db):
    from django_celery_beat.models import PeriodicTask
    task = PeriodicTask.objects.get(name=SCHEDULE_NAME)
    assert task.task == "audits.tasks.monthly_rescreen" and task.crontab.day_of_month == "1"


def test_demo_seed_makes_findings_and_decisions(regions, users):
    import random

    from django.db.models import Count

    from audits import demo
    from audits.models import Finding
    from tests.factories import HouseholdFactory, MemberFactory
    from cases.models import BenefitStandard
    BenefitStandard.objects.create(region_id="22", category="rural", monthly_standard=490,  # 减员 recomputes
                                   effective_from=dt.date(2020, 1, 1))
    for _ in range(35):
        MemberFactory(household=HouseholdFactory(region_id="220102001001"))
    summary = demo.seed(county=regions["220102"], users={"admin": users["admin"], "county_reviewer": users["reviewer"]},
                        rng=random.Random(3))
    batches = list(RescreenBatch.objects.order_by("id"))
    assert len(batches) == 6 and f"#{batches[-1].pk}" in summary  # one a month (reports/tests/test_dashboard_live.py)
    raised = Finding.objects.values("rule").annotate(n=Count("subject_key", distinct=True))
    counts = {row["rule"]: row["n"] for row in raised}
    assert (counts["DECEASED"], counts["ASSET_VEHICLE"], counts["ASSET_PROPERTY"]) == (4, 2, 1)  # 三轮汽车 exempt
    assert Finding.objects.filter(state="confirmed", carried_from=None).count() == 4  # the past months' deaths, payroll
    assert batches[-1].findings.filter(state="pending", rule="DECEASED").exists()  # this month's, not yet
    assert demo.seed(county=regions["220102"], users={}, rng=random.Random(3)) == "audits: already seeded"


def test_monthly_task_runs_a_batch(regions):
    from audits.tasks import monthly_rescreen
    batch_id = monthly_rescreen.delay().get()
    assert RescreenBatch.objects.get(pk=batch_id).state == "done"

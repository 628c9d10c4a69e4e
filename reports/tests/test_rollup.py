import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command

from cases.models import Household, Status
from dibao.models import AuditRecord, Region
from reports import services
from reports.models import RollupRow, RollupRun
from reports.rollup import check_level_sums
from tests.factories import FilingFactory, HouseholdFactory, MemberFactory, StaffFactory

MARCH = dt.date(2026, 3, 1)
E = dt.date(2026, 3, 31)


def row(code, month=MARCH):
    return RollupRow.objects.get(month=month, region_code=code)


def household(region="220102001001", members=0, **kwargs):
    h = HouseholdFactory(region_id=region, **kwargs)
    for _ in range(members):
        MemberFactory(household=h)
    return h


@pytest.fixture
def march(regions):
    """Households around the boundaries of March 2026, all in township 220102001."""
    return {
        # approved on the last day of M: active at E and new in M
        "approved_last_day": household(applied_on=dt.date(2026, 3, 2), decided_on=E,
                                       monthly_amount=Decimal("500.50"), members=2),
        # exited on the first day of M: exited in M, not active at E; decided long before
        "exited_first_day": household(status=Status.EXITED, decided_on=dt.date(2025, 1, 5),
                                      exited_on=dt.date(2026, 3, 1), monthly_amount=Decimal("300.00")),
        # exited on E+1: still active at E, with its last amount
        "exited_after_e": household(status=Status.EXITED, decided_on=dt.date(2025, 1, 5),
                                    exited_on=dt.date(2026, 4, 1), monthly_amount=Decimal("200.25"), members=1),
        # rejected in M (applied in February)
        "rejected": household(status=Status.REJECTED, applied_on=dt.date(2026, 2, 20),
                              decided_on=dt.date(2026, 3, 15), monthly_amount=None),
        # pending, applied in M: an application, never active
        "pending": household(status=Status.PENDING, applied_on=dt.date(2026, 3, 31), decided_on=None,
                             monthly_amount=None),
        # approved the day after E: neither active nor new
        "approved_after_e": household(applied_on=dt.date(2026, 3, 10), decided_on=dt.date(2026, 4, 1)),
        # an ordinary household of the other township of the county
        "other_township": household(region="220102002001", monthly_amount=Decimal("100.00")),
        # a household registered at township level (no village)
        "township_level": household(region="220103001", monthly_amount=Decimal("50.00")),
    }


def test_month_boundaries(march):
    services.rollup_compute(actor="system", month=MARCH)
    t = row("220102001")
    # active at E: approved_last_day and exited_after_e
    assert t.households_active == 2
    assert t.persons_active == (1 + 2) + (1 + 1)  # the head is a member row too
    assert t.amount_total == Decimal("700.75")
    assert t.households_new == 1
    assert t.households_exited == 1
    assert t.applications == 3  # approved_last_day, pending, approved_after_e
    assert t.applications_rejected == 1
    assert row("220102002").households_active == 1
    assert row("220103001").households_active == 1
    assert row("220103001").amount_total == Decimal("50.00")


def test_every_region_gets_a_row_with_zeros_and_levels_add_up(march):
    run = services.rollup_compute(actor="system", month=MARCH)
    rows = list(RollupRow.objects.filter(month=MARCH))
    assert {r.region_code: r.level for r in rows} == {
        "22": "province", "2201": "city", "220102": "county", "220103": "county",
        "220102001": "township", "220102002": "township", "220103001": "township"}
    assert run.row_count == 7
    county = row("220102")
    assert county.households_active == row("220102001").households_active + row("220102002").households_active
    assert county.amount_total == Decimal("800.75")
    assert row("22").households_active == 4
    assert row("22").persons_active == 5 + 1 + 1
    assert check_level_sums(rows) == []


def test_check_reports_a_broken_sum(march):
    services.rollup_compute(actor="system", month=MARCH)
    RollupRow.objects.filter(month=MARCH, region_code="220102").update(households_active=99)
    problems = check_level_sums(RollupRow.objects.filter(month=MARCH))
    assert {(p["region_code"], p["metric"]) for p in problems} == {
        ("220102", "households_active"), ("2201", "households_active")}


def test_snapshot_does_not_follow_later_edits_and_recompute_replaces(march):
    first = services.rollup_compute(actor="system", month=MARCH)
    Household.objects.filter(pk=march["approved_last_day"].pk).update(decided_on=dt.date(2026, 4, 2))
    HouseholdFactory(region_id="220102001002", decided_on=dt.date(2026, 3, 3))
    assert row("220102001").households_active == 2
    assert row("220102001").run_id == first.pk

    second = services.rollup_compute(actor="system", month=MARCH)
    assert RollupRow.objects.filter(month=MARCH).count() == 7
    assert row("220102001").households_active == 2  # one left, one arrived
    assert row("220102001").households_new == 1
    assert row("220102001").run_id == second.pk
    assert second.replaced_rows == 7
    assert RollupRun.objects.count() == 2  # the history of runs is kept
    record = AuditRecord.objects.filter(action="rollup.compute").last()
    assert record.object_id == str(second.pk) and record.after["replaced_rows"] == 7


def test_recompute_one_county_keeps_the_levels_adding_up(march):
    services.rollup_compute(actor="system", month=MARCH)
    HouseholdFactory(region_id="220103001001", decided_on=dt.date(2026, 3, 3), monthly_amount=Decimal("10.00"))
    run = services.rollup_compute(actor="system", month=MARCH, scope="220103")
    assert run.row_count == 2
    assert row("220103").households_active == 2
    assert row("2201").households_active == 5
    assert row("22").amount_total == Decimal("860.75")
    assert row("220102").run_id != run.pk  # the other county is untouched
    assert check_level_sums(RollupRow.objects.filter(month=MARCH)) == []


def test_filings_count_where_the_household_is_else_where_the_staff_works(regions):
    h = household(region="220102002001")
    county_staff = StaffFactory(region_id="220102")
    FilingFactory(staff=county_staff, household=h, filed_on=dt.date(2026, 3, 5))  # -> township 220102002
    FilingFactory(staff=county_staff, household=None, filed_on=dt.date(2026, 3, 6))  # -> county own level
    FilingFactory(staff=StaffFactory(region_id="220102001001"), filed_on=dt.date(2026, 2, 1))  # earlier
    FilingFactory(staff=StaffFactory(region_id="220102001001"), filed_on=dt.date(2026, 4, 1))  # later
    services.rollup_compute(actor="system", month=MARCH)
    assert (row("220102002").relatives_filed, row("220102002").relatives_filed_total) == (1, 1)
    assert (row("220102001").relatives_filed, row("220102001").relatives_filed_total) == (0, 1)
    county = row("220102")
    assert (county.relatives_filed, county.relatives_filed_total) == (2, 3)
    assert county.own_level == {"relatives_filed": 1, "relatives_filed_total": 1}
    assert row("22").relatives_filed_total == 3
    assert check_level_sums(RollupRow.objects.filter(month=MARCH)) == []

    # Recomputing one township keeps its siblings' filings off the county's own level.
    services.rollup_compute(actor="system", month=MARCH, scope="220102001")
    county = row("220102")
    assert (county.relatives_filed, county.relatives_filed_total) == (2, 3)
    assert county.own_level == {"relatives_filed": 1, "relatives_filed_total": 1}
    assert check_level_sums(RollupRow.objects.filter(month=MARCH)) == []


def test_rollup_command_and_scope_errors(march, users, capsys):
    call_command("rollup", "--month", "2026-03", "--region", "220102")
    out = capsys.readouterr().out
    assert "rollup 2026-03 220102" in out and "3 rows" in out
    from django.core.management.base import CommandError
    with pytest.raises(CommandError):
        call_command("rollup", "--month", "2026-3x")
    with pytest.raises(CommandError):
        call_command("rollup", "--month", "2026-03", "--region", "220102001001")  # a village
    with pytest.raises(CommandError):
        call_command("rollup", "--month", "2026-03", "--region", "220103", "--as-user", "rev")  # other county
    call_command("rollup", "--month", "2026-03", "--region", "220102", "--as-user", "rev")
    assert RollupRun.objects.latest("id").computed_by == users["reviewer"]


def test_beat_entry_and_task_compute_the_previous_month(march, monkeypatch):
    from django_celery_beat.models import PeriodicTask

    from reports import tasks
    from reports.apps import ensure_monthly_schedule

    ensure_monthly_schedule(sender=None)
    entry = PeriodicTask.objects.get(task=tasks.MONTHLY_ROLLUP_TASK)
    assert (entry.crontab.day_of_month, entry.crontab.hour) == ("1", "1")
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: dt.date(2026, 4, 1))
    run_id = tasks.monthly_rollup.delay().get()
    assert RollupRun.objects.get(pk=run_id).month == MARCH
    assert row("220102001").households_active == 2


def test_regions_are_taken_from_the_region_table(regions):
    Region.objects.create(code="220102003", name="新乡镇", level=Region.Level.TOWNSHIP, parent_id="220102")
    services.rollup_compute(actor="system", month=MARCH, scope="220102")
    assert row("220102003").households_active == 0


def test_demo_seeds_six_months_for_the_province(march, users):
    import random

    from reports import demo

    summary = demo.seed(county=Region.objects.get(code="220102"), users=users, rng=random.Random(1))
    assert summary.startswith("reports: rollups")
    assert RollupRow.objects.filter(region_code="22").count() == 6
    assert demo.seed(county=Region.objects.get(code="220102"), users=users, rng=random.Random(1)) == \
        "reports: already seeded"

"""The columns owned by audits and complaints, read through their rollup_metrics contract."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from openpyxl import load_workbook

from audits.models import BatchChunk, Finding, RescreenBatch
from complaints.models import Clue
from reports import services
from reports.models import RollupRow
from reports.rollup import check_level_sums
from tests.factories import HouseholdFactory

MARCH = dt.date(2026, 3, 1)


def row(code):
    return RollupRow.objects.get(month=MARCH, region_code=code)


@pytest.fixture
def batch(regions):
    b = RescreenBatch.objects.create(region_code="", as_of=dt.date(2026, 3, 5), state="done")
    return b, BatchChunk.objects.create(batch=b, region_code="220102", state="done")


def finding(batch, household, rule, *, state="pending", raised=dt.date(2026, 3, 5), decided=None, **kwargs):
    b, chunk = batch
    return Finding.objects.create(
        batch=b, chunk=chunk, rule=rule, household=household, region_code=household.region_id,
        subject_key=f"{household.pk}:{rule}", detail="测试", evidence_hash="x" * 64, state=state,
        first_raised_on=raised,
        decided_at=timezone.make_aware(dt.datetime.combine(decided, dt.time(10))) if decided else None, **kwargs)


def clue(number, region, received_on):
    return Clue.objects.create(number=number, received_on=received_on, source="complaint", region_id=region,
                               category="错保", summary="反映问题")


def test_findings_and_clues_in_the_rollup(batch):
    h = HouseholdFactory(region_id="220102001001")
    finding(batch, h, "DECEASED")
    finding(batch, h, "ASSET_VEHICLE", state="confirmed", raised=dt.date(2026, 2, 1), decided=dt.date(2026, 3, 9),
            funds_recovered=Decimal("120.00"), actions={"stop_payment": True, "recover_funds": "120.00"})
    finding(batch, HouseholdFactory(region_id="220102002001"), "DUPLICATE", state="dismissed",
            decided=dt.date(2026, 3, 31))
    clue("X1", "220102001", dt.date(2026, 3, 2))
    clue("X2", "220102", dt.date(2026, 3, 3))  # recorded against the county itself
    clue("X3", "220102001", dt.date(2026, 4, 1))  # next month
    services.rollup_compute(actor="system", month=MARCH)

    t = row("220102001")
    assert (t.findings_raised, t.findings_confirmed, t.findings_dismissed) == (1, 1, 0)
    assert t.funds_recovered == Decimal("120.00")
    assert t.findings_by_rule == {"DECEASED": 1}
    assert t.clues_received == 1
    assert row("220102002").findings_dismissed == 1
    county = row("220102")
    assert county.clues_received == 2  # its township's + its own
    assert county.own_level == {"clues_received": 1}
    assert county.findings_by_rule == {"DECEASED": 1, "DUPLICATE": 1}
    assert county.findings_raised == 2
    assert row("22").clues_received == 2 and row("22").funds_recovered == Decimal("120.00")
    assert check_level_sums(RollupRow.objects.filter(month=MARCH)) == []


def test_screening_form_shows_problem_types_and_handling(batch, tmp_path):
    h = HouseholdFactory(region_id="220102001001", household_no="HX1")
    HouseholdFactory(region_id="220102001001", household_no="HX2")
    finding(batch, h, "DECEASED")
    finding(batch, h, "ASSET_VEHICLE", state="confirmed", decided=dt.date(2026, 3, 9),
            funds_recovered=Decimal("120.00"), actions={"stop_payment": True, "recover_funds": "120.00"})
    finding(batch, h, "DUPLICATE", state="dismissed", decided=dt.date(2026, 3, 9))
    out = tmp_path / "s.xlsx"
    call_command("export_form", "screening", "--region", "220102001", "--from", "2026-01-01", "--to", "2026-03-31",
                 "--output", str(out))
    ws = load_workbook(out)["在保"]
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=4)]
    rows = {r[2]: r for r in values[:-1]}
    assert rows["HX1"][7:10] == ["存在问题", "名下有车辆、死亡保", "属实，停发，追回资金 120.00 元"]
    assert rows["HX2"][7:9] == ["无问题", None]
    assert values[-1][0] == "合计" and values[-1][7] == "存在问题1户"


def test_bulletin_counts_ineligible_households_not_yet_exited(batch, tmp_path):
    h = HouseholdFactory(region_id="220102001001")
    finding(batch, h, "DECEASED", state="confirmed", decided=dt.date(2026, 3, 9))
    clue("X1", "220102", dt.date(2026, 3, 3))
    out = tmp_path / "b.xlsx"
    call_command("export_form", "bulletin", "--region", "22", "--from", "2026-03-01", "--to", "2026-03-31",
                 "--output", str(out))
    ws = load_workbook(out)["进度通报"]
    first = [c.value for c in ws[4]]
    assert first[0] == "220102"
    assert first[6:8] == [1, 1]  # one ineligible household still in dibao, one clue

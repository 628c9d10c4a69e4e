"""The dashboard opens on the current month, computed live; past months come from their snapshots."""
import datetime as dt
import random
from decimal import Decimal

import pytest
from django.utils import timezone

from reports import metrics, services
from reports.models import RollupRow
from tests.factories import HouseholdFactory, MemberFactory


@pytest.fixture
def this_month(regions):
    today = timezone.localdate()
    for amount in ("612.00", "300.00"):
        HouseholdFactory(region_id="220102001001", applied_on=today.replace(day=1), decided_on=today,
                         monthly_amount=Decimal(amount))
    HouseholdFactory(region_id="220103001001")
    return today.replace(day=1)


def test_dashboard_opens_on_the_current_month_live(this_month, users, client_for):
    response = client_for(users["supervisor"]).get("/reports/")
    board = response.context["board"]
    assert board.live and board.month == this_month
    assert (board.row.households_active, board.row.households_new, board.row.amount_total) == (3, 2, Decimal("1892.00"))
    assert [(r.region_name, r.households_active) for r in board.children] == [("南关区", 2), ("宽城区", 1)]
    html = response.content.decode()
    assert "实时（截至" in html and "快照（计算于" not in html
    assert f"{this_month.year}年{this_month.month}月" in html
    assert not RollupRow.objects.exists()  # nothing was frozen by looking


def test_live_figures_are_the_ones_the_snapshot_freezes(this_month, users, client_for):
    services.rollup_compute(actor="system", month=this_month)
    frozen = RollupRow.objects.get(month=this_month, region_code="220102")
    HouseholdFactory(region_id="220102001001", decided_on=timezone.localdate())  # after the freeze
    client = client_for(users["supervisor"])
    live = client.get("/reports/region/220102/").context["board"]
    assert live.live and live.row.households_active == frozen.households_active + 1
    snapshot = client.get(f"/reports/region/220102/?month={this_month:%Y-%m}").context["board"]
    assert not snapshot.live and snapshot.row.metrics() == frozen.metrics()


def test_live_figures_are_shared_for_a_few_minutes_and_say_when_they_were_computed(this_month, users, client_for,
                                                                                     settings):
    from django.core.cache import cache

    settings.LIVE_SUMMARY_SECONDS = 300
    cache.clear()
    first = client_for(users["supervisor"]).get("/reports/region/220102/")
    computed = first.context["board"].computed_at
    HouseholdFactory(region_id="220102001001", decided_on=timezone.localdate())
    again = client_for(users["reviewer"]).get("/reports/region/220102/")  # another user, same region
    assert again.context["board"].row.households_active == first.context["board"].row.households_active == 2
    assert again.context["board"].computed_at == computed
    assert f"实时（截至 {computed:%Y-%m-%d %H:%M}）" in again.content.decode()
    cache.clear()  # what the expiry does
    assert client_for(users["supervisor"]).get("/reports/region/220102/").context["board"].row.households_active == 3


def test_a_past_month_is_labelled_as_its_snapshot(this_month, users, client_for):
    past = metrics.previous_month(this_month)
    run = services.rollup_compute(actor="system", month=past)
    html = client_for(users["supervisor"]).get(f"/reports/?month={past:%Y-%m}").content.decode()
    at = timezone.localtime(run.computed_at)
    assert f"快照（计算于 {at:%Y-%m-%d %H:%M}）" in html and "实时（截至" not in html
    assert f'<option value="{past:%Y-%m}" selected>' in html
    # the drill-down stays on the snapshot month; from the live month it stays live
    assert f'href="/reports/region/220102/?month={past:%Y-%m}"' in html
    assert 'href="/reports/region/220102/"' in client_for(users["supervisor"]).get("/reports/").content.decode()


def test_demo_findings_are_spread_over_months(regions, users):
    from audits import demo
    from audits.models import Finding, FindingState
    from cases.models import BenefitStandard

    BenefitStandard.objects.create(region_id="22", category="rural", monthly_standard=490,
                                   effective_from=dt.date(2020, 1, 1))
    for _ in range(35):
        MemberFactory(household=HouseholdFactory(region_id="220102001001"))
    demo.seed(county=regions["220102"], users={"admin": users["admin"], "county_reviewer": users["reviewer"]},
              rng=random.Random(3))
    raised = {f"{d:%Y-%m}" for d in Finding.objects.values_list("first_raised_on", flat=True)}
    decided = {f"{timezone.localtime(d):%Y-%m}" for d in Finding.objects.exclude(decided_at=None)
               .values_list("decided_at", flat=True)}
    assert len(raised) >= 4 and len(decided) >= 3
    this_month = f"{timezone.localdate():%Y-%m}"
    assert this_month in raised and this_month not in decided  # the current month waits for review
    assert Finding.objects.filter(state=FindingState.PENDING, rule="DECEASED").exists()

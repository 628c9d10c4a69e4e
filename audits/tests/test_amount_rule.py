"""AMOUNT_MISMATCH (rules.md v2): the amount in force against the formula with the standard in force."""
import datetime as dt
from decimal import Decimal

import pytest

from audits.tests.helpers import AS_OF, keys, run
from cases import benefits
from cases.models import AmountHistory, AmountSource, BenefitStandard
from tests.factories import HouseholdFactory, MemberFactory

pytestmark = pytest.mark.django_db
D = Decimal


def household(no, incomes, amount, *, region="220102001001", single_index=None, **kw):
    h = HouseholdFactory(household_no=no, region_id=region, monthly_amount=None if amount is None else D(amount), **kw)
    head = h.members.get()
    head.monthly_income = incomes[0]
    head.save()
    members = [head] + [MemberFactory(household=h, relation="子女", monthly_income=i) for i in incomes[1:]]
    if single_index is not None:
        h.single_coverage_id_number = members[single_index].id_number
        h.save()
    return h


@pytest.fixture
def standards(regions):
    BenefitStandard.objects.create(region_id="22", category="rural", monthly_standard=D("400"),
                                   effective_from=dt.date(2024, 1, 1))
    BenefitStandard.objects.create(region_id="220102", category="rural", monthly_standard=D("490"),
                                   effective_from=dt.date(2023, 1, 1))
    # Takes effect after D's month: not applied yet.
    BenefitStandard.objects.create(region_id="220102", category="rural", monthly_standard=D("900"),
                                   effective_from=AS_OF + dt.timedelta(days=1))


def test_amount_mismatch_with_decoys(standards):
    # Flagged.
    household("WRONG", [D("500"), D("320"), None], "2000")                     # formula: 650
    household("SINGLE-PAID-AS-FAMILY", [D("100"), D("100")], "780", single_index=1)  # formula: 490 − 100 = 390
    household("PROVINCE", [D("100")], "390", region="220103001001")            # province 400 − 100 = 300 (not 490)
    household("ABOVE-STANDARD", [D("3000")], "200")                             # formula: 0
    stale = household("HISTORY-STALE", [D("100")], "390")                      # history says 350 in force
    AmountHistory.objects.create(household=stale, effective_month=dt.date(2026, 1, 1), amount=D("350"),
                                 source=AmountSource.CHANGE)
    # Decoys.
    household("EXACT", [D("500"), D("320"), None], "650")
    household("WITHIN-TOLERANCE", [D("819.50"), None, None], "650")             # 650.50 → 651; off by 1.00
    household("HALF-UP", [D("818.50"), None, None], "652")
    household("SINGLE-OK", [D("1000"), D("680"), D("120")], "370", single_index=2)
    household("ZERO-AMOUNT", [D("3000")], "0")                                  # above 0 only
    household("EXITED", [D("100")], "2000", status="exited", exited_on=dt.date(2025, 1, 1))
    household("URBAN-NO-STANDARD", [D("100")], "2000", category="urban")
    household("FUTURE-STANDARD-IGNORED", [D("100")], "390")                     # 490 − 100, not 900 − 100
    fixed = household("HISTORY-FIXED", [D("100")], "500")                      # the history's 390 is in force
    AmountHistory.objects.create(household=fixed, effective_month=dt.date(2026, 10, 1), amount=D("390"),
                                 source=AmountSource.RERATE)
    future = household("HISTORY-FUTURE", [D("100")], "390")                    # a later change not yet in force
    AmountHistory.objects.create(household=future, effective_month=dt.date(2026, 11, 1), amount=D("700"),
                                 source=AmountSource.CHANGE)

    batch = run()
    assert {no for no, _ in keys(batch, "AMOUNT_MISMATCH")} == {
        "WRONG", "SINGLE-PAID-AS-FAMILY", "PROVINCE", "ABOVE-STANDARD", "HISTORY-STALE"}
    finding = batch.findings.get(rule="AMOUNT_MISMATCH", household__household_no="WRONG")
    assert finding.id_number == finding.household.head_id_number
    assert "核定金额 2000.00 元" in finding.detail
    assert "490.00 元 × 3 人 − 家庭月收入 820.00 元，应为 650.00 元" in finding.detail
    single = batch.findings.get(rule="AMOUNT_MISMATCH", household__household_no="SINGLE-PAID-AS-FAMILY")
    assert "单人保" in single.detail and "应为 390.00 元" in single.detail


def test_the_rule_agrees_with_the_python_formula(standards):
    h = household("X", [D("333.33"), D("12.34"), None, D("0.01")], "1614")
    working = benefits.household_amount(h, AS_OF)
    assert working.amount == D("1614")       # 1960 − 345.68 = 1614.32
    assert not keys(run(), "AMOUNT_MISMATCH")


def test_tolerance_is_a_setting(standards, settings):
    household("OFF-BY-ONE", [D("500"), D("320"), None], "651")
    assert not keys(run(), "AMOUNT_MISMATCH")
    settings.AMOUNT_TOLERANCE = "0.50"
    assert {no for no, _ in keys(run(), "AMOUNT_MISMATCH")} == {"OFF-BY-ONE"}

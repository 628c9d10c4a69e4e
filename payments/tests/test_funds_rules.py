"""Section D of rules.md (payments.md "Funds rules"): each rule with its decoys.

D = 2026-10-31, so the look-back window is 2025-11 … 2026-10."""
import datetime as dt

import pytest

from audits.export import write_csv
from audits.models import RefKind
from audits.tests.helpers import ref, run
from cases.models import Status
from payments.tests.helpers import amount, pay
from tests.factories import HouseholdFactory, MemberFactory, make_id

pytestmark = pytest.mark.django_db


def found(batch, rule) -> set[tuple[str, str]]:
    """(户编号, month) of a batch's findings of one rule."""
    return set(batch.findings.filter(rule=rule).values_list("household_no", "month"))


def test_paid_unknown_and_window(regions):
    pay("X0001", "2026-10")
    pay("X0002", "2025-10")  # before the window
    pay("X0003", "2026-11")  # after D's month
    pay("X0004", "2026-09", status="failed")
    batch = run()
    assert found(batch, "PAID_UNKNOWN") == {("X0001", "2026-10")}
    finding = batch.findings.get(rule="PAID_UNKNOWN")
    assert finding.household_id is None and finding.region_code == "" and finding.subject_key == "X0001:2026-10"


def test_paid_unknown_is_left_to_province_batches(regions):
    pay("X0001", "2026-10")
    assert found(run(region="22"), "PAID_UNKNOWN") == {("X0001", "2026-10")}
    assert found(run(region="220102"), "PAID_UNKNOWN") == set()


def test_paid_not_active_exit_mid_month_vs_first(regions):
    mid = HouseholdFactory(status=Status.EXITED, exited_on=dt.date(2026, 6, 15))
    first = HouseholdFactory(status=Status.EXITED, exited_on=dt.date(2026, 6, 1))
    late = HouseholdFactory(decided_on=dt.date(2026, 7, 3))
    for h in (mid, first, late):
        pay(h, "2026-06", "980.00")
    batch = run()
    assert found(batch, "PAID_NOT_ACTIVE") == {(first.household_no, "2026-06"), (late.household_no, "2026-06")}


def test_paid_not_active_when_suspended(regions):
    stopped = HouseholdFactory(payment_stopped=True)
    pay(stopped, "2026-10", "980.00")
    batch = run()
    assert found(batch, "PAID_NOT_ACTIVE") == {(stopped.household_no, "2026-10")}
    assert "停发" in batch.findings.get(rule="PAID_NOT_ACTIVE").detail


def test_paid_deceased_death_during_month_vs_before(regions):
    during, before = HouseholdFactory(), HouseholdFactory()
    ref(RefKind.DEATHS, [
        {"id_number": during.head_id_number, "name": during.head_name, "death_date": dt.date(2026, 8, 1)},
        {"id_number": before.head_id_number, "name": before.head_name, "death_date": dt.date(2026, 7, 31)},
    ])
    pay(during, "2026-08", "980.00")
    pay(before, "2026-08", "980.00")
    batch = run()
    assert found(batch, "PAID_DECEASED") == {(before.household_no, "2026-08")}
    finding = batch.findings.get(rule="PAID_DECEASED")
    assert finding.id_number == before.head_id_number and finding.region_code == before.region_id


def test_paid_twice_not_after_a_failed_retry(regions):
    retried, twice = HouseholdFactory(), HouseholdFactory()
    pay(retried, "2026-09", "980.00", status="failed")
    pay(retried, "2026-09", "980.00")
    first = pay(twice, "2026-09", "980.00", txn="T-B")
    pay(twice, "2026-09", "980.00", txn="T-A", payee_id=make_id(), payee_name="代领人")
    batch = run()
    assert found(batch, "PAID_TWICE") == {(twice.household_no, "2026-09")}
    finding = batch.findings.get(rule="PAID_TWICE")
    assert finding.name == "代领人"  # the payee of the lowest 交易流水号
    assert "T-A,T-B" in finding.detail and first.txn_no in finding.detail
    assert found(batch, "PAID_AMOUNT_MISMATCH") == set()  # two payments: that is PAID_TWICE's


def test_paid_amount_mismatch_reads_the_amount_in_force(regions):
    changed = HouseholdFactory()
    amount(changed, "2020-02", "980.00")
    amount(changed, "2026-08", "760.00")  # 调整金额 from August
    for month, value in (("2026-07", "980.00"), ("2026-08", "760.00"), ("2026-09", "980.00")):
        pay(changed, month, value)
    cents_off = HouseholdFactory(monthly_amount="500.00")
    pay(cents_off, "2026-09", "500.004")
    batch = run()
    assert found(batch, "PAID_AMOUNT_MISMATCH") == {(changed.household_no, "2026-09")}
    assert "核定金额 760.00 元" in batch.findings.get(rule="PAID_AMOUNT_MISMATCH").detail


def test_amount_in_force_is_the_latest_row_of_its_month(regions):
    """Two amounts recorded for the same month (a change corrected the same day): the later one is in
    force, from that month until the next change — before it, the earlier month's amount."""
    h = HouseholdFactory()
    amount(h, "2026-01", "600.00")
    amount(h, "2026-08", "700.00")
    amount(h, "2026-08", "720.00")
    for month, value in (("2026-07", "600.00"), ("2026-08", "720.00"), ("2026-09", "700.00")):
        pay(h, month, value)
    batch = run()
    assert found(batch, "PAID_AMOUNT_MISMATCH") == {(h.household_no, "2026-09")}
    assert "核定金额 720.00 元" in batch.findings.get(rule="PAID_AMOUNT_MISMATCH").detail


def test_shared_account_same_month_only(regions):
    a, b, c = HouseholdFactory(), HouseholdFactory(), HouseholdFactory()
    pay(a, "2026-09", "980.00", account="6200000000000000009")
    pay(b, "2026-09", "980.00", account="6200000000000000009")
    pay(c, "2026-08", "980.00", account="6200000000000000009")  # the same card, another month
    pay("X0009", "2026-09", account="6200000000000000009")
    batch = run()
    assert found(batch, "SHARED_ACCOUNT") == {(a.household_no, "2026-09"), (b.household_no, "2026-09"),
                                              ("X0009", "2026-09")}


def test_payee_not_member_unless_designated(regions):
    stranger, designated, member_paid = HouseholdFactory(), HouseholdFactory(), HouseholdFactory()
    agent = make_id()
    designated.payee_id_number = agent
    designated.save()
    child = MemberFactory(household=member_paid)
    pay(stranger, "2026-10", "980.00", payee_id=make_id(), payee_name="张某")
    pay(designated, "2026-10", "980.00", payee_id=agent, payee_name="代领人")
    pay(member_paid, "2026-10", "980.00", payee_id=child.id_number, payee_name=child.name)
    batch = run()
    assert found(batch, "PAYEE_NOT_MEMBER") == {(stranger.household_no, "2026-10")}


def test_one_finding_per_household_and_month_and_rerun_is_stable(regions):
    h = HouseholdFactory()
    for month in ("2026-08", "2026-09"):
        pay(h, month, "980.00")
        pay(h, month, "980.00")
    first = run()
    assert found(first, "PAID_TWICE") == {(h.household_no, "2026-08"), (h.household_no, "2026-09")}
    second = run()
    assert set(second.findings.filter(rule="PAID_TWICE").values_list("novelty", flat=True)) == {"open"}


def test_findings_export_has_the_month_column(regions):
    import io

    pay("X0001", "2026-10")
    batch = run()
    out = io.StringIO()
    write_csv(batch.findings.filter(rule="PAID_UNKNOWN"), out, full_ids=True)
    header, row = out.getvalue().splitlines()[:2]
    assert header == "rule,household_no,id_number,name,region_code,month,detail"
    assert row.startswith("PAID_UNKNOWN,X0001,220102197001010011,某人,,2026-10,")

"""The bank's return (import kind `payments`), reconciliation, the rollup's payment figures,
recovered funds counted once, and the pages' scoping."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from openpyxl import Workbook

from audits import services as audit_services
from audits.tests.helpers import run
from imports import services as import_services
from payments import selectors, services
from payments.models import Payment
from payments.tests.helpers import pay
from reports import services as report_services
from reports.models import RollupRow
from tests.factories import HouseholdFactory

pytestmark = pytest.mark.django_db
OCT = dt.date(2026, 10, 1)
HEADER = ["交易流水号", "发放月份", "户编号", "收款人姓名", "收款人身份证号", "银行账号", "发放金额", "发放日期", "发放状态"]


def _import(tmp_path, rows, actor="system"):
    path = tmp_path / "payments.xlsx"
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    job = import_services.import_job_create(actor=actor, kind="payments", file_name="payments.xlsx", path=str(path),
                                            dry_run=False)
    return import_services.import_run(job_id=job.pk)


def test_import_adds_to_the_ledger_and_corrects_in_place(regions, tmp_path):
    h = HouseholdFactory()
    row = ["T1", "2026年10月", h.household_no, h.head_name, h.head_id_number, "6217000000000000001", "980", "2026-10-10",
           "失败"]
    unknown = ["T2", "202610", "X9", "某人", h.head_id_number, "6217000000000000002", "10.5", "2026-10-10", ""]
    job = _import(tmp_path, [row, unknown])
    assert job.state == "done" and job.rows_new == 2
    assert Payment.objects.get(txn_no="T1").status == "failed"
    paid_unknown = Payment.objects.get(txn_no="T2")
    assert (paid_unknown.household_id, paid_unknown.region_code, paid_unknown.status) == (None, None, "success")
    again = _import(tmp_path, [row, unknown])
    assert (again.rows_new, again.rows_updated, again.rows_unchanged) == (0, 0, 2)
    fixed = _import(tmp_path, [row[:8] + ["成功"]])
    assert fixed.rows_updated == 1 and Payment.objects.get(txn_no="T1").status == "success"
    assert Payment.objects.get(txn_no="T1").region_code == h.region_id


def _partition_of(txn_no: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM payments_payment WHERE txn_no = %s", [txn_no])
        return cursor.fetchone()[0]


def test_each_month_loads_into_a_partition_of_its_own(regions, tmp_path):
    """PostgreSQL: a month the ledger has no rows of is loaded into its own partition (its indexes
    built once); a 交易流水号 stays unique across months — a later file that moves it to another
    month corrects it in place; rows written by other means wait in the default partition and
    join their month's partition when that month is imported."""
    if connection.vendor != "postgresql":
        pytest.skip("the ledger is partitioned on PostgreSQL only")
    h = HouseholdFactory()

    def row(txn, month, amount="980"):
        return [txn, month, h.household_no, h.head_name, h.head_id_number, "6217000000000000001", amount,
                f"{month}-10", "成功"]

    early = pay(h, "2026-09", txn="T-EARLY")
    assert _partition_of("T-EARLY") == "payments_payment_default"
    first = _import(tmp_path, [row("T1", "2026-10"), row("T2", "2026-10")])
    assert first.state == "done" and first.rows_new == 2
    assert {_partition_of("T1"), _partition_of("T2")} == {"payments_payment_p202610"}
    assert len(set(Payment.objects.values_list("id", flat=True))) == 3
    assert pay(h, "2026-10", txn="T-LATER").id > Payment.objects.get(txn_no="T2").id  # the sequence moved on
    moved = _import(tmp_path, [row("T2", "2026-11", "990"), row("T-EARLY", "2026-09", "500.00")])
    assert (moved.rows_new, moved.rows_updated) == (0, 1)
    assert Payment.objects.filter(txn_no="T2").count() == 1
    assert (_partition_of("T2"), Payment.objects.get(txn_no="T2").amount) == ("payments_payment_p202611", Decimal("990"))
    assert _partition_of("T-EARLY") == "payments_payment_p202609"
    again = _import(tmp_path, [row("T1", "2026-10"), row("T3", "2026-12")])
    assert (again.rows_new, again.rows_unchanged) == (1, 1) and _partition_of("T3") == "payments_payment_p202612"
    assert Payment.objects.count() == 5


def test_import_refuses_a_household_of_another_county(users, tmp_path):
    other = HouseholdFactory(region_id="220103001001")
    job = _import(tmp_path, [["T1", "2026-10", other.household_no, "甲", other.head_id_number, "6217000000000000001",
                              "980", "2026-10-10", "成功"]], actor=users["reviewer"])
    assert job.state == "invalid" and not Payment.objects.exists()
    assert "不在您的管辖范围内" in str(job.report)


def test_reconciliation_sums(users):
    as_rolled, unpaid, other_amount, not_rolled = (HouseholdFactory() for _ in range(4))
    not_rolled.payment_stopped = True
    not_rolled.save()
    services.roll_create(actor=users["reviewer"], month=OCT)
    pay(as_rolled, "2026-10", "980.00")
    pay(unpaid, "2026-10", "980.00", status="failed")
    pay(other_amount, "2026-10", "500.00")
    pay(other_amount, "2026-10", "300.00")
    pay(not_rolled, "2026-10", "980.00")
    pay(as_rolled, "2026-09", "980.00")  # another month
    result = selectors.reconcile(month=OCT, region_code="220102", include_unknown=False)
    summary = {key: (g.count, g.rolled, g.paid) for key, g in result.groups.items()}
    assert summary == {"as_rolled": (1, Decimal("980.00"), Decimal("980.00")),
                       "unpaid": (1, Decimal("980.00"), Decimal("0.00")),
                       "other_amount": (1, Decimal("980.00"), Decimal("800.00")),
                       "not_rolled": (1, Decimal("0.00"), Decimal("980.00"))}
    assert result.total_rolled == Decimal("2940.00") and result.total_paid == Decimal("2760.00")


def test_rollup_amount_paid_and_anomalies(users):
    h = HouseholdFactory()
    pay(h, "2026-10", "980.00")
    pay(h, "2026-10", "980.00")
    pay(h, "2026-09", "980.00", status="failed")
    run()
    run()  # the same problem in two batches counts once
    report_services.rollup_compute(actor="system", month=OCT, scope="220102")
    row = RollupRow.objects.get(month=OCT, region_code="220102001")
    assert row.amount_paid == Decimal("1960.00") and row.payment_anomalies == 1
    assert RollupRow.objects.get(month=OCT, region_code="220102").amount_paid == Decimal("1960.00")


def test_recovered_funds_counted_once(users):
    from complaints import services as complaint_services
    from complaints.models import Clue, Referral

    h = HouseholdFactory()
    pay(h, "2026-10", "980.00")
    pay(h, "2026-10", "980.00")
    finding = run().findings.get(rule="PAID_TWICE")
    audit_services.finding_confirm(actor=users["reviewer"], finding=finding, reason="重复发放属实",
                                   recover_amount=Decimal("980.00"), refer_clue=True)
    clue = Clue.objects.get(finding_id=finding.pk)
    complaint_services.clue_refer(actor=users["reviewer"], clue=clue, body_region=clue.region.parent.parent,
                                  body_name="")
    Referral.objects.filter(clue=clue).update(funds_recovered=Decimal("1200.00"), concluded_on=dt.date.today())
    month = dt.date.today().replace(day=1)
    report_services.rollup_compute(actor="system", month=month, scope="220102")
    # 980 on the finding and the same 980 again in the clue's 1,200: 1,200 recovered in all
    assert RollupRow.objects.get(month=month, region_code="220102").funds_recovered == Decimal("1200.00")


def test_pages_scoping_and_roles(users, client_for):
    HouseholdFactory()
    roll = services.roll_create(actor=users["reviewer"], month=OCT)
    own = client_for(users["reviewer"])
    assert own.get(f"/payments/rolls/{roll.pk}/").status_code == 200
    assert "南岭街道" in own.get(f"/payments/rolls/{roll.pk}/").content.decode()
    assert own.get(f"/payments/rolls/{roll.pk}/export/").status_code == 200
    assert own.get("/payments/reconciliation/?month=2026-10").status_code == 200
    assert own.get("/payments/reconciliation/export/?month=2026-10").status_code == 200
    other = client_for(users["reviewer_other"])
    assert other.get(f"/payments/rolls/{roll.pk}/").status_code == 404
    assert other.post(f"/payments/rolls/{roll.pk}/approve/").status_code == 404
    caseworker = client_for(users["caseworker_a"])
    assert caseworker.get("/payments/").status_code == 403
    assert caseworker.post("/payments/rolls/create/", {"month": "2026-10"}).status_code == 403
    supervisor = client_for(users["supervisor"])
    assert supervisor.get(f"/payments/rolls/{roll.pk}/").status_code == 200
    assert supervisor.post(f"/payments/rolls/{roll.pk}/approve/").status_code == 403

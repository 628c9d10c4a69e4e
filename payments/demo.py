"""Demo money for one county: six months of payment rolls (made by the administrator, approved by
the county reviewer) and the bank's returns, with a few planted anomalies — a payment to a dead
member, a double payment, a shared account, an unknown 户编号 — then a rescreening batch so the
funds findings are there to review."""
from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from audits import engine
from audits import services as audit_services
from audits.models import DeathRecord
from cases.models import Member, Status
from dibao import partitions
from dibao.models import Region, User
from payments import services
from payments.models import Payment, PaymentLine, PaymentRoll, PaymentStatus
from reports.metrics import previous_month


def _months(today: dt.date, n: int) -> list[dt.date]:
    months = [previous_month(today)]
    while len(months) < n:
        months.append(previous_month(months[-1]))
    return sorted(months)


def _payment(line: PaymentLine, txn: str, **changes) -> Payment:
    values = dict(txn_no=txn, pay_month=line.month, household_no=line.household_no, household_id=line.household_id,
                  # a payee outside the household (guardian, agent) has no name on the roll; the bank names them
                  payee_name=line.payee_name or "代领人", payee_id_number=line.payee_id_number,
                  # the demo households have no card on file; the bank's return names the one it paid into
                  account_no=line.account_no or f"6217{line.household_id:015d}", amount=line.amount, paid_on=line.month.replace(day=10),
                  status=PaymentStatus.SUCCESS, region_code=line.region_code, imported_at=timezone.now())
    values.update(changes)
    return Payment(**values)


def seed(*, county: Region, users: dict[str, User], rng: random.Random) -> str:
    if PaymentRoll.objects.exists():
        return "payments: already seeded"
    maker, checker = users["admin"], users["reviewer"]
    months = _months(timezone.localdate(), 6)
    payments: list[Payment] = []
    for month in months:
        roll = services.roll_create(actor=maker, month=month, region_code=county.code)
        services.roll_approve(actor=checker, roll=roll)
        for line in roll.lines.order_by("household_no"):
            failed = rng.random() < 0.01
            payments.append(_payment(line, f"D{month:%Y%m}{line.household_id:07d}",
                                     status=PaymentStatus.FAILED if failed else PaymentStatus.SUCCESS))
    last = PaymentLine.objects.filter(month=months[-1], roll__region_code=county.code).order_by("household_no")
    lines = list(last[:3])
    if len(lines) == 3:
        twice, shared_a, shared_b = lines
        payments.append(_payment(twice, f"D{months[-1]:%Y%m}R{twice.household_id:06d}"))  # 二次发放
        # shared_b's regular payment of the month goes to shared_a's card (多户共用账户)
        payments.append(_payment(shared_b, f"D{months[-1]:%Y%m}{shared_b.household_id:07d}",
                                 account_no=shared_a.account_no or f"6217{shared_a.household_id:015d}"))
        payments.append(_payment(twice, f"D{months[-1]:%Y%m}U0000001", household_no=f"{county.code}X9999",
                                 household_id=None, region_code=None, payee_name="冒领人"))
    dead = (DeathRecord.current().filter(id_number__in=Member.objects.filter(
        household__region__code__startswith=county.code, household__status=Status.ACTIVE).values("id_number"))
        .order_by("id_number").first())
    if dead is not None:
        member = Member.objects.select_related("household").filter(id_number=dead.id_number).first()
        line = PaymentLine.objects.filter(household=member.household, month=months[-1]).first()
        if line is not None and dead.death_date < months[-1]:
            # the month's payment went to the dead member's own card (死亡人员领低保金)
            payments.append(_payment(line, f"D{months[-1]:%Y%m}{line.household_id:07d}", payee_name=member.name,
                                     payee_id_number=member.id_number))
    # A planted row replaces the regular one of the same 交易流水号.
    by_txn = {p.txn_no: p for p in payments}
    if partitions.is_partitioned(Payment._meta.db_table):  # each month in its partition, as an import leaves it
        for month in months:
            partitions.ensure_month(Payment._meta.db_table, "pay_month", month)
    Payment.objects.bulk_create(by_txn.values(), batch_size=2000)
    # over everything, so the payment to the unknown 户编号 (no region) is checked too
    batch = audit_services.batch_create(actor="system", region_code="", enqueue=False)
    engine.execute_batch(batch.pk)
    return f"payments: {len(months)} rolls approved, {len(by_txn)} payments, funds rules in batch #{batch.pk}"

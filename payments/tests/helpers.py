"""Payments as the bank returns them, for tests."""
import datetime as dt
import itertools
from decimal import Decimal

from cases.models import AmountHistory
from payments.models import Payment

_txn = itertools.count(1)


def pay(household_or_no, month: str, amount="500.00", *, status="success", payee_id="", payee_name="",
        account="6217000000000000001", txn: str | None = None) -> Payment:
    """One transfer for a household (or a bare 户编号) and a month 'YYYY-MM'; the payee is the head."""
    household = None if isinstance(household_or_no, str) else household_or_no
    year, mon = (int(x) for x in month.split("-"))
    return Payment.objects.create(
        txn_no=txn or f"T{next(_txn):010d}", pay_month=dt.date(year, mon, 1),
        household_no=household_or_no if household is None else household.household_no, household=household,
        payee_name=payee_name or (household.head_name if household else "某人"),
        payee_id_number=payee_id or (household.head_id_number if household else "220102197001010011"),
        account_no=account, amount=Decimal(amount), paid_on=dt.date(year, mon, 10), status=status,
        region_code=household.region_id if household else None, imported_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))


def amount(household, month: str, value: str) -> AmountHistory:
    year, mon = (int(x) for x in month.split("-"))
    return AmountHistory.objects.create(household=household, effective_month=dt.date(year, mon, 1),
                                        amount=Decimal(value), source="change")

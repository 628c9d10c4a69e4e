"""Reads of the payments app, scoped to the user's jurisdiction: rolls, the ledger, reconciliation
and payment verification rates."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _

from cases.models import Household
from dibao.permissions import region_name
from dibao.scoping import prefix_sql
from payments import sql
from payments.models import (Payment, PaymentLine, PaymentRoll, PaymentStatus, PaymentVerification,
                             VisitOutcome)

ZERO = Decimal("0.00")
RECONCILIATION_GROUPS = [
    ("as_rolled", _("按名册足额发放")),
    ("unpaid", _("列入名册未发放或发放失败")),
    ("not_rolled", _("未列入名册但有发放")),
    ("other_amount", _("发放金额与名册不符")),
]
LIST_LIMIT = 200


def rolls_for(user):
    return PaymentRoll.objects.for_user(user).select_related("created_by", "approved_by")


def township_totals(roll: PaymentRoll) -> list[dict]:
    """Per township: households, amount and 无账户 count of one roll."""
    from django.db.models.functions import Substr

    rows = (roll.lines.annotate(township=Substr("region_code", 1, 9)).values("township").order_by("township")
            .annotate(households=Count("id"), total=Sum("amount"), no_account=Count("id", filter=Q(account_no=""))))
    return [{**row, "name": region_name(row["township"])} for row in rows]


def payments_for(user):
    """The ledger in the user's scope; payments to a 户编号 the registry does not know have no
    region and are shown to users whose scope is a province or above (payments.md)."""
    qs = Payment.objects.for_user(user)
    prefix = getattr(user, "scope_prefix", None)
    if prefix is not None and len(prefix) <= 2 and user.is_authenticated:
        qs = qs | Payment.objects.filter(region_code__isnull=True)
    return qs


@dataclass
class ReconRow:
    household_no: str
    name: str
    region_code: str
    rolled: Decimal | None
    paid: Decimal | None
    txn_nos: str


@dataclass
class ReconGroup:
    count: int = 0
    rolled: Decimal = ZERO
    paid: Decimal = ZERO
    rows: list = field(default_factory=list)


@dataclass
class Reconciliation:
    month: dt.date
    region_code: str
    groups: dict

    @property
    def unit(self) -> str:
        return region_name(self.region_code)

    @property
    def title(self) -> str:
        return f"{self.unit}{self.month:%Y年%m月}低保金发放"

    @property
    def total_count(self) -> int:
        return sum(g.count for g in self.groups.values())

    @property
    def total_rolled(self) -> Decimal:
        return sum((g.rolled for g in self.groups.values()), ZERO)

    @property
    def total_paid(self) -> Decimal:
        return sum((g.paid for g in self.groups.values()), ZERO)


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def reconcile(*, month: dt.date, region_code: str, include_unknown: bool, limit: int | None = LIST_LIMIT) -> Reconciliation:
    """The month's roll lines of the region against its successful payments, summed per 户编号:
    paid as on the roll; on the roll but not paid (or only failed); paid but not on the roll;
    paid another amount. `limit` caps each list (the page); None keeps them whole (the workbook)."""
    month = month.replace(day=1)
    line, pay, h = PaymentLine._meta.db_table, Payment._meta.db_table, Household._meta.db_table
    pay_region, rparams = prefix_sql("p.region_code", region_code)
    line_region = prefix_sql("l.region_code", region_code)[0]
    if include_unknown and region_code:
        pay_region = f"({pay_region} OR p.region_code IS NULL)"
    paid = (f"SELECT p.household_no, SUM(p.amount) AS paid, {sql.joined('p.txn_no')} AS txns, "
            "MIN(p.region_code) AS region_code, MIN(p.payee_name) AS payee FROM "
            f"(SELECT * FROM {pay} p WHERE p.pay_month = %s AND p.status = %s AND {pay_region} "
            "ORDER BY p.txn_no) p GROUP BY p.household_no")
    pparams = [month.isoformat(), PaymentStatus.SUCCESS.value, *rparams]
    rolled = f"SELECT l.household_no, l.amount, l.region_code, l.payee_name FROM {line} l WHERE l.month = %s AND {line_region}"
    lparams = [month.isoformat(), *rparams]
    statements = [
        (f"SELECT r.household_no, r.payee_name, r.region_code, r.amount, x.paid, x.txns FROM ({rolled}) r "
         f"LEFT JOIN ({paid}) x ON x.household_no = r.household_no ORDER BY r.region_code, r.household_no",
         [*lparams, *pparams]),
        (f"SELECT x.household_no, COALESCE(hh.head_name, x.payee), COALESCE(x.region_code, ''), NULL, x.paid, x.txns "
         f"FROM ({paid}) x LEFT JOIN {h} hh ON hh.household_no = x.household_no "
         f"WHERE NOT EXISTS (SELECT 1 FROM {line} l2 WHERE l2.month = %s AND l2.household_no = x.household_no) "
         "ORDER BY COALESCE(x.region_code, ''), x.household_no",
         [*pparams, month.isoformat()]),
    ]
    groups = {key: ReconGroup() for key, _label in RECONCILIATION_GROUPS}
    with connection.cursor() as cursor:
        for statement, params in statements:
            cursor.execute(statement, params)
            for no, name, region, rolled_amount, paid_amount, txns in cursor:
                row = ReconRow(no, name or "", region or "", _dec(rolled_amount), _dec(paid_amount), txns or "")
                if row.rolled is None:
                    key = "not_rolled"
                elif row.paid is None:
                    key = "unpaid"
                elif row.paid == row.rolled:
                    key = "as_rolled"
                else:
                    key = "other_amount"
                group = groups[key]
                group.count += 1
                group.rolled += row.rolled or ZERO
                group.paid += row.paid or ZERO
                if limit is None or len(group.rows) < limit:
                    group.rows.append(row)
    return Reconciliation(month=month, region_code=region_code, groups=groups)


def rollup_metrics(*, start: dt.date, end: dt.date) -> dict[str, dict]:
    """Township → amount_paid (successful payments with pay month in the period) and
    payment_anomalies (section D findings of that pay month, each problem once across batches)."""
    from django.db.models.functions import Concat, Substr
    from django.db.models import Value

    from audits.catalogue import codes_of_section
    from audits.models import Finding

    result: dict[str, dict] = {}
    rows = (Payment.objects.filter(status=PaymentStatus.SUCCESS, pay_month__gte=start.replace(day=1),
                                   pay_month__lte=end, region_code__isnull=False)
            .annotate(town=Substr("region_code", 1, 9)).values("town").order_by()
            .annotate(total=Sum("amount")))
    for row in rows:
        result.setdefault(row["town"], {})["amount_paid"] = (row["total"] or ZERO).quantize(Decimal("0.01"))
    anomalies = (Finding.objects.filter(rule__in=codes_of_section("D"), month=f"{start:%Y-%m}")
                 .exclude(region_code="").annotate(town=Substr("region_code", 1, 9)).values("town").order_by()
                 .annotate(n=Count(Concat("rule", Value("|"), "subject_key"), distinct=True)))
    for row in anomalies:
        result.setdefault(row["town"], {})["payment_anomalies"] = row["n"]
    return result


def verifications_for(user):
    """Each township's sample of a month, with the households drawn, answered and with a problem."""
    return (PaymentVerification.objects.for_user(user).select_related("drawn_by")
            .annotate(drawn=Count("visits"),
                      answered=Count("visits", filter=Q(visits__result__in=VisitOutcome.answered())),
                      problems=Count("visits", filter=Q(visits__result__in=VisitOutcome.problems()))))


def with_rates(verifications) -> list:
    """The rows of `verifications_for` with answer rate (answered / drawn) and problem rate (problems /
    answered) in percent; None while nothing is drawn or answered."""
    def pct(part, whole):
        return None if not whole else (Decimal(part) * 100 / whole).quantize(Decimal("0.1"))

    rows = list(verifications)
    for v in rows:
        v.answer_rate, v.problem_rate = pct(v.answered, v.drawn), pct(v.problems, v.answered)
    return rows

"""The three facts the roll and the funds rules share, as SQL over a household alias and a month
expression, so "who is paid" and "who should not have been paid" can never drift apart.

Valid on PostgreSQL and SQLite alike; a month is the DATE of its first day.
"""
from __future__ import annotations

from django.conf import settings
from django.db import connection

from cases.models import AmountHistory, PaymentSuspension


def next_month(month_sql: str) -> str:
    """The first day of the month after `month_sql` (itself a month's first day)."""
    if connection.vendor == "postgresql":
        return f"CAST({month_sql} + INTERVAL '1 month' AS DATE)"
    return f"date({month_sql}, '+1 month')"


def month_text(month_sql: str) -> str:
    """'YYYY-MM' of a month's date."""
    return f"substr(CAST({month_sql} AS TEXT), 1, 7)"


def active_during(h: str, month_sql: str) -> str:
    """payments.md: status 在保 or 已退出, decided on or before the month's last day (before its
    first day where the province pays from the month after the decision, PAY_FROM_NEXT_MONTH),
    and not exited on or before its first day."""
    decided = (f"{h}.decided_on < {month_sql}" if getattr(settings, "PAY_FROM_NEXT_MONTH", False)
               else f"{h}.decided_on < {next_month(month_sql)}")
    return (f"({h}.status IN ('active', 'exited') AND {h}.decided_on IS NOT NULL AND {decided} "
            f"AND ({h}.exited_on IS NULL OR {h}.exited_on > {month_sql}))")


def suspended_in(h: str, month_sql: str) -> str:
    """停发 for the month: a recorded suspension covers it (from_month ≤ M ≤ to_month, open-ended while
    not resumed); a household flagged 停发 with no suspension on record (registered before the history
    was kept, or imported) counts as suspended in every month until it is resumed through a change."""
    s = PaymentSuspension._meta.db_table
    return (f"(EXISTS (SELECT 1 FROM {s} s WHERE s.household_id = {h}.id AND s.from_month <= {month_sql} "
            f"AND (s.to_month IS NULL OR s.to_month >= {month_sql})) "
            f"OR ({h}.payment_stopped AND NOT EXISTS (SELECT 1 FROM {s} s0 WHERE s0.household_id = {h}.id)))")


def amount_in_force(h: str, month_sql: str) -> str:
    """The latest amount of the household's history effective on or before the month (one index
    probe on (household, effective_month)); a household with no history at all — registered
    before amounts were kept — has its registered monthly amount (as AMOUNT_MISMATCH reads it)."""
    ah = AmountHistory._meta.db_table
    latest = (f"(SELECT a.amount FROM {ah} a WHERE a.household_id = {h}.id AND a.effective_month <= {month_sql} "
              "ORDER BY a.effective_month DESC, a.id DESC LIMIT 1)")
    return f"COALESCE({latest}, {_registered_without_history(h)})"


def amount_in_force_joined(h: str, month_sql: str, alias: str = "air") -> tuple[str, str]:
    """`amount_in_force` for many (household, month) pairs at once: (a LEFT JOIN of the amount
    history as ranges of months, the amount). The range of a history row runs from its month to the
    next row's (ties in a month: the highest id last, as `amount_in_force` picks it), so the row in
    force for a month is the one whose range holds it — one hash join instead of a probe per row."""
    ah = AmountHistory._meta.db_table
    ranges = (f"SELECT a.household_id, a.amount, a.effective_month AS from_month, LEAD(a.effective_month) OVER "
              f"(PARTITION BY a.household_id ORDER BY a.effective_month, a.id) AS until_month FROM {ah} a")
    join = (f"LEFT JOIN ({ranges}) {alias} ON {alias}.household_id = {h}.id AND {alias}.from_month <= {month_sql} "
            f"AND ({alias}.until_month IS NULL OR {alias}.until_month > {month_sql})")
    return join, f"COALESCE({alias}.amount, {_registered_without_history(h)})"


def _registered_without_history(h: str) -> str:
    """A household with no amount history at all (registered before amounts were kept) is paid its
    registered monthly amount."""
    ah = AmountHistory._meta.db_table
    return f"CASE WHEN NOT EXISTS (SELECT 1 FROM {ah} a0 WHERE a0.household_id = {h}.id) THEN {h}.monthly_amount END"


def cents(expr: str) -> str:
    return f"CAST(ROUND({expr} * 100) AS BIGINT)"


def joined(column: str) -> str:
    """The values of a group joined with ',' in ascending order (the 交易流水号 behind a finding)."""
    if connection.vendor == "postgresql":
        return f"string_agg({column}, ',' ORDER BY {column})"
    # SQLite keeps the order its input arrives in; callers feed it rows sorted by the column.
    return f"group_concat({column}, ',')"

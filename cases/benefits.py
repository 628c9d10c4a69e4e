"""The benefit amount (差额) of workflow.md, in one place.

The standard in force, the formula, 单人保 and the amount history are read here by the
forms, the services, the rescreening rule AMOUNT_MISMATCH, 调标 and payments. The Python
functions serve one household; `computed_amounts_sql` is the same formula for a whole
region in SQL (PostgreSQL and SQLite alike), so the two can never drift apart silently —
tests compare them on the same families.

Money is computed in whole cents (integers) in SQL and in Decimal in Python, so rounding
half up to whole yuan gives the same result on both sides and on both databases.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import AmountHistory, BenefitStandard, DisabilityCategory, Household, Member

YUAN = Decimal("1")
CENT = Decimal("0.01")
STANDARD_REGION_LENGTHS = (2, 4, 6)


def edge_factor() -> Decimal:
    return Decimal(str(getattr(settings, "EDGE_FACTOR", "1.5")))


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def first_month_in_force(effective_from: dt.date) -> dt.date:
    """A standard is in force for month M when it is effective on M's first day, so one
    effective mid-month counts from the next month."""
    if effective_from.day == 1:
        return effective_from
    return (effective_from.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def standard_in_force(*, region_code: str, category: str, month: dt.date) -> BenefitStandard | None:
    """Rows of the category effective on the month's first day; of those, the longest region
    code that is a prefix of the household's; of those, the latest effective date."""
    prefixes = [region_code[:n] for n in STANDARD_REGION_LENGTHS if n <= len(region_code)]
    return (BenefitStandard.objects
            .filter(region_id__in=prefixes, category=category, effective_from__lte=month_start(month))
            .order_by(Length("region_id").desc(), "-effective_from", "-id")
            .first())


def _yuan(value: Decimal) -> str:
    """490 → "490", 490.5 → "490.50": standards are usually whole yuan, shown as set."""
    return f"{value:.0f}" if value == value.to_integral_value() else f"{value:.2f}"


@dataclass(frozen=True)
class AmountWorking:
    amount: Decimal              # whole yuan, ROUND_HALF_UP, never below 0
    covered_persons: int
    income_total: Decimal        # the covered persons' income: the family's, or the 单人保 member's own
    income_per_head: Decimal     # the whole family's income per member (the edge-family test reads it)
    standard: Decimal
    single: bool
    working: str                 # one line in Chinese, shown next to the amount

    def __str__(self) -> str:
        return self.working


def compute_amount(*, standard: Decimal, incomes: list[Decimal | None],
                   single_member_income: Decimal | None = None) -> AmountWorking:
    """`incomes`: every member's monthly income (empty = 0). With `single_member_income` the
    household is paid as a one-person household from that member's own income (单人保)."""
    family = [income or Decimal("0") for income in incomes]
    family_total = sum(family, Decimal("0")).quantize(CENT)
    per_head = (family_total / len(family)).quantize(CENT, ROUND_HALF_UP) if family else Decimal("0.00")
    single = single_member_income is not None
    if single:
        covered, income = 1, (single_member_income or Decimal("0")).quantize(CENT)
        gross = standard - income
        expression = _("单人保：（%(s)s 元 − %(i)s 元）") % {"s": _yuan(standard), "i": f"{income:.2f}"}
    else:
        covered, income = len(family), family_total
        gross = standard * covered - income
        expression = _("（%(s)s 元 × %(n)d 人 − %(i)s 元）") % {"s": _yuan(standard), "n": covered,
                                                                "i": f"{income:.2f}"}
    amount = max(gross, Decimal("0")).quantize(YUAN, ROUND_HALF_UP)
    if gross <= 0:
        working = _("%(e)s = %(g)s 元，收入不低于标准，补差 0 元") % {"e": expression, "g": f"{gross:.2f}"}
    elif gross == amount:
        working = f"{expression}= {amount} 元"
    else:
        working = _("%(e)s= %(g)s 元，四舍五入为 %(a)s 元") % {"e": expression, "g": f"{gross:.2f}", "a": amount}
    return AmountWorking(amount=amount, covered_persons=covered, income_total=income,
                         income_per_head=per_head, standard=standard, single=single, working=working)


def is_edge_family(*, standard: Decimal, incomes: list[Decimal | None]) -> bool:
    """边缘家庭: income per head below EDGE_FACTOR × the standard."""
    if not incomes:
        return False
    total = sum((income or Decimal("0") for income in incomes), Decimal("0"))
    return total / len(incomes) < edge_factor() * standard


def single_coverage_eligible(member: Member) -> bool:
    """Grade 1–2 disability of any kind, grade 3 intellectual or mental disability, or a serious illness."""
    level = member.disability_level
    return bool(
        member.serious_illness
        or (level in (1, 2) and member.disability_category)
        or (level == 3 and member.disability_category in (DisabilityCategory.INTELLECTUAL, DisabilityCategory.MENTAL))
    )


def household_amount(household: Household, month: dt.date) -> AmountWorking | None:
    """The formula for a registered household in a month; None when no standard is in force.
    A 单人保 member who is no longer a member leaves an ordinary household."""
    standard = standard_in_force(region_code=household.region_id, category=household.category, month=month)
    if standard is None:
        return None
    members = list(household.members.all())
    single = next((m for m in members if household.single_coverage_id_number
                   and m.id_number == household.single_coverage_id_number), None)
    return compute_amount(standard=standard.monthly_standard, incomes=[m.monthly_income for m in members],
                          single_member_income=(single.monthly_income or Decimal("0")) if single else None)


def amount_in_force(household_id: int, month: dt.date) -> Decimal | None:
    """The latest amount of the history effective on or before the month."""
    return (AmountHistory.objects
            .filter(household_id=household_id, effective_month__lte=month_start(month))
            .order_by("-effective_month", "-id")
            .values_list("amount", flat=True)
            .first())


# --------------------------------------------------------------------------- the formula in SQL
def _cents(expr: str) -> str:
    return f"CAST(ROUND({expr} * 100) AS BIGINT)"


def standards_in_force_sql(households_sql: str) -> str:
    """(county, category, standard_id, standard_cents) for each county and category that
    `households_sql` (a FROM-able query with region_code, category) has: the workflow.md
    lookup done once per county, as standards are set at county level or above and the
    longest prefix of a household's code is then the longest prefix of its county's.
    One placeholder: the month's first day."""
    s = BenefitStandard._meta.db_table
    pick = (f"SELECT s.id FROM {s} s WHERE s.category = c.category AND s.effective_from <= %s "
            "AND substr(c.county, 1, LENGTH(s.region_code)) = s.region_code "
            "ORDER BY LENGTH(s.region_code) DESC, s.effective_from DESC, s.id DESC LIMIT 1")
    # OFFSET 0 keeps PostgreSQL from pulling the lookup up into the join with the households,
    # where it would run once per household instead of once per county.
    fence = " OFFSET 0" if connection.vendor == "postgresql" else ""
    return (f"SELECT x.county, x.category, st.id AS standard_id, {_cents('st.monthly_standard')} AS standard_cents "
            f"FROM (SELECT c.county, c.category, ({pick}) AS standard_id FROM "
            f"(SELECT DISTINCT substr(hh.region_code, 1, 6) AS county, hh.category FROM ({households_sql}) hh) c"
            f"{fence}) x JOIN {s} st ON st.id = x.standard_id")


def computed_amounts_sql(*, where: str, params: list, month: dt.date) -> tuple[str, list]:
    """One row per active household matching `where` (over alias h) that has a standard in force:
    household_id, region_code, head_id_number, head_name, monthly_amount, standard_id, standard_cents, members, covered_persons, single_id (the 单人保
    member's ID number when they are a member, else ''), income_cents (the covered persons'),
    amount_cents (the formula, whole yuan × 100).

    `params` are those of `where`; the month is any day of the month the standard is taken for.
    """
    h, m = Household._meta.db_table, Member._meta.db_table
    households = f"SELECT h.id, h.region_code, h.category FROM {h} h WHERE h.status = 'active' AND {where}"
    income = _cents("COALESCE(m.monthly_income, 0)")
    is_single = "(h.single_coverage_id_number <> '' AND m.id_number = h.single_coverage_id_number)"
    # Members are summed per household first (plain equality joins the planner estimates well),
    # then matched with the standard of the household's county and category.
    members = (
        f"SELECT m.household_id, COUNT(*) AS members, CAST(SUM({income}) AS BIGINT) AS family_cents, "
        f"MAX(CASE WHEN {is_single} THEN m.id_number END) AS single_id, "
        f"MAX(CASE WHEN {is_single} THEN {income} END) AS single_cents "
        f"FROM {m} m JOIN {h} h ON h.id = m.household_id WHERE h.status = 'active' AND {where} "
        "GROUP BY m.household_id")
    per_household = (
        "SELECT h.id AS household_id, h.region_code, h.head_id_number, h.head_name, h.monthly_amount, "
        "st.standard_id, st.standard_cents, COALESCE(p.members, 0) AS members, "
        "COALESCE(p.family_cents, 0) AS family_cents, p.single_id, p.single_cents "
        f"FROM {h} h JOIN ({standards_in_force_sql(households)}) st "
        "ON st.county = substr(h.region_code, 1, 6) AND st.category = h.category "
        f"LEFT JOIN ({members}) p ON p.household_id = h.id "
        f"WHERE h.status = 'active' AND {where}")
    gross = ("CASE WHEN a.single_id IS NULL THEN a.standard_cents * a.members - a.family_cents "
             "ELSE a.standard_cents - a.single_cents END")
    return ("SELECT a.household_id, a.region_code, a.head_id_number, a.head_name, a.monthly_amount, "
            "a.standard_id, a.standard_cents, a.members, "
            "CASE WHEN a.single_id IS NULL THEN a.members ELSE 1 END AS covered_persons, "
            "COALESCE(a.single_id, '') AS single_id, "
            "CASE WHEN a.single_id IS NULL THEN a.family_cents ELSE a.single_cents END AS income_cents, "
            f"CASE WHEN {gross} > 0 THEN (({gross}) + 50) / 100 * 100 ELSE 0 END AS amount_cents "
            f"FROM ({per_household}) a"), [month_start(month), *params, *params, *params]


def amounts_in_force_sql() -> str:
    """(household_id, amount) of the latest history row effective on or before a month, one
    row per household that has one. One placeholder: the month's first day."""
    return ("SELECT ah.household_id, ah.amount FROM (SELECT household_id, amount, ROW_NUMBER() OVER "
            "(PARTITION BY household_id ORDER BY effective_month DESC, id DESC) AS rn "
            f"FROM {AmountHistory._meta.db_table} WHERE effective_month <= %s) ah WHERE ah.rn = 1")


def _month_start_sql(vendor: str, column: str) -> str:
    if vendor == "postgresql":
        return f"CAST(date_trunc('month', {column}) AS DATE)"
    return f"date({column}, 'start of month')"


def record_imported_amounts(cursor, *, households_where: str, params: list, now: dt.datetime) -> None:
    """The amount history of households whose decisive facts came from a file (a legacy
    migration): their imported amount from their decision month (exited households: their
    last amount). A re-import with the same facts changes nothing; a corrected amount or
    decision date replaces the earlier imported row. Set-based, over the households of
    `households_where` (alias h, with `params`)."""
    ah, h = AmountHistory._meta.db_table, Household._meta.db_table
    vendor = cursor.db.vendor
    month = _month_start_sql(vendor, "h.decided_on")
    if vendor == "sqlite":  # Django keeps naive UTC there
        now = timezone.make_naive(now, dt.timezone.utc)
    imported = ("h.status IN ('active', 'exited') AND h.decided_on IS NOT NULL AND h.monthly_amount IS NOT NULL")
    same = f"a.household_id = h.id AND a.source = 'import' AND a.effective_month = {month} AND a.amount = h.monthly_amount"
    cursor.execute(
        f"DELETE FROM {ah} WHERE source = 'import' AND household_id IN (SELECT h.id FROM {h} h WHERE {households_where}) "
        f"AND NOT EXISTS (SELECT 1 FROM {h} h, {ah} a WHERE h.id = {ah}.household_id AND a.id = {ah}.id "
        f"AND {imported} AND {same})", params)
    cursor.execute(
        f"INSERT INTO {ah} (household_id, effective_month, amount, covered_persons, single_coverage_id_number, "
        "source, note, decided_by_id, created_at) "
        f"SELECT h.id, {month}, h.monthly_amount, CASE WHEN h.single_coverage_id_number <> '' THEN 1 END, "
        f"h.single_coverage_id_number, 'import', '', NULL, %s FROM {h} h WHERE {imported} AND {households_where} "
        f"AND NOT EXISTS (SELECT 1 FROM {ah} a WHERE {same})", [now, *params])

"""The rescreening rules of spec/rules.md as set-based SQL.

Every rule is one SELECT over the registry and the current cross-check versions that
yields the columns of a finding; the engine wraps it in `INSERT INTO audits_finding …
SELECT` for one chunk (one county). The SQL is valid on PostgreSQL and SQLite alike:
dates are compared with ISO strings computed in Python, text is built with `||`, and
"one of several pieces of evidence" is picked with MIN() so the result is deterministic.

Columns every rule yields:
  household_id, id_number, name, region_code, subject_key, source, facts
`source` names the evidence (data set and version), `facts` the evidence itself; the
finding's detail is `source：facts` and its evidence fingerprint hashes `facts`, so a
new version of a data set with the same record keeps the fingerprint.
"""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

from django.conf import settings
from django.db import connection

from audits import models as m
from audits.catalogue import BY_CODE, RuleInfo
from cases import benefits
from cases.models import Household, Member, RelativeFiling, Staff, StaffType, Status
from dibao.scoping import prefix_sql
from payments import sql as pay_sql
from payments.models import Payment

H = Household._meta.db_table
M = Member._meta.db_table
S = Staff._meta.db_table
F = RelativeFiling._meta.db_table
PAY = Payment._meta.db_table

ACTIVE = "active"
EXITED = "exited"
REJECTED = "rejected"
CLOSE_RELATIONS = ("配偶", "父母", "子女", "兄弟姐妹", "祖父母", "外祖父母", "孙子女", "外孙子女")

DEFAULTS = {
    "DECEASED_GRACE_DAYS": 30,
    "PROPERTY_MAX_HOMES": 1,
    "EXITED_SINCE": "2016-01-01",
    "REJECTED_SINCE": "2017-01-01",
    "REVIEW_INTERVAL_MONTHS": {"A": 12, "B": 6, "C": 3},
    "VEHICLE_EXEMPT_TYPES": ["摩托车", "三轮汽车", "低速货车", "拖拉机", "残疾人专用车"],
    "BUSINESS_ACTIVE_STATUSES": ["存续", "在业"],
    "PROPERTY_HOME_USAGE": "住宅",
    "AMOUNT_TOLERANCE": "1.00",
    "PAYMENT_LOOKBACK_MONTHS": 12,
}


def current_params() -> dict:
    """The rule parameters a batch runs with: each setting of the same name, else the default."""
    params = {}
    for name, default in DEFAULTS.items():
        value = getattr(settings, name, default)
        if isinstance(value, dt.date):
            value = value.isoformat()
        if isinstance(value, tuple):
            value = list(value)
        params[name] = value
    return params


def months_before(day: dt.date, months: int) -> dt.date:
    """Calendar months back, the day clamped to the month's end (10-31 − 6 months = 04-30)."""
    index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def region_filter(column: str, mode: str, value: str) -> tuple[str, list]:
    """SQL for "in this region": a prefix as the code range of `dibao.scoping.prefix_range` (so any
    b-tree index serves it, whatever the database collation), an exact code, no region at all, or
    no filter."""
    if mode == "like":
        return prefix_sql(column, value) if value else ("1 = 0", [])
    if mode == "exact":
        return f"{column} = %s", [value]
    if mode == "all":
        return "1 = 1", []
    return f"{column} = %s", [""]


@dataclass
class Context:
    """Everything a rule's SQL needs for one chunk."""

    as_of: dt.date
    params: dict
    versions: dict  # kind -> (version id, version no)
    region_mode: str  # "like" (prefix) | "exact" | "none" (no region) | "all" (no filter)
    region_value: str
    extra: dict = field(default_factory=dict)

    def region(self, column: str) -> tuple[str, list]:
        return region_filter(column, self.region_mode, self.region_value)

    def version(self, kind: str) -> int:
        # No current version of a kind: id -1 matches no row, the rule yields nothing.
        return self.versions.get(kind, (-1, 0))[0]

    def source(self, kind: str) -> str:
        vid, no = self.versions.get(kind, (-1, 0))
        return f"{m.RefKind(kind).label}数据 v{no}"


@dataclass(frozen=True)
class Rule:
    """A catalogue entry with the query that finds it."""

    info: RuleInfo
    build: Callable[[Context], tuple[str, list]]

    code = property(lambda self: self.info.code)
    name = property(lambda self: str(self.info.name))
    section = property(lambda self: self.info.section)
    per_household = property(lambda self: self.info.per_household)


def _q(value: str) -> str:
    """A constant string as an SQL literal (only ever our own constants)."""
    return "'" + value.replace("'", "''") + "'"


def _in(values) -> str:
    return "(" + ", ".join(_q(v) for v in values) + ")"


MEMBER_KEY = "CAST(h.id AS TEXT) || ':' || m.id_number"
HOUSEHOLD_KEY = "CAST(h.id AS TEXT) || ':'"


def _active_members(ctx: Context) -> tuple[str, list]:
    where, params = ctx.region("h.region_code")
    return (f"FROM {M} m JOIN {H} h ON h.id = m.household_id WHERE h.status = {_q(ACTIVE)} AND {where}", params)


def _member_select(source_sql: str, facts_sql: str) -> str:
    return (f"SELECT h.id AS household_id, m.id_number AS id_number, m.name AS name, "
            f"h.region_code AS region_code, {MEMBER_KEY} AS subject_key, {source_sql} AS source, "
            f"{facts_sql} AS facts")


def _staff_label_sql(column: str) -> str:
    whens = " ".join(f"WHEN {_q(v)} THEN {_q(str(label))}" for v, label in StaffType.choices)
    return f"(CASE {column} {whens} ELSE {column} END)"


# --- A. wrongful inclusion -------------------------------------------------------------

def deceased(ctx: Context):
    base, params = _active_members(ctx)
    cutoff = ctx.as_of - dt.timedelta(days=int(ctx.params["DECEASED_GRACE_DAYS"]))
    d = m.DeathRecord._meta.db_table
    sql = (_member_select("CAST(%s AS TEXT)", "'死亡日期 ' || CAST(MIN(d.death_date) AS TEXT)")
           + f" {base.replace('WHERE', f'JOIN {d} d ON d.version_id = %s AND d.id_number = m.id_number WHERE', 1)}"
           + " AND d.death_date <= %s GROUP BY h.id, m.id_number, m.name, h.region_code")
    return sql, [ctx.source("deaths"), ctx.version("deaths"), *params, cutoff.isoformat()]


def public_payroll(ctx: Context):
    """On the payroll data set, or a staff row of a salaried type; the payroll record is named first."""
    base, params = _active_members(ctx)
    p = m.PayrollRecord._meta.db_table
    payroll_types = _in([StaffType.PUBLIC_PAYROLL, StaffType.CIVIL_AFFAIRS])
    # One joinable set of evidence (priority digit + text) so the database can hash-join it.
    evidence = (f"SELECT p.id_number, '0工作单位 ' || p.employer AS fact FROM {p} p WHERE p.version_id = %s "
                f"UNION ALL SELECT s.id_number, '1' || {_staff_label_sql('s.staff_type')} || '，工作单位 ' || s.employer "
                f"FROM {S} s WHERE s.staff_type IN {payroll_types}")
    sql = (_member_select("CASE WHEN MIN(x.fact) < '1' THEN CAST(%s AS TEXT) ELSE '工作人员名册' END",
                          "SUBSTR(MIN(x.fact), 2)")
           + f" {base.replace('WHERE', f'JOIN ({evidence}) x ON x.id_number = m.id_number WHERE', 1)}"
           " GROUP BY h.id, m.id_number, m.name, h.region_code")
    return sql, [ctx.source("payroll"), ctx.version("payroll"), *params]


def staff_self(ctx: Context):
    base, params = _active_members(ctx)
    types = _in([StaffType.VILLAGE_CADRE, StaffType.CASEWORKER])
    sql = (_member_select("'工作人员名册'", f"{_staff_label_sql('s.staff_type')} || '，工作单位 ' || s.employer")
           + f" {base.replace('WHERE', f'JOIN {S} s ON s.id_number = m.id_number WHERE', 1)}"
           f" AND s.staff_type IN {types}")
    return sql, params


def relative_filed(ctx: Context):
    base, params = _active_members(ctx)
    facts = ("MIN('备案人 ' || s.name || '（' || " + _staff_label_sql("s.staff_type")
             + " || '），关系 ' || f.relation || '，备案日期 ' || CAST(f.filed_on AS TEXT))")
    sql = (_member_select("'近亲属备案'", facts)
           + f" {base.replace('WHERE', f'JOIN {F} f ON f.relative_id_number = m.id_number JOIN {S} s ON s.id = f.staff_id WHERE', 1)}"
           " GROUP BY h.id, m.id_number, m.name, h.region_code")
    return sql, params


def relative_unfiled(ctx: Context):
    """Kinship in either direction between a staff person and a member, with no filing for the pair."""
    k = m.KinshipRecord._meta.db_table
    where, params = ctx.region("h.region_code")
    close = _in(CLOSE_RELATIONS)
    no_filing = f"NOT EXISTS (SELECT 1 FROM {F} f WHERE f.staff_id = s.id AND f.relative_id_number = m.id_number)"
    branch = ("SELECT h.id AS household_id, m.id_number AS id_number, m.name AS name, h.region_code AS region_code, "
              "{facts} AS facts FROM {M} m JOIN {H} h ON h.id = m.household_id "
              "JOIN {k} k ON k.version_id = %s AND k.{member_col} = m.id_number "
              "JOIN {S} s ON s.id_number = k.{staff_col} "
              "WHERE h.status = {active} AND {where} AND k.relation IN {close} AND {no_filing}")
    # A = staff, B = member: the member is the staff person's <relation>.
    staff_is_a = branch.format(facts="'工作人员 ' || s.name || ' 的' || k.relation", M=M, H=H, k=k, S=S,
                               member_col="id_number_b", staff_col="id_number_a", active=_q(ACTIVE),
                               where=where, close=close, no_filing=no_filing)
    # A = member, B = staff: the staff person is the member's <relation>.
    staff_is_b = branch.format(facts="'其' || k.relation || '为工作人员 ' || s.name", M=M, H=H, k=k, S=S,
                               member_col="id_number_a", staff_col="id_number_b", active=_q(ACTIVE),
                               where=where, close=close, no_filing=no_filing)
    v = ctx.version("kinship")
    sql = ("SELECT x.household_id, x.id_number, x.name, x.region_code, "
           "CAST(x.household_id AS TEXT) || ':' || x.id_number AS subject_key, CAST(%s AS TEXT) AS source, "
           "MIN(x.facts) || '，无近亲属备案' AS facts "
           f"FROM ({staff_is_a} UNION ALL {staff_is_b}) x "
           "GROUP BY x.household_id, x.id_number, x.name, x.region_code")
    return sql, [ctx.source("kinship"), v, *params, v, *params]


def duplicate(ctx: Context):
    base, params = _active_members(ctx)
    other = (f"FROM {M} m2 JOIN {H} h2 ON h2.id = m2.household_id WHERE m2.id_number = m.id_number "
             f"AND h2.status = {_q(ACTIVE)} AND h2.id <> h.id")
    facts = (f"'同时为 ' || CAST((SELECT COUNT(*) {other}) + 1 AS TEXT) || ' 个在保家庭的成员，另见户 ' "
             f"|| (SELECT MIN(h2.household_no) {other})")
    sql = _member_select("'低保家庭登记'", facts) + f" {base} AND EXISTS (SELECT 1 {other})"
    return sql, params


def asset_vehicle(ctx: Context):
    base, params = _active_members(ctx)
    v = m.VehicleRecord._meta.db_table
    facts = ("'号牌 ' || MIN(v.plate_no || '（' || v.vehicle_type || '）') || "
             "CASE WHEN COUNT(*) > 1 THEN ' 等 ' || CAST(COUNT(*) AS TEXT) || ' 辆' ELSE '' END")
    sql = (_member_select("CAST(%s AS TEXT)", facts)
           + f" {base.replace('WHERE', f'JOIN {v} v ON v.version_id = %s AND v.id_number = m.id_number WHERE', 1)}"
           f" AND v.vehicle_type NOT IN {_in(ctx.params['VEHICLE_EXEMPT_TYPES'])}"
           " GROUP BY h.id, m.id_number, m.name, h.region_code")
    return sql, [ctx.source("vehicles"), ctx.version("vehicles"), *params]


def asset_business(ctx: Context):
    base, params = _active_members(ctx)
    b = m.BusinessRecord._meta.db_table
    facts = ("MIN(b.company_name || '（' || b.status || '）') || "
             "CASE WHEN COUNT(*) > 1 THEN ' 等 ' || CAST(COUNT(*) AS TEXT) || ' 户' ELSE '' END")
    sql = (_member_select("CAST(%s AS TEXT)", facts)
           + f" {base.replace('WHERE', f'JOIN {b} b ON b.version_id = %s AND b.id_number = m.id_number WHERE', 1)}"
           f" AND b.status IN {_in(ctx.params['BUSINESS_ACTIVE_STATUSES'])}"
           " GROUP BY h.id, m.id_number, m.name, h.region_code")
    return sql, [ctx.source("business"), ctx.version("business"), *params]


def asset_property(ctx: Context):
    """Homes owned by the members together; co-owners of one unit own one home."""
    base, params = _active_members(ctx)
    p = m.PropertyRecord._meta.db_table
    facts = ("'家庭成员名下住宅 ' || CAST(COUNT(DISTINCT p.unit_no) AS TEXT) || ' 套（不动产单元号 ' "
             "|| MIN(p.unit_no) || ' 等）'")
    sql = ("SELECT h.id AS household_id, h.head_id_number AS id_number, h.head_name AS name, "
           f"h.region_code AS region_code, {HOUSEHOLD_KEY} AS subject_key, CAST(%s AS TEXT) AS source, "
           f"{facts} AS facts "
           + base.replace("WHERE", f"JOIN {p} p ON p.version_id = %s AND p.id_number = m.id_number WHERE", 1)
           + " AND p.usage = %s GROUP BY h.id, h.head_id_number, h.head_name, h.region_code"
           " HAVING COUNT(DISTINCT p.unit_no) > %s")
    return sql, [ctx.source("property"), ctx.version("property"), *params,
                 ctx.params["PROPERTY_HOME_USAGE"], int(ctx.params["PROPERTY_MAX_HOMES"])]


def _household_select(source_sql: str, facts_sql: str) -> str:
    return ("SELECT h.id AS household_id, h.head_id_number AS id_number, h.head_name AS name, "
            f"h.region_code AS region_code, {HOUSEHOLD_KEY} AS subject_key, {source_sql} AS source, "
            f"{facts_sql} AS facts FROM {H} h")


def review_overdue(ctx: Context):
    where, params = ctx.region("h.region_code")
    intervals = ctx.params["REVIEW_INTERVAL_MONTHS"]
    cutoffs = {cls: months_before(ctx.as_of, int(n)) for cls, n in sorted(intervals.items())}
    last = "COALESCE(h.last_reviewed_on, h.decided_on)"
    cutoff_case = "CASE h.management_class " + " ".join(
        f"WHEN {_q(cls)} THEN {_q(c.isoformat())}" for cls, c in cutoffs.items()) + " END"
    interval_case = "CASE h.management_class " + " ".join(
        f"WHEN {_q(cls)} THEN {_q(str(intervals[cls]))}" for cls in cutoffs) + " END"
    facts = (f"h.management_class || '类家庭应每 ' || {interval_case} || ' 个月复核，' || "
             "CASE WHEN h.last_reviewed_on IS NULL THEN '审批后从未复核（审批日期 ' || CAST(h.decided_on AS TEXT) "
             "ELSE '最近复核日期 ' || CAST(h.last_reviewed_on AS TEXT) END || "
             f"'，早于 ' || {cutoff_case} || '）'")
    # One comparison per class, each against a date parameter (a CASE of literals would be text on PostgreSQL).
    overdue = " OR ".join(f"(h.management_class = {_q(cls)} AND {last} < %s)" for cls in cutoffs)
    sql = (_household_select("'低保家庭登记'", facts)
           + f" WHERE h.status = {_q(ACTIVE)} AND {where} AND ({overdue})")
    return sql, [*params, *(c.isoformat() for c in cutoffs.values())]


# --- C. data quality ---------------------------------------------------------------------

def head_not_member(ctx: Context):
    where, params = ctx.region("h.region_code")
    no_self = f"NOT EXISTS (SELECT 1 FROM {M} m WHERE m.household_id = h.id AND m.relation = '本人')"
    head_missing = f"NOT EXISTS (SELECT 1 FROM {M} m WHERE m.household_id = h.id AND m.id_number = h.head_id_number)"
    facts = (f"CASE WHEN {no_self} THEN '家庭成员中没有与户主关系为“本人”的成员' "
             "ELSE '户主身份证号不在家庭成员中' END")
    sql = (_household_select("'低保家庭登记'", facts)
           + f" WHERE h.status = {_q(ACTIVE)} AND {where} AND ({no_self} OR {head_missing})")
    return sql, params


def _yuan_sql(cents: str) -> str:
    """Whole cents as '650.00' text, the same on both databases (%% is the modulo, escaped for the driver).
    The cast first: PostgreSQL's SUM of bigints is numeric, whose division keeps sixteen decimals."""
    cents = f"CAST({cents} AS BIGINT)"
    return (f"CAST({cents} / 100 AS TEXT) || '.' || CASE WHEN {cents} %% 100 < 10 THEN '0' ELSE '' END "
            f"|| CAST({cents} %% 100 AS TEXT)")


def amount_mismatch(ctx: Context):
    """The amount in force for D's month (the history, else the imported monthly_amount) against
    the formula of cases.benefits with the standard in force for that month, both in SQL."""
    where, params = ctx.region("h.region_code")
    month = ctx.as_of.replace(day=1).isoformat()
    in_force = "CAST(ROUND(COALESCE(f.amount, c.monthly_amount) * 100) AS BIGINT)"
    tolerance = int(Decimal(str(ctx.params["AMOUNT_TOLERANCE"])) * 100)
    formula = ("CASE WHEN c.single_id = '' THEN '按保障标准 ' || " + _yuan_sql("c.standard_cents")
               + " || ' 元 × ' || CAST(c.covered_persons AS TEXT) || ' 人 − 家庭月收入 ' "
               "ELSE '单人保（' || c.single_id || '），按保障标准 ' || " + _yuan_sql("c.standard_cents")
               + " || ' 元 − 本人月收入 ' END || " + _yuan_sql("c.income_cents"))
    facts = (f"'核定金额 ' || {_yuan_sql(in_force)} || ' 元，' || {formula} || ' 元，应为 ' "
             f"|| {_yuan_sql('c.amount_cents')} || ' 元'")
    # A household in its 渐退 grace months keeps the amount it had though its income is above the standard.
    not_in_grace = f"(h.planned_exit_on IS NULL OR h.planned_exit_on < {_q(ctx.as_of.isoformat())})"
    computed, computed_params = benefits.computed_amounts_sql(where=f"{where} AND {not_in_grace}", params=params,
                                                              month=ctx.as_of)
    # The computed rows carry the household's own columns, so the household table is not joined again.
    sql = ("SELECT c.household_id, c.head_id_number AS id_number, c.head_name AS name, c.region_code, "
           f"CAST(c.household_id AS TEXT) || ':' AS subject_key, '保障标准与家庭成员收入' AS source, {facts} AS facts "
           f"FROM ({computed}) c LEFT JOIN ({benefits.amounts_in_force_sql()}) f ON f.household_id = c.household_id"
           f" WHERE {in_force} > 0 AND ABS({in_force} - c.amount_cents) > {tolerance}")
    return sql, [*computed_params, month]


def amount_missing(ctx: Context):
    where, params = ctx.region("h.region_code")
    facts = "CASE WHEN h.monthly_amount IS NULL THEN '月保障金额为空' ELSE '月保障金额为 0' END"
    sql = (_household_select("'低保家庭登记'", facts)
           + f" WHERE h.status = {_q(ACTIVE)} AND {where} AND (h.monthly_amount IS NULL OR h.monthly_amount = 0)")
    return sql, params


# --- D. funds -------------------------------------------------------------------------------
# Over the successful payments whose pay month lies in the PAYMENT_LOOKBACK_MONTHS months ending
# with D's month. Each rule selects the payments that break it (txn_no, household_no, pay_month,
# amount, note); `_funds` groups them into one finding per (户编号, pay month) whose person is the
# payee of the lowest 交易流水号 and whose evidence is the sorted list of 交易流水号.

def _window(ctx: Context) -> tuple[dt.date, dt.date]:
    last = ctx.as_of.replace(day=1)
    return months_before(last, int(ctx.params["PAYMENT_LOOKBACK_MONTHS"]) - 1), last


def _paid(ctx: Context, alias: str = "p") -> tuple[str, list]:
    """FROM/WHERE of the window's successful payments."""
    first, last = _window(ctx)
    return (f"FROM {PAY} {alias} WHERE {alias}.status = 'success' AND {alias}.pay_month >= %s "
            f"AND {alias}.pay_month <= %s", [first.isoformat(), last.isoformat()])


def _funds_region(ctx: Context) -> tuple[str, list]:
    """The batch's region by the registry household; payments to an unknown 户编号 have no region
    and are checked by batches over a whole province or more (payments.md)."""
    where, params = ctx.region("h.region_code")
    if ctx.region_mode == "all":
        return "1 = 1", []
    if ctx.region_mode == "like" and len(ctx.region_value) <= 2:
        return f"({where} OR h.id IS NULL)", params
    return where, params


def _funds(ctx: Context, payments: str, params: list, source: str, facts: str, having: str = "") -> tuple[str, list]:
    """`facts` may use g.n (payments), g.total_cents, g.note (MIN of the rows' notes), g.txns, g.month."""
    where, region_params = _funds_region(ctx)
    # SQLite's group_concat lists the 交易流水号 in the order the rows arrive, so they are sorted
    # first there; PostgreSQL's string_agg sorts them itself (sorting the window's nine million
    # payments first cost PAID_TWICE 18 s at a million households).
    rows = f"(SELECT * FROM ({payments}) q0 ORDER BY q0.txn_no)" if connection.vendor == "sqlite" else f"({payments})"
    grouped = (f"SELECT q.household_no, q.pay_month, {pay_sql.month_text('q.pay_month')} AS month, "
               "MIN(q.txn_no) AS first_txn, COUNT(*) AS n, SUM(" + pay_sql.cents("q.amount") + ") AS total_cents, "
               f"MIN(q.note) AS note, {pay_sql.joined('q.txn_no')} AS txns "
               f"FROM {rows} q GROUP BY q.household_no, q.pay_month {having}")
    # The payee of the lowest 交易流水号, looked up per finding (two index probes into its month's
    # partition) rather than joined: the planner cannot tell how few groups pass HAVING and would
    # hash the whole ledger.
    first = f"FROM {PAY} fp WHERE fp.txn_no = g.first_txn AND fp.pay_month = g.pay_month"
    sql = (f"SELECT h.id AS household_id, (SELECT fp.payee_id_number {first}) AS id_number, "
           f"(SELECT fp.payee_name {first}) AS name, "
           "COALESCE(h.region_code, '') AS region_code, g.household_no || ':' || g.month AS subject_key, "
           f"{source} AS source, {facts} || '（交易流水号 ' || g.txns || '）' AS facts, g.month AS month, "
           f"g.household_no AS household_no FROM ({grouped}) g "
           f"LEFT JOIN {H} h ON h.household_no = g.household_no WHERE {where}")
    return sql, [*params, *region_params]


def _paid_text() -> str:
    return ("g.month || ' 发放 ' || CAST(g.n AS TEXT) || ' 笔，共 ' || " + _yuan_sql("g.total_cents") + " || ' 元'")


def paid_unknown(ctx: Context):
    base, params = _paid(ctx)
    payments = (f"SELECT p.txn_no, p.household_no, p.pay_month, p.amount, '' AS note {base} "
                f"AND NOT EXISTS (SELECT 1 FROM {H} hx WHERE hx.household_no = p.household_no)")
    return _funds(ctx, payments, params, "'发放记录'", "'户编号 ' || g.household_no || ' 不在低保家庭登记中，' || " + _paid_text())


def paid_not_active(ctx: Context):
    """Not active during the pay month (payments.md), or suspended (停发) for it."""
    base, params = _paid(ctx)
    active = pay_sql.active_during("hh", "p.pay_month")
    status = "CASE hh.status " + " ".join(f"WHEN {_q(v)} THEN {_q(str(label))}" for v, label in Status.choices) + " END"
    note = (f"CASE WHEN {active} THEN '该月已停发' ELSE '状态' || {status} || '，审批日期 ' || "
            "COALESCE(CAST(hh.decided_on AS TEXT), '（空）') || CASE WHEN hh.exited_on IS NULL THEN '' "
            "ELSE '，退出日期 ' || CAST(hh.exited_on AS TEXT) END END")
    payments = (f"SELECT p.txn_no, p.household_no, p.pay_month, p.amount, {note} AS note {base.replace('WHERE', f'JOIN {H} hh ON hh.household_no = p.household_no WHERE', 1)} "
                f"AND (NOT {active} OR {pay_sql.suspended_in('hh', 'p.pay_month')})")
    return _funds(ctx, payments, params, "'发放记录与低保家庭登记'",
                  "g.note || '，该月不在保障期内，' || " + _paid_text())


def paid_deceased(ctx: Context):
    """Paid for a month that began after the payee's death (no grace: the month after is wrong)."""
    base, params = _paid(ctx)
    d = m.DeathRecord._meta.db_table
    note = "'收款人 ' || p.payee_name || ' 死亡日期 ' || CAST(d.death_date AS TEXT)"
    payments = (f"SELECT p.txn_no, p.household_no, p.pay_month, p.amount, {note} AS note "
                + base.replace("WHERE", f"JOIN {d} d ON d.version_id = %s AND d.id_number = p.payee_id_number WHERE", 1)
                + " AND d.death_date < p.pay_month")
    sql, all_params = _funds(ctx, payments, [ctx.version("deaths"), *params], "CAST(%s AS TEXT)",
                             "g.note || '，死亡后仍' || " + _paid_text())
    return sql, [ctx.source("deaths"), *all_params]


def paid_twice(ctx: Context):
    base, params = _paid(ctx)
    payments = f"SELECT p.txn_no, p.household_no, p.pay_month, p.amount, '' AS note {base}"
    return _funds(ctx, payments, params, "'发放记录'", "'同一月份重复发放：' || " + _paid_text(),
                  having="HAVING COUNT(*) > 1")


def paid_amount_mismatch(ctx: Context):
    base, params = _paid(ctx)
    join, amount = pay_sql.amount_in_force_joined("hh", "p.pay_month")
    in_force = pay_sql.cents(f"COALESCE({amount}, 0)")
    # A month paid more than once is PAID_TWICE's. Checked on the few payments of another amount only,
    # by a count per payment (index probes into its month) that the planner cannot turn into an
    # anti-join: it took one for a single row and hashed or sorted the window's nine million payments;
    # the fence keeps the check from being pushed down to every payment.
    fence = " OFFSET 0" if connection.vendor == "postgresql" else ""
    single = (f"(SELECT COUNT(*) FROM {PAY} p2 WHERE p2.household_no = x.household_no "
              "AND p2.pay_month = x.pay_month AND p2.status = 'success' AND p2.txn_no <> x.txn_no) = 0")
    payments = (f"SELECT x.txn_no, x.household_no, x.pay_month, x.amount, '核定金额 ' || {_yuan_sql('x.due')} || ' 元' AS note "
                f"FROM (SELECT p.txn_no, p.household_no, p.pay_month, p.amount, {in_force} AS due "
                + base.replace("WHERE", f"JOIN {H} hh ON hh.household_no = p.household_no {join} WHERE", 1)
                + f" AND {pay_sql.active_during('hh', 'p.pay_month')}{fence}) x "
                f"WHERE {pay_sql.cents('x.amount')} <> x.due AND {single}")
    return _funds(ctx, payments, params, "'发放记录与金额历史'", "g.note || '，实发 ' || " + _paid_text())


def shared_account(ctx: Context):
    base, params = _paid(ctx)
    other = (f"FROM {PAY} p2 WHERE p2.account_no = p.account_no AND p2.pay_month = p.pay_month "
             "AND p2.status = 'success' AND p2.household_no <> p.household_no")
    payments = (f"SELECT p.txn_no, p.household_no, p.pay_month, p.amount, '账号 ' || p.account_no || "
                f"' 同月还向户 ' || (SELECT MIN(p2.household_no) {other}) || ' 发放' AS note {base} "
                f"AND EXISTS (SELECT 1 {other})")
    return _funds(ctx, payments, params, "'发放记录'", "g.note || '，' || " + _paid_text())


def payee_not_member(ctx: Context):
    base, params = _paid(ctx)
    payments = (f"SELECT p.txn_no, p.household_no, p.pay_month, p.amount, '收款人 ' || p.payee_name || "
                "' 不是本户成员，也不是登记的收款人' AS note "
                + base.replace("WHERE", f"JOIN {H} hh ON hh.household_no = p.household_no WHERE", 1)
                + f" AND p.payee_id_number <> hh.payee_id_number AND NOT EXISTS (SELECT 1 FROM {M} mx "
                "WHERE mx.household_id = hh.id AND mx.id_number = p.payee_id_number)")
    return _funds(ctx, payments, params, "'发放记录与家庭成员登记'", "g.note || '，' || " + _paid_text())


# --- B. missed coverage ------------------------------------------------------------------

def _missed(ctx: Context, candidates: str, cand_params: list, source_sql: str, source_params: list):
    """Wrap a per-person candidate query (id_number, name, ref_region, facts) into findings.

    Only people not in dibao count; their household is their most recent non-active
    one (a window over the non-active memberships, joined — not a lookup per person);
    their region the reference row's code, else that household's.
    """
    recent = (f"SELECT mr.id_number, hr.id, hr.region_code, ROW_NUMBER() OVER (PARTITION BY mr.id_number "
              "ORDER BY COALESCE(hr.exited_on, hr.decided_on, hr.applied_on) DESC, hr.id DESC) AS rn "
              f"FROM {M} mr JOIN {H} hr ON hr.id = mr.household_id WHERE hr.status <> {_q(ACTIVE)}")
    in_dibao = (f"SELECT 1 FROM {M} m3 JOIN {H} h3 ON h3.id = m3.household_id "
                f"WHERE m3.id_number = c.id_number AND h3.status = {_q(ACTIVE)}")
    region_expr = "COALESCE(c.ref_region, hh.region_code, '')"
    where_f, pf = ctx.region(region_expr)
    sql = ("SELECT hh.id AS household_id, c.id_number AS id_number, c.name AS name, "
           f"{region_expr} AS region_code, ':' || c.id_number AS subject_key, {source_sql} AS source, "
           f"c.facts AS facts FROM ({candidates}) c LEFT JOIN ({recent}) hh ON hh.id_number = c.id_number AND hh.rn = 1 "
           f"WHERE NOT EXISTS ({in_dibao}) AND {where_f}")
    return sql, [*source_params, *cand_params, *pf]


def _ref_candidates(table: str, condition: str, facts: str) -> str:
    return ("SELECT r.id_number AS id_number, MIN(r.name) AS name, "
            "MIN(CASE WHEN r.region_code <> '' THEN r.region_code END) AS ref_region, "
            f"{facts} AS facts FROM {table} r WHERE r.version_id = %s AND ({condition}) "
            "GROUP BY r.id_number")


def missed_disabled(ctx: Context):
    t = m.DisabilityRecord._meta.db_table
    cand = _ref_candidates(t, "r.level IN (1, 2) OR (r.level = 3 AND r.category IN ('智力', '精神'))",
                           "MIN(r.category || '残疾 ' || CAST(r.level AS TEXT) || ' 级')")
    v = ctx.version("disability")
    return _missed(ctx, cand, [v], "CAST(%s AS TEXT)", [ctx.source("disability")])


def missed_illness(ctx: Context):
    t = m.IllnessRecord._meta.db_table
    cand = _ref_candidates(t, "1 = 1", "'病种 ' || MIN(r.disease) || "
                           "CASE WHEN COUNT(*) > 1 THEN ' 等 ' || CAST(COUNT(*) AS TEXT) || ' 种' ELSE '' END")
    v = ctx.version("illness")
    return _missed(ctx, cand, [v], "CAST(%s AS TEXT)", [ctx.source("illness")])


def missed_poor(ctx: Context):
    t = m.PovertyRecord._meta.db_table
    cand = _ref_candidates(t, "1 = 1", "'扶贫户编号 ' || COALESCE(NULLIF(MIN(r.poverty_household_no), ''), '（空）')")
    v = ctx.version("poverty")
    return _missed(ctx, cand, [v], "CAST(%s AS TEXT)", [ctx.source("poverty")])


def _registry_candidates(status: str, date_col: str, facts: str) -> str:
    return ("SELECT me.id_number AS id_number, MIN(me.name) AS name, NULL AS ref_region, "
            f"MIN({facts}) AS facts FROM {M} me JOIN {H} he ON he.id = me.household_id "
            f"WHERE he.status = {_q(status)} AND he.{date_col} >= %s GROUP BY me.id_number")


def missed_exited(ctx: Context):
    cand = _registry_candidates(EXITED, "exited_on",
                                "'户 ' || he.household_no || ' 于 ' || CAST(he.exited_on AS TEXT) || ' 退出低保'")
    return _missed(ctx, cand, [ctx.params["EXITED_SINCE"]], "'低保家庭登记'", [])


def missed_rejected(ctx: Context):
    cand = _registry_candidates(REJECTED, "applied_on",
                                "'户 ' || he.household_no || ' 于 ' || CAST(he.applied_on AS TEXT) || ' 申请，未通过'")
    return _missed(ctx, cand, [ctx.params["REJECTED_SINCE"]], "'低保家庭登记'", [])


RULE_LIST = [Rule(BY_CODE[code], build) for code, build in [
    ("DECEASED", deceased),
    ("PUBLIC_PAYROLL", public_payroll),
    ("STAFF_SELF", staff_self),
    ("RELATIVE_FILED", relative_filed),
    ("RELATIVE_UNFILED", relative_unfiled),
    ("DUPLICATE", duplicate),
    ("ASSET_VEHICLE", asset_vehicle),
    ("ASSET_BUSINESS", asset_business),
    ("ASSET_PROPERTY", asset_property),
    ("REVIEW_OVERDUE", review_overdue),
    ("AMOUNT_MISMATCH", amount_mismatch),
    ("MISSED_DISABLED", missed_disabled),
    ("MISSED_ILLNESS", missed_illness),
    ("MISSED_POOR", missed_poor),
    ("MISSED_EXITED", missed_exited),
    ("MISSED_REJECTED", missed_rejected),
    ("HEAD_NOT_MEMBER", head_not_member),
    ("AMOUNT_MISSING", amount_missing),
    ("PAID_UNKNOWN", paid_unknown),
    ("PAID_NOT_ACTIVE", paid_not_active),
    ("PAID_DECEASED", paid_deceased),
    ("PAID_TWICE", paid_twice),
    ("PAID_AMOUNT_MISMATCH", paid_amount_mismatch),
    ("SHARED_ACCOUNT", shared_account),
    ("PAYEE_NOT_MEMBER", payee_not_member),
]]
RULES = {r.code: r for r in RULE_LIST}
PERSON_RULES_A = ["DECEASED", "PUBLIC_PAYROLL", "STAFF_SELF", "RELATIVE_FILED", "RELATIVE_UNFILED",
                  "DUPLICATE", "ASSET_VEHICLE", "ASSET_BUSINESS"]
MISSED_FLAGS = {"MISSED_DISABLED": "is_disabled", "MISSED_ILLNESS": "is_ill", "MISSED_POOR": "is_poor",
                "MISSED_EXITED": "is_exited", "MISSED_REJECTED": "is_rejected"}


def current_versions() -> dict:
    return {v.kind: (v.pk, v.version_no) for v in m.RefVersion.objects.filter(is_current=True)}

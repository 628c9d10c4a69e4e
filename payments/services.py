"""Writes of the payments app: making and approving a month's payment roll and writing the bank
file. Each checks the permission table against the row it acts on and leaves an audit record in
the same transaction."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Household, Member
from dibao.audit import audit_record
from dibao.bulk import analyze
from dibao.models import Region
from dibao.permissions import is_system, region_name, require
from dibao.scoping import prefix_sql
from payments import sql
from payments.models import PaymentLine, PaymentRoll, RollState

LINE = PaymentLine._meta.db_table
H = Household._meta.db_table
M = Member._meta.db_table


def _month(month: dt.date) -> dt.date:
    return month.replace(day=1)


def _overlapping(month: dt.date, region_code: str):
    """Rolls of the month whose region contains, or lies inside, `region_code`."""
    containing = [region_code[:n] for n in (0, 2, 4, 6, 9) if n < len(region_code)]
    return PaymentRoll.objects.filter(month=month).filter(
        Q(region_code__startswith=region_code) | Q(region_code__in=containing))


def _fill(roll: PaymentRoll) -> None:
    """The roll's lines in one INSERT … SELECT over the households of its region (payments.md):
    active during the month, not suspended, amount in force above 0. The payee is the head
    unless one is designated (a member's name is known; a guardian's or agent's is not)."""
    month = "CAST(%s AS DATE)" if connection.vendor == "postgresql" else "%s"
    amount = sql.amount_in_force("h", month)
    payee_name = (f"CASE WHEN h.payee_id_number = '' OR h.payee_id_number = h.head_id_number THEN h.head_name "
                  f"ELSE COALESCE((SELECT MIN(pm.name) FROM {M} pm WHERE pm.household_id = h.id "
                  "AND pm.id_number = h.payee_id_number), '') END")
    region, region_params = prefix_sql("h.region_code", roll.region_code)
    # PostgreSQL would otherwise inline the subquery and look the amount up twice per household,
    # once for the line and once for `amount > 0`.
    fence = " OFFSET 0" if connection.vendor == "postgresql" else ""
    m = roll.month.isoformat()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {LINE} (roll_id, month, household_id, household_no, payee_name, payee_id_number, "
            "account_no, bank_name, amount, region_code) "
            f"SELECT %s, %s, x.id, x.household_no, x.payee_name, x.payee_id, x.account_no, x.bank_name, x.amount, "
            "x.region_code FROM ("
            f"SELECT h.id, h.household_no, {payee_name} AS payee_name, "
            "CASE WHEN h.payee_id_number = '' THEN h.head_id_number ELSE h.payee_id_number END AS payee_id, "
            f"h.account_no, h.bank_name, {amount} AS amount, h.region_code FROM {H} h "
            f"WHERE {sql.active_during('h', month)} AND NOT {sql.suspended_in('h', month)} AND {region}{fence}) x "
            "WHERE x.amount > 0",
            # the month: the line's own, then in the amount in force, the decision and exit tests, the 停发 test
            [roll.pk, m, m, m, m, m, m, *region_params])
    # Once committed (not while holding the audit chain's lock): a province's roll adds its
    # households' worth of lines, which the bank return and reconciliation then join.
    transaction.on_commit(partial(analyze, LINE), robust=True)


def _totals(roll: PaymentRoll) -> None:
    agg = roll.lines.aggregate(n=Count("id"), total=Sum("amount"), no_account=Count("id", filter=Q(account_no="")))
    roll.households = agg["n"]
    roll.total = (agg["total"] or Decimal("0")).quantize(Decimal("0.01"))
    roll.no_account = agg["no_account"]


@transaction.atomic
def roll_create(*, actor, month: dt.date, region_code: str = "") -> PaymentRoll:
    """Make (or, while not approved, remake) the month's roll for a region; without a region,
    everything in the actor's scope."""
    require(actor, "payroll.create")
    month = _month(month)
    region_code = (region_code or "").strip()
    if not region_code and not is_system(actor):
        region_code = actor.scope_prefix or ""
    if region_code and not Region.objects.filter(code=region_code).exists():
        raise ValidationError({"region_code": _("区划代码 %(code)s 不存在") % {"code": region_code}})
    require(actor, "payroll.create", region_code=region_code)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # two rolls of one month are made one after the other
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x524F4C4C, month.year * 100 + month.month])
    existing = PaymentRoll.objects.select_for_update().filter(month=month, region_code=region_code).first()
    others = _overlapping(month, region_code).exclude(pk=existing.pk if existing else None)
    if others.exists():
        other = others.first()
        raise ValidationError(_("%(m)s 已有%(r)s的发放名册（#%(id)s），与%(mine)s重叠：同一户每月只能列入一个名册")
                              % {"m": f"{month:%Y-%m}", "r": region_name(other.region_code), "id": other.pk,
                                 "mine": region_name(region_code)})
    now = timezone.now()
    user = None if is_system(actor) else actor
    if existing is not None:
        if existing.is_approved:
            raise ValidationError(_("%(m)s %(r)s的发放名册已于 %(at)s 审批，不能重新生成")
                                  % {"m": f"{month:%Y-%m}", "r": region_name(region_code),
                                     "at": timezone.localtime(existing.approved_at).strftime("%Y-%m-%d %H:%M")})
        existing.lines.all().delete()
        roll = existing
        roll.created_by, roll.created_at = user, now
    else:
        roll = PaymentRoll.objects.create(month=month, region_code=region_code, created_by=user, created_at=now)
    _fill(roll)
    _totals(roll)
    roll.save()
    audit_record(actor=actor, action="payroll.create", object_type="paymentroll", object_id=roll.pk,
                 region_code=region_code,
                 after={"month": f"{month:%Y-%m}", "households": roll.households, "total": roll.total,
                        "no_account": roll.no_account, "recreated": existing is not None})
    return roll


@transaction.atomic
def roll_approve(*, actor, roll: PaymentRoll) -> PaymentRoll:
    """The county approves another user's roll; from then on it is frozen."""
    if is_system(actor):
        raise PermissionDenied(_("发放名册须由县级审核人员本人审批"))
    roll = PaymentRoll.objects.select_for_update().get(pk=roll.pk)
    require(actor, "payroll.approve", region_code=roll.region_code)
    if roll.is_approved:
        raise ValidationError(_("发放名册 #%(id)s 已审批") % {"id": roll.pk})
    if roll.created_by_id == actor.pk:
        raise PermissionDenied(_("发放名册 #%(id)s 由您本人编制，须由另一名县级审核人员审批（编制与审批分离）")
                               % {"id": roll.pk})
    roll.state = RollState.APPROVED
    roll.approved_by = actor
    roll.approved_at = timezone.now()
    roll.save(update_fields=["state", "approved_by", "approved_at"])
    audit_record(actor=actor, action="payroll.approve", object_type="paymentroll", object_id=roll.pk,
                 region_code=roll.region_code,
                 after={"month": roll.month_text, "households": roll.households, "total": roll.total})
    return roll


def roll_export(*, actor, roll: PaymentRoll, fmt: str, target, full_ids: bool) -> int:
    """The bank file (payments.md) to a path or stream, recorded in the audit trail."""
    require(actor, "payroll.view", region_code=roll.region_code)
    if full_ids:
        require(actor, "export.full_id")
    from payments.exports import write_roll_csv, write_roll_xlsx

    if fmt == "csv":
        n = write_roll_csv(roll, target, full_ids=full_ids)
    elif fmt == "xlsx":
        n = write_roll_xlsx(roll, target, full_ids=full_ids)
    else:
        raise ValidationError(_("导出格式只能是 .csv 或 .xlsx"))
    with transaction.atomic():
        audit_record(actor=actor, action="export.payroll", object_type="paymentroll", object_id=roll.pk,
                     region_code=roll.region_code,
                     after={"format": fmt, "rows": n, "full_ids": full_ids, "state": roll.state})
    return n

"""Payment verification (回访核实, spec/payments.md): a reproducible sample of a month's paid households
per township, each called or visited; any answer but 足额收到 opens a PAYMENT_VERIFY finding that the
county reviews in 资金疑点 like the funds rules' findings. Writes only; the rates are in selectors."""
from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audits.models import Finding, FindingState
from cases.models import Household
from dibao import sampling
from dibao.audit import audit_change, audit_record, snapshot
from dibao.models import Region, User
from dibao.permissions import region_name, require
from payments.models import Payment, PaymentStatus, PaymentVerification, PaymentVisit, VisitMethod, VisitOutcome

RULE = "PAYMENT_VERIFY"


def _paid(month: dt.date, township: str):
    return Payment.objects.filter(pay_month=month, status=PaymentStatus.SUCCESS, region_code__startswith=township,
                                  household__isnull=False)


@transaction.atomic
def verification_draw(*, actor: User, month: dt.date, township: str, count: int | None = None,
                      percent: Decimal | None = None, seed: str = "") -> PaymentVerification:
    """Draw the month's paid households of a township (successful payments of that month). Drawn
    again before any visit is recorded, the sample is replaced; the same seed gives the same one."""
    month = month.replace(day=1)
    township = (township or "").strip()
    require(actor, "payment_verify.draw", region_code=township)
    if len(township) != 9 or not Region.objects.filter(code=township).exists():
        raise ValidationError({"township": _("请选择一个乡镇（街道）：%(code)s 不是乡镇区划代码")
                               % {"code": township or "—"}})
    if month > timezone.localdate():
        raise ValidationError({"month": _("发放月份 %(m)s 尚未到来") % {"m": f"{month:%Y-%m}"}})
    existing = PaymentVerification.objects.select_for_update().filter(month=month, region_code=township).first()
    if existing is not None and existing.visits.exclude(result=VisitOutcome.PENDING).exists():
        raise ValidationError(_("%(t)s %(m)s 的回访样本已开始登记回访结果，不能重新抽取")
                              % {"t": region_name(township), "m": f"{month:%Y-%m}"})
    paid = _paid(month, township)
    households = Household.objects.filter(pk__in=paid.values("household_id"))
    population = households.count()
    n = sampling.sample_size(population, count=count, percent=percent)
    if population == 0:
        raise ValidationError({"month": _("%(t)s %(m)s 没有发放成功的记录（请先导入银行回盘），无法抽取")
                               % {"t": region_name(township), "m": f"{month:%Y-%m}"}})
    seed = sampling.clean_seed(seed)
    fields = {"seed": seed, "requested_count": count, "requested_percent": percent, "population": population,
              "drawn_by": actor, "drawn_at": timezone.now()}
    if existing is not None:
        existing.visits.all().delete()
        PaymentVerification.objects.filter(pk=existing.pk).update(**fields)
        verification = PaymentVerification.objects.get(pk=existing.pk)
    else:
        verification = PaymentVerification.objects.create(month=month, region_code=township, **fields)
    picked = sampling.draw(households, seed=seed, n=n)
    payments = {row["household_id"]: row for row in paid.filter(household_id__in=picked).values("household_id")
                .order_by().annotate(total=Sum("amount"), first=Min("txn_no"))}
    first_ids = dict(Payment.objects.filter(pay_month=month, txn_no__in=[r["first"] for r in payments.values()])
                     .values_list("txn_no", "id"))
    PaymentVisit.objects.bulk_create([
        PaymentVisit(verification=verification, household_id=hid, payment_id=first_ids[payments[hid]["first"]],
                     amount_paid=payments[hid]["total"]) for hid in picked])
    audit_record(actor=actor, action="payment_verify.draw", object_type="paymentverification",
                 object_id=verification.pk, region_code=township,
                 after={"month": verification.month_text, "seed": seed, "n": len(picked), "population": population,
                        "redrawn": existing is not None})
    return verification


def _check_result(visit: PaymentVisit, *, result: str, method: str, visited_on: dt.date | None,
                  amount_received: Decimal | None, note: str) -> Decimal | None:
    if result not in VisitOutcome.values or result == VisitOutcome.PENDING:
        raise ValidationError({"result": _("请选择回访结果")})
    if method not in VisitMethod.values:
        raise ValidationError({"method": _("请选择回访方式（电话或入户）")})
    if visited_on is None:
        raise ValidationError({"visited_on": _("请填写回访日期")})
    if visited_on > timezone.localdate():
        raise ValidationError({"visited_on": _("回访日期不能晚于今天")})
    if visited_on < visit.verification.month:
        raise ValidationError({"visited_on": _("回访日期不能早于发放月份 %(m)s")
                               % {"m": visit.verification.month_text}})
    if result != VisitOutcome.SHORT:
        return None
    if amount_received is None:
        raise ValidationError({"amount_received": _("收到金额不足时请填写实际收到的金额")})
    amount_received = Decimal(amount_received).quantize(Decimal("0.01"))
    if not Decimal("0") <= amount_received < visit.amount_paid:
        raise ValidationError({"amount_received": _("实际收到金额应不少于 0 且少于当月实发 %(a)s 元（足额请选“足额收到”，"
                                                    "分文未收请选“未收到”）") % {"a": visit.amount_paid}})
    return amount_received


def _open_finding(visit: PaymentVisit) -> Finding:
    household, month = visit.household, visit.verification.month_text
    received = (_("，本户称收到 %(r)s 元") % {"r": visit.amount_received}) if visit.amount_received is not None else ""
    detail = _("%(m)s 发放 %(paid)s 元，%(method)s（%(d)s）：%(result)s%(received)s。%(note)s") % {
        "m": month, "paid": visit.amount_paid, "method": visit.get_method_display(), "d": visit.visited_on,
        "result": visit.get_result_display(), "received": received, "note": visit.note}
    return Finding.objects.create(
        rule=RULE, household=household, id_number=household.head_id_number, name=household.head_name,
        region_code=household.region_id, subject_key=f"{household.household_no}:{month}", month=month,
        household_no=household.household_no, detail=detail.strip(),
        evidence_hash=hashlib.sha256(f"{visit.pk}|{detail}".encode()).hexdigest(),
        state=FindingState.PENDING, first_raised_on=timezone.localdate())


@transaction.atomic
def visit_record(*, actor: User, visit: PaymentVisit, result: str, method: str, visited_on: dt.date | None,
                 amount_received: Decimal | None = None, note: str = "") -> PaymentVisit:
    """Record a call or visit. 未联系上 may be recorded again later; an answer is final, and any
    answer but 足额收到 opens a PAYMENT_VERIFY finding for the county."""
    visit = (PaymentVisit.objects.select_for_update().select_related("verification", "household")
             .get(pk=visit.pk))
    require(actor, "payment_verify.record", region_code=visit.verification.region_code)
    if visit.is_final:
        raise ValidationError(_("户 %(no)s 的回访结果（%(r)s）已登记，不能更改；如有异议请在疑点复核中处理")
                              % {"no": visit.household.household_no, "r": visit.get_result_display()})
    note = (note or "").strip()
    amount_received = _check_result(visit, result=result, method=method, visited_on=visited_on,
                                    amount_received=amount_received, note=note)
    if result in VisitOutcome.problems() and not note:
        raise ValidationError({"note": _("回访发现问题时请说明具体情况（如本人所述、账户持有人）")})
    before = snapshot(visit)
    visit.result, visit.method, visit.visited_on = result, method, visited_on
    visit.amount_received, visit.note = amount_received, note
    visit.recorded_by, visit.recorded_at = actor, timezone.now()
    if result in VisitOutcome.problems():
        visit.finding = _open_finding(visit)
    visit.save()
    audit_change(actor=actor, action="payment_verify.record", obj=visit, region_code=visit.household.region_id,
                 before=before, exclude=("recorded_at",))
    return visit

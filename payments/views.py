"""Pages of the payments app: payment rolls (list, detail with township totals, make, approve,
bank file), reconciliation (page and workbook) and payment verification (sample, visits, rates). The services check the row they act on."""
from __future__ import annotations

import datetime as dt
import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dibao.audit import audit_record
from dibao.pagination import paginate
from dibao.permissions import can, permission_required, require
from dibao.scoping import get_scoped_or_404
from dibao.spreadsheets import XLSX_CONTENT_TYPE
from payments import selectors, services
from payments import verification as verification_services
from payments.exports import write_reconciliation_xlsx
from payments.forms import VerificationDrawForm, VisitRecordForm
from payments.models import PaymentRoll, PaymentVisit
from reports.metrics import parse_month, previous_month


def _errors(exc) -> str:
    return "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


def _month(request) -> dt.date:
    try:
        return parse_month(request.GET.get("month") or request.POST.get("month") or "")
    except ValueError:
        return previous_month(timezone.localdate()) if timezone.localdate().day < 15 else \
            timezone.localdate().replace(day=1)


@permission_required("payroll.view")
def roll_list(request):
    page = paginate(selectors.rolls_for(request.user), request.GET.get("page"), 50)
    return render(request, "payments/roll_list.html", {"page": page, "month": _month(request)})


@permission_required("payroll.create")
@require_POST
def roll_create(request):
    try:
        roll = services.roll_create(actor=request.user, month=_month(request),
                                    region_code=request.POST.get("region_code", ""))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _errors(exc))
        return redirect("payments:roll_list")
    messages.success(request, _("已生成 %(m)s 发放名册：%(n)d 户，合计 %(t)s 元") % {
        "m": roll.month_text, "n": roll.households, "t": f"{roll.total:,.2f}"})
    return redirect("payments:roll_detail", pk=roll.pk)


@permission_required("payroll.view")
def roll_detail(request, pk):
    roll = get_scoped_or_404(PaymentRoll, request.user, pk=pk)
    lines = paginate(roll.lines.order_by("region_code", "household_no"), request.GET.get("page"), 100)
    return render(request, "payments/roll_detail.html", {
        "roll": roll, "townships": selectors.township_totals(roll), "page": lines,
        "can_approve": can(request.user, "payroll.approve") and not roll.is_approved
        and roll.created_by_id != request.user.pk,
    })


@permission_required("payroll.approve")
@require_POST
def roll_approve(request, pk):
    roll = get_scoped_or_404(PaymentRoll, request.user, pk=pk)
    try:
        services.roll_approve(actor=request.user, roll=roll)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, _("发放名册 #%(id)s 已审批，名册已锁定") % {"id": roll.pk})
    return redirect("payments:roll_detail", pk=roll.pk)


@permission_required("payroll.view")
@require_GET
def roll_export(request, pk):
    roll = get_scoped_or_404(PaymentRoll, request.user, pk=pk)
    full = request.user.can_export_full_id
    if request.GET.get("format") == "csv":
        buffer = io.StringIO()
        services.roll_export(actor=request.user, roll=roll, fmt="csv", target=buffer, full_ids=full)
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
        suffix = "csv"
    else:
        buffer = io.BytesIO()
        services.roll_export(actor=request.user, roll=roll, fmt="xlsx", target=buffer, full_ids=full)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
        suffix = "xlsx"
    response["Content-Disposition"] = f'attachment; filename="payroll-{roll.month_text}-{roll.region_code or "all"}.{suffix}"'
    return response


def _reconciliation(request, *, limit):
    user = request.user
    region = (request.GET.get("region") or "").strip()
    scope = user.scope_prefix or ""
    if not region or not region.startswith(scope):
        region = scope
    return selectors.reconcile(month=_month(request), region_code=region,
                               include_unknown=user.scope_prefix is None or len(region) <= 2, limit=limit)


@permission_required("payroll.view")
def reconciliation(request):
    result = _reconciliation(request, limit=selectors.LIST_LIMIT)
    groups = [(key, label, result.groups[key]) for key, label in selectors.RECONCILIATION_GROUPS]
    return render(request, "payments/reconciliation.html", {"result": result, "groups": groups,
                                                            "limit": selectors.LIST_LIMIT})


@permission_required("payroll.view")
@require_GET
def reconciliation_export(request):
    require(request.user, "payroll.view")
    result = _reconciliation(request, limit=None)
    buffer = io.BytesIO()
    write_reconciliation_xlsx(result, buffer)
    with transaction.atomic():
        audit_record(actor=request.user, action="export.reconciliation", object_type="reconciliation",
                     object_id=f"{result.month:%Y-%m}", region_code=result.region_code,
                     after={"month": f"{result.month:%Y-%m}", "households": result.total_count})
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = (f'attachment; filename="reconciliation-{result.month:%Y-%m}-'
                                       f'{result.region_code or "all"}.xlsx"')
    return response


# --- payment verification (回访核实) ----------------------------------------------------------

@permission_required("payment_verify.view")
def verification_list(request):
    rows = selectors.verifications_for(request.user)
    month = request.GET.get("month", "")
    try:
        rows = rows.filter(month=parse_month(month)) if month else rows
    except ValueError:
        month = ""
    page = paginate(rows, request.GET.get("page"), 50)
    page.object_list = selectors.with_rates(page.object_list)
    form = VerificationDrawForm(initial={"month": f"{_month(request):%Y-%m}", "township": (
        request.user.region_id if request.user.region_id and len(request.user.region_id) == 9 else "")})
    return render(request, "payments/verification_list.html", {"page": page, "form": form, "month": month})


@permission_required("payment_verify.draw")
@require_POST
def verification_draw(request):
    form = VerificationDrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(f"{form.fields[k].label}：{m}" for k, errs in form.errors.items()
                                         for m in errs))
        return redirect("payments:verification_list")
    try:
        verification = verification_services.verification_draw(actor=request.user, **form.cleaned_data)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _errors(exc))
        return redirect("payments:verification_list")
    messages.success(request, _("已抽取 %(n)d 户（种子 %(seed)s）") % {"n": verification.visits.count(),
                                                                  "seed": verification.seed})
    return redirect("payments:verification_detail", pk=verification.pk)


def _verification_page(request, verification, *, invalid: tuple[int, VisitRecordForm] | None = None):
    """The sample with a recording form on each visit still open; `invalid`: (visit id, its failed form)."""
    visits = list(verification.visits.select_related("household", "payment", "recorded_by")
                  .order_by("household__household_no"))
    recording = can(request.user, "payment_verify.record")
    for visit in visits:
        visit.form = None
        if recording and not visit.is_final:
            visit.form = invalid[1] if invalid and invalid[0] == visit.pk else VisitRecordForm(auto_id=f"v{visit.pk}-%s")
    return render(request, "payments/verification_detail.html", {"verification": verification, "visits": visits})


@permission_required("payment_verify.view")
def verification_detail(request, pk):
    verification = get_scoped_or_404(selectors.verifications_for(request.user), request.user, pk=pk)
    return _verification_page(request, verification)


@permission_required("payment_verify.record")
@require_POST
def visit_record(request, pk):
    visit = get_scoped_or_404(PaymentVisit.objects.select_related("verification"), request.user, pk=pk)
    form = VisitRecordForm(request.POST, auto_id=f"v{visit.pk}-%s")
    if form.is_valid():
        try:
            verification_services.visit_record(actor=request.user, visit=visit, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        except PermissionDenied as exc:
            messages.error(request, _errors(exc))
            return redirect("payments:verification_detail", pk=visit.verification_id)
        else:
            messages.success(request, _("已登记户 %(no)s 的回访结果") % {"no": visit.household.household_no})
            return redirect("payments:verification_detail", pk=visit.verification_id)
    verification = selectors.verifications_for(request.user).get(pk=visit.verification_id)
    return _verification_page(request, verification, invalid=(visit.pk, form))

"""Pages of the benefit standards (保障标准) and of 调标 (re-rating after a new standard).

Reads come from cases.selectors, writes from cases.services.rerate_prepare / rerate_confirm;
the permission table decides who sees and who acts.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import selectors, services
from dibao.pagination import paginate
from dibao.permissions import can, permission_required
from dibao.scoping import get_scoped_or_404


@permission_required("standard.view")
def standard_list(request):
    """The standard in force this month for each county of the user's region, and the history."""
    month = timezone.localdate().replace(day=1)
    page = paginate(selectors.counties_of(request.user).order_by("code"), request.GET.get("page"), 30)
    return render(request, "cases/standard_list.html", {
        "month": month, "page": page,
        "in_force": selectors.standards_in_force(request.user, month, page.object_list),
        "history": selectors.standards_history(request.user)[:500],
    })


@permission_required("rerate.prepare", "rerate.confirm")
def rerate_list(request):
    if request.method == "POST":
        return _prepare(request)
    return render(request, "cases/rerate_list.html", {
        "page": paginate(selectors.rerates(request.user), request.GET.get("page"), 30),
        "standards": selectors.standards_history(request.user)[:200],
        "can_prepare": can(request.user, "rerate.prepare"),
        "region_code": request.user.region_id or "",
    })


def _prepare(request):
    standard = selectors.standards_history(request.user).filter(pk=request.POST.get("standard") or 0).first()
    region_code = request.POST.get("region_code") or request.user.region_id or ""
    if standard is None:
        messages.error(request, _("请选择一项保障标准"))
        return redirect("cases:rerate_list")
    try:
        rerate = services.rerate_prepare(actor=request.user, region_code=region_code, standard=standard)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("cases:rerate_list")
    return redirect("cases:rerate_detail", pk=rerate.pk)


@permission_required("rerate.prepare", "rerate.confirm")
def rerate_detail(request, pk: int):
    rerate = get_scoped_or_404(selectors.rerates(request.user), request.user, pk=pk)
    only_changed = request.GET.get("all") != "1"
    lines = rerate.lines.select_related("household").order_by("household__household_no")
    if only_changed:
        lines = lines.exclude(new_amount=F("old_amount"))
    return render(request, "cases/rerate_detail.html", {
        "rerate": rerate, "page": paginate(lines, request.GET.get("page"), 100), "only_changed": only_changed,
        "can_confirm": (can(request.user, "rerate.confirm") and rerate.state == rerate.State.PREPARED
                        and rerate.prepared_by_id != request.user.pk),
    })


@permission_required("rerate.confirm")
@require_POST
def rerate_confirm(request, pk: int):
    rerate = get_scoped_or_404(selectors.rerates(request.user), request.user, pk=pk)
    try:
        outcome = services.rerate_confirm(actor=request.user, rerate=rerate)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("已确认调标：%(n)d 户金额自 %(m)s 起调整") % {
            "n": outcome.changed, "m": rerate.effective_month.strftime("%Y-%m")})
        if outcome.skipped:
            messages.warning(request, _("%(n)d 户在清单编制后现行金额已有变化（变更或核查已决定），未按本清单调整："
                                        "%(nos)s。如需调标请重新编制清单。") % {
                "n": len(outcome.skipped), "nos": "、".join(outcome.skipped)})
    return redirect("cases:rerate_detail", pk=rerate.pk)

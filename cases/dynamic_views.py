"""Pages of dynamic management: the township's review list (due / overdue), the review form, the
changes (list, proposal, the county's decision, documents).

Thin: reads scoped to the user's jurisdiction (another region's household or change is 404), one
service of cases.reviews / cases.changes per write, errors shown next to the fields they name.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from cases import changes as svc
from cases import documents, reviews
from cases import dynamic_forms as f
from cases.models import ChangeState, Household, HouseholdChange, Status
from dibao.downloads import download_name
from dibao.forms import apply_service_errors
from dibao.pagination import paginate
from dibao.permissions import can, permission_required
from dibao.scoping import get_scoped_or_404


def changes_for(user):
    return HouseholdChange.objects.for_user(user).select_related("household__region", "proposed_by", "decided_by")


def _change(request, pk: int) -> HouseholdChange:
    return get_scoped_or_404(changes_for(request.user), request.user, pk=pk)


def _active_household(request, pk: int) -> Household:
    return get_scoped_or_404(Household.objects.filter(status=Status.ACTIVE), request.user, pk=pk)


@permission_required("review.view")
def review_list(request):
    """定期核查: counts per township, and the households due this month or overdue."""
    status = request.GET.get("status", "overdue")
    township = request.GET.get("township", "")
    rows = reviews.review_worklist(request.user)
    counts = reviews.township_counts(rows)
    rows = rows.filter(review_status=status if status in ("due", "overdue") else "overdue")
    if township.isdigit():
        rows = rows.filter(region__code__startswith=township)
    return render(request, "cases/review_list.html", {
        "counts": counts, "status": status, "township": township,
        "page": paginate(rows.order_by("last_review", "household_no"), request.GET.get("page"), 50),
        "requested": reviews.requested_reviews(request.user)[:50],
        "can_record": can(request.user, "review.record")})


@permission_required("review.record")
def review_record(request, pk: int):
    household = _active_household(request, pk)
    requested = reviews.requested_reviews(request.user).filter(household=household).first()
    form = f.ReviewForm(request.POST or None, household=household, initial={"reviewed_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            review = reviews.review_record(actor=request.user, household=household, review=requested,
                                           **form.service_kwargs())
        except (ValidationError, PermissionDenied) as error:
            apply_service_errors(error, form)
        else:
            messages.success(request, _("已登记 %(no)s 的定期核查") % {"no": household.household_no})
            if review.change_id:
                return redirect("cases:change_detail", pk=review.change_id)
            return redirect("cases:review_list")
    return render(request, "cases/review_form.html", {"household": household, "form": form, "requested": requested})


@permission_required("change.view")
def change_list(request):
    state = request.GET.get("state", ChangeState.PROPOSED)
    rows = changes_for(request.user)
    if state in ChangeState.values:
        rows = rows.filter(state=state)
    return render(request, "cases/change_list.html", {
        "page": paginate(rows, request.GET.get("page"), 50), "state": state, "states": ChangeState.choices})


@permission_required("change.propose")
def change_propose(request, pk: int):
    household = _active_household(request, pk)
    form = f.ChangeForm(request.POST or None, household=household, initial={"kind": request.GET.get("kind", "")})
    if request.method == "POST" and form.is_valid():
        try:
            change = svc.change_propose(actor=request.user, household=household, **form.service_kwargs())
        except (ValidationError, PermissionDenied) as error:
            apply_service_errors(error, form)
        else:
            messages.success(request, _("已提出变更 %(no)s，待县级确认") % {"no": change.tracking_no})
            return redirect("cases:change_detail", pk=change.pk)
    return render(request, "cases/change_form.html", {"household": household, "form": form})


@permission_required("change.view")
def change_detail(request, pk: int):
    change = _change(request, pk)
    confirm, refuse = f.ConfirmForm(prefix="confirm"), f.RefuseForm(prefix="refuse")
    if request.method == "POST":
        decision = request.POST.get("decision")
        form = confirm if decision == "confirm" else refuse
        form = type(form)(request.POST, prefix=form.prefix)
        if form.is_valid():
            service = svc.change_confirm if decision == "confirm" else svc.change_refuse
            try:
                service(actor=request.user, change=change, **form.service_kwargs())
            except (ValidationError, PermissionDenied) as error:
                apply_service_errors(error, form)
            else:
                messages.success(request, _("变更 %(no)s 已处理") % {"no": change.tracking_no})
                return redirect("cases:change_detail", pk=change.pk)
        confirm, refuse = (form, refuse) if decision == "confirm" else (confirm, form)
    return render(request, "cases/change_detail.html", {
        "change": change, "confirm": confirm, "refuse": refuse,
        "can_decide": change.state == ChangeState.PROPOSED and can(request.user, "change.confirm"),
        "documents": documents.change_documents_for(change)})


@permission_required("change.document")
def change_document_print(request, pk: int, key: str):
    change = _change(request, pk)
    return render(request, "cases/document_print.html",
                  {"change": change, "doc": documents.build_change(change, key, user=request.user)})


@permission_required("change.document")
def change_document_docx(request, pk: int, key: str):
    name, content = documents.change_document_issue(actor=request.user, change=_change(request, pk), key=key)
    response = HttpResponse(content, content_type=documents.DOCX_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, download_name(name, f"{key}.docx"))
    return response

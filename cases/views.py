"""Registry pages for caseworkers, county reviewers, supervisors (read) and admins.

Views are thin: a selector for reads (scoped to the user's jurisdiction), one service
for each write, and objects outside the jurisdiction are 404.
"""
from __future__ import annotations


from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import selectors, services
from cases.forms import FilingForm, HouseholdForm, MemberFormSet, StaffForm, bootstrap_widgets
from dibao.forms import apply_service_errors
from dibao.permissions import can, permission_required
from cases.models import Household, Member, Relation
from dibao.pagination import paginate
from dibao.scoping import get_scoped_or_404



def _filtered_page(request, filterset_class, queryset):
    filterset = filterset_class(request.GET, queryset=queryset)
    bootstrap_widgets(filterset.form)
    rows = filterset.qs if filterset.is_valid() else queryset.none()
    return filterset, paginate(rows, request.GET.get("page"), 50)


# ---- households -------------------------------------------------------------

@permission_required("household.view")
def household_list(request):
    filterset, page = _filtered_page(request, selectors.HouseholdFilter,
                                     selectors.households(request.user, region=request.GET.get("region", "")))
    return render(request, "cases/household_list.html",
                  {"filter": filterset, "page": page, "can_edit": can(request.user, "household.create")})


def _detail_context(request, household: Household, revealed: dict | None = None) -> dict:
    return {
        "household": household,
        "members": list(household.members.all()),
        "timeline": selectors.household_timeline(request.user, household),
        "filings": list(household.relative_filings.for_user(request.user).select_related("staff")),
        "amount_history": selectors.amount_history(request.user, household),
        "can_edit": can(request.user, "household.update"),
        "can_reveal": can(request.user, "household.reveal_id"),
        "revealed": revealed or {},
    }


@permission_required("household.view")
def household_detail(request, pk: int):
    household = get_scoped_or_404(selectors.household_detail(request.user), request.user, pk=pk)
    return render(request, "cases/household_detail.html", _detail_context(request, household))


@permission_required("household.reveal_id")
@require_POST
def household_reveal(request, pk: int):
    """Show one full ID number (the head's, the payee's, or `member`'s) — an audited act."""
    household = get_scoped_or_404(selectors.household_detail(request.user), request.user, pk=pk)
    member = None
    member_id = request.POST.get("member", "")
    payee = request.POST.get("payee") == "1"
    if payee and not household.payee_id_number:
        raise Http404
    if member_id:
        if not member_id.isdigit():
            raise Http404
        member = get_scoped_or_404(Member.objects.filter(household=household), request.user, pk=int(member_id))
    number = services.household_reveal_id(actor=request.user, household=household, member=member, payee=payee)
    if request.headers.get("HX-Request"):
        return HttpResponse(format_html('<span class="id-full">{}</span>', number))
    key = f"member-{member.pk}" if member else "payee" if payee else "head"
    return render(request, "cases/household_detail.html", _detail_context(request, household, {key: number}))


def _acknowledged_warnings(form, formset, household: Household | None) -> str:
    """逢进必核: a red warning of the entry check must be answered in 比对提示核实说明 before the
    household is saved; the warnings and the answer become the note of the save's audit record,
    so they stay in the household's trail. Without the audits app installed there is no check."""
    try:
        from audits.selectors import entry_check  # audits builds on cases, not the other way
    except ImportError:
        return ""
    ids = [form.cleaned_data.get("head_id_number") or ""]
    ids += [f.cleaned_data.get("id_number") or "" for f in formset.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")]
    warnings = [w for w in entry_check(id_numbers=ids, household_id=household.pk if household else None)
                if w.level == "danger"]
    if not warnings:
        return ""
    answer = (form.cleaned_data.get("entry_check_note") or "").strip()
    if not answer:
        form.add_error("entry_check_note", _("比对发现 %(n)d 条提示，请逐条核实后写明核实情况再保存")
                       % {"n": len(warnings)})
        return ""
    listed = "；".join(f"{w.name} {w.message}" for w in warnings)
    return _("比对提示：%(warnings)s。核实说明：%(answer)s") % {"warnings": listed, "answer": answer}


def _household_form(request, household: Household | None):
    instance = household or Household()
    members_qs = Member.objects.filter(household=household) if household else Member.objects.none()
    form = HouseholdForm(request.POST or None, instance=instance)
    formset = MemberFormSet(request.POST or None, instance=instance, queryset=members_qs, prefix="members")
    if request.method == "POST":
        form_ok = form.is_valid()
        if form_ok:
            formset.head_id_number = form.cleaned_data.get("head_id_number")
        note = ""
        if formset.is_valid() and form_ok:
            note = _acknowledged_warnings(form, formset, household)
        if formset.is_valid() and form.is_valid():
            try:
                saved = services.household_save(actor=request.user, data=form.service_data(),
                                                 members=formset.service_rows(), household=household,
                                                 expected_version=form.cleaned_data.get("version"), note=note)
            except ValidationError as error:
                apply_service_errors(error, form, fallback=form)
            else:
                messages.success(request, _("已保存低保家庭 %(no)s") % {"no": saved.household_no})
                return redirect("cases:household_detail", pk=saved.pk)
    return render(request, "cases/household_form.html",
                  {"form": form, "formset": formset, "household": household, "self_relation": Relation.SELF})


@permission_required("household.create")
def household_create(request):
    return _household_form(request, None)


@permission_required("household.update")
def household_edit(request, pk: int):
    household = get_scoped_or_404(selectors.household_detail(request.user), request.user, pk=pk)
    return _household_form(request, household)


# ---- staff roster -----------------------------------------------------------

@permission_required("staff.view")
def staff_list(request):
    filterset, page = _filtered_page(request, selectors.StaffFilter, selectors.staff(request.user))
    return render(request, "cases/staff_list.html",
                  {"filter": filterset, "page": page, "can_edit": can(request.user, "staff.manage")})


def _staff_form(request, staff):
    form = StaffForm(request.POST or None, instance=staff, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.staff_save(actor=request.user, data=form.service_data(), staff=staff)
        except ValidationError as error:
            apply_service_errors(error, form, fallback=form)
        else:
            messages.success(request, _("已保存工作人员 %(name)s") % {"name": saved.name})
            return redirect("cases:staff_list")
    return render(request, "cases/staff_form.html", {"form": form, "staff": staff})


@permission_required("staff.manage")
def staff_create(request):
    return _staff_form(request, None)


@permission_required("staff.manage")
def staff_edit(request, pk: int):
    return _staff_form(request, get_scoped_or_404(selectors.staff(request.user), request.user, pk=pk))


# ---- close-relative filings -------------------------------------------------

@permission_required("filing.view")
def filing_list(request):
    filterset, page = _filtered_page(request, selectors.FilingFilter, selectors.filings(request.user))
    return render(request, "cases/filing_list.html",
                  {"filter": filterset, "page": page, "can_edit": can(request.user, "filing.manage")})


def _filing_form(request, filing):
    form = FilingForm(request.POST or None, instance=filing, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.filing_save(actor=request.user, data=form.service_data(), filing=filing)
        except ValidationError as error:
            if hasattr(error, "error_dict") and "household" in error.error_dict:
                error = ValidationError({"household_no": error.error_dict.pop("household"), **error.error_dict})
            apply_service_errors(error, form, fallback=form)
        else:
            messages.success(request, _("已保存近亲属备案：%(name)s") % {"name": saved.relative_name})
            return redirect("cases:filing_list")
    return render(request, "cases/filing_form.html", {"form": form, "filing": filing})


@permission_required("filing.manage")
def filing_create(request):
    return _filing_form(request, None)


@permission_required("filing.manage")
def filing_edit(request, pk: int):
    return _filing_form(request, get_scoped_or_404(selectors.filings(request.user), request.user, pk=pk))

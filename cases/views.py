"""Registry pages for caseworkers, county reviewers, supervisors (read) and admins.

Views are thin: a selector for reads (scoped to the user's jurisdiction), one service
for each write, and objects outside the jurisdiction are 404.
"""
from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import selectors, services
from cases.forms import (FilingForm, HouseholdForm, MemberFormSet, StaffForm, bootstrap_widgets,
                         apply_service_errors)
from cases.models import Household, Member, Relation
from dibao.pagination import paginate
from dibao.scoping import get_scoped_or_404



def _roles_required(roles):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if request.user.role not in roles:
                raise PermissionDenied(_("您的角色无权访问此页面"))
            return view(request, *args, **kwargs)
        return wrapped
    return decorator


reader_required = _roles_required(services.REGISTRY_READERS)
editor_required = _roles_required(services.REGISTRY_EDITORS)


def _can_edit(user) -> bool:
    return user.role in services.REGISTRY_EDITORS


def _filtered_page(request, filterset_class, queryset):
    filterset = filterset_class(request.GET, queryset=queryset)
    bootstrap_widgets(filterset.form)
    rows = filterset.qs if filterset.is_valid() else queryset.none()
    return filterset, paginate(rows, request.GET.get("page"), 50)


# ---- households -------------------------------------------------------------

@reader_required
def household_list(request):
    filterset, page = _filtered_page(request, selectors.HouseholdFilter,
                                     selectors.households(request.user, region=request.GET.get("region", "")))
    return render(request, "cases/household_list.html",
                  {"filter": filterset, "page": page, "can_edit": _can_edit(request.user)})


def _detail_context(request, household: Household, revealed: dict | None = None) -> dict:
    return {
        "household": household,
        "members": list(household.members.all()),
        "timeline": selectors.household_timeline(request.user, household),
        "filings": list(household.relative_filings.for_user(request.user).select_related("staff")),
        "can_edit": _can_edit(request.user),
        "can_reveal": request.user.can_see_full_id,
        "revealed": revealed or {},
    }


@reader_required
def household_detail(request, pk: int):
    household = get_scoped_or_404(selectors.household_detail(request.user), request.user, pk=pk)
    return render(request, "cases/household_detail.html", _detail_context(request, household))


@reader_required
@require_POST
def household_reveal(request, pk: int):
    """Show one full ID number (the head's, or `member`'s) — an audited act."""
    household = get_scoped_or_404(selectors.household_detail(request.user), request.user, pk=pk)
    member = None
    member_id = request.POST.get("member", "")
    if member_id:
        if not member_id.isdigit():
            raise Http404
        member = get_scoped_or_404(Member.objects.filter(household=household), request.user, pk=int(member_id))
    number = services.household_reveal_id(actor=request.user, household=household, member=member)
    if request.headers.get("HX-Request"):
        return HttpResponse(format_html('<span class="id-full">{}</span>', number))
    key = f"member-{member.pk}" if member else "head"
    return render(request, "cases/household_detail.html", _detail_context(request, household, {key: number}))


def _household_form(request, household: Household | None):
    instance = household or Household()
    members_qs = Member.objects.filter(household=household) if household else Member.objects.none()
    form = HouseholdForm(request.POST or None, instance=instance)
    formset = MemberFormSet(request.POST or None, instance=instance, queryset=members_qs, prefix="members")
    if request.method == "POST":
        form_ok = form.is_valid()
        if form_ok:
            formset.head_id_number = form.cleaned_data.get("head_id_number")
        if formset.is_valid() and form_ok:
            try:
                saved = services.household_save(actor=request.user, data=form.service_data(),
                                                 members=formset.service_rows(), household=household)
            except ValidationError as error:
                apply_service_errors(error, form, fallback=form)
            else:
                messages.success(request, _("已保存低保家庭 %(no)s") % {"no": saved.household_no})
                return redirect("cases:household_detail", pk=saved.pk)
    return render(request, "cases/household_form.html",
                  {"form": form, "formset": formset, "household": household, "self_relation": Relation.SELF})


@editor_required
def household_create(request):
    return _household_form(request, None)


@editor_required
def household_edit(request, pk: int):
    household = get_scoped_or_404(selectors.household_detail(request.user), request.user, pk=pk)
    return _household_form(request, household)


# ---- staff roster -----------------------------------------------------------

@reader_required
def staff_list(request):
    filterset, page = _filtered_page(request, selectors.StaffFilter, selectors.staff(request.user))
    return render(request, "cases/staff_list.html",
                  {"filter": filterset, "page": page, "can_edit": _can_edit(request.user)})


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


@editor_required
def staff_create(request):
    return _staff_form(request, None)


@editor_required
def staff_edit(request, pk: int):
    return _staff_form(request, get_scoped_or_404(selectors.staff(request.user), request.user, pk=pk))


# ---- close-relative filings -------------------------------------------------

@reader_required
def filing_list(request):
    filterset, page = _filtered_page(request, selectors.FilingFilter, selectors.filings(request.user))
    return render(request, "cases/filing_list.html",
                  {"filter": filterset, "page": page, "can_edit": _can_edit(request.user)})


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


@editor_required
def filing_create(request):
    return _filing_form(request, None)


@editor_required
def filing_edit(request, pk: int):
    return _filing_form(request, get_scoped_or_404(selectors.filings(request.user), request.user, pk=pk))

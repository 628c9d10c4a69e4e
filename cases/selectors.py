"""Reads of the registry, already limited to the user's jurisdiction.

The filter sets serve both the pages and the API, so a filter means the same in both.
"""
from __future__ import annotations

import copy
import datetime as dt

import django_filters
from django import forms
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Category, Household, ManagementClass, Member, RelativeFiling, Staff, StaffType, Status
from dibao import idnumber
from dibao.models import AuditRecord, User, natural_code
from dibao.selectors import object_timeline

# Audit snapshots carry full ID numbers; the timeline shows them masked.
_ID_KEYS = {"head_id_number", "id_number", "relative_id_number"}


def looks_like_id(text: str) -> bool:
    """18 characters, digits with an optional trailing X: searched as an exact ID number."""
    value = idnumber.normalize_id(text)
    return len(value) == 18 and value[:17].isdigit()


def search_households(queryset, q: str):
    """Exact ID number (head or any member) or household number; otherwise the name prefix of the
    head or of any member (a caseworker looks a family up by whoever came to the window).

    Every branch is an index lookup, so a search stays fast over a province.
    """
    q = idnumber.normalize_text(q)
    if not q:
        return queryset
    if looks_like_id(q):
        number = idnumber.normalize_id(q)
        # Resolved to ids first: given `head OR member` in one condition, PostgreSQL walks the
        # whole jurisdiction in list order testing each row (seconds at province scale).
        heads = Household.objects.filter(head_id_number=number).order_by().values_list("pk", flat=True)
        members = Member.objects.filter(id_number=number).order_by().values_list("household_id", flat=True)
        return queryset.filter(pk__in=list(heads.union(members)))
    by_name = Q(head_name__startswith=q)
    if len(q) >= 2:  # one character would match a large part of a province's members
        by_name |= Q(pk__in=Member.objects.filter(name__startswith=q).values("household_id"))
    return queryset.filter(Q(household_no=q) | by_name)


def _region_prefix(queryset, name, value):
    code = natural_code((value or "").strip())
    if not code:
        return queryset
    field = queryset.model.region_field
    return queryset.filter(**{f"{field}__startswith": code})


def _region_in_scope(queryset, name, value):
    """Declared for the form and the API schema; `households(user, region=…)` applies it
    as part of the jurisdiction so the query carries a single prefix condition."""
    return queryset


REVIEW_DUE_DAYS = 30


def review_due_q(day: dt.date) -> Q:
    """Active households whose periodic review (A/B/C: every 12/6/3 months, the rescreening's
    parameter) falls due within REVIEW_DUE_DAYS of `day`, or that were never reviewed."""
    from audits.rules import current_params, months_before  # the rule owns the intervals
    horizon = day + dt.timedelta(days=REVIEW_DUE_DAYS)
    due = Q()
    for cls, months in current_params()["REVIEW_INTERVAL_MONTHS"].items():
        due |= Q(management_class=cls) & (Q(last_reviewed_on__isnull=True)
                                           | Q(last_reviewed_on__lte=months_before(horizon, months)))
    return due & Q(status=Status.ACTIVE)


class HouseholdFilter(django_filters.FilterSet):
    region = django_filters.CharFilter(method=_region_in_scope, label=_("区划代码（含下级）"), widget=forms.HiddenInput)
    status = django_filters.ChoiceFilter(choices=Status.choices, label=_("状态"), empty_label=_("全部"))
    category = django_filters.ChoiceFilter(choices=Category.choices, label=_("保障类别"), empty_label=_("全部"))
    management_class = django_filters.ChoiceFilter(choices=ManagementClass.choices, label=_("分类管理"), empty_label=_("全部"))
    household_no = django_filters.CharFilter(label=_("户编号"))
    q = django_filters.CharFilter(method="filter_q", label=_("姓名、户编号或身份证号"))
    review = django_filters.ChoiceFilter(choices=[("due", _("30 日内到期的定期复核"))], method="filter_review",
                                         label=_("定期复核"), empty_label=_("全部"))

    class Meta:
        model = Household
        fields = ["region", "status", "category", "management_class", "household_no", "q", "review"]

    def filter_q(self, queryset, name, value):
        return search_households(queryset, value)

    def filter_review(self, queryset, name, value):
        return queryset.filter(review_due_q(timezone.localdate())) if value == "due" else queryset


class MemberFilter(django_filters.FilterSet):
    household = django_filters.NumberFilter(label=_("家庭ID"))
    household_no = django_filters.CharFilter(field_name="household__household_no", label=_("户编号"))
    region = django_filters.CharFilter(method=_region_prefix, label=_("区划代码（含下级）"), widget=forms.HiddenInput)
    id_number = django_filters.CharFilter(method="filter_id", label=_("身份证号"))

    class Meta:
        model = Member
        fields = ["household", "household_no", "region", "id_number"]

    def filter_id(self, queryset, name, value):
        return queryset.filter(id_number=idnumber.normalize_id(value))


class StaffFilter(django_filters.FilterSet):
    region = django_filters.CharFilter(method=_region_prefix, label=_("区划代码（含下级）"), widget=forms.HiddenInput)
    staff_type = django_filters.ChoiceFilter(choices=StaffType.choices, label=_("人员类别"), empty_label=_("全部"))
    q = django_filters.CharFilter(method="filter_q", label=_("姓名或身份证号"))

    class Meta:
        model = Staff
        fields = ["region", "staff_type", "q"]

    def filter_q(self, queryset, name, value):
        value = idnumber.normalize_text(value)
        if looks_like_id(value):
            return queryset.filter(id_number=idnumber.normalize_id(value))
        return queryset.filter(name__startswith=value) if value else queryset


class FilingFilter(django_filters.FilterSet):
    region = django_filters.CharFilter(method=_region_prefix, label=_("区划代码（含下级）"), widget=forms.HiddenInput)
    staff = django_filters.NumberFilter(label=_("备案人ID"))
    household_no = django_filters.CharFilter(field_name="household__household_no", label=_("户编号"))
    q = django_filters.CharFilter(method="filter_q", label=_("亲属姓名或身份证号"))

    class Meta:
        model = RelativeFiling
        fields = ["region", "staff", "household_no", "q"]

    def filter_q(self, queryset, name, value):
        value = idnumber.normalize_text(value)
        if looks_like_id(value):
            return queryset.filter(relative_id_number=idnumber.normalize_id(value))
        return queryset.filter(relative_name__startswith=value) if value else queryset


def households(user: User, *, region: str = ""):
    """Ordered by region then number: the (region_code, household_no) index serves both the
    jurisdiction prefix and the order, so a page never sorts a whole county."""
    return (Household.objects.for_user(user, within=region).select_related("region")
            .order_by("region_id", "household_no"))


def household_detail(user: User):
    return Household.objects.for_user(user).select_related("region")


def members(user: User):
    return Member.objects.for_user(user).select_related("household").order_by("household_id", "id")


def staff(user: User):
    return Staff.objects.for_user(user).select_related("region").order_by("region_id", "name", "id")


def filings(user: User):
    return (RelativeFiling.objects.for_user(user).select_related("staff", "household")
            .order_by("-filed_on", "id"))


def household_timeline(user: User, household: Household) -> list[AuditRecord]:
    """The household's audit trail with its members' (deleted ones too), ID numbers masked."""
    member_ids = [str(pk) for pk in household.members.values_list("pk", flat=True)]
    members_q = (Q(object_type="member", object_id__in=member_ids)
                 | Q(object_type="member", region_code=household.region_id, note=household.household_no))
    records = list(object_timeline(user, object_type="household", object_ids=[household.pk], extra=members_q))
    return [masked_record(r) for r in records]


def masked_record(record: AuditRecord) -> AuditRecord:
    """A copy for display (never saved) whose snapshots show ID numbers masked."""
    shown = copy.copy(record)
    for attr in ("before", "after"):
        snapshot = getattr(record, attr)
        if snapshot:
            setattr(shown, attr, {k: (idnumber.mask_id(v) if k in _ID_KEYS and isinstance(v, str) else v)
                                  for k, v in snapshot.items()})
    return shown


# --------------------------------------------------------------------------- benefit standards, 调标
def standards_history(user):
    """Every standard that can apply in the user's jurisdiction: those of its ancestors and those
    set inside it, newest first."""
    from cases.models import BenefitStandard
    from dibao.models import CODE_LENGTHS

    prefix = user.scope_prefix
    if prefix is None:
        return BenefitStandard.objects.select_related("region").order_by("region_id", "category", "-effective_from")
    ancestors = [prefix[:n] for n in CODE_LENGTHS if n <= len(prefix)]
    return (BenefitStandard.objects.filter(Q(region_id__in=ancestors) | Q(region__code__startswith=prefix))
            .select_related("region").order_by("region_id", "category", "-effective_from"))


def standards_in_force(user, month, counties):
    """(county, {category: standard or None}) for each county (Region rows) of the page."""
    from cases.benefits import standard_in_force
    from cases.models import Category

    return [(county, {cat: standard_in_force(region_code=county.code, category=cat, month=month)
                      for cat in Category.values}) for county in counties]


def counties_of(user):
    """The counties of the user's jurisdiction; a township user gets their own county."""
    from dibao.models import Region

    prefix = user.scope_prefix
    if prefix is not None and len(prefix) > 6:
        return Region.objects.filter(code=prefix[:6])
    counties = Region.objects.filter(level=Region.Level.COUNTY)
    return counties.filter(code__startswith=prefix) if prefix else counties


def rerates(user):
    from cases.models import Rerate

    return (Rerate.objects.for_user(user).select_related("standard", "standard__region", "region", "prepared_by",
                                                         "confirmed_by")
            .annotate(line_count=Count("lines"),
                      changed=Count("lines", filter=~Q(lines__new_amount=F("lines__old_amount"))
                                    | Q(lines__old_amount__isnull=True))))


def amount_history(user: User, household: Household) -> list:
    """The household's amounts, newest first, each with the application or change that decided
    it (`application` / `change`, matched by the tracking number the step writes into the note)
    and the one in force this month flagged `in_force` — as cases.benefits.amount_in_force
    defines it: the latest row effective on or before the month."""
    from cases.benefits import month_start
    from cases.models import AmountHistory, AmountSource, Application, HouseholdChange

    rows = list(AmountHistory.objects.for_user(user).filter(household=household).select_related("decided_by"))
    notes = {row.note for row in rows if row.note}
    applications = {a.tracking_no: a for a in Application.objects.filter(household=household, tracking_no__in=notes)}
    changes = {c.tracking_no: c for c in HouseholdChange.objects.filter(household=household, tracking_no__in=notes)}
    this_month = month_start(timezone.localdate())
    current = next((row for row in rows if row.effective_month <= this_month), None)
    for row in rows:
        row.application = applications.get(row.note) if row.source == AmountSource.APPLICATION else None
        row.change = changes.get(row.note) if row.source == AmountSource.CHANGE else None
        row.in_force = row is current
    return rows

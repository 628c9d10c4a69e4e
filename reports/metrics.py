"""The figures of reports.md for one month, per township, set-based.

Each source is one GROUP BY substr(region_code, 1, 9) query returning
`{code: {metric: value}}`. Codes are normally 9-digit townships; a shorter code is an
item attached above township level (a filing by county staff with no household, a clue
recorded against a county), which the rollup places at that region's own level.

The audits and complaints apps own their figures and hand them over through
`<app>.selectors.rollup_metrics(start=, end=)` (docs/ENGINEERING.md, "Rollup metrics").
"""
from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import CharField, Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce, Substr

from cases.models import Household, Member, RelativeFiling, Status
from dibao.models import Region
from reports.models import METRIC_KEYS, MONEY_METRICS
from reports.rollup import add_into, locate, roll_up

Figures = dict[str, dict[str, int | Decimal]]

AUDITS_KEYS = ("findings_raised", "findings_confirmed", "findings_dismissed", "screening_tasks_done", "funds_recovered")
APPLICATIONS_KEYS = ("applications_overdue",)
PAYMENTS_KEYS = ("amount_paid", "payment_anomalies")
COMPLAINTS_KEYS = ("complaints_received", "complaints_closed", "complaints_overdue", "clues_received",
                   "clues_transferred", "clues_concluded", "persons_disciplined", "funds_recovered")


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    first = month.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def parse_month(text: str) -> dt.date:
    """'2026-03' -> date(2026, 3, 1); ValueError with a usable message otherwise."""
    try:
        return dt.datetime.strptime(text.strip(), "%Y-%m").date()
    except (ValueError, AttributeError):
        raise ValueError(f"month must be YYYY-MM, got {text!r}")


def previous_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def active_at(end: dt.date, prefix: str = "") -> Q:
    """Households active at `end` (reports.md): approved by then, not yet exited by then."""
    q = (Q(**{f"{prefix}decided_on__lte": end}) & Q(**{f"{prefix}status__in": (Status.ACTIVE, Status.EXITED)})
         & (Q(**{f"{prefix}exited_on__isnull": True}) | Q(**{f"{prefix}exited_on__gt": end})))
    return q


def _township(expr) -> Substr:
    return Substr(expr, 1, 9, output_field=CharField())


def registry_figures(*, start: dt.date, end: dt.date, scope: str = "") -> Figures:
    """Households and members: two GROUP BY queries."""
    households = Household.objects.all()
    members = Member.objects.all()
    if scope:
        households = households.filter(region__code__startswith=scope)
        members = members.filter(household__region__code__startswith=scope)
    active = active_at(end)
    money = DecimalField(max_digits=18, decimal_places=2)
    rows = (households.annotate(t=_township("region_id")).values("t").order_by("t").annotate(
        households_active=Count("id", filter=active),
        amount_total=Coalesce(Sum("monthly_amount", filter=active), Value(Decimal("0")), output_field=money),
        households_new=Count("id", filter=Q(decided_on__range=(start, end),
                                            status__in=(Status.ACTIVE, Status.EXITED))),
        households_exited=Count("id", filter=Q(exited_on__range=(start, end))),
        applications=Count("id", filter=Q(applied_on__range=(start, end))),
        applications_rejected=Count("id", filter=Q(status=Status.REJECTED, decided_on__range=(start, end))),
    ))
    figures: Figures = {}
    for row in rows:
        code = row.pop("t")
        figures[code] = row
    persons = (members.filter(active_at(end, "household__")).annotate(t=_township("household__region_id"))
               .values("t").order_by("t").annotate(n=Count("id")))
    for row in persons:
        figures.setdefault(row["t"], {})["persons_active"] = row["n"]
    return figures


def filing_figures(*, start: dt.date, end: dt.date, scope: str = "") -> Figures:
    """Close-relative filings made in the month and up to its end.

    A filing counts where the relative's household is; a filing without a household
    counts where the filing staff member works (which may be a county or above).
    """
    rows = (RelativeFiling.objects.filter(filed_on__lte=end)
            .annotate(at=Coalesce("household__region_id", "staff__region_id")).filter(at__startswith=scope)
            .annotate(t=_township("at"))
            .values("t").order_by("t").annotate(
                relatives_filed=Count("id", filter=Q(filed_on__gte=start)),
                relatives_filed_total=Count("id")))
    return {row.pop("t"): row for row in rows}


def external_figures(*, start: dt.date, end: dt.date) -> tuple[list[Figures], dict[str, dict]]:
    """The audits, complaints and applications figures (their contract) and the new findings by rule."""
    from audits import selectors as audits_selectors
    from cases import application_selectors
    from complaints import selectors as complaints_selectors

    from payments import selectors as payments_selectors

    audits = audits_selectors.rollup_metrics(start=start, end=end)
    complaints = complaints_selectors.rollup_metrics(start=start, end=end)
    applications = application_selectors.rollup_metrics(start=start, end=end)
    payments = payments_selectors.rollup_metrics(start=start, end=end)
    sources = [{code: {k: v for k, v in values.items() if k in keys} for code, values in figures.items()}
               for figures, keys in ((audits, AUDITS_KEYS), (complaints, COMPLAINTS_KEYS),
                                     (applications, APPLICATIONS_KEYS), (payments, PAYMENTS_KEYS))]
    return [*sources, recovered_twice(start=start, end=end)], audits_selectors.findings_raised_by_rule(
        start=start, end=end)


@dataclass
class Subtree:
    values: dict[str, dict]  # per region of the subtree: its own-level items + its children's, rolled up
    own: dict[str, dict]  # per region and ancestor: the items attached to that region itself
    rules: dict[str, dict]  # new findings by rule, rolled up like `values`


def subtree_figures(*, start: dt.date, end: dt.date, scope: str, regions: set[str],
                    ancestors: set[str] = frozenset()) -> Subtree:
    """The figures of [start, end] for `regions` (the subtree `scope`, down to townships), rolled
    up from the townships, without storing anything: the monthly snapshot stores them, the
    dashboard shows the current month from them. `ancestors` (snapshot rows above the scope) get
    their own-level items only; the snapshot re-derives them from their stored children."""
    known = set(regions) | set(ancestors)
    top = min(ancestors, key=len) if ancestors else scope
    # Items are placed on the region they belong to in the whole tree, so an item of a
    # sibling township never lands on a shared ancestor's own level; only items of this
    # subtree or of the ancestors themselves are kept.
    tree = known | set(Region.objects.filter(level__lte=Region.Level.TOWNSHIP, code__startswith=top)
                       .values_list("code", flat=True)) if ancestors else known
    external, by_rule = external_figures(start=start, end=end)
    sources = [registry_figures(start=start, end=end, scope=scope), filing_figures(start=start, end=end, scope=top),
               *external]
    own: dict[str, dict] = {code: {} for code in known}
    rules: dict[str, dict] = {code: {} for code in known}
    for code, figures in merge(sources).items():
        target = locate(code, tree)
        if target in known:
            add_into(own[target], figures)
    for code, counts in by_rule.items():
        target = locate(code, tree)
        if target in known:
            add_into(rules[target], counts)
    values = {code: dict(own[code]) for code in regions}
    roll_up(values, rules, targets=set(regions))
    return Subtree(values=values, own=own, rules=rules)


def recovered_twice(*, start: dt.date, end: dt.date) -> Figures:
    """The money counted twice, as a negative funds_recovered: a sum recorded on a confirmed finding
    (counted in the month of the decision) and again on the outcome of the clue made from it (in
    the month the referral concluded). The referral then adds only what exceeds the finding's sum."""
    from django.db.models import OuterRef, Subquery
    from django.db.models.functions import Least

    from audits.models import Finding, FindingState
    from complaints.models import Referral

    on_finding = Finding.objects.filter(pk=OuterRef("clue__finding_id"), state=FindingState.CONFIRMED) \
        .values("funds_recovered")[:1]
    money = DecimalField(max_digits=18, decimal_places=2)
    rows = (Referral.objects.filter(concluded_on__gte=start, concluded_on__lte=end, clue__finding_id__isnull=False)
            .annotate(on_finding=Coalesce(Subquery(on_finding, output_field=money), Value(Decimal("0")),
                                          output_field=money))
            .annotate(twice=Least("funds_recovered", "on_finding", output_field=money))
            .annotate(t=_township("clue__region_id")).values("t").order_by("t")
            .annotate(total=Sum("twice", output_field=money)))
    return {row["t"]: {"funds_recovered": -Decimal(row["total"]).quantize(Decimal("0.01"))}
            for row in rows if row["total"]}


def merge(sources: list[Figures]) -> dict[str, dict]:
    """Add several sources key by key (funds_recovered comes from two apps)."""
    merged: dict[str, dict] = defaultdict(dict)
    for figures in sources:
        for code, values in figures.items():
            target = merged[code]
            for key, value in values.items():
                if value:
                    target[key] = target.get(key, 0) + value
    return merged


def zero() -> dict:
    return {key: (Decimal("0.00") if key in MONEY_METRICS else 0) for key in METRIC_KEYS}

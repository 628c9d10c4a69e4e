"""What the forms read from the audits and complaints apps, through their models and selectors."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import CharField, Count
from django.db.models.functions import Substr

from reports import metrics


def ineligible_not_exited(*, end: dt.date) -> metrics.Figures:
    """Households with a confirmed finding that are still in dibao at `end`, by township."""
    from audits.models import Finding, FindingState

    rows = (Finding.objects.filter(state=FindingState.CONFIRMED, household__isnull=False)
            .filter(metrics.active_at(end, "household__"))
            .annotate(t=Substr("household__region_id", 1, 9, output_field=CharField()))
            .values("t").order_by("t").annotate(n=Count("household_id", distinct=True)))
    return {row["t"]: {"ineligible_not_exited": row["n"]} for row in rows}


def complaints_figures(*, start: dt.date, end: dt.date) -> list[metrics.Figures]:
    from complaints import selectors

    return [selectors.rollup_metrics(start=start, end=end)]


def hotline_numbers(region_code: str) -> list[str]:
    """The complaint phone of the nearest region (village → township → county → …) that has one."""
    from complaints.models import Hotline

    prefixes = [region_code[:n] for n in (12, 9, 6, 4, 2) if n <= len(region_code)]
    by_region = defaultdict(list)
    for hotline in Hotline.objects.filter(active=True, region_id__in=prefixes).order_by("id"):
        by_region[hotline.region_id].extend(hotline.number_list)
    for prefix in prefixes:
        if by_region.get(prefix):
            return by_region[prefix]
    return []

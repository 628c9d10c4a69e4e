"""Demo data: monthly rollup snapshots of the last six months for the demo county's province,
so the dashboard has a current month and a trend to show. Runs after the other apps' demos."""
from __future__ import annotations

import random

from django.utils import timezone

from dibao.models import Region, User
from reports import metrics, services
from reports.models import RollupRow

DEMO_MONTHS = 6


def seed(*, county: Region, users: dict[str, User], rng: random.Random) -> str:
    month = metrics.previous_month(timezone.localdate())
    months = []
    for _ in range(DEMO_MONTHS):
        months.append(month)
        month = metrics.previous_month(month)
    province = county.code[:2]
    if RollupRow.objects.filter(month=months[0], region_code=province).exists():
        return "reports: already seeded"
    actor = users.get("admin") or "system"
    for month in reversed(months):
        services.rollup_compute(actor=actor, month=month, scope=province)
    return f"reports: rollups {months[-1]:%Y-%m}…{months[0]:%Y-%m} for province {province}"

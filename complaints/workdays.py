"""The complaint deadline setting; the working-day arithmetic itself is dibao.workdays."""
from __future__ import annotations

from django.conf import settings


def default_complaint_days() -> int:
    return int(getattr(settings, "COMPLAINT_DEADLINE_WORKING_DAYS", 15))

"""Deadlines counted in working days (工作日), public holidays and make-up days included.

`chinese_calendar` knows the State Council's holiday arrangements year by year; for a year
it does not know yet we fall back to Monday–Friday rather than refuse to set a deadline.
"""
from __future__ import annotations

import datetime as dt

import chinese_calendar
from django.conf import settings


def is_workday(day: dt.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The `days`-th working day after `start` (the day of receipt does not count)."""
    day = start
    remaining = days
    while remaining > 0:
        day += dt.timedelta(days=1)
        if is_workday(day):
            remaining -= 1
    return day


def default_complaint_days() -> int:
    return int(getattr(settings, "COMPLAINT_DEADLINE_WORKING_DAYS", 15))

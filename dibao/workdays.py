"""Deadlines counted in working days (工作日), public holidays and make-up days included.

`chinese_calendar` knows the State Council's holiday arrangements year by year; for a year
it does not know yet we fall back to Monday–Friday rather than refuse to set a deadline,
and `calendar_knows` lets a page say so.
"""
from __future__ import annotations

import datetime as dt

import chinese_calendar


def calendar_knows(day: dt.date) -> bool:
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


def is_workday(day: dt.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The `days`-th working day after `start` (the day of receipt, day 0, does not count)."""
    day = start
    remaining = days
    while remaining > 0:
        day += dt.timedelta(days=1)
        if is_workday(day):
            remaining -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]: `start` itself does not count, as in `add_working_days`."""
    return sum(1 for n in range(1, (end - start).days + 1) if is_workday(start + dt.timedelta(days=n)))

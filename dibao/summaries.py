"""Region-wide live summaries shared for a few minutes.

A province's or county's live figures (the dashboard, verification-task progress) aggregate
millions of rows — seconds of database time at 1M households — and every supervisor who opens
the page asks for the same numbers. They are computed at most once per LIVE_SUMMARY_SECONDS per
key and shared through the cache (Redis in production); the pages show when they were computed.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

T = TypeVar("T")


def shared_summary(key: str, compute: Callable[[], T]) -> tuple[dt.datetime, T]:
    """(when computed, value) for `key`, computed now or taken from the last LIVE_SUMMARY_SECONDS."""
    ttl = settings.LIVE_SUMMARY_SECONDS
    cached = cache.get(f"summary:{key}") if ttl else None
    if cached is None:
        cached = (timezone.localtime(), compute())
        if ttl:
            cache.set(f"summary:{key}", cached, ttl)
    return cached

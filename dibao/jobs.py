"""The one lifecycle of long-running work: imports, rescreening batches and their chunks, export workbooks.

Each is a row (a `Job`) that a Celery task moves from queued to running to a finished state, in the
manner of Saleor's export jobs. A task first *claims* its row (`job_claim`): a message delivered twice,
a job another worker is running, or a job already finished is left alone. While it works the task
beats (`job_beat`, stamping `heartbeat_at`) and holds its row locked inside its long write
transaction; a row "running" with an old stamp and no lock lost its worker (kill -9, OOM, a lost
machine), and the watchdog of its app (`stale_running`) requeues it, until `TASK_MAX_ATTEMPTS` runs.
`TASK_STALE_AFTER` says how old is old.
"""
from __future__ import annotations

import datetime as dt
import enum

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class JobState(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("运行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class Job(models.Model):
    """The lifecycle columns every job shares; a job may widen `state` with states of its own
    (an import's 预检通过 / 有错误) as long as it keeps these four."""

    state = models.CharField(_("状态"), max_length=10, choices=JobState.choices, default=JobState.QUEUED,
                             db_index=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("心跳时间"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("运行次数"), default=0)

    class Meta:
        abstract = True


class Claim(enum.Enum):
    RUN = "run"  # this worker runs it now
    SKIP = "skip"  # finished, or a live worker has it: nothing to do
    EXHAUSTED = "exhausted"  # died TASK_MAX_ATTEMPTS times: the caller fails it with a message


def stale_cutoff() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.TASK_STALE_AFTER)


def is_alive(heartbeat_at: dt.datetime | None) -> bool:
    return heartbeat_at is not None and heartbeat_at >= stale_cutoff()


def stale_q(started_field: str = "started_at") -> Q:
    """Rows whose beat is old, or that never beat and started (or were created) long ago."""
    cutoff = stale_cutoff()
    return Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, **{f"{started_field}__lt": cutoff})


def job_claim(queryset: models.QuerySet, pk: int, *, claimable=(JobState.QUEUED, JobState.RUNNING),
              **on_start) -> tuple[Claim, Job | None]:
    """Inside the caller's transaction: lock the job (a row another transaction holds is a live
    worker's — skipped) and mark it running for this worker, with `on_start` fields reset."""
    job = queryset.select_for_update(skip_locked=True).filter(pk=pk).first()
    if job is None or job.state not in claimable:
        return Claim.SKIP, job
    if job.state == JobState.RUNNING and is_alive(job.heartbeat_at):
        return Claim.SKIP, job
    if job.attempts >= settings.TASK_MAX_ATTEMPTS:
        return Claim.EXHAUSTED, job
    now = timezone.now()
    queryset.filter(pk=pk).update(**{"state": JobState.RUNNING, "started_at": now, "heartbeat_at": now,
                                     "attempts": F("attempts") + 1, **on_start})
    job.refresh_from_db()
    return Claim.RUN, job


def job_beat(queryset: models.QuerySet, pk: int, **fields) -> None:
    """Stamp the job alive (with progress fields, if any) from the worker that runs it."""
    queryset.filter(pk=pk).update(heartbeat_at=timezone.now(), **fields)


def stale_running(queryset: models.QuerySet, started_field: str = "started_at") -> models.QuerySet:
    """For a watchdog: the running jobs that lost their worker, locked (a locked one is alive)."""
    return (queryset.select_for_update(skip_locked=True)
            .filter(stale_q(started_field), state=JobState.RUNNING).order_by("pk"))


def ensure_watchdog_schedule(*, name: str, task: str, description: str, using: str = "default") -> None:
    """Register a watchdog task with beat, every 5 minutes, once (post_migrate); administrators
    may then change or disable it in the admin like the other periodic tasks."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every, _created = IntervalSchedule.objects.using(using).get_or_create(every=5, period=IntervalSchedule.MINUTES)
    PeriodicTask.objects.using(using).get_or_create(
        name=name, defaults={"task": task, "interval": every, "description": description})

"""Worker tasks: the monthly rollup (beat, 1st of each month) and building export workbooks."""
from __future__ import annotations

from celery import shared_task
from django.utils import timezone

MONTHLY_ROLLUP_TASK = "reports.tasks.monthly_rollup"


@shared_task(name=MONTHLY_ROLLUP_TASK)
def monthly_rollup(month: str | None = None) -> int:
    """The previous month's snapshot for every region (or `month` = 'YYYY-MM'); returns the run id."""
    from reports import metrics, services

    target = metrics.parse_month(month) if month else metrics.previous_month(timezone.localdate())
    return services.rollup_compute(actor="system", month=target, scope="").pk


@shared_task(name="reports.tasks.run_export", acks_late=True)
def run_export(job_id: int) -> None:
    from reports.exports import build_job

    build_job(job_id)



NOTICE_RELEASE_TASK = "reports.tasks.notice_release_due"


@shared_task(name=NOTICE_RELEASE_TASK)
def notice_release_due(day: str = "") -> int:
    """Release the public-notice editions that are due (villages monthly, townships quarterly)."""
    import datetime as dt

    from reports.notices import notice_release_due as release_due

    return release_due(day=dt.date.fromisoformat(day) if day else timezone.localdate())

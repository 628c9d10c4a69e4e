"""Imports run in a worker: the task takes the ImportJob id and calls the one service.

Without REDIS_URL Celery runs it eagerly in-process (settings), right after the
transaction that queued it commits.
"""
import logging

from celery import shared_task

from imports import services

log = logging.getLogger(__name__)


@shared_task(acks_late=True)
def run_import_job(job_id: int) -> str:
    try:
        job = services.import_run(job_id=job_id)
    except Exception:  # the job is marked failed with the reason; the page shows it
        log.exception("import job %s failed", job_id)
        return "failed"
    return job.state


@shared_task
def recover_stale_imports() -> dict:
    """The watchdog, every 5 minutes (django-celery-beat): jobs whose worker died."""
    return services.import_jobs_recover()

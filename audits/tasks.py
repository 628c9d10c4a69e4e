"""Celery tasks of rescreening. They take ids and call the engine; chunks of a batch run as
separate tasks so several workers share a province-wide batch. Without REDIS_URL they run
eagerly, one after the other, in the calling process."""
from celery import shared_task
from django.conf import settings

from audits import engine


@shared_task(acks_late=True)
def run_batch(batch_id: int) -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        engine.execute_batch(batch_id)
        return
    for chunk_id in engine.prepare_batch(batch_id):
        run_chunk.delay(chunk_id)
    engine.finish_batch(batch_id)  # a batch without chunks


@shared_task(acks_late=True)
def run_chunk(chunk_id: int) -> None:
    engine.execute_chunk(chunk_id)


@shared_task
def monthly_rescreen(region_code: str = "") -> int:
    """The scheduled province-wide batch (django-celery-beat, 1st of each month)."""
    from audits import services
    batch = services.batch_create(actor="system", region_code=region_code, enqueue=False)
    run_batch.delay(batch.pk)
    return batch.pk


@shared_task
def recover_stale() -> dict:
    """The watchdog, every 5 minutes (django-celery-beat): requeue chunks and batches whose worker died."""
    from audits import services
    return services.recover_stale()

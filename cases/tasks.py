"""Scheduled work of the registry (django-celery-beat)."""
from celery import shared_task


@shared_task
def grace_exits() -> list[int]:
    """Daily: households whose 渐退期 ended exit, and their 退出通知书 is issued."""
    from cases.changes import grace_exits_due

    return grace_exits_due()

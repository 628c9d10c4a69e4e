"""Starting long work (imports, rescreening batches, workbook exports) from a page.

With Redis the task goes to the Celery workers. With the embedded default (no REDIS_URL) Celery runs
tasks eagerly, which would run an hour's import inside the click that asked for it: the page would
freeze until it ends. There the task runs in a daemon thread of the web process instead, so the page
returns at once and its progress bar moves (the job row is the progress; each job's own claim and
heartbeat make running it here as safe as in a worker). The test suite turns the thread off
(settings.TASKS_IN_THREAD) so that a test sees the finished job right after its request.
"""
from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connections, transaction

logger = logging.getLogger(__name__)


def enqueue(task, *args) -> None:
    """Run `task(*args)` once the current transaction commits (the job row must be visible)."""
    transaction.on_commit(lambda: _start(task, args))


def _start(task, args: tuple) -> None:
    if not getattr(settings, "TASKS_IN_THREAD", False):
        task.delay(*args)
        return
    threading.Thread(target=_run, args=(task, args), name=f"task:{task.name}", daemon=True).start()


def _run(task, args: tuple) -> None:
    close_old_connections()
    try:
        task.apply(args=args)
    except Exception:  # the job's row already says it failed and why; the log keeps the trace
        logger.exception("background task %s%r failed", task.name, args)
    finally:
        connections.close_all()

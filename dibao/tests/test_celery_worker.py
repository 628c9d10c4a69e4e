"""The production wiring: a real Celery worker on Redis runs a task against PostgreSQL."""
import os
import socket
import subprocess
import sys
import time

import pytest
from celery import Celery
from django.db import connection

from dibao.audit import audit_record

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.mark.django_db(transaction=True)
def test_worker_on_redis_runs_the_audit_check(tmp_path):
    if connection.vendor != "postgresql" or not _redis_up():
        pytest.skip("needs PostgreSQL (a database the worker process can see) and Redis")
    audit_record(actor=None, action="demo.seed", object_type="region", object_id="1")
    db = connection.settings_dict
    env = dict(os.environ, REDIS_URL=REDIS_URL, AUDIT_CHECKPOINT_DIR=str(tmp_path),
               DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}")
    queue = f"test-{os.getpid()}"  # its own queue: nothing left over from another run reaches it
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
         "-l", "warning", "-n", f"{queue}@localhost", "-Q", queue, "--without-heartbeat", "--without-mingle",
         "--without-gossip"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # A separate client app: the project's app may already hold a connection pool to the
    # in-memory broker that the eager test settings use.
    sender = Celery("test-sender", broker=REDIS_URL, backend=REDIS_URL)
    try:
        result = sender.send_task("dibao.tasks.audit_verify_chain", queue=queue)
        deadline = time.monotonic() + 120
        while not result.ready() and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.2)
        if not result.ready():
            worker.terminate()
            pytest.fail("the worker did not run the task:\n" + worker.communicate(timeout=20)[0][-3000:])
        outcome = result.get(timeout=5)
        assert (outcome["checked"], outcome["broken_record"], outcome["problems"]) == (1, None, [])
    finally:
        sender.close()
        worker.terminate()
        worker.wait(timeout=20)

"""An import whose worker died (kill -9 mid-import) never stays "running": the watchdog or the
broker's redelivery runs it again (it is all or nothing, so nothing was written), and after
TASK_MAX_ATTEMPTS runs it fails with a message on the job page."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Household
from imports import services, tasks
from imports.models import ImportJob
from imports.tests.helpers import HOUSEHOLD_HEADER, write_csv
from tests.factories import make_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def stuck(users, tmp_path):
    """A real import whose worker was killed after it had started: running, last beat an hour ago."""
    path = write_csv(tmp_path / "h.csv", HOUSEHOLD_HEADER,
                     [["H1", "220102001001", "张三", make_id(), "农村低保", "审核中", "2023-01-05", "", "", "", "B", "否"]])
    job = services.import_job_create(actor=users["caseworker_a"], kind="households", file_name="h.csv",
                                     path=str(path), dry_run=False)
    an_hour_ago = timezone.now() - dt.timedelta(hours=1)
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.RUNNING, attempts=1, started_at=an_hour_ago,
                                               heartbeat_at=an_hour_ago, progress=40)
    return job


def test_watchdog_requeues_a_stuck_import_and_it_completes(stuck, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert services.import_jobs_recover() == {"requeued": 1, "failed": 0}
    stuck.refresh_from_db()
    assert stuck.state == ImportJob.State.DONE, stuck.outcome
    assert stuck.attempts == 2
    assert Household.objects.filter(household_no="H1").count() == 1


def test_redelivered_task_of_a_dead_worker_resumes_but_a_live_one_is_left_alone(stuck):
    ImportJob.objects.filter(pk=stuck.pk).update(heartbeat_at=timezone.now())
    assert tasks.run_import_job(stuck.pk) == ImportJob.State.RUNNING  # its worker is alive: not run twice
    assert not Household.objects.exists()

    ImportJob.objects.filter(pk=stuck.pk).update(heartbeat_at=timezone.now() - dt.timedelta(hours=1))
    assert tasks.run_import_job(stuck.pk) == ImportJob.State.DONE


def test_an_import_that_keeps_dying_fails_with_a_message(stuck, settings, users, client_for,
                                                          django_capture_on_commit_callbacks):
    ImportJob.objects.filter(pk=stuck.pk).update(attempts=settings.TASK_MAX_ATTEMPTS)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.import_jobs_recover() == {"requeued": 0, "failed": 1}
    stuck.refresh_from_db()
    assert stuck.state == ImportJob.State.FAILED and stuck.finished_at
    assert "未导入任何数据" in stuck.outcome and "请重新上传" in stuck.outcome
    page = client_for(users["caseworker_a"]).get(reverse("imports:job", args=[stuck.pk])).content.decode()
    assert "处理进程在运行中异常退出" in page
    assert not Household.objects.exists()

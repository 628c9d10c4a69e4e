"""Lost updates on a review decision, and recovery without a person: the watchdog requeues a
chunk or batch whose worker died, and the batch finishes with the findings of a clean run."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from audits import engine, services
from audits.models import BatchChunk, FindingState, RefKind, RescreenBatch
from dibao.jobs import JobState
from audits.rules import RULES
from audits.tests.helpers import AS_OF, ref, run, snapshot
from tests.factories import HouseholdFactory, MemberFactory, make_id

pytestmark = pytest.mark.django_db
STALE = "该记录已被他人修改，请刷新后重试"


@pytest.fixture
def data(regions):
    """Deaths in two counties and a five-group person: a province batch has three chunks."""
    a = MemberFactory(household=HouseholdFactory(region_id="220102001001"), name="赵五")
    b = MemberFactory(household=HouseholdFactory(region_id="220103001001"))
    ref(RefKind.DEATHS, [{"id_number": a.id_number, "name": a.name, "death_date": dt.date(2026, 1, 5)},
                         {"id_number": b.id_number, "name": b.name, "death_date": dt.date(2026, 2, 5)}])
    ref(RefKind.POVERTY, [{"id_number": make_id("220102"), "name": "贫一", "region_code": "220102001001"}])
    return {"a": a, "b": b}


def long_ago():
    return timezone.now() - dt.timedelta(hours=1)


# --- two reviewers, one finding -------------------------------------------------------------------

def test_second_reviewer_is_told_and_keeps_the_reason_typed(data, users, client_for):
    finding = run(region="22").findings.get(rule="DECEASED", id_number=data["a"].id_number)
    url = reverse("audits:finding_detail", args=[finding.pk])
    first, second = client_for(users["reviewer"]), client_for(users["admin"])
    version = first.get(url).context["form"]["version"].value()
    assert second.get(url).context["form"]["version"].value() == version == 1

    assert first.post(url, {"decision": "dismiss", "reason": "身份信息误报", "version": version}).status_code == 302
    refused = second.post(url, {"decision": "confirm", "reason": "经核实已死亡", "version": version})
    assert refused.status_code == 200
    assert any(STALE in e for e in refused.context["form"].non_field_errors())
    assert "经核实已死亡" in refused.content.decode()
    finding.refresh_from_db()
    assert (finding.state, finding.decision_reason, finding.version) == (FindingState.DISMISSED, "身份信息误报", 2)


def test_bulk_decision_on_a_list_gone_stale_changes_nothing(data, users, client_for):
    batch = run(region="22")
    one = batch.findings.get(rule="DECEASED", id_number=data["a"].id_number)
    two = batch.findings.get(rule="DECEASED", id_number=data["b"].id_number)
    services.finding_dismiss(actor=users["reviewer"], finding=one, reason="身份信息误报")  # meanwhile
    response = client_for(users["admin"]).post(reverse("audits:bulk_decide"), {
        "ids": [one.pk, two.pk], f"version_{one.pk}": 1, f"version_{two.pk}": 1,
        "decision": "confirm", "reason": "批量认定"}, follow=True)
    assert STALE in response.content.decode()
    two.refresh_from_db()
    assert two.state == FindingState.PENDING  # all or nothing


def test_api_finding_decision_honours_if_match(data, users, client_for):
    finding = run(region="22").findings.get(rule="DECEASED", id_number=data["a"].id_number)
    api = client_for(users["reviewer"])
    etag = api.get(f"/api/v1/findings/{finding.pk}/")["ETag"]
    services.finding_dismiss(actor=users["admin"], finding=finding, reason="身份信息误报")
    stale = api.post(f"/api/v1/findings/{finding.pk}/confirm/", {"reason": "属实"},
                     content_type="application/json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412 and STALE in stale.json()["detail"]


# --- the watchdog ---------------------------------------------------------------------------------

def test_chunk_whose_worker_died_is_requeued_and_the_batch_matches_a_clean_run(
        data, django_capture_on_commit_callbacks):
    clean = run()
    batch = services.batch_create(actor="system", as_of=AS_OF, enqueue=False)
    dead, *others = engine.prepare_batch(batch.pk)
    assert others, "the fixture should give several chunks"
    for chunk_id in others:
        engine.execute_chunk(chunk_id)
    # The worker of `dead` was killed inside its transaction: nothing written, the row says running.
    BatchChunk.objects.filter(pk=dead).update(state=JobState.RUNNING, attempts=1, heartbeat_at=long_ago())
    RescreenBatch.objects.filter(pk=batch.pk).update(heartbeat_at=long_ago())
    assert RescreenBatch.objects.get(pk=batch.pk).state == JobState.RUNNING

    with django_capture_on_commit_callbacks(execute=True):
        assert services.recover_stale() == {"chunks": 1, "batches": 0}

    batch.refresh_from_db()
    assert batch.state == JobState.DONE
    assert snapshot(batch) == snapshot(clean) and batch.counts == clean.counts
    assert BatchChunk.objects.get(pk=dead).attempts == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert services.recover_stale() == {"chunks": 0, "batches": 0}


def test_a_live_chunk_is_left_alone(data, django_capture_on_commit_callbacks):
    batch = services.batch_create(actor="system", as_of=AS_OF, enqueue=False)
    chunk_id = engine.prepare_batch(batch.pk)[0]
    BatchChunk.objects.filter(pk=chunk_id).update(state=JobState.RUNNING, heartbeat_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert services.recover_stale() == {"chunks": 0, "batches": 0}
    engine.run_chunk(chunk_id)  # a second delivery while its worker lives does nothing either
    assert BatchChunk.objects.get(pk=chunk_id).state == JobState.RUNNING


def test_batch_killed_while_staging_is_run_again(data, django_capture_on_commit_callbacks):
    clean = run()
    batch = services.batch_create(actor="system", as_of=AS_OF, enqueue=False)
    engine.run_rule(engine.batch_context(batch), batch, RULES["DECEASED"])  # then the worker was killed
    RescreenBatch.objects.filter(pk=batch.pk).update(state=JobState.RUNNING, heartbeat_at=long_ago())
    with django_capture_on_commit_callbacks(execute=True):
        assert services.recover_stale() == {"chunks": 0, "batches": 1}
    batch.refresh_from_db()
    assert batch.state == JobState.DONE and snapshot(batch) == snapshot(clean)


def test_a_chunk_that_keeps_dying_fails_with_a_message(data, django_capture_on_commit_callbacks, settings):
    batch = services.batch_create(actor="system", as_of=AS_OF, enqueue=False)
    chunk_id = engine.prepare_batch(batch.pk)[0]
    BatchChunk.objects.filter(pk=chunk_id).update(state=JobState.RUNNING, heartbeat_at=long_ago(),
                                                  attempts=settings.TASK_MAX_ATTEMPTS)
    with django_capture_on_commit_callbacks(execute=True):
        services.recover_stale()
    chunk, batch = BatchChunk.objects.get(pk=chunk_id), RescreenBatch.objects.get(pk=batch.pk)
    assert chunk.state == batch.state == JobState.FAILED
    assert "已停止自动重试" in batch.error
    services.batch_resume(actor="system", batch=batch, enqueue=False)
    assert BatchChunk.objects.get(pk=chunk_id).attempts == 0  # a person's resume retries afresh


@pytest.mark.django_db(transaction=True)
def test_a_chunk_inside_its_write_transaction_counts_as_alive(data):
    """The heartbeat is not beaten during a chunk's one long transaction; the row lock it holds
    is the proof of life the watchdog respects (PostgreSQL: SKIP LOCKED)."""
    import threading

    from django.db import connection, connections, transaction

    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    batch = services.batch_create(actor="system", as_of=AS_OF, enqueue=False)
    chunk_id = engine.prepare_batch(batch.pk)[0]
    BatchChunk.objects.filter(pk=chunk_id).update(state=JobState.RUNNING, heartbeat_at=long_ago())
    locked, release = threading.Event(), threading.Event()

    def worker():
        try:
            with transaction.atomic():
                BatchChunk.objects.select_for_update().get(pk=chunk_id)
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert locked.wait(30)
        assert services.recover_stale()["chunks"] == 0
    finally:
        release.set()
        thread.join()
    assert services.recover_stale()["chunks"] == 1  # the transaction ended without committing the chunk

"""Batches: idempotent reruns, resume after a crash, comparison with the previous batch."""
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from audits import engine, services
from audits.models import BatchChunk, Finding, FindingState, Novelty, RefKind, RescreenBatch, StagedFinding
from dibao.jobs import JobState
from audits.selectors import findings_raised_by_rule, rollup_metrics
from audits.tests.helpers import AS_OF, ref, run, snapshot
from cases.models import Status
from tests.factories import HouseholdFactory, MemberFactory, make_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(regions):
    """Findings in two counties and five-group people with and without a region."""
    a = MemberFactory(household=HouseholdFactory(region_id="220102001001"))
    b = MemberFactory(household=HouseholdFactory(region_id="220103001001"))
    c = MemberFactory(household=HouseholdFactory(region_id="220102002001", management_class="C"))
    ref(RefKind.DEATHS, [{"id_number": a.id_number, "name": a.name, "death_date": dt.date(2026, 1, 5)},
                         {"id_number": b.id_number, "name": b.name, "death_date": dt.date(2026, 2, 5)}])
    ref(RefKind.VEHICLES, [{"id_number": b.id_number, "plate_no": "吉A1", "vehicle_type": "小型轿车"},
                           {"id_number": c.id_number, "plate_no": "吉A2", "vehicle_type": "中型客车"}])
    ref(RefKind.ILLNESS, [{"id_number": make_id("220103"), "name": "病甲", "disease": "癌症",
                           "region_code": "220103001001"},
                          {"id_number": make_id("220102"), "name": "病乙", "disease": "癌症", "region_code": ""}])
    return {"a": a, "b": b, "c": c}


def test_rerun_gives_the_same_findings(data):
    first = run()
    second = run()
    assert snapshot(first) == snapshot(second)
    assert first.counts == second.counts
    assert sum(first.counts.values()) == first.findings.count() > 0
    # A chunk run twice (redelivered after its worker died) writes the same rows, never twice.
    batch = services.batch_create(actor="system", as_of=AS_OF, enqueue=False)
    chunk_ids = engine.prepare_batch(batch.pk)
    for chunk_id in chunk_ids:
        engine.run_chunk(chunk_id)
    before = snapshot(batch)
    dead = timezone.now() - dt.timedelta(hours=1)
    for chunk_id in chunk_ids:
        BatchChunk.objects.filter(pk=chunk_id).update(state=JobState.RUNNING, heartbeat_at=dead)
        engine.run_chunk(chunk_id)
    assert snapshot(batch) == before and batch.findings.count() == len(before) == first.findings.count()
    # Once the batch is finished a late duplicate does nothing.
    assert engine.finish_batch(batch.pk)
    engine.run_chunk(chunk_ids[0])
    assert snapshot(batch) == before


def _rows(batch):
    """A batch's findings without the batch-specific ids."""
    return {row[:1] + row[2:] for row in snapshot(batch)}


def test_resume_after_crash_in_a_chunk_equals_clean_run(data, monkeypatch):
    clean = run(region="22")
    # a province batch also has the chunk of payments to 户编号 the registry does not know
    assert [c.region_code for c in clean.chunks.order_by("region_code")] == ["-", "220102", "220103"]

    real_move = engine.move_chunk

    def crashing(batch, chunk):
        counts = real_move(batch, chunk)
        if chunk.region_code == "220103":
            raise RuntimeError("worker killed")
        return counts

    monkeypatch.setattr(engine, "move_chunk", crashing)
    batch = services.batch_create(actor="system", region_code="22", as_of=AS_OF, enqueue=False)
    with pytest.raises(RuntimeError):
        engine.execute_batch(batch.pk)
    batch.refresh_from_db()
    assert batch.state == JobState.FAILED and "worker killed" in batch.error
    assert dict(batch.chunks.values_list("region_code", "state")) == {"-": JobState.DONE, "220102": JobState.DONE,
                                                                     "220103": JobState.FAILED}
    # The crashed chunk had inserted its rows; none of them was kept.
    assert batch.findings.filter(region_code__startswith="220102").exists()
    assert not batch.findings.filter(region_code__startswith="220103").exists()
    assert 0 < batch.progress < 100

    monkeypatch.setattr(engine, "move_chunk", real_move)
    services.batch_resume(actor="system", batch=batch, enqueue=False)
    resumed = engine.execute_batch(batch.pk)
    assert resumed.state == JobState.DONE
    assert _rows(resumed) == _rows(clean) and resumed.counts == clean.counts
    assert not StagedFinding.objects.filter(batch=resumed).exists()


def test_finishing_keeps_the_rows_another_batch_has_staged(data):
    """The staged rows go with their batch; another batch's, staged meanwhile, stay (on PostgreSQL the
    table is truncated only when no other batch has rows there)."""
    other = services.batch_create(actor="system", region_code="220103", as_of=AS_OF, enqueue=False)
    engine.prepare_batch(other.pk)
    waiting = StagedFinding.objects.filter(batch=other).count()
    assert waiting > 0
    finished = run(region="220102")
    assert finished.state == JobState.DONE and not StagedFinding.objects.filter(batch=finished).exists()
    assert StagedFinding.objects.filter(batch=other).count() == waiting
    for chunk_id in BatchChunk.objects.filter(batch=other).values_list("pk", flat=True):
        engine.execute_chunk(chunk_id)
    assert not StagedFinding.objects.exists()


def test_resume_after_crash_while_staging_equals_clean_run(data, monkeypatch):
    clean = run()
    real_run_rule = engine.run_rule
    calls = []

    def crashing(ctx, batch, rule):
        calls.append(rule.code)
        if rule.code == "ASSET_VEHICLE" and calls.count("ASSET_VEHICLE") == 1:
            raise RuntimeError("worker killed")
        return real_run_rule(ctx, batch, rule)

    monkeypatch.setattr(engine, "run_rule", crashing)
    batch = services.batch_create(actor="system", as_of=AS_OF, enqueue=False)
    with pytest.raises(RuntimeError):
        engine.execute_batch(batch.pk)
    batch.refresh_from_db()
    assert batch.state == JobState.FAILED and "ASSET_VEHICLE" not in batch.staged_rules
    assert "DECEASED" in batch.staged_rules and not batch.chunks.exists()
    services.batch_resume(actor="system", batch=batch, enqueue=False)
    resumed = engine.execute_batch(batch.pk)
    assert _rows(resumed) == _rows(clean)
    # Staged rules were not run again.
    assert calls.count("DECEASED") == 1 and calls.count("ASSET_VEHICLE") == 2


def test_unfiltered_batch_includes_people_without_region(data):
    batch = run()
    assert batch.chunks.filter(region_code=BatchChunk.NO_REGION).exists()
    assert batch.findings.filter(rule="MISSED_ILLNESS", region_code="").count() == 1
    assert run(region="22").findings.filter(rule="MISSED_ILLNESS").count() == 1


def test_new_open_resolved_and_first_raised(data):
    first = run(as_of=dt.date(2026, 9, 30))
    assert first.new_count == first.findings.count() and first.open_count == 0
    data["b"].household.status = Status.EXITED
    data["b"].household.exited_on = dt.date(2026, 10, 1)
    data["b"].household.save()
    fresh = MemberFactory(household=HouseholdFactory())
    ref(RefKind.DEATHS, [{"id_number": data["a"].id_number, "name": "x", "death_date": dt.date(2026, 1, 5)},
                         {"id_number": fresh.id_number, "name": "y", "death_date": dt.date(2026, 8, 1)}])
    second = run(as_of=dt.date(2026, 10, 31))
    a_death = second.findings.get(rule="DECEASED", id_number=data["a"].id_number)
    assert a_death.novelty == Novelty.OPEN and a_death.first_raised_on == dt.date(2026, 9, 30)
    fresh_death = second.findings.get(rule="DECEASED", id_number=fresh.id_number)
    assert fresh_death.novelty == Novelty.NEW and fresh_death.first_raised_on == dt.date(2026, 10, 31)
    # b's household left dibao: its death and vehicle findings (and its overdue review) are resolved.
    resolved = set(engine.resolved_findings(second).values_list("rule", flat=True))
    assert {"DECEASED", "ASSET_VEHICLE"} <= resolved
    assert second.resolved_count == engine.resolved_findings(second).count() >= 2
    assert second.new_count + second.open_count == second.findings.count()

    october = findings_raised_by_rule(start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31))
    september = findings_raised_by_rule(start=dt.date(2026, 9, 1), end=dt.date(2026, 9, 30))
    town = fresh.household.region_id[:9]
    assert october[town]["DECEASED"] == 1  # only the new one; a's is still counted in September
    assert september[data["a"].household.region_id[:9]]["DECEASED"] == 1


def test_dismissal_is_carried_while_evidence_is_unchanged(data, users):
    first = run()
    finding = first.findings.get(rule="DECEASED", id_number=data["a"].id_number)
    services.finding_dismiss(actor=users["reviewer"], finding=finding, reason="户籍信息错误，本人健在")
    again = run()
    carried = again.findings.get(rule="DECEASED", id_number=data["a"].id_number)
    assert carried.state == FindingState.AUTO_DISMISSED and carried.carried_from_id == finding.pk
    assert carried.novelty == Novelty.OPEN
    # The next batch still recognises the original dismissal.
    assert run().findings.get(rule="DECEASED", id_number=data["a"].id_number).state == FindingState.AUTO_DISMISSED
    # New evidence (another death date): raised for review again.
    ref(RefKind.DEATHS, [{"id_number": data["a"].id_number, "name": "x", "death_date": dt.date(2026, 3, 1)}])
    assert run().findings.get(rule="DECEASED", id_number=data["a"].id_number).state == FindingState.PENDING


def test_decisions_carried_forward(data):
    """A pending finding decided in an earlier batch: a dismissal of the same evidence wins over any
    confirmation, a confirmation of the subject holds whatever the evidence; decisions of later
    batches and findings that are not pending are left alone."""
    def decided(batch, rule, member):
        return batch.findings.filter(rule=rule, id_number=data[member].id_number).values_list(
            "state", "carried_from_id").get()

    late = services.batch_create(actor="system", as_of=AS_OF, enqueue=False)  # runs last, with the lowest id
    first = run()
    death = first.findings.get(rule="DECEASED", id_number=data["a"].id_number)
    car = first.findings.get(rule="ASSET_VEHICLE", id_number=data["b"].id_number)
    ill = first.findings.get(rule="MISSED_ILLNESS", region_code="220103001001")
    # The states the review services leave (tested in test_review.py); a five-group finding is never
    # reviewed, set here to show it is not carried.
    Finding.objects.filter(pk__in=[death.pk, ill.pk]).update(state=FindingState.DISMISSED)
    Finding.objects.filter(pk=car.pk).update(state=FindingState.CONFIRMED)

    second = run()
    assert decided(second, "DECEASED", "a") == (FindingState.AUTO_DISMISSED, death.pk)
    assert decided(second, "ASSET_VEHICLE", "b") == (FindingState.CONFIRMED, car.pk)
    assert second.findings.filter(rule="MISSED_ILLNESS", region_code="220103001001").values_list(
        "state", "carried_from_id").get() == (FindingState.TASKED, None)
    assert decided(second, "ASSET_VEHICLE", "c") == (FindingState.PENDING, None)

    # A later confirmation of the same subject: the dismissal still comes first.
    confirmed_death = second.findings.get(rule="DECEASED", id_number=data["a"].id_number)
    Finding.objects.filter(pk=confirmed_death.pk).update(state=FindingState.CONFIRMED)
    third = run()
    assert decided(third, "DECEASED", "a") == (FindingState.AUTO_DISMISSED, death.pk)
    # The latest confirmation is the one pointed at: the carried one of the second batch.
    assert decided(third, "ASSET_VEHICLE", "b") == (FindingState.CONFIRMED,
                                                    second.findings.get(rule="ASSET_VEHICLE",
                                                                        id_number=data["b"].id_number).pk)
    # New evidence ends the dismissal, not the confirmation.
    ref(RefKind.DEATHS, [{"id_number": data["a"].id_number, "name": "x", "death_date": dt.date(2026, 3, 1)}])
    assert decided(run(), "DECEASED", "a") == (FindingState.CONFIRMED, confirmed_death.pk)

    late = engine.execute_batch(late.pk)
    assert decided(late, "DECEASED", "a") == decided(late, "ASSET_VEHICLE", "b") == (FindingState.PENDING, None)
    assert snapshot(late) == snapshot(first)


def test_same_evidence_in_a_new_version_keeps_the_fingerprint(data):
    first = run().findings.get(rule="DECEASED", id_number=data["a"].id_number)
    ref(RefKind.DEATHS, [{"id_number": data["a"].id_number, "name": "x", "death_date": dt.date(2026, 1, 5)}])
    second = run().findings.get(rule="DECEASED", id_number=data["a"].id_number)
    assert second.detail == "死亡人员数据 v2：死亡日期 2026-01-05"
    assert first.evidence_hash == second.evidence_hash


def test_rollup_metrics_by_township(data, users):
    batch = run()
    finding = batch.findings.get(rule="DECEASED", id_number=data["a"].id_number)
    services.finding_confirm(actor=users["reviewer"], finding=finding, reason="核实已死亡",
                             recover_amount=Decimal("1960.00"), stop_payment=True)
    other = batch.findings.get(rule="ASSET_VEHICLE", id_number=data["c"].id_number)
    services.finding_dismiss(actor=users["reviewer"], finding=other, reason="车辆已过户")
    today = dt.date.today()
    metrics = rollup_metrics(start=today.replace(day=1), end=today)
    assert metrics["220102001"]["findings_confirmed"] == 1
    assert metrics["220102001"]["funds_recovered"] == Decimal("1960.00")
    assert metrics["220102002"]["findings_dismissed"] == 1
    raised = rollup_metrics(start=AS_OF, end=AS_OF)
    assert raised["220102001"]["findings_raised"] == batch.findings.filter(region_code__startswith="220102001").count()


def test_batch_started_by_web_user_is_limited_to_scope(regions, users):
    from django.core.exceptions import PermissionDenied
    with pytest.raises(PermissionDenied):
        services.batch_create(actor=users["reviewer"], region_code="220103", enqueue=False)
    with pytest.raises(PermissionDenied):
        services.batch_create(actor=users["caseworker_a"], enqueue=False)
    batch = services.batch_create(actor=users["reviewer"], enqueue=False)
    assert batch.region_code == "220102" and batch.state == JobState.QUEUED
    assert RescreenBatch.objects.count() == 1

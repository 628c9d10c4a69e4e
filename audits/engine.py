"""Running a rescreening batch in three steps:

1. **stage**: each rule runs once over the batch's whole region (`INSERT … SELECT` into
   `StagedFinding`), each in its own transaction that also records the rule as staged, so
   the planner can hash-join whole tables instead of probing indexes county by county;
2. **chunks**, one per county: move the county's staged rows into `Finding` and compare them
   with the previous batch — delete-then-insert in the one transaction that marks the chunk
   done, so a worker killed mid-chunk leaves nothing behind and a rerun or resume writes
   exactly the same rows (the unique key batch + rule + subject_key guards it too);
3. **finish**: counts per rule, new / still open / resolved, five-group tasks.

A resumed batch skips staged rules and done chunks.

Recovery without a person: the batch beats (`heartbeat_at`) at each rule staged and each chunk
done; a chunk is claimed (running, beat, attempt counted) before its transaction, which then
keeps the chunk row locked until it commits. A second delivery of a task finds the work done or
claimed by a live worker and returns; a chunk or batch whose worker died is requeued by the
watchdog (`audits.services.recover_stale`) and, after TASK_MAX_ATTEMPTS runs, failed with a message.
"""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce, Now
from django.utils import timezone
from django.utils.translation import gettext as _

from audits import rules as r
from audits.models import (BatchChunk, DisabilityRecord, Finding, FindingState, IllnessRecord, Novelty,
                           PovertyRecord, RefKind, RescreenBatch, StagedFinding, VerificationTask)
from cases.models import Household
from dibao.bulk import analyze
from dibao.jobs import Claim, JobState, job_beat, job_claim

FT = Finding._meta.db_table
TT = VerificationTask._meta.db_table
ST = StagedFinding._meta.db_table

_STATE_BY_SECTION = {"A": FindingState.PENDING, "B": FindingState.TASKED, "C": FindingState.REPORTED,
                     "D": FindingState.PENDING}


def plan_chunks(batch: RescreenBatch) -> list[str]:
    """The chunk keys of a batch: its counties as found in the data.

    A batch of a county or below is one chunk. Above that, every distinct county prefix
    of the households and of the five-group reference rows under the region; codes
    shorter than a county (a reference row coded to a city only) form their own exact
    chunk; an unfiltered batch also gets the chunk of people with no region at all.
    """
    region = batch.region_code
    if len(region) >= 6:
        return [region]
    versions = r.current_versions()
    parts = [f"SELECT DISTINCT substr(region_code, 1, 6) FROM {Household._meta.db_table} WHERE region_code LIKE %s"]
    params: list = [region + "%"]
    for model, kind in ((DisabilityRecord, RefKind.DISABILITY), (IllnessRecord, RefKind.ILLNESS),
                        (PovertyRecord, RefKind.POVERTY)):
        if kind in versions:
            parts.append(f"SELECT DISTINCT substr(region_code, 1, 6) FROM {model._meta.db_table} "
                         "WHERE version_id = %s AND region_code LIKE %s AND region_code <> ''")
            params += [versions[kind][0], region + "%"]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ".join(parts), params)
        keys = sorted({row[0] for row in cursor.fetchall() if row[0]})
    if len(region) <= 2:
        # the five-group people without a region (unfiltered batches), and payments to a 户编号
        # the registry does not know (batches over a province or more)
        keys.append(BatchChunk.NO_REGION)
    return keys


def chunk_filter(batch: RescreenBatch, chunk: BatchChunk, column: str) -> tuple[str, list]:
    key = chunk.region_code
    if key == BatchChunk.NO_REGION:
        return r.region_filter(column, "none", "")
    if len(key) < 6 and len(batch.region_code) < 6:
        return r.region_filter(column, "exact", key)
    return r.region_filter(column, "like", key)


def batch_context(batch: RescreenBatch) -> r.Context:
    mode = "like" if batch.region_code else "all"
    return r.Context(as_of=batch.as_of, params=batch.params, versions=batch_versions(batch), region_mode=mode,
                     region_value=batch.region_code)


def _tune(cursor) -> None:
    """Batch statements on PostgreSQL: no JIT (compiling costs seconds and gains nothing on
    these plans), work per partition, and room for the hash joins."""
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL jit = off")
        # The funds rules group the window's payments by (户编号, month): per month partition, each
        # group fits in memory (PAID_TWICE 11 → 4 s at 8.6M payments, instead of spilling to disk).
        cursor.execute("SET LOCAL enable_partitionwise_aggregate = on")
        cursor.execute("SET LOCAL enable_partitionwise_join = on")
        cursor.execute("SELECT set_config('work_mem', %s, true)",
                       [getattr(settings, "RESCREEN_WORK_MEM", "256MB")])


def batch_versions(batch: RescreenBatch) -> dict:
    """The reference versions a batch runs against, fixed when it starts (so a resume uses the same data)."""
    return {kind: tuple(v) for kind, v in batch.params.get("ref_versions", {}).items()}


def run_rule(ctx: r.Context, batch: RescreenBatch, rule: r.Rule) -> int:
    """Stage one rule's findings over the batch's region; safe to repeat."""
    select_sql, params = rule.build(ctx)
    # Only the funds rules (section D) yield the pay month and the payment's 户编号.
    month, household_no = ("q.month", "q.household_no") if rule.section == "D" else ("''", "''")
    with transaction.atomic(), connection.cursor() as cursor:
        _tune(cursor)
        cursor.execute(f"DELETE FROM {ST} WHERE batch_id = %s AND rule = %s", [batch.pk, rule.code])
        cursor.execute(
            f"INSERT INTO {ST} (batch_id, rule, household_id, id_number, name, region_code, subject_key, detail, "
            "evidence_hash, state, month, household_no) SELECT %s, %s, q.household_id, q.id_number, q.name, "
            f"q.region_code, q.subject_key, q.source || '：' || q.facts, MD5(q.facts), %s, {month}, {household_no} "
            f"FROM ({select_sql}) q",
            [batch.pk, rule.code, _STATE_BY_SECTION[rule.section], *params])
        n = cursor.rowcount
        staged = RescreenBatch.objects.select_for_update().values_list("staged_rules", flat=True).get(pk=batch.pk)
        job_beat(RescreenBatch.objects, batch.pk, staged_rules=sorted(set(staged) | {rule.code}),
                 progress=int(70 * (len(set(staged) | {rule.code})) / len(r.RULE_LIST)))
    return n


def stage_batch(batch: RescreenBatch, on_progress=None) -> None:
    ctx = batch_context(batch)
    for rule in r.RULE_LIST:
        if rule.code not in batch.staged_rules:
            run_rule(ctx, batch, rule)
            if on_progress:
                on_progress(RescreenBatch.objects.get(pk=batch.pk))


def move_chunk(batch: RescreenBatch, chunk: BatchChunk) -> dict:
    """Write the chunk's findings from the staged rows, compared with earlier batches; returns
    counts per rule.

    A finding the previous batch also raised is still open and keeps when it was first raised. A
    pending finding whose rule, subject and fingerprint match a finding a reviewer dismissed in any
    earlier batch is dismissed again, pointing at that decision (the latest); otherwise one whose rule
    and subject were found 属实 in any earlier batch is confirmed again: a household found 属实 and only
    suspended (停发, not exited) is still in dibao and is found again, but the county has decided it,
    so it is not 待复核 a second time. Each row is written once, as it stays: updating the rows just
    inserted rewrote every one of them, with new entries in each of the table's indexes.
    """
    where, params = chunk_filter(batch, chunk, "s.region_code")
    earlier = (f"FROM {FT} p WHERE p.rule = s.rule AND p.subject_key = s.subject_key AND p.batch_id < %s "
               "AND p.state = %s")
    with connection.cursor() as cursor:
        _tune(cursor)
        cursor.execute(f"DELETE FROM {FT} WHERE chunk_id = %s", [chunk.pk])
        # Looked up per staged row, by index: as a join, PostgreSQL hashed the previous batch's
        # findings in every chunk, reading the whole batch once per county. The previous batch has at
        # most one finding per rule and subject (its unique key), none without a previous batch;
        # decisions are looked up for pending rows only (section A and the funds rules, a few per
        # cent). MATERIALIZED, so that each look-up runs once though its result is used twice.
        cursor.execute(
            f"WITH staged AS MATERIALIZED (SELECT s.*, (SELECT p.first_raised_on FROM {FT} p WHERE p.batch_id = %s "
            "AND p.rule = s.rule AND p.subject_key = s.subject_key) AS raised_on, "
            f"CASE WHEN s.state = %s THEN (SELECT MAX(p.id) {earlier} AND p.evidence_hash = s.evidence_hash) END "
            f"AS dismissed_id, CASE WHEN s.state = %s THEN (SELECT MAX(p.id) {earlier}) END AS confirmed_id "
            f"FROM {ST} s WHERE s.batch_id = %s AND {where}) "
            f"INSERT INTO {FT} (batch_id, chunk_id, rule, household_id, id_number, name, region_code, subject_key, "
            "detail, evidence_hash, novelty, state, first_raised_on, carried_from_id, actions, decision_reason, "
            "month, household_no) "
            "SELECT batch_id, %s, rule, household_id, id_number, name, region_code, subject_key, detail, "
            "evidence_hash, CASE WHEN raised_on IS NULL THEN %s ELSE %s END, "
            "CASE WHEN dismissed_id IS NOT NULL THEN %s WHEN confirmed_id IS NOT NULL THEN %s ELSE state END, "
            "COALESCE(raised_on, %s), COALESCE(dismissed_id, confirmed_id), '{}', '', month, household_no "
            "FROM staged",
            [batch.previous_id, FindingState.PENDING, batch.pk, FindingState.DISMISSED, FindingState.PENDING,
             batch.pk, FindingState.CONFIRMED, batch.pk, *params,
             chunk.pk, Novelty.NEW, Novelty.OPEN, FindingState.AUTO_DISMISSED, FindingState.CONFIRMED,
             batch.as_of.isoformat()])
        cursor.execute(f"SELECT rule, COUNT(*) FROM {FT} WHERE chunk_id = %s GROUP BY rule", [chunk.pk])
        return dict(cursor.fetchall())


def _claim_chunk(chunk_id: int) -> bool:
    """Mark the chunk running for this worker. False when it is done, when a live worker has it
    (its row locked, or its beat fresh), or when it has used up its attempts (then it fails)."""
    with transaction.atomic():
        claim, chunk = job_claim(BatchChunk.objects, chunk_id, claimable=(JobState.QUEUED, JobState.RUNNING,
                                                                          JobState.FAILED), error="")
        if claim == Claim.EXHAUSTED:
            error = _("分块 %(key)s 已运行 %(n)d 次，每次处理进程都中断，已停止自动重试；请检查服务器内存和日志后"
                      "在批次页面“续跑”") % {"key": chunk.region_code, "n": chunk.attempts}
            BatchChunk.objects.filter(pk=chunk_id).update(state=JobState.FAILED, error=error)
            fail_batch(chunk.batch_id, error)
    return claim == Claim.RUN


def run_chunk(chunk_id: int) -> None:
    """One county: all or nothing, safe to repeat."""
    if not _claim_chunk(chunk_id):
        return
    chunk = BatchChunk.objects.select_related("batch").get(pk=chunk_id)
    batch = chunk.batch
    try:
        with transaction.atomic():
            # Locked until commit: the watchdog passes over a locked chunk (its worker is alive),
            # and a second worker on the same chunk waits here and then finds it done.
            if BatchChunk.objects.select_for_update().values_list("state", flat=True).get(pk=chunk_id) \
                    == JobState.DONE:
                return
            counts = move_chunk(batch, chunk)
            BatchChunk.objects.filter(pk=chunk.pk).update(state=JobState.DONE, counts=counts,
                                                          finished_at=timezone.now())
    except Exception as exc:
        BatchChunk.objects.filter(pk=chunk.pk).exclude(state=JobState.DONE).update(
            state=JobState.FAILED, error=str(exc)[:2000])
        raise


def update_progress(batch_id: int) -> None:
    chunks = list(BatchChunk.objects.filter(batch_id=batch_id).values_list("state", flat=True))
    done = sum(1 for s in chunks if s == JobState.DONE)
    # Staging is the first 70 %, the finishing step the last few.
    progress = 70 + int(25 * done / len(chunks)) if chunks else 0
    job_beat(RescreenBatch.objects, batch_id, progress=progress)


def _upsert_tasks(batch: RescreenBatch) -> None:
    """One verification task per person per batch region, listing all their groups: the batch's
    five-group findings grouped by person, inserted for new people, copied onto open tasks."""
    missed = tuple(r.MISSED_FLAGS)
    today = timezone.localdate()
    deadline = today + dt.timedelta(days=int(getattr(settings, "VERIFICATION_DEADLINE_DAYS", 30)))
    flags = ", ".join(f"MAX(CASE WHEN f.rule = '{code}' THEN 1 ELSE 0 END) AS {flag}"
                      for code, flag in r.MISSED_FLAGS.items())
    per_person = (f"SELECT f.id_number, MIN(f.name) AS name, MIN(f.region_code) AS region_code, "
                  f"MIN(f.household_id) AS household_id, {flags} FROM {FT} f WHERE f.batch_id = %s "
                  f"AND f.rule IN ({', '.join(['%s'] * len(missed))}) GROUP BY f.id_number")
    flag_cols = list(r.MISSED_FLAGS.values())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TT} (scope_region, id_number, name, region_code, township_code, household_id, "
            f"{', '.join(flag_cols)}, first_batch_id, last_batch_id, created_on, deadline, investigator_1, "
            "investigator_2, outcome, outcome_reason) "
            "SELECT %s, a.id_number, a.name, a.region_code, substr(a.region_code, 1, 9), a.household_id, "
            + ", ".join(f"a.{c} = 1" for c in flag_cols)
            + f", %s, %s, %s, %s, '', '', '', '' FROM ({per_person}) a WHERE NOT EXISTS "
            f"(SELECT 1 FROM {TT} t WHERE t.scope_region = %s AND t.id_number = a.id_number)",
            [batch.region_code, batch.pk, batch.pk, today.isoformat(), deadline.isoformat(), batch.pk, *missed,
             batch.region_code])
        cursor.execute(
            f"UPDATE {TT} SET " + ", ".join(f"{c} = (a.{c} = 1)" for c in flag_cols)
            + f", last_batch_id = %s FROM ({per_person}) a WHERE {TT}.scope_region = %s "
            f"AND {TT}.outcome = '' AND {TT}.first_batch_id <> %s AND {TT}.id_number = a.id_number",
            [batch.pk, batch.pk, *missed, batch.region_code, batch.pk])


def finish_batch(batch_id: int) -> bool:
    """Finish a batch whose chunks are all done; idempotent. Returns True when the batch is done."""
    with transaction.atomic():
        batch = RescreenBatch.objects.select_for_update().get(pk=batch_id)
        if batch.state == JobState.DONE:
            return True
        if len(batch.staged_rules) < len(r.RULE_LIST) or batch.chunks.exclude(state=JobState.DONE).exists():
            return False
        # The chunks have just written the batch's findings: the comparisons and the task
        # statements below join them by person and must not take them for a handful of rows.
        analyze(FT)
        counts = {code: 0 for code in r.RULES}
        novelty = {Novelty.NEW: 0, Novelty.OPEN: 0}
        for rule, new_or_open, n in (Finding.objects.filter(batch=batch).values_list("rule", "novelty").order_by()
                                     .annotate(n=_count())):
            counts[rule] += n
            novelty[new_or_open] += n
        staged = StagedFinding.objects.filter(batch=batch).count()
        if staged != sum(counts.values()):
            raise RuntimeError(f"batch {batch.pk}: {staged} staged findings but {sum(counts.values())} "
                               "written by the county chunks")
        # Both batches hold one finding per rule and subject, so the previous batch's findings raised
        # again are as many as this batch's still-open ones, and the rest are resolved: a count, not
        # a comparison of the two batches.
        resolved = 0
        if batch.previous_id:
            resolved = Finding.objects.filter(batch_id=batch.previous_id).count() - novelty[Novelty.OPEN]
        _upsert_tasks(batch)
        analyze(TT)
        _clear_staged(batch)
        RescreenBatch.objects.filter(pk=batch.pk).update(
            state=JobState.DONE, progress=100, counts=counts, new_count=novelty[Novelty.NEW],
            open_count=novelty[Novelty.OPEN], resolved_count=resolved, finished_at=timezone.now(), error="")
    return True


def _clear_staged(batch: RescreenBatch) -> None:
    """Remove the batch's staged rows: by TRUNCATE when no other batch has rows staged (the usual
    case), as deleting a province's 2.2M rows left them dead in the table — the next batch's rules
    wrote after them and read past them until a vacuum; a DELETE when another batch is staging
    (the NOWAIT lock fails) or has rows there."""
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {ST} IN ACCESS EXCLUSIVE MODE NOWAIT")
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {ST} WHERE batch_id <> %s)", [batch.pk])
                if not cursor.fetchone()[0]:
                    cursor.execute(f"TRUNCATE {ST}")
                    return
        except OperationalError:
            pass
    StagedFinding.objects.filter(batch=batch).delete()


def _count():
    return Count("id")


def _exists_in(batch_id: int):
    return Q(Exists(Finding.objects.filter(batch_id=batch_id, rule=OuterRef("rule"),
                                           subject_key=OuterRef("subject_key"))))


def resolved_findings(batch: RescreenBatch):
    """Findings of the previous batch that this batch no longer raises."""
    if not batch.previous_id:
        return Finding.objects.none()
    return Finding.objects.filter(batch_id=batch.previous_id).exclude(_exists_in(batch.pk))


def prepare_batch(batch_id: int, on_progress=None) -> list[int]:
    """Mark the batch running, stage every rule not yet staged, create the chunks once;
    returns the chunks still to run."""
    with transaction.atomic():
        # A second delivery while a live worker stages it or its chunks run finds nothing to do.
        claim, batch = job_claim(RescreenBatch.objects, batch_id,
                                 claimable=(JobState.QUEUED, JobState.RUNNING, JobState.FAILED),
                                 error="", started_at=Coalesce(F("started_at"), Now()))
        if claim == Claim.EXHAUSTED:
            fail_batch(batch_id, _("批次已运行 %(n)d 次，每次处理进程都中断，已停止自动重试；请检查服务器内存和日志后"
                                   "“续跑”") % {"n": batch.attempts})
        if claim != Claim.RUN:
            return []
    try:
        stage_batch(batch, on_progress)
        # Each county's chunk reads its part of the staged rows.
        analyze(ST)
        with transaction.atomic():
            if not batch.chunks.exists():
                BatchChunk.objects.bulk_create([BatchChunk(batch=batch, region_code=key)
                                                for key in plan_chunks(batch)], ignore_conflicts=True)
    except Exception as exc:
        fail_batch(batch_id, f"{type(exc).__name__}: {exc}")
        raise
    return list(BatchChunk.objects.filter(batch_id=batch_id).exclude(state=JobState.DONE)
                .order_by("region_code").values_list("pk", flat=True))


def fail_batch(batch_id: int, error: str) -> None:
    RescreenBatch.objects.filter(pk=batch_id).exclude(state=JobState.DONE).update(
        state=JobState.FAILED, error=error[:2000])


def execute_chunk(chunk_id: int) -> None:
    """Run one chunk, then finish the batch if it was the last one."""
    batch_id = BatchChunk.objects.values_list("batch_id", flat=True).get(pk=chunk_id)
    try:
        run_chunk(chunk_id)
        update_progress(batch_id)
        finish_batch(batch_id)
    except Exception as exc:
        fail_batch(batch_id, f"{type(exc).__name__}: {exc}")
        raise


def execute_batch(batch_id: int, on_progress=None) -> RescreenBatch:
    """Run a whole batch in this process (the command and the eager, Redis-less setup)."""
    for chunk_id in prepare_batch(batch_id, on_progress):
        execute_chunk(chunk_id)
        if on_progress:
            on_progress(RescreenBatch.objects.get(pk=batch_id))
    finish_batch(batch_id)
    return RescreenBatch.objects.get(pk=batch_id)

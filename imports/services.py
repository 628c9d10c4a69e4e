"""Imports: the one path every upload and `import_data` run goes through.

`import_job_create` records the file (name, size, SHA-256) as an ImportJob; `import_run`
validates it with imports.pipeline and, unless it is a dry run or any row is bad, writes
it in one transaction together with one audit record. `import_confirm` turns a clean dry
run into a real import of the same stored file.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
from functools import partial
from pathlib import Path
from typing import Callable, BinaryIO

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dibao.audit import audit_record
from dibao.bulk import analyze
from dibao.dispatch import enqueue
from dibao.jobs import Claim, job_claim, stale_running
from dibao.downloads import stored_name
from dibao.models import User
from dibao.permissions import can, require
from imports import pipeline
from imports.kinds import PAYMENT_KINDS, REGISTRY_KINDS, SCREENING_KINDS, STANDARD_KINDS, all_kinds, get_kind
from imports.models import ImportJob
from imports.reader import FileError, open_source

log = logging.getLogger(__name__)
SYSTEM = "system"

Actor = User | str  # a user, or "system" for the command line without --as-user


def _is_user(actor: Actor) -> bool:
    return not isinstance(actor, str)


def scope_prefix(actor: Actor) -> str | None:
    return actor.scope_prefix if _is_user(actor) else None


def kind_action(kind: str) -> str:
    """The permission an import of this kind needs: the registry, benefit standards, a campaign's screening records, or other departments' data."""
    if kind in STANDARD_KINDS:
        return "import.standards"
    if kind in SCREENING_KINDS:
        return "campaign.screen"
    if kind in PAYMENT_KINDS:
        return "payments.import"
    return "import.registry" if kind in REGISTRY_KINDS else "import.reference"


def allowed_kinds(actor: Actor) -> list[str]:
    return [kind for kind in all_kinds() if can(actor, kind_action(kind))]


def _require_kind(actor: Actor, kind: str) -> None:
    if kind not in all_kinds():
        raise ValidationError(_("未知的数据类型：%(k)s") % {"k": kind})
    if kind not in allowed_kinds(actor):
        raise PermissionDenied(_("您的角色不能导入“%(k)s”") % {"k": get_kind(kind).label})


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@transaction.atomic
def import_job_create(*, actor: Actor, kind: str, file_name: str, upload: BinaryIO | None = None,
                      path: str | None = None, dry_run: bool = True, batch: ImportJob | None = None) -> ImportJob:
    """Record one file to import. `upload` (web) is stored under MEDIA_ROOT/imports/;
    `path` (command line) is read in place. `batch`: the households job this members file
    is uploaded with — the members may then belong to households of that file."""
    _require_kind(actor, kind)
    if batch is not None and not (batch.kind == "households" and kind == "members"):
        raise ValidationError(_("只有家庭成员文件可以与低保家庭文件同批导入"))
    job = ImportJob(kind=kind, created_by=actor if _is_user(actor) else None,
                    actor_name=actor.get_username() if _is_user(actor) else str(actor),
                    region_code=(actor.region_id or "") if _is_user(actor) else "",
                    file_name=os.path.basename(file_name)[:255], dry_run=dry_run, batch=batch)
    if upload is not None:
        relative = stored_name("imports", file_name)
        target = Path(settings.MEDIA_ROOT) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as out:
            shutil.copyfileobj(upload, out, 1 << 20)
        job.file.name = relative
        stored = str(target)
    else:
        job.source_path = os.path.abspath(path)
        stored = job.source_path
    job.file_size = os.path.getsize(stored)
    job.sha256 = _sha256(stored)
    job.save()
    return job


def job_path(job: ImportJob) -> str:
    return job.file.path if job.file else job.source_path


def _actor_of(job: ImportJob) -> Actor:
    return job.created_by if job.created_by_id else SYSTEM


def _set(job: ImportJob, **fields) -> None:
    for key, value in fields.items():
        setattr(job, key, value)
    ImportJob.objects.filter(pk=job.pk).update(**fields)


def import_run(*, job_id: int, progress: Callable[[int, float], None] | None = None) -> ImportJob:
    """Validate the job's file (and the files uploaded in the same batch) and, if every row of
    every file is clean and it is not a dry run, write them all in one transaction.

    Validation is outside the write transaction so the progress the page polls is visible
    while it runs; the staging tables it fills are private to this connection.
    """
    job = _claim(job_id)
    if job is None:
        return ImportJob.objects.get(pk=job_id)
    jobs = [job, *job.batch_jobs.order_by("id")]
    actor = _actor_of(job)
    staged: dict[int, pipeline.Staged] = {}
    try:
        for j in jobs:
            staged[j.pk] = _validate(j, actor, batch=len(jobs) > 1, progress=progress)
        if job.kind == "households" and staged[job.pk].rows_total:
            members = next((staged[j.pk] for j in jobs[1:] if staged[j.pk].rows_total), None)
            pipeline.check_coverage(staged[job.pk], members)
        if any(st.report.error_total for st in staged.values()):
            for j in reversed(jobs):  # the batch's first job finishes last: its page stops polling then
                _finish_invalid(j, actor, staged[j.pk], batch_failed=True)
        else:
            _write(jobs=jobs, actor=actor, staged=staged)
        return job
    except Exception as exc:
        log.exception("import job %s failed", job.pk)
        for j in reversed(jobs):
            _set(j, state=ImportJob.State.FAILED, finished_at=timezone.now(), outcome=_("导入失败：%(e)s") % {"e": exc})
        raise
    finally:
        for j in jobs:
            pipeline.drop_stage(get_kind(j.kind))


def _claim(job_id: int) -> ImportJob | None:
    """Mark a job (and the files of its batch) running for this worker. None when there is nothing
    to run: finished, a batch member (it runs with the batch's first file), or running in a live
    worker (its rows locked by the write, or its heartbeat fresh). A job still "running" with an old
    heartbeat is a redelivery after its worker died: the import is all or nothing, so it wrote
    nothing and runs again, until TASK_MAX_ATTEMPTS runs; then it fails with a message."""
    reset = {"progress": 0, "rows_read": 0, "report": {}, "outcome": ""}
    with transaction.atomic():
        claim, job = job_claim(ImportJob.objects.filter(batch__isnull=True), job_id, **reset)
        if claim == Claim.SKIP:
            return None
        members = list(job.batch_jobs.select_for_update().order_by("id"))
        if claim == Claim.EXHAUSTED:
            _fail_interrupted([job, *members])
            return None
        for j in members:
            _set(j, state=ImportJob.State.RUNNING, started_at=job.started_at, heartbeat_at=job.heartbeat_at,
                 attempts=job.attempts, **reset)
    return job


def _fail_interrupted(jobs: list[ImportJob]) -> None:
    head = jobs[0]
    outcome = _("导入中断：处理进程在运行中异常退出，已自动重试，共运行 %(n)d 次仍未完成，未导入任何数据。"
                "请重新上传该文件；如再次失败，请联系系统管理员检查服务器内存和日志。") % {"n": head.attempts}
    for j in reversed(jobs):  # the batch's first job finishes last: its page stops polling then
        _set(j, state=ImportJob.State.FAILED, finished_at=timezone.now(), outcome=outcome)
    audit_record(actor=SYSTEM, action="import.recover", object_type="import_job", object_id=head.pk,
                 region_code=head.region_code, note=outcome)


@transaction.atomic
def import_jobs_recover() -> dict[str, int]:
    """The watchdog (beat, every 5 minutes): a job "running" with an old heartbeat and no open
    transaction on its row lost its worker. It goes back to the queue, or, having used up its
    attempts, fails with the message its page shows. Marked queued, the next pass leaves it be."""
    from imports.tasks import run_import_job

    requeued = failed = 0
    stale = stale_running(ImportJob.objects.filter(batch__isnull=True))
    for job in stale:
        jobs = [job, *job.batch_jobs.select_for_update().order_by("id")]
        if job.attempts >= settings.TASK_MAX_ATTEMPTS:
            _fail_interrupted(jobs)
            failed += 1
            continue
        outcome = _("处理进程中断（心跳停止），已自动重新排队（已运行 %(n)d 次）") % {"n": job.attempts}
        for j in jobs:
            _set(j, state=ImportJob.State.QUEUED, outcome=outcome)
        audit_record(actor=SYSTEM, action="import.recover", object_type="import_job", object_id=job.pk,
                     region_code=job.region_code, note=outcome)
        transaction.on_commit(lambda pk=job.pk: run_import_job.delay(pk))
        requeued += 1
    return {"requeued": requeued, "failed": failed}


def _validate(job: ImportJob, actor: Actor, *, batch: bool, progress) -> pipeline.Staged:
    _require_kind(actor, job.kind)
    kind = get_kind(job.kind)

    def tick(rows: int, fraction: float) -> None:
        _set(job, rows_read=rows, progress=min(int(fraction * 100), 99), heartbeat_at=timezone.now())
        if job.batch_id:  # the watchdog reads the beat of the batch's first job
            ImportJob.objects.filter(pk=job.batch_id).update(heartbeat_at=job.heartbeat_at)
        if progress:
            progress(rows, fraction)

    try:
        source = open_source(job_path(job), job.file_name)
    except FileError as exc:
        report = pipeline.Report()
        report.file_error(exc.zh, exc.en)
        return pipeline.Staged(kind, [], 0, 0, report, batch)
    staged = pipeline.validate(kind, source, prefix=scope_prefix(actor), batch=batch, on_progress=tick,
                               legacy=can(actor, "import.legacy_migration"))
    staged.actor_id = actor.pk if _is_user(actor) else None
    return staged


def _counts_text(job: ImportJob) -> str:
    return _("共 %(total)d 行：新增 %(new)d，更新 %(updated)d，未变 %(unchanged)d，错误 %(invalid)d") % {
        "total": job.rows_total, "new": job.rows_new, "updated": job.rows_updated,
        "unchanged": job.rows_unchanged, "invalid": job.rows_invalid}


def _finish_invalid(job, actor, staged: pipeline.Staged, *, batch_failed: bool) -> ImportJob:
    report, total, invalid = staged.report, staged.rows_total, staged.rows_invalid
    rows_new = rows_updated = rows_unchanged = 0
    if total and invalid < total and job.dry_run:
        # A dry run still shows what the good rows would do.
        rows_new, rows_updated, rows_unchanged = _count(staged)[:3]
    _set(job, state=ImportJob.State.INVALID, finished_at=timezone.now(), progress=100, rows_total=total,
         rows_invalid=invalid, rows_new=rows_new, rows_updated=rows_updated, rows_unchanged=rows_unchanged,
         report=report.as_json())
    if report.error_total:
        reason = _("有 %(n)d 处错误，未导入任何数据。") % {"n": report.error_total}
    else:
        reason = _("同批上传的其他文件有错误，本文件也未导入。")
    _set(job, outcome=reason + _counts_text(job))
    if not job.dry_run:
        with transaction.atomic():
            audit_record(actor=actor, action=f"import.{job.kind}.rejected", object_type="import_job", object_id=job.pk,
                         region_code=job.region_code, after=_audit_after(job))
    return job


def _count(staged: pipeline.Staged) -> tuple[int, int, int, int]:
    kind = staged.kind
    if kind.registry:
        target = pipeline._registry_target(staged)
        return (*pipeline.count_changes(target), 0)
    current = _current_ref(kind)
    return pipeline.count_ref_changes(kind, current.pk if current else None)


def _current_ref(kind):
    from audits.models import RefVersion
    return RefVersion.objects.filter(kind=kind.key, is_current=True).only("pk", "version_no", "row_count").first()


def _audit_after(job: ImportJob) -> dict:
    return {"kind": job.kind, "file_name": job.file_name, "sha256": job.sha256, "rows": job.rows_total,
            "new": job.rows_new, "updated": job.rows_updated, "unchanged": job.rows_unchanged,
            "invalid": job.rows_invalid, "dry_run": job.dry_run, "ref_version_id": job.ref_version_id}


@transaction.atomic
def _write(*, jobs: list[ImportJob], actor: Actor, staged: dict[int, pipeline.Staged]) -> None:
    """Count and (unless a dry run) write every file of the batch, in order, one audit record each."""
    # Locked until commit: the watchdog passes over a job whose write is under way.
    list(ImportJob.objects.select_for_update().filter(pk__in=[j.pk for j in jobs]))
    written: set[str] = set()
    for job in jobs:
        st = staged[job.pk]
        kind = st.kind
        new, updated, unchanged, removed = _count(st)
        fields = dict(rows_total=st.rows_total, rows_invalid=0, rows_new=new, rows_updated=updated,
                      rows_unchanged=unchanged, report=st.report.as_json(), progress=100)
        if removed:
            fields["report"]["removed"] = removed
        if not kind.registry and (current := _current_ref(kind)) is not None:
            # A cross-check set replaces the current version whole: the page shows both sizes and asks.
            fields["report"]["replaces"] = {"version_no": current.version_no, "rows": current.row_count}
        if job.dry_run:
            _set(job, state=ImportJob.State.CHECKED, finished_at=timezone.now(), **fields)
            _set(job, outcome=_("预检通过，尚未导入。") + _counts_text(job))
            continue
        if kind.registry:
            written.update(pipeline.upsert(pipeline._registry_target(st), new_rows=new, updated_rows=updated))
            if kind.key == "households":
                from cases.models import AmountHistory

                _record_imported_amounts(kind)
                written.add(AmountHistory._meta.db_table)
        else:
            fields["ref_version_id"] = _new_ref_version(job, actor, kind, st.rows_total).pk
            written.add(pipeline.ref_table(kind))
        _set(job, state=ImportJob.State.DONE, finished_at=timezone.now(), **fields)
        _set(job, outcome=_("导入完成。") + _counts_text(job))
        after, note = _audit_after(job), job.file_name
        if st.legacy_rows:
            after["legacy_migration"] = st.legacy_rows
            note = _("历史数据迁移：%(n)d 户的审批结果来自本文件（%(file)s）") % {"n": st.legacy_rows, "file": job.file_name}
        audit_record(actor=actor, action=f"import.{job.kind}", object_type="import_job", object_id=job.pk,
                     region_code=job.region_code, after=after, note=note)
    # The planner's statistics of what was written, so that a rescreening right after the import is
    # planned on the rows it will meet. Once committed: an ANALYZE here would hold its table's lock
    # while this transaction waits for the audit chain's, and another import's the other way round.
    if written:
        transaction.on_commit(partial(analyze, *written), robust=True)


def _record_imported_amounts(kind) -> None:
    from cases.benefits import record_imported_amounts

    with connection.cursor() as cursor:
        record_imported_amounts(cursor, households_where=f"h.household_no IN (SELECT s.household_no FROM "
                                f"{pipeline.q(pipeline.stage_name(kind))} s WHERE s.ok)", params=[],
                                now=timezone.now())


def _new_ref_version(job: ImportJob, actor: Actor, kind, rows: int):
    """A cross-check data set replaces the previous one as a whole; the old version stays."""
    from audits.models import RefVersion

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # serialise version numbering per kind
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [pipeline.WRITE_LOCK, kind.key])
    last = RefVersion.objects.filter(kind=kind.key).order_by("-version_no").values_list("version_no", flat=True).first()
    version = RefVersion.objects.create(kind=kind.key, version_no=(last or 0) + 1, is_current=False,
                                        loaded_by=actor if _is_user(actor) else None, file_name=job.file_name,
                                        sha256=job.sha256, row_count=rows)
    pipeline.insert_ref_rows(kind, version.pk)
    RefVersion.objects.filter(kind=kind.key, is_current=True).update(is_current=False)
    RefVersion.objects.filter(pk=version.pk).update(is_current=True)
    version.is_current = True
    return version


@transaction.atomic
def import_confirm(*, actor: User, job: ImportJob) -> ImportJob:
    """After a clean dry run: import the same stored file(s) for real."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.batch_id:
        job = ImportJob.objects.select_for_update().get(pk=job.batch_id)
    jobs = [job, *job.batch_jobs.order_by("id")]
    for j in jobs:
        if j.state != ImportJob.State.CHECKED or not j.dry_run:
            raise ValidationError(_("只有预检通过的文件可以确认导入"))
        _require_kind(actor, j.kind)
        require(actor, kind_action(j.kind), region_code=j.region_code)
        if j.sha256 != _sha256(job_path(j)):
            raise ValidationError(_("文件在预检后被改动，请重新上传"))
    for j in jobs:
        _set(j, dry_run=False, state=ImportJob.State.QUEUED, progress=0, rows_read=0, finished_at=None, attempts=0,
             heartbeat_at=None)
    return job


def queue(job: ImportJob) -> None:
    """Run the job in a worker once the transaction that created it commits."""
    from imports.tasks import run_import_job

    enqueue(run_import_job, job.pk)


@transaction.atomic
def registry_export(*, actor: User, kind: str) -> bytes:
    """The user's registry rows of one kind as an import-ready workbook (scoped, audited)."""
    from cases.models import Household, Member, RelativeFiling, Staff
    from imports.exports import export_rows, export_workbook

    if kind not in REGISTRY_KINDS:
        raise ValidationError(_("未知的数据类型：%(k)s") % {"k": kind})
    require(actor, "export.registry")
    queryset = {
        "households": Household.objects.order_by("household_no"),
        "members": Member.objects.order_by("household__household_no", "id"),
        "staff": Staff.objects.order_by("id_number"),
        "relatives": RelativeFiling.objects.order_by("staff__id_number", "relative_id_number"),
    }[kind].for_user(actor)
    content = export_workbook(kind, export_rows(kind, queryset, full_ids=actor.can_see_full_id),
                              creator=f"{actor.get_username()} {timezone.localtime():%Y-%m-%d %H:%M}")
    audit_record(actor=actor, action=f"export.{kind}", object_type="export", object_id=kind,
                 region_code=actor.region_id or "", note=_("导出%(k)s") % {"k": get_kind(kind).label})
    return content

"""Writes of the reports app: computing a month's rollup snapshot and export jobs."""
from __future__ import annotations

import datetime as dt
import time

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from dibao.jobs import JobState
from dibao.audit import audit_record
from dibao.dispatch import enqueue
from dibao.downloads import file_download
from dibao.models import Region, User
from dibao.permissions import require
from dibao.spreadsheets import XLSX_CONTENT_TYPE
from reports import metrics
from reports.models import ExportJob, RollupRow, RollupRun
from reports.rollup import level_of, normalise, roll_up, to_json, from_json

ROLLUP_LENGTHS = (2, 4, 6, 9)
_ROLLUP_LOCK = 0x52505430  # "RPT0"


def _actor_user(actor) -> User | None:
    return actor if isinstance(actor, User) else None


def _actor_name(actor) -> str:
    return actor.get_username() if isinstance(actor, User) else str(actor or "system")


@transaction.atomic
def rollup_compute(*, actor, month: dt.date, scope: str = "") -> RollupRun:
    """Compute (or recompute) the snapshot of `month` for the subtree `scope` ('' = all).

    The rows of the subtree are replaced; rows of the scope's ancestors that already exist
    in the month's snapshot are re-derived from their children so the levels keep adding up.
    """
    scope = (scope or "").strip()
    if scope and (len(scope) not in ROLLUP_LENGTHS or not Region.objects.filter(code=scope).exists()):
        raise ValidationError(_("汇总范围 %(code)s 不是已有的省、市、县或乡镇区划代码") % {"code": scope})
    require(actor, "rollup.compute", region_code=scope)
    started = time.monotonic()
    month, end = metrics.month_bounds(month)
    if connection.vendor == "postgresql":
        # One computation of a month at a time: two would replace each other's rows.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_ROLLUP_LOCK, month.year * 100 + month.month])

    regions = dict(Region.objects.filter(level__lte=Region.Level.TOWNSHIP, code__startswith=scope)
                   .values_list("code", "name"))
    ancestors = {row.region_code: row for row in RollupRow.objects.select_for_update().filter(
        month=month, region_code__in=[scope[:n] for n in ROLLUP_LENGTHS if n < len(scope)])}

    computed = metrics.subtree_figures(start=month, end=end, scope=scope, regions=set(regions),
                                       ancestors=set(ancestors))
    values, own, rules = computed.values, computed.own, computed.rules
    replaced = RollupRow.objects.filter(month=month, region_code__startswith=scope).exclude(
        region_code__in=list(ancestors))
    replaced_count = replaced.count()

    run = RollupRun.objects.create(month=month, scope_code=scope, computed_by=_actor_user(actor),
                                   computed_by_name=_actor_name(actor))
    replaced.delete()
    RollupRow.objects.bulk_create([
        RollupRow(run=run, month=month, region_code=code, level=level_of(code), region_name=regions[code],
                  findings_by_rule=rules[code], own_level=to_json(own[code]) if len(code) < 9 else {},
                  **normalise(values[code]))
        for code in sorted(regions)
    ], batch_size=2000)
    if ancestors:
        _rederive_ancestors(run, month, scope, ancestors, own, rules)

    run.row_count = len(regions)
    run.replaced_rows = replaced_count
    run.duration_ms = int((time.monotonic() - started) * 1000)
    run.save(update_fields=["row_count", "replaced_rows", "duration_ms"])
    audit_record(actor=_actor_user(actor) or actor, action="rollup.compute", object_type="rollup_run",
                 object_id=run.pk, region_code=scope,
                 after={"month": f"{month:%Y-%m}", "scope": scope, "rows": run.row_count,
                        "replaced_rows": replaced_count},
                 note=_("重新计算，替换原有快照") if replaced_count else "")
    return run


def _rederive_ancestors(run, month, scope, ancestors: dict[str, RollupRow], own, rules) -> None:
    top = min(ancestors, key=len)
    stored = {row.region_code: row for row in RollupRow.objects.filter(month=month, region_code__startswith=top)}
    values = {code: (dict(from_json(to_json(own[code]))) if code in ancestors else row.metrics())
              for code, row in stored.items()}
    by_rule = {code: (dict(rules[code]) if code in ancestors else dict(row.findings_by_rule or {}))
               for code, row in stored.items()}
    roll_up(values, by_rule, targets=set(ancestors))
    for code, row in ancestors.items():
        for key, value in normalise(values[code]).items():
            setattr(row, key, value)
        row.own_level = to_json(own[code])
        row.findings_by_rule = by_rule[code]
        row.run = run
    RollupRow.objects.bulk_update(list(ancestors.values()),
                                  [*normalise({}).keys(), "own_level", "findings_by_rule", "run"])


# --- export jobs -----------------------------------------------------------------------

@transaction.atomic
def export_job_create(*, actor: User, kind: str, region_code: str, params: dict) -> ExportJob:
    """Queue a workbook; the worker starts once this transaction commits."""
    from reports import tasks

    if kind not in ExportJob.Kind.values:
        raise ValidationError(_("未知的报表类型：%(kind)s") % {"kind": kind})
    if not Region.objects.filter(code=region_code).exists():
        raise ValidationError({"region": _("区划 %(code)s 不存在") % {"code": region_code}})
    require(actor, "export.forms", region_code=region_code)
    if kind == ExportJob.Kind.ROLLUP and not RollupRow.objects.filter(
            month=metrics.parse_month(params["month"]), region_code=region_code).exists():
        raise ValidationError(_("%(month)s 尚未计算月度汇总，请先在统计报表页面计算后再导出") % {"month": params["month"]})
    job = ExportJob.objects.create(kind=kind, region_code=region_code, params=params, requested_by=actor,
                                   full_ids=actor.can_export_full_id)
    audit_record(actor=actor, action="export.request", object_type="export_job", object_id=job.pk,
                 region_code=region_code, after={"kind": kind, "params": params, "full_ids": job.full_ids})
    enqueue(tasks.run_export, job.pk)
    return job


def export_job_progress(*, job_id: int, progress: int, rows: int) -> None:
    ExportJob.objects.filter(pk=job_id).update(progress=min(progress, 99), rows_written=rows)


def export_job_finish(*, job: ExportJob, file_name: str | None, error: str = "") -> None:
    job.state = JobState.FAILED if error else JobState.DONE
    job.error = error
    job.progress = job.progress if error else 100
    job.finished_at = timezone.now()
    if file_name:
        job.file.name = file_name
    job.save(update_fields=["state", "error", "progress", "finished_at", "file"])


def export_download(*, actor: User, job: ExportJob) -> FileResponse:
    """The finished workbook of a job the caller fetched in scope, streamed and recorded in the
    trail (`file.download`, with whether it holds full ID numbers)."""
    name = f"{job.get_kind_display()}_{job.region_code}_{job.pk}.xlsx"
    return file_download(actor=actor, file=job.file, name=name, object_type="export_job", object_id=job.pk,
                         region_code=job.region_code, content_type=XLSX_CONTENT_TYPE,
                         details={"kind": job.kind, "full_ids": job.full_ids, "rows": job.rows_written})

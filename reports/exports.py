"""The statistics workbooks of reports.md and the worker that builds them.

Every export has one function that writes it to a path or stream; the command line and
the worker (`build_job`) both call it. Large forms stream: households are read with a
server-side cursor in chunks and written row by row, so memory stays flat.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
from collections import defaultdict
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from audits.catalogue import rule_name
from campaigns.selectors import screening_form_annotations, screening_form_cells
from cases.models import Household, Member, Status
from dibao.jobs import Claim, job_claim
from dibao.downloads import stored_name
from dibao.idnumber import mask_id
from dibao.models import Region
from dibao.spreadsheets import Column, CsvWriter, Workbook
from reports import metrics, sources
from reports.models import LEVEL_LABELS, LEVEL_LENGTHS, METRICS, METRIC_KEYS, MONEY_METRICS, ExportJob, RollupRow
from reports.rollup import add_into, locate

logger = logging.getLogger(__name__)
Progress = Callable[[int, int], None]  # (rows written, rows expected)
CHUNK = 2000
CENT = Decimal("0.01")


def unit_name(region: Region) -> str:
    return region.full_name or region.name


# --- monthly rollup ------------------------------------------------------------------

def rollup_rows(*, month: dt.date, level: str, region_code: str = "") -> list[RollupRow]:
    return list(RollupRow.objects.filter(month=month, level=level, region_code__startswith=region_code)
                .order_by("region_code"))


def rollup_totals(rows: Iterable[RollupRow]) -> dict:
    totals = metrics.zero()
    for row in rows:
        add_into(totals, row.metrics())
    return totals


def write_rollup_csv(rows: list[RollupRow], target) -> None:
    """The machine form (cli.md): UTF-8, English keys, one record per region."""
    writer = CsvWriter(target, lineterminator="\n")
    writer.writerow(["region_code", "region_name", "level", *METRIC_KEYS])
    for row in rows:
        values = [Decimal(getattr(row, k)).quantize(CENT) if k in MONEY_METRICS else getattr(row, k) for k in METRIC_KEYS]
        writer.writerow([row.region_code, row.region_name, row.level, *values])


def write_rollup_xlsx(rows: list[RollupRow], target, *, month: dt.date, level: str, unit: str,
                      filled_on: dt.date) -> None:
    book = Workbook(target)
    columns = [Column(_("区划代码"), "id", 12), Column(_("区划名称"), "text", 16)]
    columns += [Column(str(label), "money" if key in MONEY_METRICS else "int") for key, label in METRICS]
    title = _("%(unit)s农村低保月度汇总表（%(y)d年%(m)d月，按%(level)s）") % {
        "unit": unit, "y": month.year, "m": month.month, "level": LEVEL_LABELS[level]}
    sheet = book.form_sheet(_("月度汇总"), title=title, unit=unit, filled_on=filled_on, columns=columns)
    for row in rows:
        sheet.row([row.region_code, row.region_name, *[getattr(row, k) for k in METRIC_KEYS]])
    totals = rollup_totals(rows)
    sheet.total([_("合计"), "", *[totals[k] for k in METRIC_KEYS]])

    # The detailed sheet: new findings by rule (reports.md, findings_raised).
    rules = sorted({rule for row in rows for rule in (row.findings_by_rule or {})})
    columns = [Column(_("区划代码"), "id", 12), Column(_("区划名称"), "text", 16)]
    columns += [Column(rule_name(rule), "int") for rule in rules] + [Column(_("新增疑点合计"), "int")]
    detail = book.form_sheet(_("新增疑点分规则"), title=_("%(unit)s新增疑点分规则统计（%(y)d年%(m)d月）") % {
        "unit": unit, "y": month.year, "m": month.month}, unit=unit, filled_on=filled_on, columns=columns)
    by_rule_total: dict = defaultdict(int)
    for row in rows:
        counts = row.findings_by_rule or {}
        add_into(by_rule_total, counts)
        detail.row([row.region_code, row.region_name, *[counts.get(r, 0) for r in rules], row.findings_raised])
    detail.total([_("合计"), "", *[by_rule_total.get(r, 0) for r in rules], totals["findings_raised"]])
    book.save()


def export_rollup(*, month: dt.date, level: str, region: Region | None, output: str | Path,
                  filled_on: dt.date | None = None) -> int:
    """Write the month's stored rollup at `level` to `output` (.xlsx form or .csv); returns rows."""
    if level not in LEVEL_LENGTHS:
        raise ValueError(f"level must be one of {', '.join(LEVEL_LENGTHS)}")
    rows = rollup_rows(month=month, level=level, region_code=region.code if region else "")
    output = str(output)
    if output.lower().endswith(".csv"):
        with open(output, "w", encoding="utf-8", newline="") as f:
            write_rollup_csv(rows, f)
    else:
        write_rollup_xlsx(rows, output, month=month, level=level, unit=unit_name(region) if region else _("全国"),
                          filled_on=filled_on or timezone.localdate())
    return len(rows)


# --- screening forms (Tianjin seed 004) ------------------------------------------------

ANNEXES = [
    ("active", "在保", "（在保）"),
    ("exited", "退出", "（退出）"),
    ("rejected", "申请未通过", "（申请未通过）"),
]


def screening_querysets(region_code: str, start: dt.date, end: dt.date) -> dict:
    base = Household.objects.filter(region__code__startswith=region_code)
    return {
        "active": base.filter(metrics.active_at(end)),
        "exited": base.filter(exited_on__range=(start, end)),
        "rejected": base.filter(status=Status.REJECTED, applied_on__range=(start, end)),
    }


def _screening_columns(annex: str) -> list[Column]:
    head = [Column(_("序号"), "int", 6), Column(_("村（居）"), "text", 16), Column(_("户编号"), "text", 14),
            Column(_("申请人（户主）"), "text", 10), Column(_("身份证号"), "id", 20), Column(_("家庭人口"), "int")]
    middle = {
        "active": [Column(_("月保障金额"), "money")],
        "exited": [Column(_("退出日期"), "date"), Column(_("退出原因"), "text", 20)],
        "rejected": [Column(_("申请日期"), "date"), Column(_("未通过原因"), "text", 20)],
    }[annex]
    tail = [Column(_("排查结果"), "text", 8), Column(_("问题类型"), "text", 24), Column(_("处理情况"), "text", 24)]
    return head + middle + tail


def write_screening(*, region: Region, start: dt.date, end: dt.date, target, full_ids: bool,
                    filled_on: dt.date | None = None, progress: Progress | None = None) -> int:
    """The three-annex workbook: sheets 在保, 退出, 申请未通过. Returns the rows written."""
    with _no_jit():
        return _write_screening(region=region, start=start, end=end, target=target, full_ids=full_ids,
                                filled_on=filled_on, progress=progress)


@contextmanager
def _no_jit():
    """PostgreSQL would JIT-compile the big streaming SELECT (seconds of LLVM work at 100,000
    rows) for a query that is read once, front to back; turn it off for the export."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET jit")


def _write_screening(*, region, start, end, target, full_ids, filled_on, progress) -> int:
    querysets = screening_querysets(region.code, start, end)
    expected = sum(qs.count() for qs in querysets.values()) if progress else 0
    book = Workbook(target)
    written = 0
    unit = unit_name(region)
    township_level = len(region.code) >= 9
    persons = Member.objects.filter(household=OuterRef("pk")).order_by().values("household").annotate(
        n=Count("id")).values("n")
    for annex, sheet_name, suffix in ANNEXES:
        sheet = book.form_sheet(sheet_name, title=f"{region.name}农村低保排查情况统计表{suffix}", unit=unit,
                           filled_on=filled_on or timezone.localdate(), columns=_screening_columns(annex))
        rows = (querysets[annex].order_by("region_id", "household_no")
                .annotate(persons=Coalesce(Subquery(persons), 0), village=F("region__name"),
                          **screening_form_annotations(annex=annex, start=start, end=end))
                .values("id", "region_id", "village", "household_no", "head_name", "head_id_number", "persons",
                        "monthly_amount", "exited_on", "exit_reason", "applied_on", "rejection_reason",
                        "record_id", "flagged"))
        township_names = {} if township_level else dict(
            Region.objects.filter(code__startswith=region.code, level=Region.Level.TOWNSHIP).values_list("code", "name"))
        n = persons_total = problems = 0
        amount_total = Decimal("0")
        for chunk in _chunks(rows.iterator(chunk_size=CHUNK), CHUNK):
            results = screening_form_cells(chunk)
            for r in chunk:
                n += 1
                village = r["village"]
                if not township_level and len(r["region_id"]) > 9:
                    village = township_names.get(r["region_id"][:9], "") + village
                result, problem_types, handling = results[r["id"]]
                middle = {
                    "active": [r["monthly_amount"]],
                    "exited": [r["exited_on"], r["exit_reason"]],
                    "rejected": [r["applied_on"], r["rejection_reason"]],
                }[annex]
                id_number = r["head_id_number"] if full_ids else mask_id(r["head_id_number"])
                sheet.row([n, village, r["household_no"], r["head_name"], id_number, r["persons"], *middle,
                           result, problem_types, handling])
                persons_total += r["persons"]
                amount_total += r["monthly_amount"] or 0
                problems += bool(problem_types)
            written += len(chunk)
            if progress:
                progress(written, expected)
        middle_total = {"active": [amount_total], "exited": ["", ""], "rejected": ["", ""]}[annex]
        sheet.total([_("合计"), _("%(n)d户") % {"n": n}, "", "", "", persons_total, *middle_total,
                     _("存在问题%(n)d户") % {"n": problems}, "", ""])
    book.save()
    return written


def _chunks(iterator, size: int):
    chunk = []
    for item in iterator:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- progress bulletin (Jilin seed 000) --------------------------------------------------

BULLETIN_KEYS = ["townships_total", "townships_screened", "percent_done", "relatives_filed",
                 "ineligible_not_exited", "clues_received", "clues_transferred", "persons_disciplined"]


def bulletin_rows(*, region: Region, start: dt.date, end: dt.date) -> list[dict]:
    """One row per county under `region` (a township or county region: that region alone).

    A township counts as screened when every household active at `end` was reviewed
    (last_reviewed_on) within [start, end]; a township without active households has
    nothing to screen and counts as screened. Filings, clues, transfers and persons
    disciplined are those of [start, end]; ineligible households are counted at `end`.
    """
    if len(region.code) <= 6:
        units = list(Region.objects.filter(code__startswith=region.code, level=Region.Level.COUNTY)
                     .order_by("code").values_list("code", "name"))
    else:
        units = [(region.code, region.name)]
    unit_codes = {code for code, _name in units}
    figures = {code: defaultdict(int) for code in unit_codes}
    unscreened = {code[:9] for code in Household.objects.filter(metrics.active_at(end), region__code__startswith=region.code)
                  .filter(Q(last_reviewed_on__isnull=True) | ~Q(last_reviewed_on__range=(start, end)))
                  .values_list("region_id", flat=True).distinct()}
    for code in Region.objects.filter(code__startswith=region.code, level=Region.Level.TOWNSHIP).values_list(
            "code", flat=True):
        unit = locate(code, unit_codes)
        if unit:
            figures[unit]["townships_total"] += 1
            figures[unit]["townships_screened"] += code not in unscreened
    merged = metrics.merge([metrics.filing_figures(start=start, end=end), sources.ineligible_not_exited(end=end),
                            *sources.complaints_figures(start=start, end=end)])
    for code, values in merged.items():
        unit = locate(code, unit_codes) if code.startswith(region.code) else None
        if unit:
            add_into(figures[unit], {k: values.get(k, 0) for k in BULLETIN_KEYS if k in values})
    rows = []
    for code, name in units:
        values = figures[code]
        total = values["townships_total"]
        rows.append({"region_code": code, "region_name": name, **{k: values.get(k, 0) for k in BULLETIN_KEYS},
                     "percent_done": round(100 * values["townships_screened"] / total, 1) if total else 0.0})
    return rows


def write_bulletin(*, region: Region, start: dt.date, end: dt.date, target, filled_on: dt.date | None = None) -> int:
    rows = bulletin_rows(region=region, start=start, end=end)
    columns = [Column(_("区划代码"), "id", 8), Column(_("县（市、区）"), "text", 14), Column(_("乡镇总数"), "int"),
               Column(_("已排查乡镇数"), "int"), Column(_("完成比例（%）"), "text"), Column(_("近亲属备案人数"), "int"),
               Column(_("不符合条件未退出户数"), "int"), Column(_("问题线索（条）"), "int"),
               Column(_("移交纪检监察（条）"), "int"), Column(_("处理处分人数"), "int")]
    book = Workbook(target)
    sheet = book.form_sheet(_("进度通报"), title=_("%(unit)s农村低保专项治理进度通报（%(start)s至%(end)s）") % {
        "unit": region.name, "start": f"{start:%Y-%m-%d}", "end": f"{end:%Y-%m-%d}"},
        unit=unit_name(region), filled_on=filled_on or timezone.localdate(), columns=columns)
    totals: dict = defaultdict(int)
    for row in rows:
        sheet.row([row["region_code"], row["region_name"], row["townships_total"], row["townships_screened"],
                   f"{row['percent_done']:.1f}%", row["relatives_filed"], row["ineligible_not_exited"],
                   row["clues_received"], row["clues_transferred"], row["persons_disciplined"]])
        add_into(totals, {k: row[k] for k in BULLETIN_KEYS if k != "percent_done"})
    done = totals["townships_screened"] / totals["townships_total"] * 100 if totals["townships_total"] else 0
    sheet.total([_("合计"), "", totals["townships_total"], totals["townships_screened"], f"{done:.1f}%",
                 totals["relatives_filed"], totals["ineligible_not_exited"], totals["clues_received"],
                 totals["clues_transferred"], totals["persons_disciplined"]])
    book.save()
    return len(rows)


# --- the worker ----------------------------------------------------------------------------

def build_job(job_id: int) -> None:
    """Build one ExportJob's workbook under MEDIA_ROOT/exports/, recording progress and outcome."""
    from reports import services

    with transaction.atomic():
        claim, job = job_claim(ExportJob.objects, job_id, progress=0)
    if claim == Claim.EXHAUSTED:
        services.export_job_finish(job=job, file_name=None,
                                   error=_("生成报表的处理进程多次中断，已停止重试，请重新申请导出"))
    if claim != Claim.RUN:
        return  # finished already (a redelivered message), or a live worker is writing it
    relative = stored_name("exports", "export.xlsx")
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    region = Region.objects.get(code=job.region_code)
    params = job.params

    def progress(done: int, expected: int) -> None:
        services.export_job_progress(job_id=job.pk, progress=int(100 * done / expected) if expected else 0, rows=done)

    try:
        if job.kind == ExportJob.Kind.ROLLUP:
            month = metrics.parse_month(params["month"])
            rows = rollup_rows(month=month, level=params["level"], region_code=region.code)
            write_rollup_xlsx(rows, str(path), month=month, level=params["level"], unit=unit_name(region),
                              filled_on=timezone.localdate())
            written = len(rows)
        elif job.kind == ExportJob.Kind.SCREENING:
            written = write_screening(region=region, start=dt.date.fromisoformat(params["from"]),
                                      end=dt.date.fromisoformat(params["to"]), target=str(path),
                                      full_ids=job.full_ids, progress=progress)
        else:
            written = write_bulletin(region=region, start=dt.date.fromisoformat(params["from"]),
                                     end=dt.date.fromisoformat(params["to"]), target=str(path))
    except Exception as exc:  # the job row carries the reason to the page; the log has the trace
        logger.exception("export job %s failed", job.pk)
        if path.exists():
            os.remove(path)
        services.export_job_finish(job=job, file_name=None, error=str(exc))
        return
    job.rows_written = written
    ExportJob.objects.filter(pk=job.pk).update(rows_written=written)
    services.export_job_finish(job=job, file_name=relative)


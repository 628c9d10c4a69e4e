"""Writing test files the way offices produce them: CSV (UTF-8 or GBK) and .xlsx."""
import csv
from pathlib import Path

from openpyxl import Workbook

from imports import services

HOUSEHOLD_HEADER = ["户编号", "区划代码", "户主姓名", "户主身份证号", "保障类别", "状态", "申请日期", "审批日期",
                    "退出日期", "月保障金额", "分类管理", "建档立卡户"]


def write_csv(path: Path, header, rows, encoding="utf-8-sig") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_xlsx(path: Path, header, rows) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(list(row))
    wb.save(path)
    return path


def run(actor, kind, path, dry_run=False):
    job = services.import_job_create(actor=actor, kind=kind, file_name=str(path), path=str(path), dry_run=dry_run)
    return services.import_run(job_id=job.pk)


def errors_at(job, row):
    return [e for e in job.errors if e["row"] == row]

"""Payments benchmark (not a test): the `payments` import in rows/s and a month's roll for the province.

    .venv/bin/python bench/bench_payments.py [--db dibao_bench_payments] [--households 100000] [--months 3]

The database (created and migrated when missing, regions of province 22) gets N active households
spread over the province's townships with one amount each (INSERT … SELECT generate_series, not the
import); a payments CSV per month (one row per household) is written and imported through the same path as
the web and `import_data` (validation, COPY staging, set-based upsert); then the roll of the last
month is made for the whole province. Targets (DESIGN.md): import ≥ 50,000 rows/s, roll ≤ 30 s at
1M households. Prints the figures and the scale.
"""
from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _ensure_database(db: str) -> None:
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db])
        created = cur.fetchone() is None
        if created:
            cur.execute(f'CREATE DATABASE "{db}"')
    conn.close()
    env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}", "DEBUG": "true"}
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"], check=True, env=env)
    if created:
        subprocess.run([sys.executable, str(ROOT / "manage.py"), "load_regions", "--province", "22"], check=True,
                       env=env)


def _households(n: int) -> None:
    """N active households (decided 2024-01-05) with their head and one amount in force, set-based."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE payments_paymentline, payments_paymentroll, payments_payment, "
                       "cases_amounthistory, cases_member, cases_household RESTART IDENTITY CASCADE")
        cursor.execute(
            "INSERT INTO cases_household (household_no, region_code, head_name, head_id_number, category, status, "
            "applied_on, decided_on, exit_reason, rejection_reason, monthly_amount, poverty_cause, management_class, "
            "registered_poor, phone, payment_stopped, single_coverage_id_number, payee_id_number, account_no, "
            "bank_name, legacy_migration, created_at, updated_at, version) "
            "SELECT 'B' || lpad(g::text, 9, '0'), t.code, '户主' || g, '22010219700101' || lpad((g %% 1000)::text, 3, '0') || 'X', "
            "'rural', 'active', DATE '2024-01-01', DATE '2024-01-05', '', '', 600 + g %% 400, '', 'B', false, '', "
            "false, '', '', '62170' || lpad(g::text, 14, '0'), '农村信用社', false, now(), now(), 1 "
            "FROM generate_series(1, %s) g JOIN (SELECT code, row_number() OVER (ORDER BY code) - 1 AS i, "
            "count(*) OVER () AS n FROM dibao_region WHERE level = 4 AND code LIKE '22%%') t ON t.i = g %% t.n", [n])
        cursor.execute("INSERT INTO cases_amounthistory (household_id, effective_month, amount, covered_persons, "
                       "single_coverage_id_number, source, note, created_at) "
                       "SELECT id, DATE '2024-01-01', monthly_amount, NULL, '', 'import', '', now() FROM cases_household")
        cursor.execute("ANALYZE cases_household; ANALYZE cases_amounthistory")


def _payments_file(path: Path, months: list[str]) -> int:
    from django.db import connection

    n = 0
    with path.open("w", encoding="utf-8", newline="") as out, connection.cursor() as cursor:
        writer = csv.writer(out)
        writer.writerow(["交易流水号", "发放月份", "户编号", "收款人姓名", "收款人身份证号", "银行账号", "发放金额",
                         "发放日期", "发放状态"])
        from stdnum.cn import ric

        cursor.execute("SELECT household_no, head_name, head_id_number, account_no, monthly_amount FROM cases_household")
        # the setup's head numbers carry no check digit: the payee gets a valid number of the same person
        rows = [(no, name, head[:17] + ric.calc_check_digit(head[:17] + "0"), account, amount)
                for no, name, head, account, amount in cursor.fetchall()]
        for month in months:
            stamp = month.replace("-", "")
            for no, name, id_number, account, amount in rows:
                writer.writerow([f"{stamp}{no}", month, no, name, id_number, account, f"{amount:.2f}", f"{month}-10",
                                 "成功"])
                n += 1
    return n


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="dibao_bench_payments")
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=3)
    args = parser.parse_args(argv)
    _ensure_database(args.db)
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.db}"
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import datetime as dt

    import django

    django.setup()
    from imports import services as import_services
    from payments import services

    started = time.monotonic()
    _households(args.households)
    print(f"scale: {args.households:,} households, {args.months} months (setup {time.monotonic() - started:.1f}s)")
    months = [f"2026-{m:02d}" for m in range(1, args.months + 1)]
    # One file per month, as a bank returns them (and a year would exceed IMPORT_MAX_ROWS in one file):
    # the later months go into a ledger that already holds the earlier ones, as in production.
    total_rows, total_s = 0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for month in months:
            path = Path(tmp) / f"payments-{month}.csv"
            rows = _payments_file(path, [month])
            job = import_services.import_job_create(actor="system", kind="payments", file_name=path.name,
                                                    path=str(path), dry_run=False)
            started = time.monotonic()
            job = import_services.import_run(job_id=job.pk)
            elapsed = time.monotonic() - started
            path.unlink()
            total_rows, total_s = total_rows + rows, total_s + elapsed
            print(f"payments import {month}: {rows:,} rows in {elapsed:.1f}s = {rows / elapsed:,.0f} rows/s "
                  f"({job.state}; ledger now {total_rows:,} rows)", flush=True)
    print(f"payments import, {len(months)} monthly files: {total_rows:,} rows in {total_s:.1f}s = "
          f"{total_rows / total_s:,.0f} rows/s (target ≥ 50,000)")
    started = time.monotonic()
    roll = services.roll_create(actor="system", month=dt.date(2026, args.months, 1), region_code="22")
    print(f"roll {roll.month_text} for province 22: {roll.households:,} households, {roll.total:,.2f} yuan "
          f"in {time.monotonic() - started:.1f}s (target ≤ 30 s at 1M households)")


if __name__ == "__main__":
    main()

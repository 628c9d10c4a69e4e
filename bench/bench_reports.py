"""Monthly rollup and a 100,000-row screening workbook at province scale (not a test).

    .venv/bin/python bench/bench_reports.py [--db dibao_reports_bench] [--source dibao_bench]
        [--month 2026-10] [--rows 100000] [--skip-rollup] [--skip-form]

Targets (DESIGN.md): monthly rollup of all levels ≤ 30 s; a 100,000-row Excel form ≤ 15 s with
flat memory. The registry comes from the province-scale database `--source` that
bench/generate.py fills (1,000,000 households, 2.5M members); it is only read: the first run
copies its region, household, member, staff and filing tables (pg_dump --data-only) into a
database of our own, `--db`, migrated with every app, so the benchmark never writes to it.

The form is written for the smallest region prefix whose three annexes together reach
`--rows` rows (a city, at this scale), through exports.write_screening — the same code the
worker and `export_form` run. Peak RSS is sampled while it writes. Results go to
bench/out/bench_reports.json.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

PG = ["-h", "127.0.0.1", "-U", "postgres"]
TABLES = ["dibao_region", "cases_household", "cases_member", "cases_staff", "cases_relativefiling"]


def psql(db: str, sql: str) -> str:
    return subprocess.run(["psql", *PG, "-tAq", db, "-c", sql], check=True, capture_output=True,
                          text=True).stdout.strip()


def prepare(db: str, source: str) -> None:
    exists = psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{db}'")
    if not exists:
        psql("postgres", f'CREATE DATABASE "{db}"')
    if not psql(db, "SELECT to_regclass('reports_rolluprow')"):
        subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "--skip-checks", "-v", "0"],
                       check=True, env=os.environ)
    if int(psql(db, "SELECT count(*) FROM cases_household") or 0) == 0:
        print(f"copying {', '.join(TABLES)} from {source} (read only) …", flush=True)
        started = time.monotonic()
        dump = subprocess.Popen(["pg_dump", *PG, "--data-only", "--disable-triggers",
                                 *[a for t in TABLES for a in ("-t", t)], source], stdout=subprocess.PIPE)
        subprocess.run(["psql", *PG, "-q", "-v", "ON_ERROR_STOP=1", db], stdin=dump.stdout, check=True,
                       stdout=subprocess.DEVNULL)
        dump.wait()
        psql(db, "ANALYZE")
        print(f"  copied in {time.monotonic() - started:.0f}s", flush=True)


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bench_rollup(month: dt.date) -> dict:
    from reports import services
    from reports.models import RollupRow
    from reports.rollup import check_level_sums

    results = {}
    for attempt in ("first", "recompute"):
        started = time.monotonic()
        run = services.rollup_compute(actor="bench", month=month)
        results[attempt] = round(time.monotonic() - started, 2)
        print(f"rollup {month:%Y-%m} ({attempt}): {run.row_count} rows, {results[attempt]:.2f}s", flush=True)
    rows = list(RollupRow.objects.filter(month=month))
    problems = check_level_sums(rows)
    province = next(r for r in rows if len(r.region_code) == 2)
    results.update(rows=len(rows), level_check_problems=len(problems),
                   province_households_active=province.households_active,
                   province_persons_active=province.persons_active,
                   province_amount_total=str(province.amount_total))
    return results


def pick_region(rows: int, end: dt.date) -> tuple[str, int]:
    """The city (else the province) whose three annexes reach `rows` rows."""
    from django.db.models import Count
    from django.db.models.functions import Substr

    from reports import exports

    start = dt.date(end.year - 1, end.month, 1)
    counts: dict[str, int] = {}
    for qs in exports.screening_querysets("", start, end).values():
        for code, n in qs.annotate(c=Substr("region_id", 1, 4)).values("c").order_by().annotate(
                n=Count("id")).values_list("c", "n"):
            counts[code] = counts.get(code, 0) + n
    fitting = sorted((n, code) for code, n in counts.items() if n >= rows)
    if fitting:
        return fitting[0][1], fitting[0][0]
    return max(counts, key=counts.get)[:2], sum(counts.values())


def bench_form(rows: int, end: dt.date) -> dict:
    from dibao.models import Region
    from reports import exports

    code, expected = pick_region(rows, end)
    region = Region.objects.get(code=code)
    start = dt.date(end.year - 1, end.month, 1)
    peak = [rss_mb()]
    before = peak[0]

    def progress(done, total):
        peak[0] = max(peak[0], rss_mb())

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "screening.xlsx"
        started, cpu_started = time.monotonic(), cpu_seconds()
        written = exports.write_screening(region=region, start=start, end=end, target=str(target), full_ids=True,
                                          progress=progress)
        elapsed = time.monotonic() - started
        cpu = cpu_seconds() - cpu_started
        size = target.stat().st_size
    peak[0] = max(peak[0], rss_mb())
    result = {"region": f"{region.name} {region.code}", "period": f"{start} – {end}", "rows": written,
              "seconds": round(elapsed, 2), "python_cpu_seconds": round(cpu, 2), "rows_per_second": int(written / elapsed), "file_mb": round(size / 2**20, 1),
              "rss_before_mb": round(before, 1), "rss_peak_during_mb": round(peak[0], 1),
              "ru_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    print(f"screening form {result['region']}: {written} rows in {elapsed:.2f}s ({result['rows_per_second']} rows/s; "
          f"this process's CPU {cpu:.1f}s), "
          f"RSS {before:.0f} → peak {peak[0]:.0f} MB, file {result['file_mb']} MB", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="dibao_reports_bench")
    parser.add_argument("--source", default="dibao_bench")
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--skip-rollup", action="store_true")
    parser.add_argument("--skip-form", action="store_true")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.db}"
    prepare(args.db, args.source)

    import django
    django.setup()
    from reports import metrics

    month = metrics.parse_month(args.month)
    load = os.getloadavg()
    results = {"database": args.db, "households": int(psql(args.db, "SELECT count(*) FROM cases_household")),
               "members": int(psql(args.db, "SELECT count(*) FROM cases_member")),
               "cpus": os.cpu_count(), "load_average_at_start": [round(x, 1) for x in load],
               "ran_at": dt.datetime.now().isoformat(timespec="seconds")}
    print(f"{results['households']} households, {results['members']} members; load average {load[0]:.1f}", flush=True)
    if not args.skip_rollup:
        results["rollup"] = bench_rollup(month)
    if not args.skip_form:
        results["screening_form"] = bench_form(args.rows, metrics.month_bounds(month)[1])
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_reports.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"written to {OUT / 'bench_reports.json'}")


if __name__ == "__main__":
    main()

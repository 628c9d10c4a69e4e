"""Import benchmark (not a test): rows/s, peak memory, raw COPY and django-import-export baselines.

    .venv/bin/python bench/bench_import.py [--db dibao_bench_import] [--input bench/out]
        [--kinds households members ...] [--limit N] [--sample 20000] [--reimport]

Files come from bench/generate.py (`--files`, province scale into bench/out/); `--limit N`
benchmarks the first N rows of each. The database (default `dibao_bench_import`) is created,
migrated and given the regions of province 22 when missing. Each kind runs in its own
subprocess so its peak RSS is its own. Per kind it prints:

  - our import (validate + stage + set-based upsert / new version), rows/s and peak RSS;
  - a raw `COPY` of the same file into a bare all-text table (the floor any import sits on);
  - for registry kinds, django-import-export's standard `import_data` on a --sample-row slice.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
IE_KINDS = {"households"}  # django-import-export runs at ~100 rows/s: one kind is baseline enough
ORDER = ["households", "members", "staff", "relatives", "deaths", "disability", "illness", "poverty", "payroll",
         "vehicles", "business", "property", "kinship"]


def _setup_django(db: str) -> None:
    os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{db}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    django.setup()


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
    env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}"}
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"], check=True, env=env)
    if created:
        subprocess.run([sys.executable, str(ROOT / "manage.py"), "load_regions", "--province", "22"], check=True, env=env)


def _head(src: Path, limit: int | None, dest_dir: Path) -> Path:
    if not limit:
        return src
    dest = dest_dir / f"{src.stem}_{limit}.csv"
    if not dest.exists():
        with open(src, encoding="utf-8-sig") as fin, open(dest, "w", encoding="utf-8") as fout:
            for line in islice(fin, limit + 1):
                fout.write(line)
    return dest


def _rows_in(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 22), b"")) - 1


def _raw_copy(path: Path) -> float:
    from django.db import connection
    with open(path, encoding="utf-8-sig") as fh:
        ncols = len(fh.readline().split(","))
    cols = ", ".join(f"c{i} text" for i in range(ncols))
    start = time.perf_counter()
    with connection.cursor() as cur, open(path, "rb") as fh:
        cur.execute("DROP TABLE IF EXISTS bench_raw_copy")
        cur.execute(f"CREATE UNLOGGED TABLE bench_raw_copy ({cols})")
        cur.copy_expert("COPY bench_raw_copy FROM STDIN WITH (FORMAT csv, HEADER true)", fh)
    elapsed = time.perf_counter() - start
    with connection.cursor() as cur:
        cur.execute("DROP TABLE bench_raw_copy")
    return elapsed


def _import_export(kind: str, path: Path, sample: int) -> tuple[int, float] | None:
    import tablib
    from django.db import transaction

    from imports.resources import resource_for
    try:
        resource = resource_for(kind)()
    except KeyError:
        return None
    with open(path, encoding="utf-8-sig") as fh:
        lines = list(islice(fh, sample + 1))
    dataset = tablib.Dataset().load("".join(lines), format="csv")
    start = time.perf_counter()
    with transaction.atomic():
        result = resource.import_data(dataset, dry_run=False, raise_errors=False)
        transaction.set_rollback(True)  # a baseline only: leave the database as our import left it
    elapsed = time.perf_counter() - start
    if result.has_errors() or result.has_validation_errors():
        print(f"    (django-import-export reported errors on the sample: "
              f"{len(result.row_errors())} row errors, {len(result.invalid_rows)} invalid rows)")
    return len(dataset), elapsed


def truncate() -> None:
    """Start from empty registry and cross-check tables so every row of the run is new."""
    from django.db import connection

    from audits.models import REF_MODELS, RefVersion
    from cases.models import Household, Member, RelativeFiling, Staff
    from imports.models import ImportJob
    models = [RelativeFiling, Member, Household, Staff, *REF_MODELS.values(), RefVersion, ImportJob]
    with connection.cursor() as cur:
        cur.execute("TRUNCATE " + ", ".join(f'"{m._meta.db_table}"' for m in models) + " RESTART IDENTITY CASCADE")


def run_one(kind: str, path: Path, sample: int, reimport: bool) -> dict:
    from imports import services

    rows = _rows_in(path)
    out = {"kind": kind, "rows": rows, "file_mb": round(path.stat().st_size / 1e6, 1)}
    job = services.import_job_create(actor="system", kind=kind, file_name=path.name, path=str(path), dry_run=False)
    start, cpu = time.perf_counter(), time.process_time()
    job = services.import_run(job_id=job.pk)
    out["import_s"] = time.perf_counter() - start
    out["python_cpu_s"] = time.process_time() - cpu  # this process only (PostgreSQL's work is not in it)
    out["state"] = job.state
    out["counts"] = (job.rows_new, job.rows_updated, job.rows_unchanged, job.rows_invalid)
    if job.errors:
        out["first_errors"] = job.errors[:3]
    if reimport:
        again = services.import_job_create(actor="system", kind=kind, file_name=path.name, path=str(path), dry_run=False)
        start = time.perf_counter()
        again = services.import_run(job_id=again.pk)
        out["reimport_s"] = time.perf_counter() - start
        out["reimport_counts"] = (again.rows_new, again.rows_updated, again.rows_unchanged)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    out["raw_copy_s"] = _raw_copy(path)
    if sample and kind in IE_KINDS:
        ie = _import_export(kind, path, sample)
        if ie:
            out["ie_rows"], out["ie_s"] = ie
    return out


def _print(r: dict) -> None:
    rate = r["rows"] / r["import_s"] if r["import_s"] else 0
    raw = r["rows"] / r["raw_copy_s"] if r["raw_copy_s"] else 0
    line = (f"{r['kind']:<11} {r['rows']:>10,} rows {r['file_mb']:>7} MB  import {r['import_s']:7.1f}s "
            f"{rate:>9,.0f} rows/s  peak RSS {r['peak_rss_mb']:>5} MB  raw COPY {r['raw_copy_s']:6.1f}s "
            f"({raw:,.0f} rows/s, ×{r['import_s'] / r['raw_copy_s']:.1f})  state {r['state']} "
            f"new/upd/same/bad {r['counts']}")
    if "python_cpu_s" in r:
        line += f"  python CPU {r['python_cpu_s']:.1f}s"
    if "reimport_s" in r:
        line += f"  re-import {r['reimport_s']:.1f}s {r['reimport_counts']}"
    if "ie_s" in r:
        line += f"  django-import-export {r['ie_rows'] / r['ie_s']:,.0f} rows/s on {r['ie_rows']:,} rows"
    print(line, flush=True)
    if r.get("first_errors"):
        print("    first errors:", r["first_errors"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="dibao_bench_import")
    parser.add_argument("--input", default=str(ROOT / "bench" / "out"))
    parser.add_argument("--kinds", nargs="*", default=ORDER)
    parser.add_argument("--limit", type=int, default=0, help="only the first N rows of each file")
    parser.add_argument("--sample", type=int, default=20000, help="rows for the django-import-export baseline (0 = skip)")
    parser.add_argument("--reimport", action="store_true", help="import each file twice (the second must change nothing)")
    parser.add_argument("--keep", action="store_true", help="do not empty the registry and cross-check tables first")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    input_dir = Path(args.input)

    if args.one:
        _setup_django(args.db)
        if args.one == "truncate":
            truncate()
            return
        path = _head(input_dir / f"{args.one}.csv", args.limit, input_dir)
        print(json.dumps(run_one(args.one, path, args.sample, args.reimport), default=str))
        return

    _ensure_database(args.db)
    if not args.keep:
        subprocess.run([sys.executable, __file__, "--one", "truncate", "--db", args.db], check=True)
    print(f"import benchmark — database {args.db}, files {input_dir}, "
          f"{'first ' + format(args.limit, ',') + ' rows of each' if args.limit else 'full files'}, "
          f"{os.cpu_count()} cores", flush=True)
    for kind in [k for k in ORDER if k in args.kinds]:
        if not (input_dir / f"{kind}.csv").exists():
            print(f"{kind:<11} (no {kind}.csv in {input_dir})")
            continue
        cmd = [sys.executable, __file__, "--one", kind, "--db", args.db, "--input", str(input_dir),
               "--limit", str(args.limit), "--sample", str(args.sample)] + (["--reimport"] if args.reimport else [])
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{kind:<11} FAILED\n{proc.stderr[-3000:]}", flush=True)
            continue
        _print(json.loads(proc.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()

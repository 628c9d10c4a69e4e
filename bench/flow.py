"""The operator's whole flow on a fresh PostgreSQL database, timed step by step (issue 13, item 4).

    .venv/bin/python bench/flow.py --households N [--db dibao_flow] [--data-dir bench/out/flow]
        [--seed S] [--timeout SECONDS] [--results bench/results]

1. Files: `bench/generate.py --files` for N households into `<data-dir>/h<N>-s<seed>/`, reused when a
   previous run completed them (a `.complete` marker; the same seed and N give byte-identical files).
2. An empty database: DROP (WITH FORCE) and CREATE `--db`, then `manage.py migrate`.
3. The flow, each step one `manage.py` subprocess as an operator would type it, with the production
   settings (DEBUG off, no REDIS_URL, so Celery tasks run in the command's own process):
   load_regions --province 22 · import_data of each file (households, members, staff, relatives,
   the nine cross-check kinds, then the bank's return of twelve months, a file a month) · rescreen · export_findings · rollup · export_rollup · export_form
   screening · payroll · export_payroll · verify_audit.

For each step: wall time (process start to exit, so Python start-up and Django set-up are in it),
rows and rows/s, the subprocess's peak RSS and CPU time (from wait4, so they are that process's
own; PostgreSQL's memory and CPU are not in them), and the 1-minute load average at its end. Before
each import, a raw `COPY` of the same file into a bare UNLOGGED table of as many text columns
(the floor any import sits on) is timed in the same run, and the import's ratio to it printed.

Ends with a markdown table (also written to `<results>/flow-<N>.md`) and the database's largest
tables. Exit status 1 if any step failed or timed out. Each step's output is kept in
`<data-dir>/h<N>-s<seed>/logs/`.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.generate import AS_OF, HEADERS, payment_months  # noqa: E402  (the generator's kinds and date are the flow's)

PG = "postgres://postgres@127.0.0.1:5432"  # the development server (trust auth, as docs/bench.md)
PROVINCE = "22"
REGISTRY_KINDS = ["households", "members", "staff", "relatives"]
IMPORT_KINDS = REGISTRY_KINDS + [k for k in HEADERS if k not in REGISTRY_KINDS]
MONTH = f"{AS_OF:%Y-%m}"


@dataclass
class Step:
    name: str
    args: list[str]
    rows_from: str | None = None  # a regex on the step's output whose first group is its row count
    copy_file: Path | None = None  # imports: the file whose raw COPY is the baseline
    rows: int | None = None
    wall: float = 0.0
    cpu: float = 0.0
    rss_mb: float = 0.0
    load: float = 0.0
    copy_s: float | None = None
    job_s: float | None = None  # the job's own started_at → finished_at (imports, rescreen)
    status: str = "ok"
    tail: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        return self.rows / self.wall if self.rows and self.wall else None

    @property
    def ratio(self) -> float | None:
        return self.wall / self.copy_s if self.copy_s else None


def admin_connect(dbname: str):
    conn = psycopg2.connect(f"{PG}/{dbname}")
    conn.autocommit = True
    return conn


def recreate_database(db: str) -> None:
    if db in {"postgres", "template0", "template1"} or not re.fullmatch(r"[a-z0-9_]+", db):
        sys.exit(f"refusing to drop database {db!r}")
    conn = admin_connect("postgres")
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{db}"')
    conn.close()


def terminate_backends(db: str) -> None:
    """After a step is killed on timeout its query may still run in PostgreSQL: stop it too."""
    conn = admin_connect("postgres")
    with conn.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    [db])
    conn.close()


def raw_copy(conn, path: Path) -> tuple[int, float]:
    """COPY the file as it is into a bare UNLOGGED all-text table: (rows, seconds)."""
    with open(path, encoding="utf-8-sig") as fh:
        ncols = len(fh.readline().rstrip("\n").split(","))
    cols = ", ".join(f"c{i} text" for i in range(ncols))
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS flow_raw_copy")
        start = time.perf_counter()
        cur.execute(f"CREATE UNLOGGED TABLE flow_raw_copy ({cols})")
        with open(path, "rb") as fh:
            cur.copy_expert("COPY flow_raw_copy FROM STDIN WITH (FORMAT csv, HEADER true)", fh)
        rows = cur.rowcount
        elapsed = time.perf_counter() - start
        cur.execute("DROP TABLE flow_raw_copy")
    return rows, elapsed


def run(cmd: list[str], env: dict, log: Path, timeout: float | None) -> tuple[int | None, float, float, float]:
    """Run cmd with its output in `log`; (exit status or None on timeout, wall s, CPU s, peak RSS MB).

    wait4 gives this child's own rusage (RUSAGE_CHILDREN would be the maximum over every child so far)."""
    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        deadline = start + timeout if timeout else None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline and time.perf_counter() > deadline:
                os.killpg(proc.pid, signal.SIGTERM)
                pid, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = -1
                return None, time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024
            time.sleep(0.05)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def flow_steps(files: Path, out: Path) -> list[Step]:
    # What every command pays before its work: Python start-up and Django set-up.
    steps = [Step("start-up (shell -c pass)", ["shell", "-c", "pass"]),
             Step("load_regions", ["load_regions", "--province", PROVINCE], r"loaded (\d+) regions")]
    for kind in IMPORT_KINDS:
        path = files / f"{kind}.csv"
        steps.append(Step(f"import_data {kind}", ["import_data", kind, str(path)], r": (\d+) rows", copy_file=path))
    # the bank's return, a file a month into the growing ledger, as the banks send it
    for month in payment_months():
        path = files / f"payments-{month}.csv"
        steps.append(Step(f"import_data payments {month}", ["import_data", "payments", str(path)], r": (\d+) rows",
                          copy_file=path))
    year_start = AS_OF.replace(month=1, day=1)
    steps += [
        Step("rescreen", ["rescreen", "--as-of", AS_OF.isoformat()], None),
        Step("export_findings", ["export_findings", "--output", str(out / "findings.csv")], r"(\d+) findings"),
        Step("rollup", ["rollup", "--month", MONTH], r"run #\d+, (\d+) rows"),
        Step("export_rollup", ["export_rollup", "--month", MONTH, "--level", "township", "--region", PROVINCE,
                               "--output", str(out / "rollup-township.xlsx")], r"wrote (\d+)"),
        Step("export_form screening", ["export_form", "screening", "--region", PROVINCE,
                                       "--from", year_start.isoformat(), "--to", AS_OF.isoformat(),
                                       "--output", str(out / "screening.xlsx")], r"(\d+) rows"),
        Step("payroll", ["payroll", "--month", MONTH], r"(\d+) households"),
        Step("export_payroll", ["export_payroll", "--month", MONTH, "--output", str(out / "payroll.csv")],
             r"(\d+) lines"),
        Step("verify_audit", ["verify_audit"], r"(\d+) records verified"),
    ]
    return steps


def fmt(value, spec: str, none: str = "") -> str:
    return none if value is None else format(value, spec)


def table(steps: list[Step]) -> list[str]:
    lines = ["| step | rows | wall s | job s | rows/s | raw COPY s | × raw COPY | peak RSS MB | CPU s | load 1m |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in steps:
        name = s.name if s.status == "ok" else f"{s.name} **{s.status.upper()}**"
        lines.append(f"| {name} | {fmt(s.rows, ',')} | {s.wall:,.1f} | {fmt(s.job_s, ',.1f')} | {fmt(s.rate, ',.0f')} | "
                     f"{fmt(s.copy_s, ',.2f')} | {fmt(s.ratio, '.1f')} | {s.rss_mb:,.0f} | {s.cpu:,.1f} | "
                     f"{s.load:.1f} |")
    return lines


def footprint(conn) -> list[str]:
    with conn.cursor() as cur:
        cur.execute("SELECT pg_database_size(current_database())")
        total = cur.fetchone()[0]
        cur.execute("""SELECT relname, pg_total_relation_size(relid),
                              COALESCE(GREATEST(last_analyze, last_autoanalyze)::text, '')
                       FROM pg_stat_user_tables ORDER BY 2 DESC LIMIT 14""")
        rows = []
        for name, size, analyzed in cur.fetchall():
            cur.execute(f'SELECT count(*) FROM "{name}"')
            rows.append((name, cur.fetchone()[0], size, analyzed[:19]))
    lines = [f"Database size after the flow: {total / 2**20:,.0f} MB. Largest tables (size with indexes and "
             "TOAST; last ANALYZE, by the code or autovacuum, empty = never):", "",
             "| table | rows | MB | last ANALYZE |", "|---|---:|---:|---|"]
    lines += [f"| `{name}` | {n:,} | {size / 2**20:,.0f} | {analyzed} |" for name, n, size, analyzed in rows]
    return lines


def job_seconds(conn, step: Step) -> float | None:
    """The newest import job's or rescreening batch's own duration, start-up and set-up left out."""
    table = {"import_data": "imports_importjob", "rescreen": "audits_rescreenbatch"}.get(step.args[0])
    if not table:
        return None
    with conn.cursor() as cur:
        cur.execute(f"SELECT extract(epoch FROM finished_at - started_at) FROM {table} ORDER BY id DESC LIMIT 1")
        row = cur.fetchone()
    return float(row[0]) if row and row[0] is not None else None


def batch_phases(conn, batch_id: int | None = None) -> tuple[float, float, float, int] | None:
    """Where a batch's time went (the newest batch by default), in seconds: the rules (staged
    province-wide in one process), the county chunks (separate Celery tasks, the part more
    workers share), the finish; and the number of chunks."""
    with conn.cursor() as cur:
        cur.execute("""SELECT extract(epoch FROM min(c.started_at) - b.started_at),
                              extract(epoch FROM max(c.finished_at) - min(c.started_at)),
                              extract(epoch FROM b.finished_at - max(c.finished_at)), count(c.id)
                       FROM audits_rescreenbatch b JOIN audits_batchchunk c ON c.batch_id = b.id
                       WHERE b.id = COALESCE(%s, (SELECT max(id) FROM audits_rescreenbatch)) GROUP BY b.id""",
                    [batch_id])
        row = cur.fetchone()
    if not row or None in row[:3]:
        return None
    rules, chunks, finish, n = row
    return float(rules), float(chunks), float(finish), n


def rescreen_phases(conn) -> str | None:
    phases = batch_phases(conn)
    if not phases:
        return None
    rules, chunks, finish, n = phases
    return f"phases: rules (staged, one process) {rules:.1f}s · {n} county chunks {chunks:.1f}s · finish {finish:.1f}s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, required=True)
    parser.add_argument("--db", default="dibao_flow", help="dropped and created empty (default dibao_flow)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench" / "out" / "flow")
    parser.add_argument("--seed", type=int, default=20261120)
    parser.add_argument("--timeout", type=float, default=0, help="seconds after which a step is killed (0 = none)")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()

    n = args.households
    files = args.data_dir / f"h{n}-s{args.seed}"
    logs, out = files / "logs", files / "exports"
    for d in (files, logs, out, files / "var" / "audit", files / "media"):
        d.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_TASK_ALWAYS_EAGER"}}
    env.update(DATABASE_URL=f"{PG}/{args.db}", DJANGO_SETTINGS_MODULE="config.settings",
               DEBUG="false", SECRET_KEY="bench-flow-secret-key-not-for-production-0123456789abcdef",
               AUDIT_HMAC_KEY="bench-flow-audit-key-not-for-production",
               AUDIT_CHECKPOINT_DIR=str(files / "var" / "audit"), MEDIA_ROOT=str(files / "media"),
               PYTHONUNBUFFERED="1")
    manage = [sys.executable, str(ROOT / "manage.py")]
    timeout = args.timeout or None
    started = dt.datetime.now(dt.timezone.utc)
    print(f"flow: {n:,} households, database {args.db}, files {files}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}", flush=True)

    t = time.perf_counter()
    recreate_database(args.db)
    # The previous database of that name signed its own chain head there: verify_audit would
    # (rightly) take the new, shorter chain for a rebuilt one.
    (files / "var" / "audit" / f"audit-checkpoints-{args.db}.jsonl").unlink(missing_ok=True)
    code, wall, _, _ = run(manage + ["migrate", "-v", "0"], env, logs / "migrate.log", timeout)
    if code != 0:
        sys.exit(f"migrate failed, see {logs / 'migrate.log'}")
    print(f"  empty database + migrate       {time.perf_counter() - t:8.1f}s", flush=True)

    steps = flow_steps(files, out)
    conn = admin_connect(args.db)
    generated = "reused"
    for step in steps:
        if step.copy_file and not ((files / ".complete").exists() and step.copy_file.exists()):
            # The generator spreads households over the villages the database holds: after load_regions.
            t = time.perf_counter()
            code, wall, _, rss = run([sys.executable, str(ROOT / "bench" / "generate.py"), "--files",
                                      "--households", str(n), "--seed", str(args.seed), "--out", str(files)],
                                     env, logs / "generate.log", None)
            if code != 0:
                sys.exit(f"generate.py failed, see {logs / 'generate.log'}")
            (files / ".complete").touch()
            generated = f"generated in {wall:.0f}s (peak RSS {rss:.0f} MB), not part of the flow"
            print(f"  files {generated}", flush=True)
        if step.copy_file:
            step.rows, step.copy_s = raw_copy(conn, step.copy_file)
        log = logs / f"{step.name.replace(' ', '_')}.log"
        code, step.wall, step.cpu, step.rss_mb = run(manage + step.args, env, log, timeout)
        step.load = os.getloadavg()[0]
        text = log.read_text(encoding="utf-8", errors="replace")
        step.tail = [line for line in text.splitlines() if line.strip()][-40:]
        if code is None:
            step.status = "timeout"
            terminate_backends(args.db)
        elif code != 0:
            step.status = "failed"
        if step.rows_from and step.status == "ok":
            match = re.search(step.rows_from, text)
            step.rows = int(match.group(1)) if match else None
        step.job_s = job_seconds(conn, step)
        if step.name == "rescreen":
            with conn.cursor() as cur:  # rows/s of a rescreening: households screened per second
                cur.execute("SELECT count(*) FROM cases_household")
                step.rows = cur.fetchone()[0]
            phases = rescreen_phases(conn)
            if phases:
                step.tail.append(phases)
        ratio = f"  raw COPY {step.copy_s:6.2f}s  ×{step.ratio:5.1f}" if step.copy_s else ""
        print(f"  {step.name:<28} {step.status:<7} {step.wall:8.1f}s  {fmt(step.rows, ',', '-'):>10} rows  "
              f"{fmt(step.rate, ',.0f', '-'):>9} rows/s  RSS {step.rss_mb:6.0f} MB  CPU {step.cpu:7.1f}s"
              f"{ratio}  load {step.load:.1f}", flush=True)
        shown = step.tail if step.status != "ok" or step.name == "rescreen" else step.tail[-1:]
        for line in shown:
            print(f"      {line}", flush=True)

    imports = [s for s in steps if s.copy_file and s.status == "ok"]
    total_rows = sum(s.rows or 0 for s in imports)
    total_import = sum(s.wall for s in imports)
    total_copy = sum(s.copy_s or 0 for s in imports)
    flow_wall = sum(s.wall for s in steps)
    with conn.cursor() as cur:
        cur.execute("SHOW server_version")
        pg_version = cur.fetchone()[0]
        cur.execute("SELECT current_setting('shared_buffers'), current_setting('autovacuum')")
        shared_buffers, autovacuum = cur.fetchone()
    report = [
        f"# `bench/flow.py --households {n}`",
        "",
        f"{started:%Y-%m-%d %H:%M} UTC · {n:,} households (seed {args.seed}, files {generated}) · "
        f"PostgreSQL {pg_version.split()[0]} (shared_buffers {shared_buffers}, autovacuum {autovacuum}) · {os.cpu_count()} cores "
        f"**shared with other engineers' work** (1-minute load average at each step's end in the last column) · "
        f"Python {platform.python_version()} · {tree_state()}.",
        "",
        *table(steps),
        "",
        f"Imports: {total_rows:,} rows in {total_import:,.1f}s ({total_rows / total_import:,.0f} rows/s), "
        f"{total_import / total_copy:.1f}× their raw COPY ({total_copy:,.1f}s). Whole flow: {flow_wall:,.1f}s."
        if total_import and total_copy else "",
        *[f"Rescreen {line}." for s in steps if s.name == "rescreen" for line in s.tail if line.startswith("phases:")],
        "",
        "wall = the `manage.py` process from start to exit (Python start-up and Django set-up included); "
        "job s = the import job's or batch's own started → finished; "
        "raw COPY = the same file COPYed into a bare UNLOGGED table of text columns, in the same run; "
        "peak RSS and CPU = that process's own (PostgreSQL's are not in them); rescreen rows = households screened.",
        "",
        *footprint(conn),
    ]
    conn.close()
    write_results(args.results, f"flow-{n}.md", report)
    sys.exit(1 if any(s.status != "ok" for s in steps) else 0)


def tree_state() -> str:
    """Which code a figure was measured on."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    return f"commit {commit}{' + uncommitted changes' if dirty else ''}"


def write_results(directory: Path, name: str, lines: list[str]) -> None:
    """A benchmark's markdown report, printed and kept under bench/results/ (ready for the README)."""
    text = "\n".join(lines) + "\n"
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    target.write_text(text, encoding="utf-8")
    print("\n" + text + f"\nwritten to {target}", flush=True)


if __name__ == "__main__":
    main()

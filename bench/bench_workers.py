"""The same rescreening batch on 1 and on 2 Celery workers with a real Redis broker (issue 13, item 3):
what more worker machines buy.

    DATABASE_URL=postgres://…/DB .venv/bin/python bench/bench_workers.py [--workers 1 2] [--region 22]
        [--as-of 2026-11-20] [--timeout 1800] [--redis redis://127.0.0.1:6379/7] [--results bench/results]

DB must already hold the data (e.g. left by `bench/flow.py`). For each worker count N: flush the
Redis database of `--redis` (its own, nobody else may be connected to it), start N separate
`celery -A config worker --concurrency 1 --pool prefork -Q celery` processes with the production
settings (DEBUG off, bench SECRET_KEY / AUDIT_HMAC_KEY, REDIS_URL), wait for their "ready." line,
run `manage.py rescreen --region … --as-of …` as the operator would (it queues the batch and waits
for it), then stop the workers (SIGTERM, SIGKILL after 30 s).

Every timed batch is "a monthly run after a previous batch": a batch compares its findings with the
region's previous finished batch (new / still open / resolved, carried dismissals, task updates), and
the first batch of a region has none to compare with. So when the region's newest finished batch is
missing or of another as-of date, one untimed warm-up batch runs first, in-process (no Redis); each
timed batch then finds the same findings as the one before it (new 0, resolved 0 — in the table).
What still differs between runs: `audits_finding` keeps every batch's rows, so each run's
comparisons look up one more batch's worth of rows.

Per run: wall time of the `rescreen` command (start to exit; it polls the batch every 2 s), the
batch's own started → finished, its phases from the batch and chunk rows (rules staged in one task,
the county chunks shared by the workers, the finish), the tasks each worker ran and their seconds
(from its log), the workers' CPU time (their own and their pool processes', from wait4; PostgreSQL's
is not in it), and the 1-minute load average. Ends with a markdown table, also written to
`<results>/workers-<households>.md`; the logs are in `bench/out/workers/<DB>/logs/`. Exit status 1 if
a run failed or timed out.
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
from urllib.parse import urlparse

import psycopg2
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.flow import batch_phases, run, terminate_backends, tree_state, write_results  # noqa: E402
from bench.generate import AS_OF  # noqa: E402

QUEUE = "celery"  # no task routes in the settings: every task goes to Celery's default queue
READY = re.compile(r"\bready\.\s*$", re.M)
TASK_DONE = re.compile(r"Task audits\.tasks\.(run_batch|run_chunk)\[[^\]]+\] succeeded in ([\d.]+)s")


@dataclass
class Run:
    workers: int
    status: str = "ok"
    wall: float = 0.0
    batch_id: int | None = None
    batch_s: float | None = None
    phases: tuple | None = None
    findings: int | None = None
    novelty: tuple | None = None  # new, still open, resolved
    per_worker: list[tuple[int, int, float]] = field(default_factory=list)  # run_batch, run_chunk, task seconds
    worker_cpu: float = 0.0
    load_before: float = 0.0
    load_after: float = 0.0


def start_workers(n: int, env: dict, logs: Path) -> list[tuple[subprocess.Popen, Path]]:
    workers = []
    for i in range(1, n + 1):
        log = logs / f"workers{n}-w{i}.log"
        cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency", "1", "--pool", "prefork",
               "-Q", QUEUE, "-n", f"bench{i}@%h", "-l", "info"]
        with open(log, "wb") as out:
            proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                    start_new_session=True)
        workers.append((proc, log))
    deadline = time.monotonic() + 120
    for proc, log in workers:
        while not READY.search(log.read_text(encoding="utf-8", errors="replace")):
            if proc.poll() is not None or time.monotonic() > deadline:
                stop_workers(workers)
                sys.exit(f"a worker did not start, see {log}")
            time.sleep(0.2)
    return workers


def stop_workers(workers: list[tuple[subprocess.Popen, Path]]) -> float:
    """Warm shutdown (SIGTERM), SIGKILL to the group after 30 s; the workers' CPU seconds."""
    for proc, _ in workers:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    cpu = 0.0
    for proc, _ in workers:
        deadline = time.monotonic() + 30
        while True:
            pid, _status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                _pid, _status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.1)
        proc.returncode = 0  # reaped here: Popen must not wait for it again
        cpu += usage.ru_utime + usage.ru_stime
    return cpu


def tasks_run(log: Path) -> tuple[int, int, float]:
    batches = chunks = 0
    seconds = 0.0
    for kind, secs in TASK_DONE.findall(log.read_text(encoding="utf-8", errors="replace")):
        batches += kind == "run_batch"
        chunks += kind == "run_chunk"
        seconds += float(secs)
    return batches, chunks, seconds


def newest_done(conn, region: str) -> tuple[int, dt.date] | None:
    with conn.cursor() as cur:
        cur.execute("SELECT id, as_of FROM audits_rescreenbatch WHERE region_code = %s AND state = 'done' "
                    "ORDER BY id DESC LIMIT 1", [region])
        return cur.fetchone()


def newest_id(conn, region: str) -> int | None:
    with conn.cursor() as cur:
        cur.execute("SELECT max(id) FROM audits_rescreenbatch WHERE region_code = %s", [region])
        return cur.fetchone()[0]


def read_batch(conn, r: Run) -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT extract(epoch FROM finished_at - started_at), counts, new_count, open_count, "
                    "resolved_count FROM audits_rescreenbatch WHERE id = %s", [r.batch_id])
        secs, counts, new, still_open, resolved = cur.fetchone()
    r.batch_s = float(secs) if secs is not None else None
    r.findings = sum(counts.values()) if counts else None
    r.novelty = (new, still_open, resolved)
    r.phases = batch_phases(conn, r.batch_id)


def fmt(value, spec: str, none: str = "") -> str:
    return none if value is None else format(value, spec)


def table(runs: list[Run]) -> list[str]:
    lines = ["| workers | wall s | batch s | rules s | chunks s | finish s | county chunks | tasks per worker | "
             "findings (new / open / resolved) | workers' CPU s | load 1m before → end |",
             "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"]
    for r in runs:
        rules, chunks, finish, n = r.phases or (None, None, None, None)
        per = " · ".join(f"{'rules + ' if b else ''}{c} chunks ({s:.1f}s)" for b, c, s in r.per_worker)
        novelty = " / ".join(f"{v:,}" for v in r.novelty) if r.novelty else ""
        workers = str(r.workers) if r.status == "ok" else f"{r.workers} **{r.status.upper()}**"
        lines.append(f"| {workers} | {r.wall:,.1f} | {fmt(r.batch_s, ',.1f')} | {fmt(rules, ',.1f')} | "
                     f"{fmt(chunks, ',.1f')} | {fmt(finish, ',.1f')} | {fmt(n, ',')} | {per} | "
                     f"{fmt(r.findings, ',')} ({novelty}) | {r.worker_cpu:,.1f} | "
                     f"{r.load_before:.1f} → {r.load_after:.1f} |")
    return lines


def gains(runs: list[Run]) -> list[str]:
    base = runs[0]
    if base.status != "ok" or not base.phases:
        return []
    lines = []
    for r in runs[1:]:
        if r.status == "ok" and r.phases and r.batch_s:
            lines.append(f"{r.workers} workers against {base.workers}: batch {base.batch_s / r.batch_s:.2f}× as fast, "
                         f"county chunks {base.phases[1] / r.phases[1]:.2f}×, command wall {base.wall / r.wall:.2f}×.")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--region", default="22")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=AS_OF)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds after which a rescreen is killed")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/7",
                        help="broker, result store and cache; its database is flushed before each run")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", "")
    db = urlparse(database_url).path.lstrip("/")
    if not database_url.startswith("postgres") or not db:
        sys.exit("DATABASE_URL=postgres://…/DB must name the PostgreSQL database to run on")
    broker = redis.Redis.from_url(args.redis)
    own_db = str(broker.connection_pool.connection_kwargs.get("db", 0))
    others = [c for c in broker.client_list() if c.get("db") == own_db and c["id"] != str(broker.client_id())]
    if others:
        sys.exit(f"{len(others)} other clients are connected to {args.redis} (workers of another run?): "
                 "choose another Redis database")

    out = ROOT / "bench" / "out" / "workers" / db
    logs = out / "logs"
    for d in (logs, out / "var" / "audit", out / "media"):
        d.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_TASK_ALWAYS_EAGER"}}
    env.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="config.settings", DEBUG="false",
               SECRET_KEY="bench-workers-secret-key-not-for-production-0123456789abcdef",
               AUDIT_HMAC_KEY="bench-workers-audit-key-not-for-production",
               AUDIT_CHECKPOINT_DIR=str(out / "var" / "audit"), MEDIA_ROOT=str(out / "media"),
               PYTHONUNBUFFERED="1")
    celery_env = dict(env, REDIS_URL=args.redis)
    manage = [sys.executable, str(ROOT / "manage.py")]
    rescreen = ["rescreen", "--region", args.region, "--as-of", args.as_of.isoformat()]
    timeout = args.timeout or None

    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM audits_rescreenbatch WHERE state IN ('queued', 'running')")
        if cur.fetchone()[0]:
            sys.exit(f"a rescreening batch is queued or running in {db}: wait for it")
        cur.execute("SELECT count(*) FROM cases_household")
        households = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM cases_household WHERE region_code LIKE %s", [args.region + "%"])
        in_region = cur.fetchone()[0]
    started = dt.datetime.now(dt.timezone.utc)
    print(f"workers: {households:,} households ({in_region:,} in region {args.region or 'all'}), database {db}, "
          f"as of {args.as_of}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}", flush=True)

    previous = newest_done(conn, args.region)
    warm_up = "the region's previous batch"
    if not previous or previous[1] != args.as_of:
        code, wall, _, _ = run(manage + rescreen, env, logs / "warm-up.log", timeout)
        if code != 0:
            sys.exit(f"the warm-up batch failed, see {logs / 'warm-up.log'}")
        warm_up = f"a warm-up batch (in-process, {wall:.1f}s)"
        print(f"  warm-up batch (in-process, untimed)   {wall:8.1f}s", flush=True)

    runs = []
    for n in args.workers:
        r = Run(n)
        before = newest_id(conn, args.region)
        broker.flushdb()
        workers = start_workers(n, celery_env, logs)
        try:
            r.load_before = os.getloadavg()[0]
            code, r.wall, _, _ = run(manage + rescreen, celery_env, logs / f"rescreen-workers{n}.log", timeout)
            r.load_after = os.getloadavg()[0]
            if code is None:
                r.status = "timeout"
                terminate_backends(db)
            elif code != 0:
                r.status = "failed"
        finally:
            r.worker_cpu = stop_workers(workers)
        r.per_worker = [tasks_run(log) for _, log in workers]
        if newest_id(conn, args.region) != before:
            r.batch_id = newest_id(conn, args.region)
            read_batch(conn, r)
        runs.append(r)
        print("  " + table([r])[-1], flush=True)
        if r.status != "ok":
            print(f"      see {logs}", flush=True)
    broker.flushdb()

    with conn.cursor() as cur:
        cur.execute("SHOW server_version")
        pg_version = cur.fetchone()[0]
    conn.close()
    report = [
        f"# `bench/bench_workers.py --workers {' '.join(map(str, args.workers))} --region {args.region}`",
        "",
        f"{started:%Y-%m-%d %H:%M} UTC · database {db}: {households:,} households, {in_region:,} in region "
        f"{args.region or 'all'} · as of {args.as_of} · Redis broker {args.redis} · PostgreSQL {pg_version.split()[0]} "
        f"on the same machine · {os.cpu_count()} cores **shared with other engineers' work** · "
        f"Python {platform.python_version()} · {tree_state()}.",
        "",
        *table(runs),
        "",
        *gains(runs),
        "",
        f"Each timed batch followed {warm_up} of the same region and date (each compares with the one "
        "before it). wall = the `rescreen` command from start to exit (it polls every 2 s); batch s = the "
        "batch's started → finished; rules = batch start → first chunk claimed (staging, one task on one "
        "worker); chunks = first chunk claimed → last chunk done; finish = last chunk → batch done; tasks "
        "per worker and their seconds from the workers' logs; workers' CPU = the worker processes and their "
        "pool processes (PostgreSQL, on the same cores, is not in it).",
    ]
    write_results(args.results, f"workers-{households}.md", report)
    sys.exit(1 if any(r.status != "ok" for r in runs) else 0)


if __name__ == "__main__":
    main()

"""Pages and API lists under load: p50/p95/p99 and throughput at 50 concurrent clients.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dibao_bench .venv/bin/python bench/bench_pages.py
        [--requests 2000] [--concurrency 50 [--concurrency 5]] [--think-ms 0] [--workers 4] [--threads 4] [--port 8765]
        [--scenario NAME ...] [--profile]

Starts gunicorn against the database (DEBUG off, as deployed), makes or reuses two users —
a caseworker of the township with the most households and a reviewer of its county —
logs every client thread in separately (its own session, as 50 people would be), and fires a
bounded number of requests per scenario over loopback. Target (DESIGN.md): p95 ≤ 200 ms.

`--profile` instead runs each scenario once in-process, lists its SQL with timings and
EXPLAIN ANALYZEs the slow statements — the way to find out why a page misses the target.
Results are printed and written to bench/out/bench_pages_<time>.json (with the 1-minute load
average seen after each scenario: the machine is shared, so read figures with it).
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dibao_bench")

PASSWORD = "Bench-pages-2026!"
HOST = "127.0.0.1"


# -- fixtures: users and the values the scenarios ask for ---------------------------------------
def prepare(seed: int) -> dict:
    import django
    django.setup()
    from django.contrib.auth.models import Group
    from django.db import connection
    from dibao.models import Region, User

    with connection.cursor() as cursor:
        # the busiest township: the worst case a caseworker meets
        cursor.execute("""SELECT substr(region_code, 1, 9), count(*) FROM cases_household
                          GROUP BY 1 ORDER BY 2 DESC LIMIT 1""")
        township, in_township = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM cases_household WHERE region_code LIKE %s", [township[:6] + "%"])
        in_county = cursor.fetchone()[0]
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'cases_household'")
        total = cursor.fetchone()[0]
        cursor.execute("""SELECT h.id, h.head_id_number, m.id_number FROM cases_household h
                          JOIN cases_member m ON m.household_id = h.id
                          WHERE h.region_code LIKE %s ORDER BY md5(m.id_number) LIMIT 500""", [township + "%"])
        rows = cursor.fetchall()
    users = {}
    for username, role, region in (("bench_caseworker", "caseworker", township),
                                   ("bench_reviewer", "county_reviewer", township[:6])):
        user, _ = User.objects.get_or_create(username=username)
        user.region = Region.objects.get(code=region)
        user.full_name = username
        user.is_active = True
        user.set_password(PASSWORD)
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        users[role] = username
    rng = random.Random(seed)
    return {"township": township, "county": township[:6], "in_township": in_township, "in_county": in_county,
            "households_total": total, "users": users,
            "pks": [r[0] for r in rows], "ids": [rng.choice((r[1], r[2])) for r in rows]}


def scenarios(fx: dict) -> dict:
    """name → (user role, function(rng) -> path)."""
    t, pks, ids = fx["township"], fx["pks"], fx["ids"]
    return {
        "list_township": ("county_reviewer", lambda r: "/cases/households/?" + urlencode({"region": t})),
        "list_township_p5": ("county_reviewer",
                             lambda r: "/cases/households/?" + urlencode({"region": t, "page": r.randint(2, 5)})),
        "list_caseworker": ("caseworker", lambda r: "/cases/households/"),
        "search_id": ("caseworker", lambda r: "/cases/households/?" + urlencode({"q": r.choice(ids)})),
        "detail": ("caseworker", lambda r: f"/cases/households/{r.choice(pks)}/"),
        "api_list": ("county_reviewer", lambda r: "/api/v1/households/"),
        "api_list_township": ("county_reviewer", lambda r: "/api/v1/households/?" + urlencode({"region": t})),
    }


# -- a tiny HTTP client: keep-alive, cookies by hand (the deployed cookies are Secure) ----------
class Client:
    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        h = {"Host": HOST, "Connection": "keep-alive"}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        h.update(headers or {})
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=h)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
                if attempt == 2:
                    raise
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                k, _, v = value.split(";", 1)[0].partition("=")
                self.cookies[k.strip()] = v.strip()
        return resp.status, data

    def login(self, username: str) -> None:
        status, page = self.request("GET", "/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        body = urlencode({"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD})
        status, _ = self.request("POST", "/accounts/login/", body,
                                 {"Content-Type": "application/x-www-form-urlencoded",
                                  "Referer": f"http://{HOST}:{self.port}/accounts/login/"})
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login of {username} failed: HTTP {status}")


# -- the server -----------------------------------------------------------------------------------
def start_server(port: int, workers: int, threads: int) -> subprocess.Popen:
    env = dict(os.environ, DEBUG="false", SECRET_KEY="bench-pages-secret-" + "x" * 40,
               AUDIT_HMAC_KEY="bench-pages-audit-key",
               SECURE_SSL_REDIRECT="false", ALLOWED_HOSTS=HOST, STATIC_ROOT=str(OUT / "static"),
               AXES_FAILURE_LIMIT="1000", LOG_LEVEL="ERROR")
    # The manifest storage used with DEBUG off needs collected static files.
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                   check=True)
    proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi", "-w", str(workers),
                             "--threads", str(threads), "-b", f"{HOST}:{port}", "--log-level", "warning",
                             "--timeout", "120"],
                            cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection(HOST, port, timeout=5)
            c.request("GET", "/accounts/login/")
            if c.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("gunicorn did not come up within 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


# -- load -----------------------------------------------------------------------------------------
def logged_in(port: int, username: str, count: int, pool: dict) -> list[Client]:
    """`count` clients of `username`, each with its own session; logins (PBKDF2) stay outside the measurement."""
    clients = pool.setdefault(username, [])
    while len(clients) < count:
        c = Client(port)
        c.login(username)
        clients.append(c)
    return clients[:count]


def run_scenario(clients: list[Client], make_path, total: int, seed: int, think_ms: float) -> dict:
    concurrency = len(clients)
    lock = threading.Lock()
    remaining = [total]
    latencies: list[float] = []
    errors: dict[int, int] = {}
    warm = [concurrency]  # one unmeasured request per client

    def worker(i: int):
        rng = random.Random(seed * 1000 + i)
        c = clients[i]
        while True:
            with lock:
                measured = warm[0] <= 0
                if measured:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                else:
                    warm[0] -= 1
            path = make_path(rng)
            t = time.perf_counter()
            status, _ = c.request("GET", path)
            elapsed = time.perf_counter() - t
            if think_ms:
                time.sleep(rng.expovariate(1000 / think_ms))
            if measured:
                with lock:
                    latencies.append(elapsed)
                    if status != 200:
                        errors[status] = errors.get(status, 0) + 1

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    started = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - started
    lat = sorted(latencies)

    def pct(p):
        return lat[min(len(lat) - 1, int(round(p / 100 * len(lat) + 0.5)) - 1)] * 1000

    return {"requests": len(lat), "p50_ms": round(pct(50), 1), "p95_ms": round(pct(95), 1),
            "p99_ms": round(pct(99), 1), "mean_ms": round(statistics.mean(lat) * 1000, 1),
            "req_per_s": round(len(lat) / wall, 1), "errors": errors}


# -- profile: the SQL behind one request of each scenario ------------------------------------------
def profile(fx: dict, names: list[str], seed: int) -> None:
    from django.db import connection
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext
    from dibao.models import User

    rng = random.Random(seed)
    for name in names:
        role, make_path = scenarios(fx)[name]
        client = DjangoClient()
        client.force_login(User.objects.get(username=fx["users"][role]))
        path = make_path(rng)
        client.get(path)  # warm caches
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            resp = client.get(path)
            elapsed = (time.perf_counter() - t) * 1000
        print(f"\n== {name}: GET {path} → {resp.status_code}, {elapsed:.0f} ms, {len(ctx.captured_queries)} queries")
        for q in sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[:8]:
            print(f"  {float(q['time']) * 1000:7.1f} ms  {q['sql'][:220]}")
            if float(q["time"]) >= 0.02 and q["sql"].lstrip().upper().startswith("SELECT"):
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
                    print("      " + "\n      ".join(r[0] for r in cursor.fetchall()))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per scenario")
    parser.add_argument("--concurrency", type=int, default=[], action="append",
                        help="concurrent clients (repeatable: each level runs every scenario); default 50")
    parser.add_argument("--think-ms", type=float, default=0,
                        help="mean think time between a client's requests (exponential); 0 = back to back")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scenario", action="append", help="run only these (repeatable)")
    parser.add_argument("--profile", action="store_true", help="show the SQL of each scenario instead of load")
    args = parser.parse_args(argv)

    fx = prepare(args.seed)
    names = args.scenario or list(scenarios(fx))
    print(f"scale: {fx['households_total']:,} households; township {fx['township']} "
          f"({fx['in_township']:,} households), county {fx['county']} ({fx['in_county']:,})")
    if args.profile:
        profile(fx, names, args.seed)
        return
    levels = args.concurrency or [50]
    proc = start_server(args.port, args.workers, args.threads)
    # a plain `kill` (or timeout) must not leave gunicorn behind
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = []
    pool: dict = {}
    try:
        print(f"gunicorn -w {args.workers} --threads {args.threads}; {args.requests} requests per scenario; "
              f"think time {args.think_ms:g} ms; load average before: {os.getloadavg()[0]:.1f}", flush=True)
        print(f"{'scenario':<20}{'clients':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'req/s':>8}{'load':>6}  errors",
              flush=True)
        for level in levels:
            for name in names:
                role, make_path = scenarios(fx)[name]
                clients = logged_in(args.port, fx["users"][role], level, pool)
                r = run_scenario(clients, make_path, args.requests, args.seed, args.think_ms)
                r["loadavg_1m"] = round(os.getloadavg()[0], 1)
                flag = "" if r["p95_ms"] <= 200 else "  ← misses p95 ≤ 200 ms"
                print(f"{name:<20}{level:>8}{r['p50_ms']:>9}{r['p95_ms']:>9}{r['p99_ms']:>9}{r['req_per_s']:>8}"
                      f"{r['loadavg_1m']:>6}  {r['errors'] or ''}{flag}", flush=True)
                results.append(dict(scenario=name, clients=level, think_ms=args.think_ms, **r))
    finally:
        stop_server(proc)
    OUT.mkdir(parents=True, exist_ok=True)
    report = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "households": fx["households_total"], "township": fx["township"], "in_township": fx["in_township"],
              "county": fx["county"], "in_county": fx["in_county"],
              "workers": args.workers, "threads": args.threads, "cpus": os.cpu_count(), "results": results}
    (OUT / f"bench_pages_{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

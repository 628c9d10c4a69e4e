"""Pages and API lists under load: p50/p95/p99 and throughput at 50 concurrent clients.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dibao_bench .venv/bin/python bench/bench_pages.py
        [--requests 2000] [--concurrency 50 [--concurrency 5]] [--think-ms 0] [--workers 4] [--threads 4] [--port 8765]
        [--scenario NAME ...] [--profile]
    … bench/bench_pages.py --mix [--users 50] [--duration 300] [--think-ms 3000]

Starts gunicorn against the database (DEBUG off, as deployed), makes or reuses two users —
a caseworker of the township with the most households and a reviewer of its county —
logs every client thread in separately (its own session, as 50 people would be), and fires a
bounded number of requests per scenario over loopback. Target (DESIGN.md): p95 ≤ 200 ms.

`--mix` instead plays a province's users for a fixed time: `--users` people across the roles
(mostly township caseworkers of several townships, county reviewers of their counties, a few
city/province supervisors and county discipline inspectors), each a user of its own, logged in
once, looping over the pages its role uses (weighted at random, GETs only) with an exponential
think time between requests; it reports requests, p50, p95, max and errors per page type.

`--profile` instead runs each scenario once in-process, lists its SQL with timings and
EXPLAIN ANALYZEs the slow statements — the way to find out why a page misses the target.
Results are printed and written to bench/out/bench_pages_<time>.json (with the 1-minute load
average seen after each scenario: the machine is shared, so read figures with it); `--mix` prints
a markdown table and writes bench/out/bench_pages_mix_<time>.json.
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
from concurrent.futures import ThreadPoolExecutor
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
def townships_by_size(cursor) -> list[tuple[str, int]]:
    cursor.execute("""SELECT substr(region_code, 1, 9), count(*) FROM cases_household
                      GROUP BY 1 ORDER BY 2 DESC, 1""")
    return cursor.fetchall()


def households_total(cursor) -> int:
    cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'cases_household'")
    return cursor.fetchone()[0]


def sample_households(cursor, prefix: str, limit: int, rng: random.Random) -> tuple[list[int], list[str]]:
    """Household pks of a region and, for each, the ID number of its head or of a member (what is typed in search)."""
    cursor.execute("""SELECT h.id, h.head_id_number, m.id_number FROM cases_household h
                      JOIN cases_member m ON m.household_id = h.id
                      WHERE h.region_code LIKE %s ORDER BY md5(m.id_number) LIMIT %s""", [prefix + "%", limit])
    rows = cursor.fetchall()
    return [r[0] for r in rows], [rng.choice((r[1], r[2])) for r in rows]


def prepare(seed: int) -> dict:
    import django
    django.setup()
    from django.contrib.auth.models import Group
    from django.db import connection
    from dibao.models import Region, User

    rng = random.Random(seed)
    with connection.cursor() as cursor:
        # the busiest township: the worst case a caseworker meets
        township, in_township = townships_by_size(cursor)[0]
        cursor.execute("SELECT count(*) FROM cases_household WHERE region_code LIKE %s", [township[:6] + "%"])
        in_county = cursor.fetchone()[0]
        total = households_total(cursor)
        pks, ids = sample_households(cursor, township, 500, rng)
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
    return {"township": township, "county": township[:6], "in_township": in_township, "in_county": in_county,
            "households_total": total, "users": users, "pks": pks, "ids": ids}


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


# -- the mixed scenario: a province's users, each on the pages of its role --------------------------
# Most users work in townships; a county has a few reviewers; supervisors sit in the city and province
# bureaus, discipline inspectors in the county's discipline commission.
ROLE_SHARES = (("caseworker", 0.60), ("county_reviewer", 0.24), ("supervisor", 0.08), ("inspector", 0.08))
MIX_SAMPLE = 200  # rows per region the detail pages pick from


def role_counts(users: int) -> dict[str, int]:
    """Users per role, adding up to `users` (largest remainder), every role at least one."""
    exact = [(role, users * share) for role, share in ROLE_SHARES]
    counts = {role: max(1, int(x)) for role, x in exact}
    by_remainder = [role for role, x in sorted(exact, key=lambda rx: int(rx[1]) - rx[1])]
    for i in range(users - sum(counts.values())):
        counts[by_remainder[i % len(by_remainder)]] += 1
    return counts


def mix_regions(sizes: list[tuple[str, int]], counts: dict[str, int]) -> dict[str, list[str]]:
    """Each role's users' regions: two reviewers a county, from the county of the busiest township
    on by size; two caseworkers a township, the townships taken in turn from those counties, largest
    first; an inspector in each of those counties; supervisors alternately of a city and the province."""
    county_size: dict[str, int] = {}
    townships_of: dict[str, list[str]] = {}
    for code, n in sizes:
        county_size[code[:6]] = county_size.get(code[:6], 0) + n
        townships_of.setdefault(code[:6], []).append(code)
    first = sizes[0][0][:6]
    counties = sorted(county_size, key=lambda c: (c != first, -county_size[c], c))[:-(-counts["county_reviewer"] // 2)]
    townships = [townships_of[c][rank] for rank in range(max(len(townships_of[c]) for c in counties))
                 for c in counties if rank < len(townships_of[c])][:-(-counts["caseworker"] // 2)]
    return {
        "caseworker": [townships[i % len(townships)] for i in range(counts["caseworker"])],
        "county_reviewer": [counties[i % len(counties)] for i in range(counts["county_reviewer"])],
        "supervisor": [counties[i // 2 % len(counties)][:4 if i % 2 == 0 else 2] for i in range(counts["supervisor"])],
        "inspector": [counties[i % len(counties)] for i in range(counts["inspector"])],
    }


def prepare_mix(users: int, seed: int) -> dict:
    """Makes or updates the users `bench_mix_<role>_<n>` and, per user, the rows its pages pick from."""
    import django
    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import connection
    from audits.models import FindingState
    from audits.selectors import findings_for, latest_done_batch
    from campaigns.selectors import campaigns_for
    from cases.application_selectors import applications_for
    from complaints.models import Clue
    from dibao.models import Region, User
    from payments.selectors import rolls_for

    rng = random.Random(seed)
    counts = role_counts(users)
    with connection.cursor() as cursor:
        sizes = townships_by_size(cursor)
        total = households_total(cursor)
        regions = mix_regions(sizes, counts)
        samples = {code: sample_households(cursor, code, MIX_SAMPLE, rng)
                   for code in dict.fromkeys(regions["caseworker"] + regions["county_reviewer"])}
    size_of = dict(sizes)
    password = make_password(PASSWORD)  # one PBKDF2 for all of them, not one each
    groups = {g.name: g for g in Group.objects.filter(name__in=counts)}

    def rows(qs) -> list[int]:
        return list(qs.order_by().values_list("pk", flat=True)[:MIX_SAMPLE])

    def fixtures(user: User, role: str, code: str) -> dict:
        fx = {}
        if role in ("caseworker", "county_reviewer"):
            fx["pks"], fx["ids"] = samples[code]
        if role == "caseworker":
            fx["applications"] = rows(applications_for(user))
        if role == "county_reviewer":
            batch = latest_done_batch(user)
            fx["findings"] = rows(findings_for(user).filter(batch=batch, state=FindingState.PENDING)) if batch else []
            fx["townships"] = [t for t in size_of if t.startswith(code)]
        if role == "supervisor":
            fx["children"] = list(Region.objects.filter(parent_id=code).values_list("code", flat=True))
            fx["campaigns"] = rows(campaigns_for(user))
            fx["rolls"] = rows(rolls_for(user))
        if role == "inspector":
            fx["clues"] = rows(Clue.objects.for_user(user))
        return fx

    people, by_region = [], {}
    for role, codes in regions.items():
        for i, code in enumerate(codes, 1):
            user, _ = User.objects.get_or_create(username=f"bench_mix_{role}_{i:02d}")
            user.region = Region.objects.get(code=code)
            user.full_name = user.username
            user.is_active = True
            user.password = password
            user.save()
            user.groups.set([groups[role]])
            if (role, code) not in by_region:
                by_region[role, code] = fixtures(user, role, code)
            pages = mix_pages(role, by_region[role, code])
            people.append({"username": user.username, "role": role, "region": code,
                           "pages": [page for page in pages if page[2]],
                           "skipped": [name for name, _w, make_path in pages if not make_path]})
    return {"households_total": total, "counts": counts, "regions": regions,
            "households_in": {code: size_of.get(code) or sum(n for t, n in sizes if t.startswith(code))
                              for codes in regions.values() for code in codes},
            "users": people}


def _pick(template: str, values: list):
    return (lambda r: template.format(r.choice(values))) if values else None


def mix_pages(role: str, fx: dict) -> list[tuple[str, int, object]]:
    """(page type, weight, function(rng) -> path) of the pages a user of `role` opens, from what its
    home page links to; the function is None for a detail page whose rows the database lacks (no
    campaign, no clue yet), which the user then skips."""
    get = fx.get
    return {
        "caseworker": [
            ("home", 10, lambda r: "/"),
            ("households", 15, lambda r: "/cases/households/"),
            ("households_p2_5", 10, lambda r: f"/cases/households/?page={r.randint(2, 5)}"),
            ("household_detail", 20, _pick("/cases/households/{}/", get("pks"))),
            ("search_id", 10, _pick("/cases/households/?q={}", get("ids"))),
            ("reviews_due", 5, lambda r: "/cases/households/?review=due"),
            ("tasks", 8, lambda r: "/audits/tasks/"),
            ("applications", 8, lambda r: "/cases/applications/"),
            ("application_detail", 5, _pick("/cases/applications/{}/", get("applications"))),
            ("api_households", 4, lambda r: "/api/v1/households/"),
        ],
        "county_reviewer": [
            ("home", 10, lambda r: "/"),
            ("findings_queue", 15, lambda r: "/audits/findings/"),
            ("finding_detail", 15, _pick("/audits/findings/{}/", get("findings"))),
            ("household_detail", 12, _pick("/cases/households/{}/", get("pks"))),
            ("households_township", 8, _pick("/cases/households/?region={}", get("townships"))),
            ("applications_awaiting", 8, lambda r: "/cases/applications/?step=awaiting"),
            ("changes_proposed", 4, lambda r: "/cases/changes/?state=proposed"),
            ("tasks", 5, lambda r: "/audits/tasks/"),
            ("rolls", 4, lambda r: "/payments/"),
            ("api_findings", 4, lambda r: "/api/v1/findings/"),
        ],
        "supervisor": [
            ("home", 10, lambda r: "/"),
            ("dashboard", 15, lambda r: "/reports/"),
            ("dashboard_child", 10, _pick("/reports/region/{}/", get("children"))),
            ("tasks_progress", 8, lambda r: "/audits/tasks/"),
            ("findings_queue", 6, lambda r: "/audits/findings/"),
            ("campaigns", 6, lambda r: "/campaigns/"),
            ("campaign_progress", 10, _pick("/campaigns/{}/progress/", get("campaigns"))),
            ("rolls", 4, lambda r: "/payments/"),
            ("roll_detail", 4, _pick("/payments/rolls/{}/", get("rolls"))),
            ("api_rollups", 4, lambda r: "/api/v1/rollups/"),
        ],
        "inspector": [
            ("home", 10, lambda r: "/"),
            ("clues", 15, lambda r: "/complaints/clues/"),
            ("clues_referred", 8, lambda r: "/complaints/clues/?state=referred"),
            ("clue_detail", 15, _pick("/complaints/clues/{}/", get("clues"))),
            ("typical_cases", 5, lambda r: "/complaints/typical/"),
            ("api_clues", 4, lambda r: "/api/v1/clues/"),
        ],
    }[role]


# -- a tiny HTTP client: keep-alive, cookies by hand (the deployed cookies are Secure) ----------
class Client:
    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.location: str | None = None

    def reconnect(self) -> None:
        self.conn.close()
        self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)

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
                self.reconnect()
                if attempt == 2:
                    raise
        self.location = resp.getheader("Location")
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
    return {"requests": len(lat), "p50_ms": percentile(lat, 50), "p95_ms": percentile(lat, 95),
            "p99_ms": percentile(lat, 99), "mean_ms": round(statistics.mean(lat) * 1000, 1),
            "req_per_s": round(len(lat) / wall, 1), "errors": errors}


def percentile(lat: list[float], p: float) -> float:
    """Nearest rank of sorted seconds, in ms."""
    return round(lat[min(len(lat) - 1, int(round(p / 100 * len(lat) + 0.5)) - 1)] * 1000, 1)


def run_mix(people: list[dict], clients: list[Client], duration: float, think_ms: float, seed: int) -> dict:
    """Every user opens its pages until `duration` is over (a request under way then is waited for and
    counted). Latencies and errors per (role, page type); an error is a status outside 2xx/3xx, a
    redirect to the login page, or an exception (its class name)."""
    lock = threading.Lock()
    stats = {(u["role"], name): {"lat": [], "errors": {}} for u in people for name, _w, _f in u["pages"]}
    deadline = time.monotonic() + duration

    def pause(seconds: float) -> None:
        time.sleep(max(0.0, min(seconds, deadline - time.monotonic())))

    def user(i: int):
        u, c = people[i], clients[i]
        rng = random.Random(seed * 1000 + i)
        names, weights, paths = zip(*u["pages"])
        pause(rng.uniform(0, think_ms / 1000))  # arrivals spread over one think time, not all at once
        while time.monotonic() < deadline:
            k = rng.choices(range(len(names)), weights)[0]
            path = paths[k](rng)
            t = time.perf_counter()
            try:
                status, _ = c.request("GET", path)
                error = None if 200 <= status < 400 else str(status)
                if error is None and "/accounts/login/" in (c.location or ""):
                    error = f"{status} to login"
            except Exception as exc:  # a timeout or a dropped connection counts against the page; the user goes on
                error = type(exc).__name__
                c.reconnect()
            elapsed = time.perf_counter() - t
            with lock:
                st = stats[u["role"], names[k]]
                st["lat"].append(elapsed)
                if error:
                    st["errors"][error] = st["errors"].get(error, 0) + 1
            if think_ms:
                pause(rng.expovariate(1000 / think_ms))

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(len(people))]
    started = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return {"wall_s": time.perf_counter() - started, "stats": stats}


def mix_summary(lat: list[float], errors: dict[str, int], wall: float) -> dict:
    lat = sorted(lat)
    if not lat:
        return {"requests": 0, "p50_ms": None, "p95_ms": None, "max_ms": None, "req_per_s": 0.0,
                "errors": 0, "errors_by_kind": {}}
    return {"requests": len(lat), "p50_ms": percentile(lat, 50), "p95_ms": percentile(lat, 95),
            "max_ms": round(lat[-1] * 1000, 1), "req_per_s": round(len(lat) / wall, 2),
            "errors": sum(errors.values()), "errors_by_kind": errors}


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
    parser.add_argument("--think-ms", type=float, default=None,
                        help="mean think time between a client's requests (exponential); 0 = back to back; "
                             "default 0, with --mix 3000")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scenario", action="append", help="run only these (repeatable)")
    parser.add_argument("--profile", action="store_true", help="show the SQL of each scenario instead of load")
    parser.add_argument("--mix", action="store_true",
                        help="instead of the scenarios: --users users across the roles for --duration seconds")
    parser.add_argument("--users", type=int, default=50, help="--mix: simulated users (at least 8)")
    parser.add_argument("--duration", type=float, default=300, help="--mix: seconds of load")
    args = parser.parse_args(argv)
    if args.mix:
        if args.profile or args.scenario or args.concurrency:
            parser.error("--mix takes no --profile, --scenario or --concurrency")
        if args.users < 8:
            parser.error("--mix needs --users of at least 8 (a few of each role)")
        mix_main(args, 3000 if args.think_ms is None else args.think_ms)
        return
    args.think_ms = args.think_ms or 0

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


def mix_main(args, think_ms: float) -> None:
    fx = prepare_mix(args.users, args.seed)
    people = fx["users"]
    first_of = {role: next(u for u in people if u["role"] == role) for role in fx["counts"]}
    print(f"scale: {fx['households_total']:,} households; {args.users} users:")
    for role, n in fx["counts"].items():
        print(f"  {n} {role} of " + ", ".join(f"{code} ({fx['households_in'][code]:,} households)"
                                              for code in dict.fromkeys(fx["regions"][role])))
    for role in fx["counts"]:
        skipped = first_of[role]["skipped"]
        if skipped:
            print(f"  {role}: no rows for {', '.join(skipped)} in this database; those pages are left out")
    proc = start_server(args.port, args.workers, args.threads)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        def login(u: dict) -> Client:
            c = Client(args.port)
            c.login(u["username"])
            c.request("GET", "/")  # the page after login, unmeasured: the worker's first render of it
            return c

        with ThreadPoolExecutor(8) as pool:  # logins (PBKDF2) stay outside the measurement
            clients = list(pool.map(login, people))
        load_before = os.getloadavg()[0]
        print(f"gunicorn -w {args.workers} --threads {args.threads}; {len(people)} users logged in; "
              f"{args.duration:g} s, think time {think_ms:g} ms; load average before: {load_before:.1f}", flush=True)
        run = run_mix(people, clients, args.duration, think_ms, args.seed)
        load_after = os.getloadavg()[0]
    finally:
        stop_server(proc)

    wall, stats = run["wall_s"], run["stats"]

    def summary(role: str, page: str, parts: list[dict]) -> dict:
        errors: dict[str, int] = {}
        for st in parts:
            for kind, n in st["errors"].items():
                errors[kind] = errors.get(kind, 0) + n
        return {"role": role, "page": page, **mix_summary([x for st in parts for x in st["lat"]], errors, wall)}

    rows = []
    for role in fx["counts"]:
        keys = [k for k in stats if k[0] == role]
        rows += [summary(role, page, [stats[role, page]]) for _r, page in keys]
        rows.append(summary(role, "all", [stats[k] for k in keys]))
    total = summary("all", "all", list(stats.values()))

    def cell(v):
        return "–" if v is None else f"{v:,}"

    print(f"\n{fx['households_total']:,} households, {len(people)} users, {wall:.0f} s, think {think_ms:g} ms, "
          f"gunicorn {args.workers}×{args.threads}, load {load_before:.1f} → {load_after:.1f}\n")
    print("| role | page | requests | p50 ms | p95 ms | max ms | errors |")
    print("|---|---|---:|---:|---:|---:|---|")
    for r in rows + [total]:
        errs = str(r["errors"]) + (" (" + ", ".join(f"{k}×{n}" for k, n in sorted(r["errors_by_kind"].items())) + ")"
                                   if r["errors"] else "")
        bold = "**" if r["page"] == "all" else ""
        print(f"| {bold}{r['role']}{bold} | {bold}{r['page']}{bold} | {r['requests']:,} | {cell(r['p50_ms'])} | "
              f"{cell(r['p95_ms'])} | {cell(r['max_ms'])} | {errs} |")
    print(f"\n{total['req_per_s']} req/s in all")
    slow = [f"{r['role']}/{r['page']}" for r in rows if r["page"] != "all" and (r["p95_ms"] or 0) > 200]
    if slow:
        print("p95 > 200 ms: " + ", ".join(slow))
    OUT.mkdir(parents=True, exist_ok=True)
    report = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "scenario": "mix",
              "households": fx["households_total"], "users": fx["counts"], "regions": fx["regions"],
              "households_in": fx["households_in"], "duration_s": args.duration, "wall_s": round(wall, 1),
              "think_ms": think_ms, "workers": args.workers, "threads": args.threads, "cpus": os.cpu_count(),
              "loadavg_1m": [round(load_before, 1), round(load_after, 1)],
              "pages": {role: [(name, weight) for name, weight, _f in u["pages"]] for role, u in first_of.items()},
              "results": rows, "total": total}
    (OUT / f"bench_pages_mix_{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

"""A province screening campaign at scale (not a test).

    .venv/bin/python bench/bench_campaign.py [--db dibao_campaign_bench] [--households 1000000]
        [--county-households 100000] [--screened 0.6]

Targets (issue 12): creating a province campaign (its list fixed) ≤ 30 s; the daily bulletin of
every county, city and province ≤ 30 s; the screening workbook of a 100,000-household county
≤ 15 s with flat memory.

The registry is filled straight in PostgreSQL (INSERT … SELECT generate_series over Jilin's
villages, `manage.py load_regions --province 22` first): `--county-households` of them in one
county, the rest spread over the province; 80% 在保, 12% exited in the campaign's period, 5%
未通过, 3% 审核中. After the campaign is created, `--screened` of its list gets a screening
record (one INSERT … SELECT; a tenth of those 存在问题) and every township whose list is complete
signs off, so the bulletin has something to count. The database is our own (`--db`), created and
migrated on the first run; later runs reuse its registry. Results: bench/out/bench_campaign.json.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Settings refuse to start without keys when DEBUG is off; a bench database needs no real ones.
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ.setdefault("AUDIT_HMAC_KEY", "bench-only")
PG = ["-h", "127.0.0.1", "-U", "postgres"]
DAY = dt.date(2026, 11, 25)  # a Wednesday: a working day


def psql(db: str, sql: str) -> str:
    return subprocess.run(["psql", *PG, "-tAq", db, "-c", sql], check=True, capture_output=True,
                          text=True).stdout.strip()


def manage(*args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, env=os.environ)


def prepare(db: str, households: int, county_households: int) -> None:
    if not psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{db}'"):
        psql("postgres", f'CREATE DATABASE "{db}"')
    if not psql(db, "SELECT to_regclass('campaigns_bulletin')"):
        manage("migrate", "--skip-checks", "-v", "0")
    if int(psql(db, "SELECT count(*) FROM dibao_region WHERE code LIKE '22%'") or 0) == 0:
        manage("load_regions", "--province", "22")
    if int(psql(db, "SELECT count(*) FROM cases_household") or 0) >= households:
        return
    print(f"filling {households:,} households …", flush=True)
    started = time.monotonic()
    county = psql(db, "SELECT substr(code, 1, 6) FROM dibao_region WHERE level = 5 AND code LIKE '22%' "
                      "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
    psql(db, "TRUNCATE cases_household CASCADE")
    psql(db, f"""
        WITH big AS (SELECT array_agg(code ORDER BY code) v FROM dibao_region WHERE level = 5 AND code LIKE '{county}%'),
             rest AS (SELECT array_agg(code ORDER BY code) v FROM dibao_region WHERE level = 5 AND code LIKE '22%'
                      AND code NOT LIKE '{county}%')
        INSERT INTO cases_household (household_no, region_code, head_name, head_id_number, category, status,
            applied_on, decided_on, exited_on, exit_reason, rejection_reason, monthly_amount, poverty_cause,
            management_class, registered_poor, phone, payment_stopped, single_coverage_id_number,
            payee_id_number, account_no, bank_name, legacy_migration, created_at, updated_at, version)
        SELECT 'B' || lpad(i::text, 9, '0'),
               CASE WHEN i <= {county_households} THEN big.v[1 + i % array_length(big.v, 1)]
                    ELSE rest.v[1 + i % array_length(rest.v, 1)] END,
               '户主' || i, '220102' || lpad((19500101 + i % 500)::text, 8, '0') || lpad((i % 10000)::text, 4, '0'),
               'rural',
               CASE WHEN i % 100 < 80 THEN 'active' WHEN i % 100 < 92 THEN 'exited' WHEN i % 100 < 97 THEN 'rejected'
                    ELSE 'pending' END,
               DATE '2024-01-01' + (i % 600),
               CASE WHEN i % 100 < 97 THEN DATE '2024-03-01' + (i % 600) END,
               CASE WHEN i % 100 BETWEEN 80 AND 91 THEN DATE '2026-01-01' + (i % 300) END,
               CASE WHEN i % 100 BETWEEN 80 AND 91 THEN '收入超标' ELSE '' END,
               CASE WHEN i % 100 BETWEEN 92 AND 96 THEN '收入超标' ELSE '' END,
               CASE WHEN i % 100 < 97 THEN 300 + i % 700 END, '因病', 'B', false, '', false, '', '', '', '', false,
               now(), now(), 1
        FROM generate_series(1, {households}) i, big, rest""")
    psql(db, "ANALYZE")
    print(f"  filled in {time.monotonic() - started:.0f}s (county {county}: {county_households:,})", flush=True)


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def timed(label: str, func):
    started = time.monotonic()
    value = func()
    seconds = round(time.monotonic() - started, 2)
    print(f"{label}: {seconds:.2f}s", flush=True)
    return value, seconds


def screen(campaign, share: float) -> None:
    """Records for `share` of the list (a tenth of them 存在问题) and sign-off of complete townships,
    straight in SQL: the benchmark measures the bulletin, not the worklist."""
    from django.db import connection

    modulo = max(1, round(share * 100))
    with connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO campaigns_screeningrecord (campaign_household_id, screened_on, screeners, result,
                problem_types, handling, note, recorded_at, version)
            SELECT id, %s, '张三、李四', CASE WHEN id %% 10 = 0 THEN 'problem' ELSE 'no_problem' END,
                   CASE WHEN id %% 10 = 0 THEN '["收入超标"]'::jsonb ELSE '[]'::jsonb END,
                   CASE WHEN id %% 10 = 0 THEN '退出' ELSE '继续享受' END, '', now(), 1
            FROM campaigns_campaignhousehold
            WHERE campaign_id = %s AND (hashtext(township_code) & 1023) %% 100 < %s
            ON CONFLICT DO NOTHING""", [DAY, campaign.pk, modulo])
        cursor.execute("""
            INSERT INTO campaigns_townshipsignoff (campaign_id, township_code, state, submitted_at, return_reason,
                version)
            SELECT %s, township_code, 'submitted', now(), '', 1 FROM campaigns_campaignhousehold ch
            LEFT JOIN campaigns_screeningrecord r ON r.campaign_household_id = ch.id
            WHERE ch.campaign_id = %s GROUP BY township_code HAVING count(*) = count(r.id)
            ON CONFLICT DO NOTHING""", [campaign.pk, campaign.pk])


def bench_workbook(campaign) -> dict:
    from django.db.models import Count

    from campaigns.models import CampaignHousehold
    from dibao.models import Region
    from reports import exports

    counts: dict[str, int] = {}
    for township, n in (CampaignHousehold.objects.filter(campaign=campaign).values("township_code").order_by()
                        .annotate(n=Count("id")).values_list("township_code", "n")):
        counts[township[:6]] = counts.get(township[:6], 0) + n
    code, listed = max(counts.items(), key=lambda item: item[1])
    region = Region.objects.get(code=code)
    peak, before = [rss_mb()], rss_mb()

    def progress(done, total):
        peak[0] = max(peak[0], rss_mb())

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "screening.xlsx"
        written, seconds = timed(f"screening workbook of {region.name} {code} ({listed:,} listed)",
                                 lambda: exports.write_screening(
                                     region=region, start=campaign.exited_from, end=campaign.exited_to,
                                     target=str(target), full_ids=False, progress=progress))
        size = target.stat().st_size
    return {"county": f"{region.name} {code}", "listed": listed, "rows": written, "seconds": seconds,
            "file_mb": round(size / 2**20, 1), "rss_before_mb": round(before, 1),
            "rss_peak_during_mb": round(max(peak[0], rss_mb()), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="dibao_campaign_bench")
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--county-households", type=int, default=100_000)
    parser.add_argument("--screened", type=float, default=0.6)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.db}"
    prepare(args.db, args.households, args.county_households)

    import django
    django.setup()
    from campaigns import dispatch, services
    from campaigns.models import Bulletin, Campaign, CampaignHousehold

    results = {"database": args.db, "households": int(psql(args.db, "SELECT count(*) FROM cases_household")),
               "cpus": os.cpu_count(), "load_average_at_start": [round(x, 1) for x in os.getloadavg()],
               "ran_at": dt.datetime.now().isoformat(timespec="seconds")}
    campaign, results["create_seconds"] = timed("campaign of province 22 created (list fixed)", lambda: (
        services.campaign_create(actor="bench", name="全省农村低保专项排查（基准）", region_code="22",
                                 active_end=dt.date(2026, 10, 31), exited_from=dt.date(2026, 1, 1),
                                 exited_to=dt.date(2026, 10, 31), rejected_from=dt.date(2024, 1, 1),
                                 rejected_to=dt.date(2026, 10, 31), screening_deadline=dt.date(2026, 12, 31),
                                 reporting_deadline=dt.date(2027, 1, 15))))
    results["listed"] = CampaignHousehold.objects.filter(campaign=campaign).count()
    print(f"  {results['listed']:,} households on the list", flush=True)
    Campaign.objects.filter(pk=campaign.pk).update(created_at=dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC))
    campaign.refresh_from_db()
    _none, results["screen_fill_seconds"] = timed("screening records filled (SQL, not measured against a target)",
                                                  lambda: screen(campaign, args.screened))
    made, results["bulletin_seconds"] = timed("daily bulletin of every county, city and province",
                                              lambda: dispatch.bulletins_make(campaign=campaign, day=DAY))
    province = Bulletin.objects.get(campaign=campaign, region_code="22", day=DAY).snapshot["region"]["figures"]
    results["bulletins"] = made
    results["province"] = {k: province[k] for k in ("townships_total", "townships_screened", "households_total",
                                                    "households_screened", "problems")}
    print(f"  {made} bulletins; province: {results['province']}", flush=True)
    results["workbook"] = bench_workbook(campaign)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_campaign.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"written to {OUT / 'bench_campaign.json'}")


if __name__ == "__main__":
    main()

"""The amount at province scale (not a test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dibao_bench .venv/bin/python bench/bench_amount.py \
        [--region 22] [--as-of 2026-11-20] [--samples 1000] [--check 300]

Needs a database loaded by bench/generate.py (`--files --load`). Adds benefit standards (a province
row per category and county rows for a third of the counties, some dated later, one in the future)
and the imported households' amount history if it is missing, then measures:
1. what the intake form does for one household: the entry check (逢进必核) of its members plus
   the standard lookup and the amount with its working — p50 / p95 / max over random households;
2. AMOUNT_MISMATCH over the region, the statement the rescreening engine stages (the rule's SQL
   into a table), with its row count;
3. an independent check: for random households flagged and not flagged, the Python formula
   (cases.benefits.household_amount, amount_in_force) must agree with the SQL's verdict.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dibao_bench")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from audits import rules  # noqa: E402
from audits.selectors import entry_check  # noqa: E402
from cases import benefits  # noqa: E402
from cases.models import AmountHistory, BenefitStandard, Household  # noqa: E402


def ensure_standards(region: str, as_of: dt.date, seed: int) -> int:
    rng = random.Random(seed)
    rows = [(region, "rural", Decimal("490"), dt.date(2023, 1, 1)), (region, "urban", Decimal("535"),
                                                                     dt.date(2023, 1, 1))]
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT substr(region_code, 1, 6) FROM cases_household WHERE region_code LIKE %s",
                       [region + "%"])
        counties = sorted(r[0] for r in cursor.fetchall())
    for county in counties[::3]:
        rows.append((county, "rural", Decimal(rng.randrange(480, 620)), dt.date(2024, rng.randrange(1, 13), 1)))
    rows.append((counties[0], "rural", Decimal("999"), as_of + dt.timedelta(days=40)))  # not yet in force
    for code, category, amount, effective in rows:
        BenefitStandard.objects.get_or_create(region_id=code, category=category, effective_from=effective,
                                              defaults={"monthly_standard": amount})
    return BenefitStandard.objects.count()


def ensure_history() -> tuple[int, float]:
    if AmountHistory.objects.exists():
        return AmountHistory.objects.count(), 0.0
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        benefits.record_imported_amounts(cursor, households_where="1 = 1", params=[], now=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_amounthistory")
    return AmountHistory.objects.count(), time.perf_counter() - start


def bench_intake(samples: int, month: dt.date, seed: int) -> tuple[float, float, float]:
    rng = random.Random(seed)
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id), MAX(id) FROM cases_household")
        low, high = cursor.fetchone()
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        household = Household.objects.filter(id__gte=rng.randint(low, high)).order_by("id").first()
        members = list(household.members.all())
        entry_check(id_numbers=[m.id_number for m in members], household_id=household.pk)
        working = benefits.household_amount(household, month)
        if working is not None:
            str(working)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], times[-1]


def bench_rule(region: str, as_of: dt.date) -> tuple[float, int, float]:
    ctx = rules.Context(as_of=as_of, params=rules.current_params(), versions=rules.current_versions(),
                        region_mode="like", region_value=region)
    sql, params = rules.RULES["AMOUNT_MISMATCH"].build(ctx)
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
        cursor.execute("SET work_mem = '256MB'")
        cursor.execute("DROP TABLE IF EXISTS bench_amount_findings")
        start = time.perf_counter()
        cursor.execute(f"CREATE TEMPORARY TABLE bench_amount_findings AS {sql}", params)
        elapsed = time.perf_counter() - start
        cursor.execute("SELECT COUNT(*) FROM bench_amount_findings")
        count = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM cases_household WHERE status = 'active' AND region_code LIKE %s",
                       [region + "%"])
        active = cursor.fetchone()[0]
    return elapsed, count, active


def independent_check(n: int, as_of: dt.date, seed: int) -> tuple[int, int]:
    """The SQL's verdict against the Python formula for random flagged and unflagged households."""
    rng = random.Random(seed)
    tolerance = Decimal(str(rules.current_params()["AMOUNT_TOLERANCE"]))
    with connection.cursor() as cursor:
        cursor.execute("SELECT household_id FROM bench_amount_findings")
        flagged = {r[0] for r in cursor.fetchall()}
        cursor.execute("SELECT id FROM cases_household WHERE status = 'active' ORDER BY random() LIMIT %s", [n])
        sample = [r[0] for r in cursor.fetchall()]
    sample += rng.sample(sorted(flagged), min(n, len(flagged)))
    wrong = 0
    for household in Household.objects.filter(pk__in=sample).prefetch_related("members"):
        working = benefits.household_amount(household, as_of)
        in_force = benefits.amount_in_force(household.pk, as_of)
        if in_force is None:
            in_force = household.monthly_amount
        expected = bool(working and in_force and in_force > 0 and abs(in_force - working.amount) > tolerance)
        if expected != (household.pk in flagged):
            wrong += 1
            print(f"  disagreement: household {household.household_no}: python {working}, in force {in_force}, "
                  f"flagged {household.pk in flagged}")
    return len(set(sample)), wrong


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--region", default="22")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 11, 20))
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--check", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20261120)
    args = parser.parse_args(argv)
    if connection.vendor != "postgresql":
        sys.exit("needs PostgreSQL (set DATABASE_URL)")
    households = Household.objects.count()
    print(f"scale: {households:,} households, load average {os.getloadavg()[0]:.1f}")
    print(f"standards: {ensure_standards(args.region, args.as_of, args.seed)} rows")
    rows, seconds = ensure_history()
    print(f"amount history: {rows:,} rows" + (f" (written from the imported amounts in {seconds:.1f} s)"
                                               if seconds else ""))
    p50, p95, worst = bench_intake(args.samples, args.as_of, args.seed)
    print(f"intake (entry check + amount) over {args.samples} random households: "
          f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {worst:.1f} ms (target p95 ≤ 100 ms)")
    runs = [bench_rule(args.region, args.as_of) for _ in range(2)]
    elapsed, count, active = min(runs)
    print(f"AMOUNT_MISMATCH over {args.region}: {elapsed:.2f} s (best of 2: "
          f"{', '.join(f'{r[0]:.2f}' for r in runs)} s), {count:,} findings of {active:,} active households "
          f"(target ≤ 20 s at 1M households)")
    checked, wrong = independent_check(args.check, args.as_of, args.seed)
    print(f"independent check: {checked} households, {wrong} disagreements between SQL and Python")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

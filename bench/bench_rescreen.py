"""Rescreening at province scale (not a test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dibao_bench .venv/bin/python bench/bench_rescreen.py \
        [--region 22] [--as-of 2026-11-20] [--entry-samples 1000] [--skip-batch]

Needs the audits migrations applied to that database (`manage.py migrate audits`). Measures:
1. one whole batch through the engine (the code the command and the workers run): the time of
   each rule's staging statement, of the county chunks, and of the finishing step;
2. for each rule, one hand-written SQL statement over the whole region producing the same rows
   (INSERT … SELECT into a temporary table), to compare the engine against; row counts must match;
3. each rule's plan over the region (EXPLAIN), summarised as node types and indexes / seq scans;
4. the entry check (逢进必核) for the members of random households: p50 / p95.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dibao_bench")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from audits import engine, rules, services  # noqa: E402
from audits.selectors import entry_check  # noqa: E402

HAND = {}


def hand(code):
    def register(fn):
        HAND[code] = fn
        return fn
    return register


# Hand-written single statements, region-wide, written the way a DBA would for one rule alone.
# Each yields (household_id, id_number) rows; the engine's count for the rule must be the same.

@hand("DECEASED")
def _(v, p, region, as_of):
    return ("SELECT h.id, m.id_number FROM cases_member m JOIN cases_household h ON h.id = m.household_id "
            "JOIN audits_deathrecord d ON d.id_number = m.id_number AND d.version_id = %s "
            "WHERE h.status = 'active' AND h.region_code LIKE %s AND d.death_date <= %s GROUP BY h.id, m.id_number",
            [v["deaths"], region + "%", (as_of - dt.timedelta(days=p["DECEASED_GRACE_DAYS"])).isoformat()])


@hand("PUBLIC_PAYROLL")
def _(v, p, region, as_of):
    return ("SELECT h.id, m.id_number FROM cases_member m JOIN cases_household h ON h.id = m.household_id "
            "WHERE h.status = 'active' AND h.region_code LIKE %s AND (m.id_number IN "
            "(SELECT id_number FROM audits_payrollrecord WHERE version_id = %s) OR m.id_number IN "
            "(SELECT id_number FROM cases_staff WHERE staff_type IN ('public_payroll', 'civil_affairs')))",
            [region + "%", v["payroll"]])


@hand("STAFF_SELF")
def _(v, p, region, as_of):
    return ("SELECT h.id, m.id_number FROM cases_member m JOIN cases_household h ON h.id = m.household_id "
            "JOIN cases_staff s ON s.id_number = m.id_number WHERE h.status = 'active' AND h.region_code LIKE %s "
            "AND s.staff_type IN ('village_cadre', 'caseworker')", [region + "%"])


@hand("RELATIVE_FILED")
def _(v, p, region, as_of):
    return ("SELECT DISTINCT h.id, m.id_number FROM cases_member m JOIN cases_household h ON h.id = m.household_id "
            "JOIN cases_relativefiling f ON f.relative_id_number = m.id_number "
            "WHERE h.status = 'active' AND h.region_code LIKE %s", [region + "%"])


@hand("RELATIVE_UNFILED")
def _(v, p, region, as_of):
    return ("SELECT DISTINCT h.id, m.id_number FROM cases_member m JOIN cases_household h ON h.id = m.household_id "
            "JOIN (SELECT id_number_b AS member_id, id_number_a AS staff_id, relation FROM audits_kinshiprecord "
            "WHERE version_id = %s UNION ALL SELECT id_number_a, id_number_b, relation FROM audits_kinshiprecord "
            "WHERE version_id = %s) k ON k.member_id = m.id_number JOIN cases_staff s ON s.id_number = k.staff_id "
            "WHERE h.status = 'active' AND h.region_code LIKE %s AND k.relation IN "
            "('配偶','父母','子女','兄弟姐妹','祖父母','外祖父母','孙子女','外孙子女') AND NOT EXISTS "
            "(SELECT 1 FROM cases_relativefiling f WHERE f.staff_id = s.id AND f.relative_id_number = m.id_number)",
            [v["kinship"], v["kinship"], region + "%"])


@hand("DUPLICATE")
def _(v, p, region, as_of):
    return ("WITH d AS (SELECT m.id_number FROM cases_member m JOIN cases_household h ON h.id = m.household_id "
            "WHERE h.status = 'active' GROUP BY m.id_number HAVING COUNT(DISTINCT h.id) > 1) "
            "SELECT h.id, m.id_number FROM cases_member m JOIN cases_household h ON h.id = m.household_id "
            "JOIN d ON d.id_number = m.id_number WHERE h.status = 'active' AND h.region_code LIKE %s", [region + "%"])


@hand("ASSET_VEHICLE")
def _(v, p, region, as_of):
    return ("SELECT DISTINCT h.id, m.id_number FROM cases_member m JOIN cases_household h ON h.id = m.household_id "
            "JOIN audits_vehiclerecord x ON x.id_number = m.id_number AND x.version_id = %s "
            "WHERE h.status = 'active' AND h.region_code LIKE %s AND x.vehicle_type <> ALL(%s)",
            [v["vehicles"], region + "%", p["VEHICLE_EXEMPT_TYPES"]])


@hand("ASSET_BUSINESS")
def _(v, p, region, as_of):
    return ("SELECT DISTINCT h.id, m.id_number FROM cases_member m JOIN cases_household h ON h.id = m.household_id "
            "JOIN audits_businessrecord x ON x.id_number = m.id_number AND x.version_id = %s "
            "WHERE h.status = 'active' AND h.region_code LIKE %s AND x.status IN ('存续', '在业')",
            [v["business"], region + "%"])


@hand("ASSET_PROPERTY")
def _(v, p, region, as_of):
    return ("SELECT h.id, h.head_id_number FROM cases_member m JOIN cases_household h ON h.id = m.household_id "
            "JOIN audits_propertyrecord x ON x.id_number = m.id_number AND x.version_id = %s "
            "WHERE h.status = 'active' AND h.region_code LIKE %s AND x.usage = '住宅' "
            "GROUP BY h.id, h.head_id_number HAVING COUNT(DISTINCT x.unit_no) > %s",
            [v["property"], region + "%", p["PROPERTY_MAX_HOMES"]])


@hand("REVIEW_OVERDUE")
def _(v, p, region, as_of):
    c = {k: rules.months_before(as_of, n).isoformat() for k, n in p["REVIEW_INTERVAL_MONTHS"].items()}
    return ("SELECT h.id, h.head_id_number FROM cases_household h WHERE h.status = 'active' AND h.region_code LIKE %s "
            "AND COALESCE(h.last_reviewed_on, h.decided_on) < CASE h.management_class WHEN 'A' THEN %s::date "
            "WHEN 'B' THEN %s::date WHEN 'C' THEN %s::date END", [region + "%", c["A"], c["B"], c["C"]])


def _missed(cand_sql, params, region):
    return ("WITH c AS (" + cand_sql + "), active_ids AS (SELECT DISTINCT m.id_number FROM cases_member m "
            "JOIN cases_household h ON h.id = m.household_id WHERE h.status = 'active'), "
            "recent AS (SELECT DISTINCT ON (m.id_number) m.id_number, h.id, h.region_code FROM cases_member m "
            "JOIN cases_household h ON h.id = m.household_id WHERE h.status <> 'active' "
            "ORDER BY m.id_number, COALESCE(h.exited_on, h.decided_on, h.applied_on) DESC, h.id DESC) "
            "SELECT r.id, c.id_number FROM c LEFT JOIN recent r ON r.id_number = c.id_number "
            "WHERE c.id_number NOT IN (SELECT id_number FROM active_ids) "
            "AND COALESCE(c.ref_region, r.region_code, '') LIKE %s", [*params, region + "%"])


def _missed_ref(table, cond, version, region):
    return _missed(f"SELECT id_number, MIN(NULLIF(region_code, '')) AS ref_region FROM {table} "
                   f"WHERE version_id = %s AND ({cond}) GROUP BY id_number", [version], region)


@hand("MISSED_DISABLED")
def _(v, p, region, as_of):
    return _missed_ref("audits_disabilityrecord", "level IN (1, 2) OR (level = 3 AND category IN ('智力', '精神'))",
                       v["disability"], region)


@hand("MISSED_ILLNESS")
def _(v, p, region, as_of):
    return _missed_ref("audits_illnessrecord", "TRUE", v["illness"], region)


@hand("MISSED_POOR")
def _(v, p, region, as_of):
    return _missed_ref("audits_povertyrecord", "TRUE", v["poverty"], region)


@hand("MISSED_EXITED")
def _(v, p, region, as_of):
    return _missed("SELECT DISTINCT m.id_number, NULL::text AS ref_region FROM cases_member m JOIN cases_household h "
                   "ON h.id = m.household_id WHERE h.status = 'exited' AND h.exited_on >= %s",
                   [p["EXITED_SINCE"]], region)


@hand("MISSED_REJECTED")
def _(v, p, region, as_of):
    return _missed("SELECT DISTINCT m.id_number, NULL::text AS ref_region FROM cases_member m JOIN cases_household h "
                   "ON h.id = m.household_id WHERE h.status = 'rejected' AND h.applied_on >= %s",
                   [p["REJECTED_SINCE"]], region)


@hand("HEAD_NOT_MEMBER")
def _(v, p, region, as_of):
    return ("SELECT h.id, h.head_id_number FROM cases_household h WHERE h.status = 'active' AND h.region_code LIKE %s "
            "AND (NOT EXISTS (SELECT 1 FROM cases_member m WHERE m.household_id = h.id AND m.relation = '本人') "
            "OR NOT EXISTS (SELECT 1 FROM cases_member m WHERE m.household_id = h.id "
            "AND m.id_number = h.head_id_number))", [region + "%"])


@hand("AMOUNT_MISSING")
def _(v, p, region, as_of):
    return ("SELECT h.id, h.head_id_number FROM cases_household h WHERE h.status = 'active' AND h.region_code LIKE %s "
            "AND (h.monthly_amount IS NULL OR h.monthly_amount = 0)", [region + "%"])


def run_hand(batch, region):
    versions = {k: v[0] for k, v in engine.batch_versions(batch).items()}
    out = {}
    with connection.cursor() as cursor:
        cursor.execute("SET work_mem = '256MB'")
        for code, fn in HAND.items():
            sql, params = fn(versions, batch.params, region, batch.as_of)
            cursor.execute("DROP TABLE IF EXISTS bench_hand")
            start = time.perf_counter()
            cursor.execute(f"CREATE TEMP TABLE bench_hand AS {sql}", params)
            elapsed = time.perf_counter() - start
            cursor.execute("SELECT COUNT(*) FROM bench_hand")
            out[code] = (elapsed, cursor.fetchone()[0])
        cursor.execute("DROP TABLE IF EXISTS bench_hand")
    return out


def plan_summary(batch):
    """Node types and indexes of each rule's plan over the batch's region."""
    ctx = engine.batch_context(batch)
    out = {}
    with connection.cursor() as cursor:
        for rule in rules.RULE_LIST:
            sql, params = rule.build(ctx)
            cursor.execute("SET jit = off")
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            nodes, indexes = Counter(), set()

            def walk(node):
                nodes[node["Node Type"]] += 1
                if "Index Name" in node:
                    indexes.add(node["Index Name"])
                if node["Node Type"] == "Seq Scan":
                    indexes.add("seq:" + node["Relation Name"])
                for child in node.get("Plans", []):
                    walk(child)
            walk(plan[0]["Plan"])
            out[rule.code] = (plan[0]["Plan"]["Total Cost"], dict(nodes), sorted(indexes))
    return out


def run_engine(region, as_of):
    timings = defaultdict(float)
    real = engine.run_rule

    def timed(ctx, batch, rule):
        start = time.perf_counter()
        n = real(ctx, batch, rule)
        timings[rule.code] += time.perf_counter() - start
        return n

    engine.run_rule = timed
    real_chunk, real_finish = engine.run_chunk, engine.finish_batch

    def chunk(chunk_id):
        start = time.perf_counter()
        real_chunk(chunk_id)
        timings["(county chunks: move + compare)"] += time.perf_counter() - start

    def finish(batch_id):
        start = time.perf_counter()
        done = real_finish(batch_id)
        timings["(finish: counts, resolved, tasks)"] += time.perf_counter() - start
        return done

    engine.run_chunk, engine.finish_batch = chunk, finish
    try:
        start = time.perf_counter()
        batch = services.batch_create(actor="system", region_code=region, as_of=as_of, enqueue=False)
        batch = engine.execute_batch(batch.pk)
        total = time.perf_counter() - start
    finally:
        engine.run_rule, engine.run_chunk, engine.finish_batch = real, real_chunk, real_finish
    return batch, total, dict(timings)


def bench_entry(samples: int, seed: int = 7):
    rng = random.Random(seed)
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id), MAX(id) FROM cases_household")
        low, high = cursor.fetchone()
    times = []
    warnings = 0
    for _ in range(samples):
        hid = rng.randint(low, high)
        with connection.cursor() as cursor:
            cursor.execute("SELECT id_number FROM cases_member WHERE household_id = "
                           "(SELECT id FROM cases_household WHERE id >= %s ORDER BY id LIMIT 1)", [hid])
            ids = [r[0] for r in cursor.fetchall()]
        start = time.perf_counter()
        warnings += len(entry_check(id_numbers=ids, household_id=hid))
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], max(times), warnings


def run_rules_interleaved(batch):
    """Each rule's engine statement (staging, as the batch runs it) and its hand-written twin,
    one after the other, so both see the same load on a shared machine."""
    ctx = engine.batch_context(batch)
    versions = {k: v[0] for k, v in engine.batch_versions(batch).items()}
    out = {}
    for rule in rules.RULE_LIST:
        start = time.perf_counter()
        n_engine = engine.run_rule(ctx, batch, rule)
        t_engine = time.perf_counter() - start
        sql, params = HAND[rule.code](versions, batch.params, batch.region_code, batch.as_of)
        with connection.cursor() as cursor:
            cursor.execute("SET jit = off")
            cursor.execute("SET work_mem = '256MB'")
            cursor.execute("DROP TABLE IF EXISTS bench_hand")
            start = time.perf_counter()
            cursor.execute(f"CREATE TEMP TABLE bench_hand AS {sql}", params)
            t_hand = time.perf_counter() - start
            cursor.execute("SELECT COUNT(*) FROM bench_hand")
            n_hand = cursor.fetchone()[0]
        out[rule.code] = (t_engine, n_engine, t_hand, n_hand)
        print(f"{rule.code:<18}{t_engine:>10.2f}{t_hand:>10.2f}{t_engine / t_hand:>8.2f}{n_engine:>11,}{n_hand:>11,}"
              + ("" if n_engine == n_hand else "  <-- count differs"), flush=True)
    from audits.models import StagedFinding
    StagedFinding.objects.filter(batch=batch).delete()
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--region", default="22")
    parser.add_argument("--as-of", default="2026-11-20")
    parser.add_argument("--entry-samples", type=int, default=1000)
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument("--rules-only", action="store_true",
                        help="reuse the latest finished batch: time each rule's statement against the hand-written one")
    args = parser.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM cases_household")
        households = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM cases_member")
        members = cursor.fetchone()[0]
    print(f"database {connection.settings_dict['NAME']}: {households:,} households, {members:,} members")
    if args.rules_only:
        from audits.models import RescreenBatch
        batch = RescreenBatch.objects.filter(state="done").order_by("-id").first()
        print(f"batch #{batch.pk}: {batch.total:,} findings")
        print(f"\n{'rule':<18}{'engine s':>10}{'hand s':>10}{'ratio':>8}{'engine n':>11}{'hand n':>11}")
        out = run_rules_interleaved(batch)
        te, th = sum(v[0] for v in out.values()), sum(v[2] for v in out.values())
        print(f"rules total: engine {te:.1f} s, hand-written {th:.1f} s, ratio {te / th:.2f}")
        print("\nplans over the region (cost, node types, indexes / seq scans):")
        for code, (cost, nodes, idx) in plan_summary(batch).items():
            print(f"  {code:<18}{cost:>12.0f}  {nodes}  {idx}", flush=True)
    elif not args.skip_batch:
        batch, total, timings = run_engine(args.region, as_of)
        print(f"\nengine: batch #{batch.pk} region {args.region or 'all'} as of {as_of}: {batch.total:,} findings, "
              f"{batch.chunks.count()} chunks, {total:.1f} s total")
        hand_results = run_hand(batch, args.region)
        hand_total = sum(t for t, _ in hand_results.values())
        print(f"\n{'rule':<18}{'engine s':>10}{'hand s':>10}{'ratio':>8}{'engine n':>11}{'hand n':>11}")
        for rule in rules.RULE_LIST:
            e = timings.get(rule.code, 0.0)
            h, n = hand_results[rule.code]
            mark = "" if n == batch.counts.get(rule.code, 0) else "  <-- count differs"
            print(f"{rule.code:<18}{e:>10.2f}{h:>10.2f}{(e / h if h else 0):>8.2f}"
                  f"{batch.counts.get(rule.code, 0):>11,}{n:>11,}{mark}")
        for key in ("(county chunks: move + compare)", "(finish: counts, resolved, tasks)"):
            print(f"{key:<38}{timings.get(key, 0):>8.2f}")
        engine_rules = sum(timings.get(r.code, 0) for r in rules.RULE_LIST)
        print(f"rules total: engine {engine_rules:.1f} s, hand-written {hand_total:.1f} s, "
              f"ratio {engine_rules / hand_total:.2f}")
        print("\nplans over the region (cost, node types, indexes / seq scans):")
        for code, (cost, nodes, idx) in plan_summary(batch).items():
            print(f"  {code:<18}{cost:>12.0f}  {nodes}  {idx}")
    if args.entry_samples:
        p50, p95, worst, warned = bench_entry(args.entry_samples)
        print(f"\nentry check over {args.entry_samples} random households: p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
              f"max {worst:.1f} ms ({warned} warnings)")


if __name__ == "__main__":
    main()

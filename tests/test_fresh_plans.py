"""Plans that do not depend on luck (issue 13): on a database that has only just been loaded
through the import path, the rescreening's rules must be planned on the rows they will meet.

Right after a COPY nothing has told PostgreSQL what a table holds; it takes thousands of rows
for a handful and loops over them — a rescreening right after an import ran 35 minutes instead
of 26 s. The imports refresh the statistics of what they wrote (dibao.bulk.analyze); these tests
load files the way an operator does, with autovacuum kept off the tables so that only the code's
own ANALYZE can inform the planner, and read the plans (EXPLAIN, never timings).
"""
import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from audits import engine, rules
from audits import services as audit_services
from audits.models import REF_MODELS
from cases import selectors
from cases.models import Household, Member, RelativeFiling, Staff
from dibao.scoping import in_scope, prefix_range
from payments.models import Payment
from tests.factories import HouseholdFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

HOUSEHOLDS = 2_000
REFERENCE_TABLES = {model._meta.db_table for model in REF_MODELS.values()}
LOADED_TABLES = REFERENCE_TABLES | {model._meta.db_table for model in (Household, Member, Staff, RelativeFiling,
                                                                       Payment)}


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's")


@pytest.fixture
def no_autovacuum(postgres_only):
    """Autovacuum would analyze a table a minute after it is loaded: the plans must not wait for it.
    (Autovacuum never analyzes a partitioned table as a whole, and the payments' month partitions
    are made by the import itself, moments before the plans are read.)"""
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname = ANY(%s) AND relkind = 'r'", [sorted(LOADED_TABLES)])
        tables = sorted(row[0] for row in cursor.fetchall())
        for table in tables:
            cursor.execute(f'ALTER TABLE "{table}" SET (autovacuum_enabled = false)')
    yield
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'ALTER TABLE "{table}" RESET (autovacuum_enabled)')


def _payments_file(households_csv: Path, path: Path) -> Path:
    """Three months of payments to every active household, as a bank returns them."""
    with open(households_csv, encoding="utf-8", newline="") as fh, open(path, "w", encoding="utf-8", newline="") as out:
        w = csv.writer(out)
        w.writerow(["交易流水号", "发放月份", "户编号", "收款人姓名", "收款人身份证号", "银行账号", "发放金额", "发放日期",
                    "发放状态"])
        for n, row in enumerate(csv.DictReader(fh)):
            if row["状态"] != "在保" or not row["月保障金额"]:
                continue
            for month in (9, 10, 11):
                w.writerow([f"T{month:02d}{n:08d}", f"2026-{month:02d}", row["户编号"], row["户主姓名"],
                            row["户主身份证号"], f"6222{n:012d}", row["月保障金额"], f"2026-{month:02d}-15", "成功"])
    return path


@pytest.fixture
def imported(tmp_path, regions, no_autovacuum):
    """A province's worth of files for a few thousand households (the benchmark's generator, over
    the test region tree), each imported with `import_data` into the empty database."""
    from bench.generate import Generator

    villages = sorted(code for code in regions if len(code) == 12)
    Generator(households=HOUSEHOLDS, seed=13, out=tmp_path, villages=villages,
              region_names={code: region.name for code, region in regions.items()}).run()
    _payments_file(tmp_path / "households.csv", tmp_path / "payments.csv")
    for kind in ["households", "staff", "relatives", "payments", *REF_MODELS]:
        args = ["import_data", kind, str(tmp_path / f"{kind}.csv")]
        if kind == "households":
            args += ["--members", str(tmp_path / "members.csv")]
        call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())
    assert Member.objects.count() > HOUSEHOLDS and Payment.objects.count() > HOUSEHOLDS


def _nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _tables(plan) -> set[str]:
    return {node["Relation Name"] for node in _nodes(plan) if "Relation Name" in node}


def _loops_over_reference(plan) -> list[str]:
    """The nested loops that go over a reference table: one that reads a reference table again for
    every outer row, or one fed by a reference table that runs more than one index look-up per
    reference row (a scan or a join of the registry for each — the loop that never finished)."""
    found = []
    for node in _nodes(plan):
        if node["Node Type"] != "Nested Loop":
            continue
        sides = {child["Parent Relationship"]: child for child in node["Plans"]}
        outer, inner = sides["Outer"], sides["Inner"]
        if _tables(inner) & REFERENCE_TABLES:
            found.append(f"{', '.join(sorted(_tables(inner) & REFERENCE_TABLES))} read for each row of "
                         f"{', '.join(sorted(_tables(outer)))}")
        elif _tables(outer) & REFERENCE_TABLES and (
                inner["Node Type"] not in ("Index Scan", "Index Only Scan", "Bitmap Heap Scan")
                or any(n["Node Type"] in ("Nested Loop", "Hash Join", "Merge Join") for n in _nodes(inner))):
            found.append(f"{inner['Node Type']} over {', '.join(sorted(_tables(inner)))} for each row of "
                         f"{', '.join(sorted(_tables(outer) & REFERENCE_TABLES))}")
    return found


def test_rescreening_right_after_an_import_is_planned_without_loops_over_the_reference_data(imported):
    batch = audit_services.batch_create(actor="system", enqueue=False)
    ctx = engine.batch_context(batch)
    assert len(ctx.versions) == len(REF_MODELS)
    loops = {}
    for rule in rules.RULE_LIST:
        sql, params = rule.build(ctx)
        with transaction.atomic(), connection.cursor() as cursor:
            engine._tune(cursor)  # the settings the batch stages its rules with
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0][0]["Plan"]
        if found := _loops_over_reference(plan):
            loops[rule.code] = found
    assert loops == {}


# --------------------------------------------------------------------------- the township's list
def test_jurisdiction_is_a_code_range_that_holds_exactly_the_codes_under_it():
    assert prefix_range("220102001") == ("220102001", "220102002")
    # Carried, not '22010:': ICU and glibc collations sort ':' before the digits it follows.
    assert prefix_range("220109") == ("220109", "22011")
    assert prefix_range("99") == ("99", None)
    assert prefix_range("\x00") == (None, None)


def test_a_jurisdiction_ending_in_9_holds_its_codes_in_every_collation(postgres_only):
    lower, upper = prefix_range("220109")
    codes = ["220109", "220109001", "220109999999", "22010", "220108999", "22011", "220110001"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT collname FROM pg_collation WHERE collname IN ('C', 'und-x-icu', 'zh-x-icu')")
        collations = [row[0] for row in cursor.fetchall()]
        for collation in collations:
            for code in codes:
                cursor.execute(f'SELECT %s::text COLLATE "{collation}" >= %s AND %s::text COLLATE "{collation}" < %s',
                               [code, lower, code, upper])
                assert cursor.fetchone()[0] == code.startswith("220109"), (collation, code)


def test_the_township_list_reads_the_township_through_the_region_index(postgres_only, regions):
    """Ordered by region and 户编号 and cut at a page: the plain b-tree on the region code serves the
    jurisdiction as an index range, so the page does not walk the province's index filtering rows."""
    Household.objects.bulk_create([HouseholdFactory.build(region_id="220102001001", household_no=f"A{i:06d}")
                                   for i in range(3000)])
    Household.objects.bulk_create([HouseholdFactory.build(region_id="220103001001", household_no=f"B{i:06d}")
                                   for i in range(60)])
    with connection.cursor() as cursor:
        cursor.execute(f'ANALYZE "{Household._meta.db_table}"')
    caseworker = UserFactory(region=regions["220103001"], role="caseworker")
    assert in_scope(caseworker, "220103001001") and not in_scope(caseworker, "220102001001")
    page = selectors.households(caseworker)[:20]
    sql, params = page.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        # As on a loaded province, where the planner prefers the index that yields the page's order.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0][0]["Plan"]
    scans = [n for n in _nodes(plan) if n.get("Relation Name") == Household._meta.db_table]
    assert len(scans) == 1 and scans[0]["Node Type"] == "Index Scan"
    assert "region_code" in scans[0].get("Index Cond", "") and ">=" in scans[0]["Index Cond"]
    assert scans[0]["Actual Rows"] + scans[0].get("Rows Removed by Filter", 0) <= 60
    assert [h.household_no for h in page] == [f"B{i:06d}" for i in range(20)]

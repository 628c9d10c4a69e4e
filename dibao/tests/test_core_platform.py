"""Regions, roles, login protection and the audit chain under concurrent writers."""
import threading

import pytest
from django.core.management import call_command
from django.db import connection

from dibao.audit import audit_record, verify_chain
from dibao.models import AuditRecord, Region, natural_code
from dibao.regions import load_regions


@pytest.mark.parametrize("padded, natural", [
    ("220000000000", "22"), ("220100000000", "2201"), ("220102000000", "220102"),
    ("220102001000", "220102001"), ("220102001001", "220102001001"), ("220102", "220102"),
])
def test_natural_code_accepts_padded_codes(padded, natural):
    assert natural_code(padded) == natural


@pytest.mark.django_db
def test_load_regions_builds_the_tree_and_is_idempotent():
    counts = load_regions(["65"])
    total = Region.objects.count()
    assert total == sum(counts.values()) and total > 1000
    village = Region.objects.filter(level=Region.Level.VILLAGE).first()
    assert len(village.code) == 12
    assert village.parent.code == village.code[:9]
    assert village.parent.parent.code == village.code[:6]
    load_regions(["65"])
    assert Region.objects.count() == total
    assert not Region.objects.exclude(code__startswith="65").exists()


@pytest.mark.django_db
def test_load_regions_command_is_audited(capsys):
    call_command("load_regions", "--province", "65")
    assert "loaded" in capsys.readouterr().out
    assert AuditRecord.objects.filter(action="region.load", object_id="65").exists()


def test_region_picker_options_stay_inside_the_subtree(users, client_for):
    client = client_for(users["caseworker_a"])
    top = client.get("/regions/options/").content.decode()
    assert "220102001" in top and "220102002" not in top
    # Asking for the children of the county does not reveal the neighbouring township.
    sideways = client.get("/regions/options/?parent=220102").content.decode()
    assert "220102002" not in sideways
    villages = client.get("/regions/options/?parent=220102001").content.decode()
    assert "南岭村" in villages and "大岭村" in villages


def test_region_api_is_scoped(users, client_for):
    client = client_for(users["caseworker_a"])
    codes = [r["code"] for r in client.get("/api/v1/regions/?page_size=100").json()["results"]]
    assert "220102001001" in codes and "220103001" not in codes
    assert client.get("/api/v1/regions/220103001/").status_code == 404
    assert client.get("/api/v1/regions/220102001001/").status_code == 200


@pytest.mark.django_db
def test_api_refuses_anonymous_callers(client):
    assert client.get("/api/v1/regions/").status_code in (401, 403)


def test_login_is_locked_after_repeated_failures(users, client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post("/accounts/login/", {"username": "cw_a", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "cw_a", "password": "Testpass-2026!"})
    assert response.status_code == 429
    assert "锁定" in response.content.decode()


def test_login_page_in_chinese_and_logs_in(users, client):
    page = client.get("/accounts/login/").content.decode()
    assert "工作人员登录" in page
    response = client.post("/accounts/login/", {"username": "cw_a", "password": "Testpass-2026!"})
    assert response.status_code == 302
    home = client.get("/").content.decode()
    assert "乡镇经办" in home and "南岭街道" in home


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_never_fork_the_chain():
    """Writers racing each other must still produce one linear chain."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers itself; the advisory lock is PostgreSQL's")
    errors = []

    def writer(n):
        from django.db import connection as conn
        try:
            for i in range(10):
                audit_record(actor=None, action="demo.seed", object_type="region", object_id=f"{n}-{i}")
        except Exception as exc:  # surfaced through the assertion below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert AuditRecord.objects.filter(action="demo.seed").count() == 60
    report = verify_chain()
    assert report.broken is None and report.checked == AuditRecord.objects.count()
    prev_hashes = list(AuditRecord.objects.values_list("prev_hash", flat=True))
    assert len(prev_hashes) == len(set(prev_hashes))


@pytest.mark.django_db
def test_healthz_answers_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


def test_timeline_shows_field_labels_not_column_names(users, client_for):
    import datetime as dt

    from cases import services
    from tests.factories import HouseholdFactory

    household = HouseholdFactory(region_id="220102001001")
    services.household_exit(actor=users["reviewer"], household=household, exited_on=dt.date(2026, 3, 1),
                            reason="收入超过保障标准")
    page = client_for(users["supervisor"]).get("/audit/").content.decode()
    assert "退出日期" in page and "exited_on" not in page


def test_narrowing_the_scope_never_widens_it(users):
    from cases.models import Household
    from tests.factories import HouseholdFactory

    mine = HouseholdFactory(region_id="220102001001")
    neighbour = HouseholdFactory(region_id="220102002001")
    caseworker, reviewer = users["caseworker_a"], users["reviewer"]
    assert list(Household.objects.for_user(caseworker, within="220102002")) == []
    assert list(Household.objects.for_user(caseworker, within="220102")) == [mine]
    assert list(Household.objects.for_user(caseworker, within="220102001001000"[:12])) == [mine]
    assert list(Household.objects.for_user(reviewer, within="220102002000")) == [neighbour]
    assert list(Household.objects.for_user(reviewer, within="220103")) == []


def test_english_is_available(users, client_for):
    client = client_for(users["caseworker_a"])
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get("/").content.decode()
    assert "Dashboard" in page and "工作台" not in page


def test_in_scope_is_the_subtree_and_the_system_account_acts_everywhere(users):
    from dibao.scoping import in_scope

    assert in_scope(users["caseworker_a"], "220102001002")
    assert not in_scope(users["caseworker_a"], "220102002001")
    assert not in_scope(users["caseworker_a"], "220102")  # above the township is outside it
    assert in_scope(users["admin"], "650102")
    assert in_scope("system", "650102")

"""Fixtures every app's tests share: a region tree and one user per role and place."""
import pytest

from tests.factories import UserFactory, region_tree


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Hashing every fixture user's password with PBKDF2 costs seconds per test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _audit_checkpoints_per_test(settings, tmp_path):
    """Each test's database starts empty, so the audit checkpoints of another test must not be read."""
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "audit-checkpoints"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Transactional tests empty the tables with TRUNCATE, which the audit table refuses on
    PostgreSQL; the test database lets them (dibao/tests/test_audit_trail.py re-enables the
    trigger inside its own transaction to show it works)."""
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ALTER TABLE dibao_auditrecord DISABLE TRIGGER dibao_audit_no_truncate")


@pytest.fixture
def regions(db):
    return region_tree()


@pytest.fixture
def users(regions):
    """caseworker_a / caseworker_b: two townships of county 220102; caseworker_c: county 220103;
    reviewer: county 220102; reviewer_other: county 220103; supervisor: city 2201;
    inspector: county 220102; admin: no region (whole country)."""
    return {
        "caseworker_a": UserFactory(username="cw_a", region=regions["220102001"], role="caseworker"),
        "caseworker_b": UserFactory(username="cw_b", region=regions["220102002"], role="caseworker"),
        "caseworker_c": UserFactory(username="cw_c", region=regions["220103001"], role="caseworker"),
        "reviewer": UserFactory(username="rev", region=regions["220102"], role="county_reviewer"),
        "reviewer_other": UserFactory(username="rev_o", region=regions["220103"], role="county_reviewer"),
        "supervisor": UserFactory(username="sup", region=regions["2201"], role="supervisor"),
        "inspector": UserFactory(username="insp", region=regions["220102"], role="inspector"),
        "admin": UserFactory(username="adm", region=None, role="admin"),
    }


@pytest.fixture
def client_for(client):
    """client_for(user) -> a Django test client logged in as that user."""
    from django.test import Client

    def make(user):
        c = Client()
        c.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return c
    return make


@pytest.fixture
def browser_page(live_server, settings):
    """A Playwright page in Debian's chromium, pointed at the live test server.

    Usage: `page = browser_page; page.goto(live_server.url + "/")`. Screenshots go to
    test-artifacts/ (kept by CI as the journey's record).
    """
    import os
    import shutil

    if not shutil.which("chromium") and not os.path.exists("/usr/bin/chromium"):
        pytest.skip("Debian's chromium is not installed")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test
    # itself makes (fixtures, assertions) are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
        )
        context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15000)
        yield page
        context.close()
        browser.close()


def browser_login(page, base_url: str, username: str, password: str = "Testpass-2026!") -> None:
    page.goto(base_url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def save_screenshot(page, name: str) -> str:
    import pathlib
    out = pathlib.Path(__file__).resolve().parent / "test-artifacts"
    out.mkdir(exist_ok=True)
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return str(path)

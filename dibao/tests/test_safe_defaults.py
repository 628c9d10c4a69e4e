"""Safe defaults (issue 9, item 8): DEBUG off unless set, Chinese error pages in the base
layout (the 500 page without request context or database), Chinese API errors, login lockout
per user name and address together, and a Content-Security-Policy the templates live within."""
import os
import pathlib
import re
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.test import Client, RequestFactory
from django.urls import path

from dibao import errors


def _boom(request):
    raise RuntimeError("a bug")


# This module doubles as a URLconf for the 500 test: one view that fails, the project's handler.
urlpatterns = [path("boom/", _boom), path("api/boom/", _boom)]
handler500 = "dibao.errors.server_error"


def test_debug_is_off_unless_set():
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", SECRET_KEY="x" * 50, AUDIT_HMAC_KEY="y" * 50)
    out = subprocess.run([sys.executable, "-c", "from django.conf import settings; print(settings.DEBUG)"],
                         env=env, capture_output=True, text=True, cwd=django_settings.BASE_DIR, check=True)
    assert out.stdout.strip() == "False"


def test_a_command_without_its_keys_says_what_to_set_instead_of_a_traceback():
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "AUDIT_HMAC_KEY")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"  # the operator's settings, not the suite's
    out = subprocess.run([sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True,
                         cwd=django_settings.BASE_DIR)
    assert out.returncode == 1
    assert "SECRET_KEY 未设置" in out.stderr and "DEBUG=true" in out.stderr
    assert "Traceback" not in out.stderr


def test_the_500_page_is_chinese_in_the_base_layout_without_the_database():
    """No `db` fixture: any query would fail the test."""
    response = errors.server_error(RequestFactory().get("/cases/households/"))
    page = response.content.decode()
    assert response.status_code == 500
    assert "系统出错了" in page and "农村低保专项治理系统" in page and "Server Error" not in page


def test_an_unhandled_error_answers_the_chinese_500_page_and_json_on_the_api(settings, db):
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    page = client.get("/boom/")
    assert page.status_code == 500 and "系统出错了" in page.content.decode()
    api = client.get("/api/boom/")
    assert api.status_code == 500 and "服务器内部错误" in api.json()["detail"]


def test_not_found_is_chinese_and_hides_djangos_english(users, client_for):
    client = client_for(users["caseworker_a"])
    page = client.get("/cases/households/999999/")
    text = page.content.decode()
    assert page.status_code == 404
    assert "页面或记录不存在" in text and "matches the given query" not in text
    assert "navbar" in text  # the base layout
    api = client.get("/api/v1/households/999999/")
    assert api.status_code == 404 and api.json() == {"detail": "未找到。"}
    assert client.get("/api/v1/no-such-thing/").json() == {"detail": "未找到。"}


def test_forbidden_is_chinese(users, client_for):
    page = client_for(users["caseworker_a"]).get("/audit/")
    assert page.status_code == 403
    assert "无权访问" in page.content.decode()
    api = Client().get("/api/v1/households/")
    assert api.status_code in (401, 403) and not api.json()["detail"].isascii()


def test_a_csrf_failure_is_a_chinese_page(db):
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    text = response.content.decode()
    assert "页面已过期" in text and "CSRF verification failed" not in text


def _login(client, username, password, ip):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_lockout_is_per_user_name_and_address_together(users):
    office = "10.1.1.1"
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        _login(Client(), "cw_a", "wrong-password", office)
    locked = _login(Client(), "cw_a", "Testpass-2026!", office)
    assert locked.status_code in (403, 429) and "锁定" in locked.content.decode()
    # A colleague behind the same address, and the same user from elsewhere, still sign in.
    assert _login(Client(), "cw_b", "Testpass-2026!", office).status_code == 302
    assert _login(Client(), "cw_a", "Testpass-2026!", "10.9.9.9").status_code == 302


def test_pages_carry_a_content_security_policy_without_inline_allowances(db):
    header = Client().get("/accounts/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in header and "style-src 'self'" in header
    assert "unsafe-inline" not in header and "unsafe-eval" not in header


INLINE = re.compile(r"<script(?![^>]*\b(src|type=\"application/json\")=?)[^>]*>|<style\b|\sstyle=|\son[a-z]+=",
                    re.IGNORECASE)


def test_no_template_needs_inline_script_or_style():
    """The CSP would block them: behaviour goes to static/js/app.js, looks to static/css/app.css."""
    root = pathlib.Path(django_settings.BASE_DIR) / "templates"
    offenders = [f"{p.relative_to(root)}: {m.group(0)}" for p in root.rglob("*.html")
                 for m in INLINE.finditer(p.read_text(encoding="utf-8"))]
    assert offenders == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_pages_work_under_the_csp_in_a_browser(live_server, browser_page, users):
    """Dashboard (ECharts), household list (htmx), a form page, the public complaint form and
    the API docs: no policy violation, no script error, and the scripted parts did their work."""
    import datetime as dt
    from decimal import Decimal

    from conftest import browser_login
    from reports import services as report_services
    from tests.factories import HouseholdFactory

    HouseholdFactory(region_id="220102001001", monthly_amount=Decimal("612.00"))
    today = dt.date.today()
    report_services.rollup_compute(actor="system", month=today.replace(day=1))
    page = browser_page
    problems = []
    page.on("console", lambda msg: problems.append(msg.text)
            if msg.type == "error" or "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.add_init_script("document.addEventListener('securitypolicyviolation',"
                         " e => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))")

    page.goto(live_server.url + "/public/complaint/")
    page.wait_for_selector(".public-region-picker .levels select")  # the picker script ran
    browser_login(page, live_server.url, "sup")
    page.goto(live_server.url + "/reports/region/220102/")
    page.wait_for_selector("#chart-trend canvas")
    page.goto(live_server.url + "/api/docs/")
    page.wait_for_selector(".swagger-ui .info")

    page.context.clear_cookies()
    browser_login(page, live_server.url, "cw_a")
    page.goto(live_server.url + "/cases/households/")
    page.wait_for_selector("table")
    page.goto(live_server.url + "/cases/staff/new/")
    page.wait_for_selector(".region-picker-levels select")
    assert problems == []


def test_the_whole_api_schema_generates_and_validates_without_warnings(db):
    """The OpenAPI schema is what API clients are written against: every operation documented
    (request and response), so a new endpoint with an undocumented body fails here."""
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    assert not GENERATOR_STATS, (dict(GENERATOR_STATS._warn_cache), dict(GENERATOR_STATS._error_cache))
    assert "/api/v1/applications/{id}/confirm/" in schema["paths"]

import datetime as dt
import re
from decimal import Decimal

import pytest

from cases.models import Status
from reports import services
from tests.factories import HouseholdFactory, MemberFactory

MARCH = dt.date(2026, 3, 1)
ID_PATTERN = re.compile(r"\d{17}[\dX]|\d{6}\*+\d{3}[\dX]")


@pytest.fixture
def snapshot(regions):
    h = HouseholdFactory(region_id="220102001001", head_name="张大山", monthly_amount=Decimal("612.00"),
                         poverty_cause="因病", phone="13900001111")
    MemberFactory(household=h, name="张小山")
    HouseholdFactory(region_id="220102001002", head_name="李平安", monthly_amount=Decimal("300.00"))
    HouseholdFactory(region_id="220102001001", head_name="已退户", status=Status.EXITED,
                     exited_on=dt.date(2026, 1, 1))
    HouseholdFactory(region_id="220103001001", head_name="宽城户")
    services.rollup_compute(actor="system", month=MARCH)
    services.rollup_compute(actor="system", month=dt.date(2026, 2, 1))
    return h


def test_dashboard_shows_key_figures_trend_and_children(snapshot, users, client_for):
    response = client_for(users["supervisor"]).get("/reports/?month=2026-03")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'title="2201">长春市</span>' in html and "2026年3月" in html and "快照" in html
    assert "层级校验通过" in html
    assert 'href="/reports/region/220102/?month=2026-03"' in html  # drill-down to the counties
    assert "vendor/echarts/echarts.min.js" in html and "cdn" not in html.lower()
    assert "2026-02" in html  # the trend table


def test_dashboard_drills_down_to_a_township(snapshot, users, client_for):
    html = client_for(users["admin"]).get("/reports/region/220102001/?month=2026-03").content.decode()
    assert 'title="220102001">南岭街道</span>' in html
    assert 'href="/reports/region/22/?month=2026-03"' in html  # breadcrumbs back up


def test_dashboard_is_scoped(snapshot, users, client_for):
    other = client_for(users["reviewer_other"])
    assert other.get("/reports/region/220102/").status_code == 404
    assert other.get("/reports/region/220103/").status_code == 200
    assert client_for(users["reviewer"]).get("/reports/region/2201/").status_code == 404


def test_caseworkers_have_no_dashboard_but_can_export(snapshot, users, client_for):
    client = client_for(users["caseworker_a"])
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/exports/").status_code == 200


def test_compute_from_the_page(snapshot, users, client_for):
    client = client_for(users["reviewer"])
    response = client.post("/reports/compute/", {"month": "2026-04", "region": "220102"})
    assert response.status_code == 302 and response["Location"] == "/reports/region/220102/?month=2026-04"
    html = client.get(response["Location"]).content.decode()
    assert "2026年4月" in html
    assert client_for(users["reviewer_other"]).post(
        "/reports/compute/", {"month": "2026-04", "region": "220102"}).status_code == 404


def test_rollup_api_is_scoped(snapshot, users, client_for):
    data = client_for(users["reviewer"]).get("/api/v1/rollups/?month=2026-03&level=township").json()
    assert [r["region_code"] for r in data["results"]] == ["220102001", "220102002"]
    assert data["results"][0]["amount_total"] == "912.00"


def release(*codes):
    from reports.notices import notice_release

    for code in codes:
        notice_release(actor="system", region_code=code)


def test_public_village_notice_has_names_amounts_hotline_and_no_id(snapshot, client):
    release("220102001001")
    response = client.get("/public/notice/220102001001/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "张大山" in html and "612.00" in html and "因病" in html
    assert "已退户" not in html and "李平安" not in html
    assert "12345" in html  # the default hotline when none is configured
    # The A4 print rules for .notice-table live in app.css: the CSP allows no inline style.
    assert "公示日期" in html and "notice-table" in html and "/static/css/app.css" in html
    assert not ID_PATTERN.search(html), ID_PATTERN.search(html)
    assert snapshot.head_id_number not in html and "13900001111" not in html


def test_public_township_notice_lists_villages(snapshot, client):
    release("220102001")
    html = client.get("/public/notice/220102001/").content.decode()
    assert "南岭村" in html and "大岭村" in html
    assert 'href="/public/notice/220102001001/"' in html
    assert not ID_PATTERN.search(html)


def test_public_notice_only_for_townships_and_villages(regions, client):
    assert client.get("/public/notice/2201/").status_code == 404
    assert client.get("/public/notice/999999999/").status_code == 404
    # a county's code lists its townships' notices (tests/test_first_day.py)
    assert client.get("/public/notice/220102/").status_code == 200


def test_public_notice_shows_the_nearest_hotline(snapshot, client):
    from complaints.models import Hotline

    Hotline.objects.create(region_id="22", unit="吉林省民政厅", numbers="0431-88612347")
    Hotline.objects.create(region_id="220102", unit="南关区民政局", numbers="0431-88888888，0431-87777777")
    release("220102001001")
    html = client.get("/public/notice/220102001001/").content.decode()
    assert "0431-88888888" in html and "0431-87777777" in html
    assert "0431-88612347" not in html and ">12345<" not in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_dashboard_draws_its_charts_in_a_browser(live_server, browser_page, snapshot, users):
    from conftest import browser_login, save_screenshot

    page = browser_page
    browser_login(page, live_server.url, "sup")
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_server.url + "/reports/region/220102/?month=2026-03")
    page.wait_for_selector("#chart-trend canvas")
    assert page.locator("#chart-children canvas").count() == 1
    assert errors == []
    save_screenshot(page, "reports_dashboard")

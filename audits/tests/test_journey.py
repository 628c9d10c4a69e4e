"""Browser journey: a county reviewer reads a finding's evidence and exits the household."""
import datetime as dt

import pytest

from audits.models import RefKind
from audits.tests.helpers import ref, run
from cases.models import Household, Status
from conftest import browser_login, save_screenshot
from tests.factories import HouseholdFactory, MemberFactory, UserFactory, region_tree

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reviewer_confirms_death_and_exits_household(browser_page, live_server):
    region_tree()
    UserFactory(username="rev_journey", region_id="220102", role="county_reviewer")
    household = HouseholdFactory(region_id="220102001001", head_name="孙大")
    dead = MemberFactory(household=household, name="孙老汉", relation="父母")
    ref(RefKind.DEATHS, [{"id_number": dead.id_number, "name": "孙老汉", "death_date": dt.date(2026, 3, 2)}])
    run(region="220102", as_of=dt.date(2026, 10, 31))

    page = browser_page
    browser_login(page, live_server.url, "rev_journey")
    page.goto(live_server.url + "/audits/findings/?rule=DECEASED")
    page.get_by_role("link", name="查看").first.click()
    page.wait_for_selector("#finding-detail")
    assert "死亡人员数据 v1：死亡日期 2026-03-02" in page.inner_text("#finding-detail")
    assert "孙老汉" in page.inner_text("body")
    save_screenshot(page, "audits-finding-evidence")

    page.check("#id_decision_0")
    page.fill("#id_reason", "经村委会和派出所核实，孙老汉已于 2026-03-02 死亡")
    page.check("#id_exit")
    page.fill("#id_exit_on", "2026-11-01")
    page.fill("#id_exit_reason", "家庭成员死亡，家庭收入超标")
    page.check("#id_stop_payment")
    page.click("#decision-form button[type=submit]")
    page.wait_for_selector("#household-status")
    assert page.inner_text("#household-status") == "已退出"
    assert page.inner_text("#finding-state") == "属实"
    timeline = page.inner_text("#household-timeline")
    assert "确认疑点" in timeline and "修改低保家庭" in timeline and "在保 → 已退出" in timeline
    assert "finding.confirm" not in timeline
    save_screenshot(page, "audits-household-exited")
    household.refresh_from_db()
    assert household.status == Status.EXITED and Household.objects.get(pk=household.pk).exited_on == dt.date(2026, 11, 1)

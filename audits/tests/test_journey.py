"""Browser journey: a county reviewer reads a finding's evidence and exits the household."""
import datetime as dt

import pytest

from audits.models import RefKind
from audits.tests.helpers import ref, run
from cases.models import Household
from conftest import browser_login, save_screenshot
from tests.factories import HouseholdFactory, MemberFactory, UserFactory, region_tree

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reviewer_confirms_death_and_removes_the_member(browser_page, live_server):
    from decimal import Decimal

    from cases.models import BenefitStandard

    region_tree()
    BenefitStandard.objects.create(region_id="22", category="rural", monthly_standard=Decimal("490"),
                                   effective_from=dt.date(2020, 1, 1))
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
    page.check("#id_change_1")  # 减员, the change a member's death calls for
    page.fill("#id_exit_on", "2026-03-02")
    page.fill("#id_exit_reason", "家庭成员死亡")
    page.check("#id_stop_payment")
    page.click("#decision-form button[type=submit]")
    page.wait_for_selector("#household-status")
    assert page.inner_text("#household-status") == "在保"
    assert page.inner_text("#finding-state") == "属实"
    assert "已办理减员：孙老汉（2026-03-02），重新核定月保障金额 490.00 元" in page.inner_text("#finding-remove-member")
    timeline = page.inner_text("#household-timeline")
    assert "确认疑点" in timeline and "修改低保家庭" in timeline
    assert "finding.confirm" not in timeline
    save_screenshot(page, "audits-household-member-removed")
    assert Household.objects.get(pk=household.pk).members.count() == 1

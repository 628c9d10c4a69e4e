"""The application journey in a real browser: a caseworker takes a new household from intake to
the notice, the notice period passes (the steps are recorded with the dates they were taken),
a county reviewer confirms, and the household is 在保 with the computed amount and the whole trail."""
import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import AmountHistory, Application, Household
from cases.tests.application_fixtures import people  # noqa: F401 (fixture)
from conftest import browser_login, save_screenshot
from tests.factories import make_id


def _scan(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"%PDF-1.4 signed scan of " + name.encode())
    return str(path)


def _switch_user(page, base_url, username):
    page.context.clear_cookies()
    browser_login(page, base_url, username)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_application_from_intake_to_county_confirmation(browser_page, live_server, people, tmp_path):
    page, base = browser_page, live_server.url
    today = timezone.localdate()
    day = lambda n: (today - dt.timedelta(days=n)).isoformat()  # noqa: E731

    # 受理: the household, its members and the signed authorisation, with the amount shown live
    browser_login(page, base, "cw_a")
    page.goto(base + "/cases/applications/")
    page.get_by_role("link", name="受理新申请").click()
    page.wait_for_url("**/cases/applications/new/")
    page.fill("#id_household_no", "JOURNEY-APP-1")
    page.fill("#id_head_name", "孙长林")
    page.fill("#id_head_id_number", make_id())
    page.locator(".region-picker-levels select").nth(1).select_option(label="南岭村")
    expect(page.locator("#id_region")).to_have_value("220102001001")
    page.fill("#id_head_monthly_income", "100")
    page.fill("#id_members-0-name", "周桂芝")
    page.fill("#id_members-0-id_number", make_id(male=False))
    page.select_option("#id_members-0-relation", "配偶")
    page.fill("#id_members-0-monthly_income", "200")
    page.locator("#id_members-0-monthly_income").dispatch_event("change")
    expect(page.locator("#amount-preview")).to_contain_text("900")
    page.fill("#id_accepted_on", day(20))
    page.set_input_files("#id_authorisation", _scan(tmp_path, "authorisation.pdf"))
    save_screenshot(page, "application_intake")
    page.locator("#intake-form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/cases/applications/\d+/$"))
    app = Application.objects.get(household__household_no="JOURNEY-APP-1")
    assert "待入户调查" in page.locator("#application-stage").inner_text()

    # 入户调查 by two investigators of the township
    page.locator('[data-step="visit"]').click()
    page.fill("#id_visited_on", day(18))
    page.select_option("#id_investigator_1", str(people["caseworker_a"].pk))
    page.select_option("#id_investigator_2", str(people["caseworker_a2"].pk))
    page.fill("#id_members_present", "孙长林、周桂芝")
    page.fill("#id_housing", "砖瓦房三间，年久失修")
    page.fill("#id_income", "务农，年收入约三千元")
    page.fill("#id_assets", "无车辆、无存款")
    page.set_input_files("#id_survey", _scan(tmp_path, "survey.pdf"))
    page.locator("#step-form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/cases/applications/\d+/$"))
    assert "待提出审核意见" in page.locator("#application-stage").inner_text()

    # 审核意见 by the township's other caseworker, then the village notice posted 15 days ago
    _switch_user(page, base, "cw_a2")
    page.goto(f"{base}/cases/applications/{app.pk}/propose/")
    assert "900" in page.locator("#computed-amount").inner_text()
    page.check("input[name=proposal][value=approve]")
    page.fill("#id_proposed_on", day(17))
    save_screenshot(page, "application_proposal")
    page.locator("#step-form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/cases/applications/\d+/$"))
    page.locator('[data-step="notice"]').click()
    page.fill("#id_started_on", day(15))
    page.locator("#step-form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/cases/applications/\d+/$"))
    assert "待县级确认" in page.locator("#application-stage").inner_text()  # the 7 days are over
    assert page.locator('[data-step="confirm"]').count() == 0  # not the township's decision

    # 县级确认 with the evidence panel
    _switch_user(page, base, "rev")
    page.goto(base + "/cases/applications/?step=awaiting")
    page.get_by_role("link", name=app.tracking_no).click()
    page.wait_for_url(re.compile(r".*/cases/applications/\d+/$"))
    assert "未发现工作人员近亲属备案" in page.locator("#evidence-panel").inner_text()
    page.locator('[data-step="confirm"]').click()
    assert "900" in page.locator("#proposed-amount").inner_text()
    save_screenshot(page, "application_confirm")
    page.locator("#step-form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/cases/applications/\d+/$"))
    assert "批准" in page.locator("#decision").inner_text()
    trail = page.locator("#application-timeline").inner_text()
    for action in ("受理低保申请", "登记信息核对", "上传申请材料", "登记入户调查", "提出乡镇审核意见", "登记公示",
                   "批准低保申请"):
        assert action in trail
    save_screenshot(page, "application_case_confirmed")

    household = Household.objects.get(household_no="JOURNEY-APP-1")
    assert household.status == "active" and household.monthly_amount == 900
    assert AmountHistory.objects.get(household=household).amount == 900
    page.goto(f"{base}/cases/households/{household.pk}/")
    content = page.content()
    assert "在保" in content and "900" in content
    save_screenshot(page, "application_household_active")

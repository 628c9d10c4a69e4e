"""The campaign journey in a real browser: a township caseworker screens a village on the worklist
(Tab through the row, Enter saves it), signs the township off, the county accepts, and the
campaign page shows the township done."""
import pytest
from playwright.sync_api import expect

from campaigns import services
from campaigns.models import ScreeningRecord
from campaigns.tests.conftest import PERIOD
from conftest import browser_login, save_screenshot
from tests.factories import HouseholdFactory


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_village_screened_signed_off_and_accepted(browser_page, live_server, users):
    page, base = browser_page, live_server.url
    HouseholdFactory(household_no="J1", region_id="220102001001")
    HouseholdFactory(household_no="J2", region_id="220102001001")
    campaign = services.campaign_create(actor=users["reviewer"], name="2026年专项排查", region_code="220102", **PERIOD)

    browser_login(page, base, "cw_a")
    page.goto(base + "/campaigns/")
    page.get_by_role("link", name="2026年专项排查").click()
    page.get_by_role("link", name="南岭街道").click()
    page.get_by_role("link", name="排查登记").click()
    for no, result in (("J1", "无问题"), ("J2", "存在问题")):
        row = page.locator(f"form[data-household='{no}']")
        row.locator("select[name$='-result']").select_option(label=result)
        if result == "存在问题":
            row.get_by_label("收入超标").check()
            row.locator("select[name$='-handling']").select_option(label="调整金额")
        row.locator("input[name$='-screeners']").fill("张三、李四")
        row.locator("input[name$='-screeners']").press("Enter")
        expect(page.locator(f"form[data-household='{no}'] .saved-mark")).to_be_visible()
    save_screenshot(page, "campaign_worklist")
    assert ScreeningRecord.objects.filter(campaign_household__campaign=campaign).count() == 2

    page.get_by_role("link", name="南岭街道").click()
    page.click("#signoff-submit")
    expect(page.locator(".alert-success")).to_contain_text("已确认上报")

    page.context.clear_cookies()
    browser_login(page, base, "rev")
    page.goto(base + f"/campaigns/{campaign.pk}/townships/220102001/")
    page.click("#signoff-accept")
    page.get_by_role("link", name="2026年专项排查").click()
    expect(page.locator("tr[data-township='220102001'] .badge")).to_have_text("已确认")
    expect(page.locator("tr[data-township='220102002'] .badge")).to_have_text("不适用")
    expect(page.locator("#progress-townships")).to_contain_text("已上报乡镇 1 / 1（100.0%）")
    save_screenshot(page, "campaign_accepted")

"""A caseworker's journey in a real browser: enter a household with two members, meet the
Chinese error for a mistyped ID number, fix it, save, and find the household again."""
import re

import pytest

from cases.models import Household
from dibao.models import AuditRecord
from conftest import browser_login, save_screenshot
from tests.factories import make_id


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_caseworker_creates_household_and_finds_it(browser_page, live_server, users):
    page = browser_page
    head_id, spouse_id = make_id(), make_id(male=False)
    mistyped = spouse_id[:-1] + ("1" if spouse_id[-1] != "1" else "2")

    browser_login(page, live_server.url, "cw_a")
    page.goto(live_server.url + "/cases/households/")
    page.get_by_role("link", name="新增家庭").click()
    page.wait_for_url("**/cases/households/new/")

    page.fill("#id_household_no", "JOURNEY-001")
    page.fill("#id_head_name", "张大山")
    page.fill("#id_head_id_number", head_id)
    # the picker starts at the caseworker's township; pick a village below it
    village = page.locator(".region-picker-levels select").nth(1)
    village.select_option(label="南岭村")
    page.wait_for_function("document.getElementById('id_region').value === '220102001001'")
    assert page.locator("#id_status").count() == 0  # decided through the application, not typed in
    page.fill("#id_applied_on", "2026-01-05")
    page.fill("#id_members-0-name", "李小花")
    page.fill("#id_members-0-id_number", mistyped)
    page.select_option("#id_members-0-relation", "配偶")
    page.get_by_role("button", name="保存").click()

    error = page.locator(".member-row .invalid-feedback")
    error.first.wait_for()
    assert "身份证号校验位错误" in error.first.inner_text()
    assert not Household.objects.filter(household_no="JOURNEY-001").exists()
    save_screenshot(page, "cases_household_bad_id")

    page.fill("#id_members-0-id_number", spouse_id)
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r".*/cases/households/\d+/$"))
    assert "已保存低保家庭 JOURNEY-001" in page.content()
    members = page.locator("#member-table tbody tr")
    assert members.count() == 2
    assert "本人" in members.nth(0).inner_text() and "李小花" in members.nth(1).inner_text()
    assert spouse_id not in page.content()  # masked until revealed
    members.nth(1).get_by_role("button", name="显示完整号码").click()
    page.locator("#member-table .id-full").wait_for()
    assert page.locator("#member-table .id-full").inner_text() == spouse_id
    save_screenshot(page, "cases_household_detail")

    page.goto(live_server.url + "/cases/households/")
    page.fill("input[name=q]", spouse_id)
    page.get_by_role("button", name="查询").click()
    rows = page.locator("#household-table tbody tr")
    rows.first.wait_for()
    assert rows.count() == 1 and "JOURNEY-001" in rows.first.inner_text()
    save_screenshot(page, "cases_household_found")

    household = Household.objects.get(household_no="JOURNEY-001")
    page.goto(live_server.url + f"/cases/households/{household.pk}/edit/")
    head_row = page.locator(".member-row").first
    assert head_row.locator("input[name$='-id_number']").is_disabled()  # follows the head fields above
    save_screenshot(page, "cases_household_edit")
    assert AuditRecord.objects.filter(action="id_number.reveal", actor=users["caseworker_a"]).count() == 1
    assert household.region_id == "220102001001" and household.status == "pending"
    assert {m.id_number for m in household.members.all()} == {head_id, spouse_id}

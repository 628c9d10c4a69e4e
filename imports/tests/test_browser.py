"""A caseworker uploads a file with two bad rows, reads the report, fixes the file and imports it."""
import pytest

from cases.models import Household
from conftest import browser_login, save_screenshot
from imports.tests.helpers import HOUSEHOLD_HEADER, write_csv
from tests.factories import make_id


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_upload_fix_and_import(browser_page, live_server, users, tmp_path):
    page = browser_page
    ids = [make_id() for _ in range(3)]
    good = [
        ["H1", "220102001001", "张三", ids[0], "农村低保", "审核中", "2023-01-05", "", "", "", "B", "否"],
        ["H2", "220102001002", "李四", ids[1], "农村低保", "审核中", "2023-03-01", "", "", "", "B", "否"],
        ["H3", "220102001001", "王五", ids[2], "农村低保", "审核中", "2023-01-05", "", "", "", "A", "是"],
    ]
    bad = [list(r) for r in good]
    bad[1][6] = "2023-02-30"                                   # row 3: impossible date
    bad[2][3] = ids[2][:-1] + ("0" if ids[2][-1] != "0" else "1")  # row 4: wrong check digit
    bad_file = write_csv(tmp_path / "家庭.csv", HOUSEHOLD_HEADER, bad, encoding="gbk")
    good_file = write_csv(tmp_path / "家庭-改正.csv", HOUSEHOLD_HEADER, good, encoding="gbk")

    browser_login(page, live_server.url, "cw_a")
    page.goto(live_server.url + "/imports/")
    page.select_option("#id_kind", "households")
    page.set_input_files("#id_file", str(bad_file))
    page.click("#upload-submit")
    page.wait_for_selector("#error-report")
    report = page.inner_text("#error-report")
    assert "申请日期" in report and "2023-02-30" in report and "不存在" in report
    assert "户主身份证号" in report and "校验位" in report
    rows = page.locator("#error-report tbody tr")
    assert rows.count() == 2 and rows.nth(0).inner_text().startswith("3") and rows.nth(1).inner_text().startswith("4")
    save_screenshot(page, "imports_report_two_bad_rows")
    assert Household.objects.count() == 0

    page.goto(live_server.url + "/imports/")
    page.select_option("#id_kind", "households")
    page.set_input_files("#id_file", str(good_file))
    page.click("#upload-submit")
    page.wait_for_selector("#confirm-import")
    assert page.inner_text("#job-counts .count-new") == "3"
    page.click("#confirm-import")
    page.wait_for_selector("#job-status[data-state=done]")
    assert page.inner_text("#job-counts .count-new") == "3"
    assert "导入完成" in page.inner_text("#job-outcome")
    save_screenshot(page, "imports_done_counts")
    assert Household.objects.count() == 3
    page.goto(live_server.url + "/imports/")
    assert "家庭-改正.csv" in page.inner_text("#import-history")

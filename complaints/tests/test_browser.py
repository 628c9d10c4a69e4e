"""Playwright journeys: the public form (submit, keep the code, check status) and the
inspector (open the referred clue, record the outcome, close it)."""
from decimal import Decimal

import pytest

from conftest import browser_login, save_screenshot
from complaints import services
from complaints.models import Clue, Complaint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_public_complaint_journey(browser_page, live_server, regions, users):
    page = browser_page
    page.goto(live_server.url + "/public/complaint/")
    page.fill("#id_complainant_name", "张三")
    page.fill("#id_complainant_phone", "13912345678")
    page.select_option("#id_subject_type", "household")
    page.fill("#id_subject_name", "李四家")
    picker = page.locator(".public-region-picker select")
    picker.nth(0).select_option("22")
    picker.nth(1).select_option("2201")
    picker.nth(2).select_option("220102")
    picker.nth(3).select_option("220102001")
    picker.nth(4).select_option("220102001001")
    page.fill("#id_content", "李四家有两套房和一辆轿车，仍在领取低保金。")
    page.set_input_files("#id_attachments", files=[{"name": "photo.jpg", "mimeType": "image/jpeg",
                                                     "buffer": b"\xff\xd8\xff\xe0" + b"\x00" * 100}])
    page.click("#submit")
    code = page.locator("#tracking-code").inner_text().strip()
    save_screenshot(page, "complaints-public-submitted")
    complaint = Complaint.objects.get()
    assert code == complaint.tracking_code and complaint.subject_region_id == "220102001001"

    services.complaint_assign(actor=users["reviewer"], complaint=complaint, region=regions["220102"])
    services.complaint_verify(actor=users["reviewer"], complaint=complaint, verification="核查属实")
    services.complaint_reply(actor=users["reviewer"], complaint=complaint, reply="经核实，已停发该户低保金。")

    page.goto(live_server.url + "/public/complaint/status/")
    page.fill("#code", code)
    page.fill("#phone_last4", "5678")
    page.click("#query")
    assert page.locator("#status-state").inner_text() == "已答复"
    assert "已停发该户低保金" in page.locator("#status-reply").inner_text()
    save_screenshot(page, "complaints-public-status")


def test_inspector_journey(browser_page, live_server, regions, users):
    clue = services.clue_create(actor=users["reviewer"], data={
        "source": "complaint", "region": regions["220102001001"], "category": "关系保",
        "summary": "村主任为其弟违规办理低保。", "evidence_links": "入户调查笔录 2026-03-02"})
    services.clue_refer(actor=users["reviewer"], clue=clue, body_region=regions["220102"], body_name="南关区纪委监委")
    page = browser_page
    browser_login(page, live_server.url, users["inspector"].username)
    page.goto(live_server.url + "/complaints/clues/")
    page.click(f"text={clue.number}")
    assert "入户调查笔录" in page.content()
    page.fill("#id_investigation", "经查，反映问题属实。")
    page.select_option("#id_outcome", "属实")
    page.fill("#id_funds_recovered", "11760.00")
    page.fill("#id_n_党纪处分", "1")
    page.click("#btn-outcome")
    page.click("#btn-conclude")
    assert page.locator("#clue-state").inner_text() == "已办结"
    save_screenshot(page, "complaints-inspector-concluded")
    clue = Clue.objects.get()
    assert clue.state == "concluded" and clue.referral.funds_recovered == Decimal("11760.00")

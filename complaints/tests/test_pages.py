"""Every page opens for the roles that use it (templates render, navigation is right)."""
import pytest
from django.urls import reverse

from complaints import services

pytestmark = pytest.mark.django_db

PAGES = {
    "caseworker_a": ["index", "complaint_list", "complaint_create", "rectification_list", "hotline_list",
                     "dial_test_list", "inspection_list"],
    "reviewer": ["index", "complaint_list", "complaint_create", "clue_list", "clue_create", "typical_list",
                 "rectification_list", "rectification_create", "hotline_list", "hotline_create", "dial_test_list",
                 "inspection_list"],
    "supervisor": ["index", "complaint_list", "clue_list", "typical_list", "rectification_list", "hotline_list",
                   "dial_test_create", "inspection_list", "inspection_create"],
    "inspector": ["clue_list", "typical_list"],
}


@pytest.mark.parametrize("who", PAGES)
def test_pages_open(who, client_for, users, hotline, clue):
    c = client_for(users[who])
    for name in PAGES[who]:
        assert c.get(reverse(f"complaints:{name}")).status_code == 200, name


def test_inspector_index_goes_to_clues(client_for, users):
    r = client_for(users["inspector"]).get(reverse("complaints:index"))
    assert r.status_code == 302 and r.url == reverse("complaints:clue_list")


def test_complaint_detail_actions_for_the_owner(client_for, users, regions):
    complaint = services.complaint_create(actor=users["reviewer"], data={
        "channel": "letter", "complainant_name": "赵六", "complainant_phone": "13700001234",
        "subject_type": "village", "subject_region": regions["220102002"], "content": "村里评议走过场"})
    page = client_for(users["reviewer"]).get(reverse("complaints:complaint_detail", args=[complaint.pk]))
    html = page.content.decode()
    assert "当场回签" in html and "交办核查" in html and "转为问题线索" in html
    client_for(users["reviewer"]).post(reverse("complaints:complaint_action", args=[complaint.pk, "on_spot"]),
                                       {"text": "已当场解释评议程序"})
    complaint.refresh_from_db()
    assert complaint.state == "closed" and complaint.on_spot


def test_staff_intake_page_routes_staff_complaints(client_for, users, regions):
    c = client_for(users["caseworker_a"])
    r = c.post(reverse("complaints:complaint_create"), {
        "channel": "visit", "received_on": "2026-03-02", "anonymous": "on", "subject_type": "staff",
        "subject_name": "本街道经办人", "accuses_staff": "on", "subject_region": "220102001001",
        "content": "经办人员索要好处费"}, follow=True)
    assert "已转南关区办理" in r.content.decode()

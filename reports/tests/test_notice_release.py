"""The public notice as dated editions: villages monthly, townships quarterly, each frozen."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cases.models import Household
from dibao.models import AuditRecord
from reports import notices
from reports.models import NoticeRelease
from reports.tasks import notice_release_due
from tests.factories import HouseholdFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def snapshot(regions):
    HouseholdFactory(region_id="220102001001", head_name="张大山", monthly_amount=Decimal("612.00"),
                     poverty_cause="因病")
    HouseholdFactory(region_id="220102001002", head_name="李平安", monthly_amount=Decimal("300.00"))


def test_release_is_frozen_and_its_history_reachable(snapshot, users, client):
    first = notices.notice_release(actor=users["caseworker_a"], region_code="220102001001",
                                   day=dt.date(2026, 10, 15))
    assert first.period == "2026-10"
    household = Household.objects.get(head_name="张大山")
    Household.objects.filter(pk=household.pk).update(head_name="张改名", monthly_amount=Decimal("700.00"))

    html = client.get("/public/notice/220102001001/").content.decode()
    assert "张大山" in html and "612.00" in html and "张改名" not in html  # the edition, not today's registry
    assert "2026-10 期" in html and "公示日期：2026-10-15" in html

    second = notices.notice_release(actor=users["caseworker_a"], region_code="220102001001")
    html = client.get("/public/notice/220102001001/").content.decode()
    assert "张改名" in html and "700.00" in html
    assert f'href="/public/notice/220102001001/editions/{first.pk}/"' in html  # the earlier edition, linked
    old = client.get(f"/public/notice/220102001001/editions/{first.pk}/").content.decode()
    assert "张大山" in old and "张改名" not in old
    assert client.get(f"/public/notice/220102001/editions/{first.pk}/").status_code == 404  # not that region's
    assert second.period == f"{dt.date.today():%Y-%m}"
    assert AuditRecord.objects.filter(action="notice.release", object_id=str(second.pk)).exists()
    with pytest.raises(ValidationError, match="已经发布"):
        notices.notice_release(actor=users["caseworker_a"], region_code="220102001001")


def test_township_edition_is_quarterly_and_preview_is_for_staff_only(snapshot, users, client, client_for):
    release = notices.notice_release(actor=users["reviewer"], region_code="220102001", day=dt.date(2026, 11, 2))
    assert release.period == "2026-Q4"
    assert [v["name"] for v in release.rows["villages"]] == ["南岭村", "大岭村"]
    assert "预览" not in client.get("/public/notice/220102001001/?preview=1").content.decode()  # the public
    staff = client_for(users["caseworker_a"]).get("/public/notice/220102001001/?preview=1").content.decode()
    assert "预览" in staff and "张大山" in staff
    # another township's caseworker gets no preview of this village, nor may release it
    assert "张大山" not in client_for(users["caseworker_b"]).get("/public/notice/220102001001/?preview=1").content.decode()
    with pytest.raises(PermissionDenied):
        notices.notice_release(actor=users["caseworker_b"], region_code="220102001001")
    with pytest.raises(PermissionDenied):
        notices.notice_release(actor=users["supervisor"], region_code="220102001001")


def test_due_editions_are_released_by_the_task_once(snapshot):
    made = notice_release_due(day="2026-11-01")
    assert made == NoticeRelease.objects.count() > 0
    codes = set(NoticeRelease.objects.values_list("region_code", flat=True))
    assert {"220102001001", "220102001"} <= codes
    assert notice_release_due(day="2026-11-20") == 0  # this month's and quarter's are out
    assert notice_release_due(day="2026-12-01") == len([c for c in codes if len(c) == 12])  # villages monthly


def test_release_page_is_scoped(snapshot, users, client_for):
    page = client_for(users["caseworker_a"]).get("/reports/notices/?region=220102001").content.decode()
    assert "南岭村" in page and "自由村" not in page
    response = client_for(users["caseworker_a"]).post("/reports/notices/", {"region": "220102001001"})
    assert response.status_code == 302 and NoticeRelease.objects.filter(region_code="220102001001").exists()
    assert client_for(users["caseworker_b"]).post("/reports/notices/", {"region": "220102001001"}).status_code == 404
    assert client_for(users["supervisor"]).get("/reports/notices/").status_code == 403

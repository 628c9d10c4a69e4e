import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from dibao.models import AuditRecord
from tests.factories import HouseholdFactory
from complaints import services
from complaints.models import Checklist, HomeVisit, RectificationStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(users, regions):
    return services.rectification_create(actor=users["reviewer"], data={
        "region": regions["220102001"], "source": "finding", "finding_id": 99, "problem": "死亡人员未及时退保",
        "measures": "停发并追回", "responsible_unit": "南岭街道", "responsible_person": "李建国",
        "deadline": dt.date(2026, 1, 31)})


def test_rectification_ledger_flow(item, client_for, users):
    assert item.number.startswith("ZG-220102-")
    township = client_for(users["caseworker_a"])
    url = reverse("complaints:rectification_detail", args=[item.pk])
    r = township.post(url, {"progress": "已停发", "evidence": "", "done": "on"})
    assert "标记整改完成前请填写佐证材料" in r.content.decode()
    township.post(url, {"progress": "已停发，追回 3 个月低保金", "evidence": "停发通知书 2026-01 号", "done": "on"})
    item.refresh_from_db()
    assert item.status == RectificationStatus.DONE
    # only a supervisor closes off against the ledger
    for key in ("caseworker_a", "reviewer"):
        client_for(users[key]).post(url, {"action": "close"})
        item.refresh_from_db()
        assert item.status == RectificationStatus.DONE
    client_for(users["supervisor"]).post(url, {"action": "close"})
    item.refresh_from_db()
    assert item.status == RectificationStatus.CLOSED and item.closed_by == users["supervisor"]
    assert list(AuditRecord.objects.filter(object_type="rectificationitem").values_list("action", flat=True)) == [
        "rectification.create", "rectification.update", "rectification.close"]


def test_close_requires_done(item, users):
    with pytest.raises(ValidationError, match="只有已整改待销号"):
        services.rectification_close(actor=users["supervisor"], item=item)
    with pytest.raises(PermissionDenied):
        services.rectification_close(actor=users["admin"], item=item)


def test_overdue_rectification_list(item, client_for, users):
    page = client_for(users["reviewer"]).get(reverse("complaints:rectification_list"), {"overdue": "1"})
    assert item.number in page.content.decode() and "超期" in page.content.decode()


def test_create_page(client_for, users):
    c = client_for(users["reviewer"])
    assert c.get(reverse("complaints:rectification_create")).status_code == 200
    r = c.post(reverse("complaints:rectification_create"), {
        "region": "220102002", "source": "inspection", "problem": "公示栏缺监督电话", "measures": "补充",
        "responsible_unit": "自由大路街道", "responsible_person": "王", "deadline": "2026-12-31"})
    assert r.status_code == 302
    assert client_for(users["caseworker_a"]).get(reverse("complaints:rectification_create")).status_code == 403


def test_default_checklist_seeded_from_supervision_items():
    checklist = Checklist.objects.get(is_default=True)
    items = list(checklist.items.all())
    assert len(items) == 22
    assert len({i.category for i in items}) == 7
    assert any("来电来访" in i.text for i in items)


def test_sample_is_reproducible_and_set_based(users, regions):
    for _ in range(20):
        HouseholdFactory(region_id="220102001001")
    HouseholdFactory(region_id="220102001002", status="exited", exited_on=dt.date(2025, 1, 1))
    HouseholdFactory(region_id="220102002001")
    inspection = services.inspection_create(actor=users["supervisor"], data={
        "region": regions["220102"], "checklist": services.default_checklist(), "inspected_on": dt.date(2026, 3, 1),
        "team": "市督查组"})
    a = services.sample_draw(actor=users["supervisor"], inspection=inspection, township=regions["220102001"],
                             count=5, seed="2026-03")
    b = services.sample_draw(actor=users["supervisor"], inspection=inspection, township=regions["220102001"],
                             count=5, seed="2026-03")
    c = services.sample_draw(actor=users["supervisor"], inspection=inspection, township=regions["220102001"],
                             count=5, seed="other")
    ids = lambda s: [v.household_id for v in s.visits.order_by("id")]  # noqa: E731
    assert ids(a) == ids(b) and len(ids(a)) == 5 and set(ids(a)) != set(ids(c))
    assert a.population == 20
    pct = services.sample_draw(actor=users["supervisor"], inspection=inspection, township=regions["220102001"],
                               percent=Decimal("12.5"), seed="x")
    assert pct.visits.count() == 3  # ceil(20 * 12.5%)
    with pytest.raises(ValidationError, match="二选一"):
        services.sample_draw(actor=users["supervisor"], inspection=inspection, township=regions["220102001"])
    with pytest.raises(ValidationError, match="被检查地区内的一个乡镇"):
        services.sample_draw(actor=users["supervisor"], inspection=inspection, township=regions["220103001"],
                             count=1)


def test_inspection_pages(client_for, users, regions):
    HouseholdFactory(region_id="220102001001")
    c = client_for(users["supervisor"])
    r = c.post(reverse("complaints:inspection_create"), {
        "region": "220102", "checklist": services.default_checklist().pk, "inspected_on": "2026-03-02",
        "team": "市民政局督查组"})
    assert r.status_code == 302
    url = r.url
    first = services.default_checklist().items.first()
    c.post(url, {"action": "results", f"r_{first.pk}": "problem", f"note_{first.pk}": "未成立领导小组",
                 "summary": "需整改"})
    c.post(url, {"action": "sample", "township": "220102001", "count": "1", "seed": "abc"})
    page = c.get(url).content.decode()
    assert "未成立领导小组" in page and "abc" in page
    visit = HomeVisit.objects.get()
    c.post(reverse("complaints:visit_record", args=[visit.pk]), {"result": "problem", "visited_on": "2026-03-02",
                                                                 "note": ""}, follow=True)
    visit.refresh_from_db()
    assert visit.result == "pending"
    c.post(reverse("complaints:visit_record", args=[visit.pk]), {"result": "problem", "visited_on": "2026-03-02",
                                                                 "note": "家中有新购轿车"})
    visit.refresh_from_db()
    assert visit.result == "problem"
    assert client_for(users["reviewer"]).get(url).status_code == 200  # the county reads its inspection


def test_hotline_and_dial_tests(client_for, users, hotline):
    c = client_for(users["supervisor"])
    for answered in ("on", "", "on", "on"):
        r = c.post(reverse("complaints:dial_test_create"), {
            "hotline": hotline.pk, "number": "0431-88712347", "called_at": "2026-03-02T09:30",
            "answered": answered, "handled_properly": "true" if answered else "unknown", "notes": ""})
        assert r.status_code == 302
    r = c.post(reverse("complaints:dial_test_create"), {
        "hotline": hotline.pk, "number": "110", "called_at": "2026-03-02T09:30", "answered": "on",
        "handled_properly": "true"})
    assert "不是该单位公布的投诉举报电话" in r.content.decode()
    page = client_for(users["reviewer"]).get(reverse("complaints:hotline_list")).content.decode()
    assert "75.0%" in page
    assert client_for(users["reviewer"]).get(reverse("complaints:dial_test_create")).status_code == 403


def test_hotline_must_be_township_or_above(users, regions):
    with pytest.raises(ValidationError, match="乡镇（街道）及以上"):
        services.hotline_save(actor=users["reviewer"], data={"region": regions["220102001001"], "unit": "x",
                                                             "numbers": "1"})

"""Two people editing the same household or member: the second save is refused, nothing is lost
(the first's change stays, the second's form keeps what was typed); the API's ETag / If-Match."""
import pytest
from django.urls import reverse

from cases.models import Household, Member
from tests.factories import HouseholdFactory, MemberFactory, make_id

pytestmark = pytest.mark.django_db
STALE = "该记录已被他人修改，请刷新后重试"
JSON = "application/json"


def as_posted(response) -> dict:
    """What the browser would send back for the edit page as rendered (hidden fields included)."""
    ctx = response.context
    data = {}
    for form in [ctx["form"], ctx["formset"].management_form, *ctx["formset"].forms]:
        for field in form:
            value = field.value()
            if field.field.disabled or value in (None, False, ""):
                continue
            data[field.html_name] = "on" if value is True else value
    return data


@pytest.fixture
def household(users):
    return HouseholdFactory(region_id="220102001001", phone="13800000000")


def test_second_save_of_a_household_is_refused_and_keeps_its_input(users, client_for, household):
    first, second = client_for(users["caseworker_a"]), client_for(users["reviewer"])
    url = reverse("cases:household_edit", args=[household.pk])
    page_1, page_2 = first.get(url), second.get(url)

    saved = first.post(url, {**as_posted(page_1), "phone": "13911111111"})
    assert saved.status_code == 302

    refused = second.post(url, {**as_posted(page_2), "phone": "13722222222"})
    assert refused.status_code == 200
    assert STALE in refused.content.decode()
    assert any(STALE in e for e in refused.context["form"].non_field_errors())
    assert refused.context["form"]["phone"].value() == "13722222222"  # what the second typed stays on screen
    household.refresh_from_db()
    assert household.phone == "13911111111" and household.version == 2  # the first's change stays

    # after reloading the page, the second person's save goes through
    reloaded = second.get(url)
    assert second.post(url, {**as_posted(reloaded), "phone": "13722222222"}).status_code == 302
    household.refresh_from_db()
    assert household.phone == "13722222222" and household.version == 3


def test_member_row_changed_meanwhile_is_refused(users, client_for, household):
    member = MemberFactory(household=household, name="李四", relation="配偶")
    url = reverse("cases:household_edit", args=[household.pk])
    page = client_for(users["caseworker_a"]).get(url)
    # someone else edits the member (through the API) while the page is open
    api = client_for(users["reviewer"])
    assert api.patch(f"/api/v1/members/{member.pk}/", {"labour_capacity": "部分丧失"},
                     content_type=JSON).status_code == 200

    data = as_posted(page)
    index = next(i for i, f in enumerate(page.context["formset"].forms) if f.instance.pk == member.pk)
    data[f"members-{index}-name"] = "李四四"
    refused = client_for(users["caseworker_a"]).post(url, data)
    assert refused.status_code == 200 and STALE in refused.content.decode()
    member.refresh_from_db()
    assert (member.name, member.labour_capacity) == ("李四", "部分丧失")


def test_api_etag_and_if_match(users, client_for, household):
    api = client_for(users["caseworker_a"])
    url = f"/api/v1/households/{household.pk}/"
    read = api.get(url)
    etag = read["ETag"]
    assert etag == '"1"' and read.json()["version"] == 1

    fresh = api.patch(url, {"phone": "13911111111"}, content_type=JSON, HTTP_IF_MATCH=etag)
    assert fresh.status_code == 200 and fresh["ETag"] == '"2"'
    assert api.get(url)["ETag"] == '"2"'

    stale = api.patch(url, {"phone": "13722222222"}, content_type=JSON, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert STALE in stale.json()["detail"]
    assert api.patch(url, {"phone": "1"}, content_type=JSON, HTTP_IF_MATCH='W/"2"').status_code == 412
    # without If-Match a write still works; a version in the body is checked like the header
    assert api.patch(url, {"phone": "13733333333", "version": 1}, content_type=JSON).status_code == 412
    assert api.patch(url, {"phone": "13733333333"}, content_type=JSON).status_code == 200
    household.refresh_from_db()
    assert household.phone == "13733333333" and household.version == 3


def test_api_member_stale_delete_is_refused(users, client_for, household):
    member = MemberFactory(household=household, id_number=make_id(), relation="子女")
    api = client_for(users["caseworker_a"])
    url = f"/api/v1/members/{member.pk}/"
    etag = api.get(url)["ETag"]
    assert api.patch(url, {"name": "王五"}, content_type=JSON, HTTP_IF_MATCH=etag).status_code == 200
    assert api.delete(url, HTTP_IF_MATCH=etag).status_code == 412
    assert Member.objects.filter(pk=member.pk, name="王五").exists()
    assert Household.objects.get(pk=household.pk).version == 1  # a member's write is the member's


def test_an_import_that_changes_a_household_makes_open_pages_stale(users, tmp_path):
    from imports.tests.helpers import HOUSEHOLD_HEADER, run, write_csv

    head = make_id()

    def import_with(name):
        row = ["H1", "220102001001", name, head, "农村低保", "审核中", "2023-01-05", "", "", "", "B", "否"]
        job = run(users["caseworker_a"], "households", write_csv(tmp_path / "h.csv", HOUSEHOLD_HEADER, [row]))
        assert job.state == "done", job.outcome
        return Household.objects.get(household_no="H1").version

    assert import_with("张三") == 1
    assert import_with("张叁") == 2
    assert import_with("张叁") == 2  # unchanged rows are not written

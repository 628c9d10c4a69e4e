"""Every registry page and API endpoint shows a user only their own jurisdiction."""
import pytest
from django.urls import reverse

from cases.tests.conftest import VISIBLE

PLACES = ("a", "b", "c")
READERS = sorted(VISIBLE)
EDITORS = [u for u in READERS if u != "supervisor"]


@pytest.mark.parametrize("who", READERS)
def test_household_list_shows_only_households_in_scope(who, users, registry, client_for):
    body = client_for(users[who]).get(reverse("cases:household_list")).content.decode()
    for place in PLACES:
        assert (f"H-{place.upper()}" in body) == (place in VISIBLE[who]), place


@pytest.mark.parametrize("who", READERS)
@pytest.mark.parametrize("place", PLACES)
def test_household_detail_is_404_outside_scope(who, place, users, registry, client_for):
    household = registry[place]["household"]
    response = client_for(users[who]).get(reverse("cases:household_detail", args=[household.pk]))
    assert response.status_code == (200 if place in VISIBLE[who] else 404)


@pytest.mark.parametrize("who", EDITORS)
@pytest.mark.parametrize("place", PLACES)
def test_edit_pages_are_404_outside_scope(who, place, users, registry, client_for):
    client = client_for(users[who])
    expected = 200 if place in VISIBLE[who] else 404
    objs = registry[place]
    assert client.get(reverse("cases:household_edit", args=[objs["household"].pk])).status_code == expected
    assert client.get(reverse("cases:staff_edit", args=[objs["staff"].pk])).status_code == expected
    assert client.get(reverse("cases:filing_edit", args=[objs["filing"].pk])).status_code == expected


@pytest.mark.parametrize("who", EDITORS)
def test_edit_post_outside_scope_changes_nothing(who, users, registry, client_for):
    outside = [p for p in PLACES if p not in VISIBLE[who]]
    for place in outside:
        household = registry[place]["household"]
        response = client_for(users[who]).post(reverse("cases:household_edit", args=[household.pk]),
                                               {"head_name": "篡改"})
        assert response.status_code == 404
        household.refresh_from_db()
        assert household.head_name != "篡改"


@pytest.mark.parametrize("who", READERS)
def test_staff_and_filing_lists_show_only_scope(who, users, registry, client_for):
    client = client_for(users[who])
    staff_body = client.get(reverse("cases:staff_list")).content.decode()
    filing_body = client.get(reverse("cases:filing_list")).content.decode()
    for place in PLACES:
        assert (registry[place]["staff"].name in staff_body) == (place in VISIBLE[who])
        assert (registry[place]["filing"].relative_name in filing_body) == (place in VISIBLE[who])


def test_supervisor_reads_but_cannot_write(users, registry, client_for):
    client = client_for(users["supervisor"])
    household = registry["a"]["household"]
    assert client.get(reverse("cases:household_list")).status_code == 200
    assert client.get(reverse("cases:household_create")).status_code == 403
    assert client.get(reverse("cases:household_edit", args=[household.pk])).status_code == 403
    assert client.get(reverse("cases:staff_create")).status_code == 403
    assert client.get(reverse("cases:filing_create")).status_code == 403
    body = client.get(reverse("cases:household_detail", args=[household.pk])).content.decode()
    assert reverse("cases:household_edit", args=[household.pk]) not in body


@pytest.mark.parametrize("name", ["cases:household_list", "cases:staff_list", "cases:filing_list"])
def test_inspector_does_not_see_registry_pages(name, users, registry, client_for):
    assert client_for(users["inspector"]).get(reverse(name)).status_code == 403


API = {
    "households": "household",
    "members": "member",
    "staff": "staff",
    "relative-filings": "filing",
}


@pytest.mark.parametrize("who", READERS)
@pytest.mark.parametrize("endpoint", sorted(API))
def test_api_lists_and_details_are_scoped(who, endpoint, users, registry, client_for):
    client = client_for(users[who])
    listed = {row["id"] for row in client.get(f"/api/v1/{endpoint}/").json()["results"]}
    for place in PLACES:
        obj = registry[place][API[endpoint]]
        visible = place in VISIBLE[who]
        assert (obj.pk in listed) == visible, place
        assert client.get(f"/api/v1/{endpoint}/{obj.pk}/").status_code == (200 if visible else 404)


@pytest.mark.parametrize("endpoint", sorted(API))
def test_api_refuses_inspector(endpoint, users, registry, client_for):
    assert client_for(users["inspector"]).get(f"/api/v1/{endpoint}/").status_code == 403


def test_api_update_outside_scope_is_404(users, registry, client_for):
    client = client_for(users["caseworker_a"])
    household = registry["b"]["household"]
    response = client.patch(f"/api/v1/households/{household.pk}/", {"head_name": "篡改"},
                            content_type="application/json")
    assert response.status_code == 404
    member = registry["c"]["member"]
    assert client.delete(f"/api/v1/members/{member.pk}/").status_code == 404

"""Bad input never yields a 500 (issue 9, item 5): every page and API list without URL
arguments is asked for impossible pages, negative page sizes and control characters in its
search and filters; text with control characters is refused with a message and nothing is
written; negative amounts, absurd counts and future dates are refused."""
import datetime as dt

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from cases.models import Household
from tests.factories import HouseholdFactory

BAD_QUERIES = {
    "huge_page": "page=999999999999999999",
    "negative_page_size": "page_size=-2",
    "garbage_filters": "page=abc&region=zz&month=2026-13&batch=x&rule=%E2%80%A2&state=nope&status=x"
                       "&kind=%25&start=2026-02-31&end=x&overdue=2&staff=x&action=%27",
}
SKIP = ("admin/", "i18n/", "api/docs/", "accounts/logout/", "healthz")


def _get_urls():
    """Every URL pattern that takes no argument: the pages and API lists a user can open."""
    found = []

    def walk(patterns, prefix):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                if "<" in route or "(?P" in route or route.startswith(SKIP):
                    continue
                found.append("/" + route.replace("^", "").replace("$", "").replace("\\", ""))

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


URLS = _get_urls()


@pytest.fixture
def some_rows(users):
    HouseholdFactory()
    return users


@pytest.mark.parametrize("role", ["admin", "caseworker_a", "supervisor"])
@pytest.mark.parametrize("query", BAD_QUERIES.values(), ids=BAD_QUERIES.keys())
def test_bad_query_parameters_never_500(some_rows, client_for, role, query):
    client = client_for(some_rows[role])
    failures = []
    for url in URLS:
        response = client.get(f"{url}?{query}")
        if response.status_code >= 500:
            failures.append(url)
    assert failures == []


def test_an_impossible_page_is_a_404_with_a_message(some_rows, client_for):
    client = client_for(some_rows["admin"])
    page = client.get("/cases/households/?page=999999999999999999")
    assert page.status_code == 404
    assert "页码超出范围" in page.content.decode()
    api = client.get("/api/v1/households/?page=999999999999999999")
    assert api.status_code == 404 and "页码超出范围" in api.json()["detail"]


def test_a_negative_page_size_is_a_400_naming_the_parameter(some_rows, client_for):
    response = client_for(some_rows["admin"]).get("/api/v1/households/?page_size=-2")
    assert response.status_code == 400
    assert "每页条数" in response.json()["page_size"][0]


@pytest.mark.parametrize("url", URLS)
def test_a_nul_byte_in_a_search_is_a_400_naming_the_parameter(some_rows, client_for, url):
    response = client_for(some_rows["admin"]).get(url, {"q": "\x00", "search": "a\x00b"})
    assert response.status_code == 400
    text = response.json()["detail"] if url.startswith("/api/") else response.content.decode()
    assert "查询参数“q”" in text and "U+0000" in text


def test_control_characters_in_a_form_field_are_refused_and_nothing_is_written(users, client_for):
    from tests.factories import make_id
    client = client_for(users["caseworker_a"])
    response = client.post("/cases/households/new/", {
        "household_no": "H-CTRL-1", "region": "220102001001", "head_name": "张\x01三",
        "head_id_number": make_id(), "category": "rural", "status": "applying", "applied_on": "2025-01-02",
        "management_class": "B",
        "members-TOTAL_FORMS": "0", "members-INITIAL_FORMS": "0"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "U+0001" in errors["head_name"][0]
    assert not Household.objects.filter(household_no="H-CTRL-1").exists()


def test_control_characters_in_the_api_are_refused_naming_the_field(users, client_for):
    household = HouseholdFactory()
    client = client_for(users["caseworker_a"])
    response = client.patch(f"/api/v1/households/{household.pk}/", {"phone": "138\x07"},
                            content_type="application/json")
    assert response.status_code == 400
    assert "U+0007" in response.json()["phone"][0]
    household.refresh_from_db()
    assert household.phone == ""


def test_every_project_form_checks_its_text_fields():
    """A new form without dibao.forms.TextInputMixin fails here."""
    import importlib

    from django import forms
    from dibao.forms import TextInputMixin

    project = ("dibao", "cases", "imports", "audits", "complaints", "reports")
    for app in project:
        importlib.import_module(f"{app}.forms")

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = {c for c in subclasses(forms.BaseForm)
            if c.__module__.split(".")[0] in project}
    assert ours, "no project forms found"
    missing = sorted(f"{c.__module__}.{c.__name__}" for c in ours if not issubclass(c, TextInputMixin))
    assert missing == []


def test_text_stored_before_the_check_does_not_break_exports(users, client_for):
    from tests.factories import StaffFactory
    StaffFactory(name="王\x01五", region_id="220102001")
    HouseholdFactory(head_name="赵\x0b六")
    client = client_for(users["caseworker_a"])
    for kind in ("staff", "households"):
        response = client.get(f"/imports/exports/{kind}.xlsx")
        assert response.status_code == 200, kind
        assert b"".join(response.streaming_content if response.streaming else [response.content])


def test_a_negative_income_is_refused_on_the_api_and_nothing_is_written(users, client_for):
    from cases.models import Member
    from tests.factories import make_id
    household = HouseholdFactory()
    response = client_for(users["caseworker_a"]).post("/api/v1/members/", {
        "household": household.pk, "name": "王五", "id_number": make_id(), "relation": "子",
        "monthly_income": "-100.00"}, content_type="application/json")
    assert response.status_code == 400
    assert "大于或者等于 0" in response.json()["monthly_income"][0]
    assert Member.objects.filter(household=household).count() == 1  # the head only


def test_a_discipline_count_of_a_trillion_is_refused_by_form_api_and_model():
    from django.core.exceptions import ValidationError
    from complaints.api import OutcomeSerializer
    from complaints.forms import OutcomeForm
    from complaints.models import Discipline, DisciplineKind

    kind = DisciplineKind.values[0]
    form = OutcomeForm(data={"investigation": "查实", "outcome": "属实", "funds_recovered": "0",
                             f"n_{kind}": str(10 ** 12)})
    assert not form.is_valid() and list(form.errors) == [f"n_{kind}"]
    serializer = OutcomeSerializer(data={"investigation": "查实", "outcome": "属实", "funds_recovered": "0",
                                         "disciplines": [{"kind": kind, "count": 10 ** 12}]})
    assert not serializer.is_valid() and "上限" in str(serializer.errors["disciplines"])
    with pytest.raises(ValidationError) as refused:
        Discipline(kind=kind, count=10 ** 12).clean_fields(exclude=["referral"])
    assert "人数不能超过" in refused.value.message_dict["count"][0]


def test_a_future_received_date_is_refused_with_a_message(users):
    from django.utils import timezone
    from complaints.forms import ComplaintForm
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    form = ComplaintForm(data={"received_on": tomorrow.isoformat()}, user=users["reviewer"])
    form.is_valid()
    assert "晚于今天" in form.errors["received_on"][0]

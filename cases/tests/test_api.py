"""The registry API: writes through the services, Chinese 400s keyed by field, masking, tokens."""
from rest_framework.authtoken.models import Token

from cases.models import Household, Member
from dibao.idnumber import mask_id
from dibao.models import AuditRecord
from tests.factories import FilingFactory, HouseholdFactory, MemberFactory, StaffFactory, make_id

JSON = "application/json"


def household_payload(**overrides):
    payload = {"household_no": "API-1", "region": "220102001000", "head_name": "张三",
               "head_id_number": make_id(), "applied_on": "2026-01-05"}
    payload.update(overrides)
    return payload


def test_create_household_through_service(users, client_for):
    payload = household_payload()
    response = client_for(users["caseworker_a"]).post("/api/v1/households/", payload, content_type=JSON)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["region"] == "220102001"  # padded code accepted, natural code stored
    masked = mask_id(payload["head_id_number"])  # even to its author: a full number only through reveal-id
    assert data["head_id_number"] == masked
    assert [(m["relation"], m["id_number"]) for m in data["members"]] == [("本人", masked)]
    assert AuditRecord.objects.filter(action="household.create", object_id=str(data["id"])).exists()


def test_validation_errors_are_400_with_field_keys_in_chinese(users, client_for):
    client = client_for(users["caseworker_a"])
    response = client.post("/api/v1/households/", household_payload(head_id_number="2.20102199E+17"),
                           content_type=JSON)
    assert response.status_code == 400
    assert "存成了数字" in response.json()["head_id_number"][0]
    response = client_for(users["reviewer"]).post("/api/v1/households/", household_payload(region="220102"),
                                                  content_type=JSON)
    assert response.status_code == 400
    assert "应选到乡镇" in response.json()["region"][0]
    response = client.post("/api/v1/households/", household_payload(region="220103001001"), content_type=JSON)
    assert response.status_code == 400
    assert "不在您的管辖范围内" in response.json()["region"][0]
    assert Household.objects.count() == 0


def test_ids_masked_for_supervisor(users, client_for):
    household = HouseholdFactory(region_id="220102001001")
    data = client_for(users["supervisor"]).get(f"/api/v1/households/{household.pk}/").json()
    assert data["head_id_number"] == household.head_id_masked
    assert data["members"][0]["id_number"] == household.head_id_masked
    listed = client_for(users["supervisor"]).get("/api/v1/members/").json()["results"]
    assert all("*" in row["id_number"] for row in listed)


def test_supervisor_cannot_write(users, client_for):
    household = HouseholdFactory(region_id="220102001001")
    client = client_for(users["supervisor"])
    assert client.post("/api/v1/households/", household_payload(), content_type=JSON).status_code == 403
    assert client.patch(f"/api/v1/households/{household.pk}/", {"head_name": "x"},
                        content_type=JSON).status_code == 403


def test_filters_and_search(users, client_for):
    a = HouseholdFactory(region_id="220102001001", status="active")
    b = HouseholdFactory(region_id="220102002001", status="pending", decided_on=None)
    member = MemberFactory(household=b)
    client = client_for(users["reviewer"])

    def ids(**params):
        return {row["id"] for row in client.get("/api/v1/households/", params).json()["results"]}

    assert ids(status="pending") == {b.pk}
    assert ids(region="220102001") == {a.pk}
    assert ids(region="220102002000") == {b.pk}
    assert ids(q=member.id_number.lower()) == {b.pk}
    assert ids(household_no=a.household_no) == {a.pk}


def test_member_crud_through_services(users, client_for):
    household = HouseholdFactory(region_id="220102001001", status="pending", decided_on=None, monthly_amount=None)
    client = client_for(users["caseworker_a"])
    response = client.post("/api/v1/members/", {"household": household.pk, "name": "李四",
                                                "id_number": make_id(), "relation": "配偶"}, content_type=JSON)
    assert response.status_code == 201, response.json()
    member_id = response.json()["id"]
    response = client.patch(f"/api/v1/members/{member_id}/", {"monthly_income": "300.00"}, content_type=JSON)
    assert response.status_code == 200
    assert client.delete(f"/api/v1/members/{member_id}/").status_code == 204
    actions = list(AuditRecord.objects.filter(object_type="member", object_id=str(member_id))
                   .values_list("action", flat=True))
    assert actions == ["member.create", "member.update", "member.delete"]
    head = household.members.get(relation="本人")
    response = client.delete(f"/api/v1/members/{head.pk}/")
    assert response.status_code == 400 and "户主" in response.json()["non_field_errors"][0]
    response = client.post("/api/v1/members/", {"household": household.pk, "name": "重复", "id_number": head.id_number,
                                                "relation": "子女"}, content_type=JSON)
    assert response.status_code == 400 and "已登记" in response.json()["id_number"][0]


def test_member_cannot_be_added_to_household_outside_scope(users, client_for):
    household = HouseholdFactory(region_id="220103001001")
    response = client_for(users["caseworker_a"]).post(
        "/api/v1/members/", {"household": household.pk, "name": "李四", "id_number": make_id(), "relation": "配偶"},
        content_type=JSON)
    assert response.status_code == 400 and "household" in response.json()
    assert not Member.objects.filter(name="李四").exists()


def test_staff_and_filing_api(users, client_for):
    client = client_for(users["caseworker_a"])
    household = HouseholdFactory(region_id="220102001001")
    response = client.post("/api/v1/staff/", {"name": "王干部", "id_number": make_id(), "staff_type": "village_cadre",
                                              "region": "220102001001"}, content_type=JSON)
    assert response.status_code == 201, response.json()
    staff_id = response.json()["id"]
    response = client.post("/api/v1/relative-filings/", {
        "staff": staff_id, "relative_name": "王父", "relative_id_number": make_id(), "relation": "父母",
        "household_no": household.household_no, "filed_on": "2026-03-01"}, content_type=JSON)
    assert response.status_code == 201, response.json()
    assert response.json()["household"] == household.pk
    other = StaffFactory(region_id="220103001001")
    response = client.post("/api/v1/relative-filings/", {
        "staff": other.pk, "relative_name": "某", "relative_id_number": make_id(), "relation": "父母",
        "filed_on": "2026-03-01"}, content_type=JSON)
    assert response.status_code == 400 and "staff" in response.json()


def test_token_authentication(users, client):
    HouseholdFactory(region_id="220102001001", household_no="TOK-1")
    token = Token.objects.create(user=users["caseworker_a"])
    response = client.get("/api/v1/households/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert [row["household_no"] for row in response.json()["results"]] == ["TOK-1"]
    # 403 rather than 401: the first authenticator (session) sends no WWW-Authenticate challenge
    assert client.get("/api/v1/households/", HTTP_AUTHORIZATION="Token wrong").status_code == 403


def test_schema_and_docs(users, client_for):
    client = client_for(users["admin"])
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/v1/households/", "/api/v1/members/{id}/", "/api/v1/staff/", "/api/v1/relative-filings/"):
        assert path in paths
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.content.decode() and "cdn" not in docs.content.decode().lower()


def test_registry_schema_generates_without_warnings(db):
    from django.urls import include, path
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/v1/", include("cases.api_urls"))])
    schema = generator.get_schema(request=None, public=True)
    validate_schema(schema)
    assert not GENERATOR_STATS, (dict(GENERATOR_STATS._warn_cache), dict(GENERATOR_STATS._error_cache))
    params = {p["name"] for p in schema["paths"]["/api/v1/households/"]["get"]["parameters"]}
    assert {"q", "region", "status", "category", "management_class", "household_no"} <= params


def test_ids_masked_in_lists_and_details_revealed_one_at_a_time(users, client_for):
    household = HouseholdFactory(region_id="220102001001")
    member = MemberFactory(household=household)
    client = client_for(users["caseworker_a"])
    listed = client.get("/api/v1/households/").json()["results"]
    detail = client.get(f"/api/v1/households/{household.pk}/").json()
    for data in (listed[0], detail):
        assert data["head_id_number"] == household.head_id_masked
        assert {m["id_number"] for m in data["members"]} == {household.head_id_masked, mask_id(member.id_number)}
    assert not AuditRecord.objects.filter(action="id_number.reveal").exists()

    r = client.post(f"/api/v1/households/{household.pk}/reveal-id/")
    assert r.status_code == 200 and r.json() == {"id_number": household.head_id_number}
    r = client.post(f"/api/v1/households/{household.pk}/reveal-id/?member={member.pk}")
    assert r.json() == {"id_number": member.id_number}
    assert client.post(f"/api/v1/members/{member.pk}/reveal-id/").json() == {"id_number": member.id_number}
    reveals = AuditRecord.objects.filter(action="id_number.reveal", actor=users["caseworker_a"])
    assert sorted(reveals.values_list("object_type", flat=True)) == ["household", "member", "member"]

    assert client_for(users["supervisor"]).post(f"/api/v1/households/{household.pk}/reveal-id/").status_code == 403
    assert client_for(users["caseworker_b"]).post(f"/api/v1/households/{household.pk}/reveal-id/").status_code == 404
    other = HouseholdFactory(region_id="220102002001")
    foreign_member = other.members.get()
    assert client.post(f"/api/v1/households/{household.pk}/reveal-id/?member={foreign_member.pk}").status_code == 404


def test_staff_and_filing_numbers_revealed_and_audited(users, client_for):
    filing = FilingFactory(staff=StaffFactory(region_id="220102001001"))
    client = client_for(users["caseworker_a"])
    assert client.get("/api/v1/relative-filings/").json()["results"][0]["relative_id_number"] == \
        mask_id(filing.relative_id_number)
    assert client.post(f"/api/v1/relative-filings/{filing.pk}/reveal-id/").json() == \
        {"id_number": filing.relative_id_number}
    assert client.post(f"/api/v1/staff/{filing.staff.pk}/reveal-id/").json() == {"id_number": filing.staff.id_number}
    assert set(AuditRecord.objects.filter(action="id_number.reveal").values_list("object_type", flat=True)) == \
        {"relativefiling", "staff"}
    assert client_for(users["caseworker_b"]).post(f"/api/v1/staff/{filing.staff.pk}/reveal-id/").status_code == 404

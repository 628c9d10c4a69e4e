"""Staff roster and close-relative filing pages."""
from django.urls import reverse

from cases.models import RelativeFiling, Staff
from dibao.models import AuditRecord
from tests.factories import HouseholdFactory, StaffFactory, make_id


def test_create_staff_and_edit(users, client_for):
    client = client_for(users["caseworker_a"])
    number = make_id()
    response = client.post(reverse("cases:staff_create"), {
        "name": "王村长", "id_number": number.lower(), "staff_type": "village_cadre", "region": "220102001001",
        "employer": "南岭村委会", "position": "主任"})
    assert response.status_code == 302
    staff = Staff.objects.get(id_number=number)
    response = client.post(reverse("cases:staff_edit", args=[staff.pk]), {
        "name": "王村长", "id_number": number, "staff_type": "village_cadre", "region": "220102001001",
        "employer": "南岭村委会", "position": "书记", "user": users["caseworker_a"].pk})
    assert response.status_code == 302
    staff.refresh_from_db()
    assert (staff.position, staff.user) == ("书记", users["caseworker_a"])
    assert list(AuditRecord.objects.filter(object_type="staff").values_list("action", flat=True)) == [
        "staff.create", "staff.update"]
    body = client.get(reverse("cases:staff_list")).content.decode()
    assert "王村长" in body and number not in body


def test_staff_errors_next_to_fields(users, client_for):
    existing = StaffFactory(region_id="220102001001")
    response = client_for(users["caseworker_a"]).post(reverse("cases:staff_create"), {
        "name": "重复", "id_number": existing.id_number, "staff_type": "village_cadre", "region": "220103001001"})
    form = response.context["form"]
    assert "已在工作人员名册中" in form.errors["id_number"][0]
    response = client_for(users["caseworker_a"]).post(reverse("cases:staff_create"), {
        "name": "外县", "id_number": make_id(), "staff_type": "village_cadre", "region": "220103001001"})
    assert "不在您的管辖范围内" in response.context["form"].errors["region"][0]
    assert Staff.objects.count() == 1


def test_filing_create_with_household_number(users, client_for):
    client = client_for(users["caseworker_a"])
    staff = StaffFactory(region_id="220102001001")
    household = HouseholdFactory(region_id="220102001001", household_no="H-REL")
    foreign = HouseholdFactory(region_id="220103001001", household_no="H-FAR")
    data = {"staff": staff.pk, "relative_name": "王父", "relative_id_number": make_id(), "relation": "父母",
            "filed_on": "2026-03-01", "household_no": "H-FAR"}
    response = client.post(reverse("cases:filing_create"), data)
    assert "不存在或不在您的管辖范围内" in response.context["form"].errors["household_no"][0]
    data["household_no"] = "H-REL"
    assert client.post(reverse("cases:filing_create"), data).status_code == 302
    filing = RelativeFiling.objects.get()
    assert filing.household == household and foreign.relative_filings.count() == 0
    # the household page shows the filing
    body = client.get(reverse("cases:household_detail", args=[household.pk])).content.decode()
    assert "王父" in body
    response = client.post(reverse("cases:filing_create"), data)
    assert "已为此亲属备案" in response.content.decode()


def test_filing_staff_choices_are_scoped(users, client_for):
    mine = StaffFactory(region_id="220102001001", name="本镇干部")
    StaffFactory(region_id="220102002001", name="邻镇干部")
    response = client_for(users["caseworker_a"]).get(reverse("cases:filing_create"))
    assert list(response.context["form"].fields["staff"].queryset) == [mine]

"""The household pages as a caseworker uses them: create with members, errors next to the
field, edit, search, masked numbers and the audited reveal."""
from django.urls import reverse

from cases.models import Household, Member
from dibao.models import AuditRecord
from tests.factories import HouseholdFactory, MemberFactory, make_id


def form_data(members=(), existing=(), **fields):
    data = {
        "household_no": "H-NEW-1", "region": "220102001001", "head_name": "张三",
        "head_id_number": make_id(), "category": "rural", "applied_on": "2026-01-05", "management_class": "B",
        "members-TOTAL_FORMS": str(len(existing) + len(members)), "members-INITIAL_FORMS": str(len(existing)),
        "members-MIN_NUM_FORMS": "0", "members-MAX_NUM_FORMS": "1000",
    }
    data.update(fields)
    for i, row in enumerate([*existing, *members]):
        for key, value in row.items():
            data[f"members-{i}-{key}"] = value
    return data


def test_create_household_adds_head_as_self_member(users, client_for):
    head_id, spouse_id = make_id(), make_id(male=False)
    response = client_for(users["caseworker_a"]).post(
        reverse("cases:household_create"),
        form_data(head_id_number=head_id, members=[{"name": "李四", "id_number": spouse_id, "relation": "配偶"}]))
    household = Household.objects.get(household_no="H-NEW-1")
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:household_detail", args=[household.pk])
    rows = {(m.name, m.id_number, m.relation) for m in household.members.all()}
    assert rows == {("张三", head_id, "本人"), ("李四", spouse_id, "配偶")}


def test_bad_id_shows_chinese_error_and_writes_nothing(users, client_for):
    good = make_id()
    bad = good[:-1] + ("1" if good[-1] != "1" else "2")
    response = client_for(users["caseworker_a"]).post(
        reverse("cases:household_create"),
        form_data(members=[{"name": "李四", "id_number": bad, "relation": "配偶"}]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "身份证号校验位错误" in body
    assert Household.objects.count() == 0
    assert Member.objects.count() == 0
    assert AuditRecord.objects.count() == 0
    # the error sits in the member row, next to the field
    form = response.context["formset"].forms[0]
    assert "身份证号校验位错误" in form.errors["id_number"][0]


def test_head_id_errors_and_rules_show_next_to_their_field(users, client_for):
    response = client_for(users["caseworker_a"]).post(
        reverse("cases:household_create"),
        form_data(head_id_number="2201021999023000"))
    form = response.context["form"]
    assert "18 位" in form.errors["head_id_number"][0]
    assert Household.objects.count() == 0
    # a county reviewer may pick the county itself, but a household is registered in a township or village
    response = client_for(users["reviewer"]).post(reverse("cases:household_create"), form_data(region="220102"))
    form = response.context["form"]
    assert "应选到乡镇" in form.errors["region"][0]
    assert Household.objects.count() == 0


def test_region_outside_scope_is_refused(users, client_for):
    response = client_for(users["caseworker_a"]).post(reverse("cases:household_create"),
                                                      form_data(region="220103001001"))
    assert "不在您的管辖范围内" in response.context["form"].errors["region"][0]
    assert Household.objects.count() == 0


def test_repeating_the_head_or_a_member_is_an_error_on_the_row(users, client_for):
    head_id, other = make_id(), make_id()
    response = client_for(users["caseworker_a"]).post(reverse("cases:household_create"), form_data(
        head_id_number=head_id,
        members=[{"name": "户主", "id_number": head_id, "relation": "子女"},
                 {"name": "甲", "id_number": other, "relation": "子女"},
                 {"name": "乙", "id_number": other.lower(), "relation": "子女"}]))
    forms = response.context["formset"].forms
    assert "户主已自动登记" in forms[0].errors["id_number"][0]
    assert "与第 2 行成员的身份证号重复" in forms[2].errors["id_number"][0]
    assert Household.objects.count() == 0


def test_edit_updates_head_member_adds_and_deletes_rows(users, client_for):
    # composition changes freely until approval (审核中); afterwards through a review or change
    household = HouseholdFactory(region_id="220102001001", status="pending", decided_on=None, monthly_amount=None)
    head = household.members.get(relation="本人")
    child = MemberFactory(household=household, relation="子女")
    new_head_id = make_id()
    existing = [
        {"id": head.pk, "disability_category": "肢体", "disability_level": "2", "serious_illness": "on"},
        {"id": child.pk, "name": child.name, "id_number": child.id_number, "relation": "子女", "DELETE": "on"},
    ]
    response = client_for(users["caseworker_a"]).post(
        reverse("cases:household_edit", args=[household.pk]),
        form_data(household_no=household.household_no, head_name="王五", head_id_number=new_head_id,
                  existing=existing, members=[{"name": "赵六", "id_number": make_id(), "relation": "父母"}]))
    assert response.status_code == 302, response.context["form"].errors
    household.refresh_from_db()
    head.refresh_from_db()
    assert (household.head_name, household.head_id_number) == ("王五", new_head_id)
    assert (head.name, head.id_number, head.relation) == ("王五", new_head_id, "本人")
    assert (head.disability_category, head.disability_level, head.serious_illness) == ("肢体", 2, True)
    assert not Member.objects.filter(pk=child.pk).exists()
    assert household.members.filter(name="赵六", relation="父母").exists()


def test_head_row_cannot_be_deleted(users, client_for):
    household = HouseholdFactory(region_id="220102001001")
    head = household.members.get(relation="本人")
    response = client_for(users["caseworker_a"]).post(
        reverse("cases:household_edit", args=[household.pk]),
        form_data(household_no=household.household_no, head_name=household.head_name,
                  head_id_number=household.head_id_number, existing=[{"id": head.pk, "DELETE": "on"}]))
    assert response.status_code == 200
    assert "不能删除户主" in response.content.decode()
    assert Member.objects.filter(pk=head.pk).exists()


def test_list_search_by_member_id_and_masking(users, client_for):
    household = HouseholdFactory(region_id="220102001001", household_no="H-FIND")
    other = HouseholdFactory(region_id="220102001001", household_no="H-OTHER")
    member = MemberFactory(household=household)
    client = client_for(users["caseworker_a"])
    # a member's number, typed with a lower-case x or full-width digits, finds the household
    query = member.id_number.translate(str.maketrans("0123456789X", "０１２３４５６７８９x"))
    body = client.get(reverse("cases:household_list"), {"q": query}).content.decode()
    assert "H-FIND" in body and "H-OTHER" not in body
    assert member.id_number not in body and household.head_id_number not in body
    assert household.head_id_masked in body
    body = client.get(reverse("cases:household_list"), {"q": other.head_id_number}).content.decode()
    assert "H-OTHER" in body and "H-FIND" not in body
    body = client.get(reverse("cases:household_list"), {"q": household.head_name}).content.decode()
    assert "H-FIND" in body


def test_list_filters(users, client_for):
    HouseholdFactory(region_id="220102001001", household_no="H-ACT", status="active", management_class="A")
    HouseholdFactory(region_id="220102001002", household_no="H-PEND", status="pending", decided_on=None,
                     management_class="C")
    client = client_for(users["reviewer"])
    body = client.get(reverse("cases:household_list"), {"status": "pending"}).content.decode()
    assert "H-PEND" in body and "H-ACT" not in body
    body = client.get(reverse("cases:household_list"), {"management_class": "A"}).content.decode()
    assert "H-ACT" in body and "H-PEND" not in body
    body = client.get(reverse("cases:household_list"), {"region": "220102001002000"[:12]}).content.decode()
    assert "H-PEND" in body and "H-ACT" not in body


def test_detail_masks_ids_and_reveal_is_audited(users, client_for):
    household = HouseholdFactory(region_id="220102001001")
    member = MemberFactory(household=household)
    client = client_for(users["caseworker_a"])
    body = client.get(reverse("cases:household_detail", args=[household.pk])).content.decode()
    assert household.head_id_number not in body and member.id_number not in body
    assert "显示完整号码" in body
    response = client.post(reverse("cases:household_reveal", args=[household.pk]), {"member": member.pk})
    assert member.id_number in response.content.decode()
    record = AuditRecord.objects.get(action="id_number.reveal")
    assert (record.actor, record.object_type, record.object_id) == (users["caseworker_a"], "member", str(member.pk))
    response = client.post(reverse("cases:household_reveal", args=[household.pk]), HTTP_HX_REQUEST="true")
    assert response.content.decode() == f'<span class="id-full">{household.head_id_number}</span>'


def test_supervisor_cannot_reveal(users, client_for):
    household = HouseholdFactory(region_id="220102001001")
    client = client_for(users["supervisor"])
    body = client.get(reverse("cases:household_detail", args=[household.pk])).content.decode()
    assert "显示完整号码" not in body
    response = client.post(reverse("cases:household_reveal", args=[household.pk]))
    assert response.status_code == 403
    assert household.head_id_number not in response.content.decode()
    assert not AuditRecord.objects.filter(action="id_number.reveal").exists()


def test_detail_timeline_shows_member_changes_masked(users, client_for):
    client = client_for(users["caseworker_a"])
    spouse_id = make_id()
    client.post(reverse("cases:household_create"),
                form_data(members=[{"name": "李四", "id_number": spouse_id, "relation": "配偶"}]))
    household = Household.objects.get()
    body = client.get(reverse("cases:household_detail", args=[household.pk])).content.decode()
    # the trail reads in Chinese: the action's name, never its key
    assert "新建低保家庭" in body and body.count("新增家庭成员") == 2
    assert "household.create" not in body and "member.create" not in body
    assert spouse_id not in body


def test_entry_check_panel_is_absent_until_audits_provides_it(users, client_for):
    from django.urls import NoReverseMatch, reverse as rev
    body = client_for(users["caseworker_a"]).get(reverse("cases:household_create")).content.decode()
    try:
        url = rev("audits:entry_check")
    except NoReverseMatch:
        assert 'id="entry-warnings"' not in body
    else:
        assert f'hx-post="{url}"' in body


def test_detail_shows_sex_birth_date_and_age_from_the_id_number(users, client_for):
    import datetime as dt

    from django.utils import timezone

    from tests.factories import HouseholdFactory, make_id

    number = make_id("220102", born=dt.date(1970, 1, 1), male=False)
    household = HouseholdFactory(region_id="220102001001", head_id_number=number)
    page = client_for(users["caseworker_a"]).get(f"/cases/households/{household.pk}/").content.decode()
    age = timezone.localdate().year - 1970
    assert "1970-01-01" in page and "女" in page and f"<td>{age}</td>" in page

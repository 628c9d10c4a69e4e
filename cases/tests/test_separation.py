"""Separation of duties (workflow.md): a caseworker never sets a household's status, decision date,
amount or exit on the household page, through the API or by an import; those change through the
application's steps, or an admin's legacy migration marked 历史数据迁移."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases import services
from cases.models import Household
from cases.tests.application_fixtures import accept, applicant, people, today  # noqa: F401 (fixtures)
from dibao.models import AuditRecord
from imports.models import ImportJob
from imports.tests.helpers import HOUSEHOLD_HEADER, run, write_csv
from tests.factories import HouseholdFactory, MemberFactory, make_id

JSON = "application/json"


def pending(**kw):
    return HouseholdFactory(region_id="220102001001", status="pending", decided_on=None, monthly_amount=None, **kw)


# ---------------------------------------------------------------- API
def test_caseworker_api_create_as_active_is_refused_and_nothing_written(users, client_for):
    payload = {"household_no": "API-1", "region": "220102001001", "head_name": "张三", "head_id_number": make_id(),
               "applied_on": "2026-01-05", "status": "active", "decided_on": "2026-02-01", "monthly_amount": "2000"}
    response = client_for(users["caseworker_a"]).post("/api/v1/households/", payload, content_type=JSON)
    assert response.status_code == 400
    errors = response.json()
    assert {"status", "decided_on", "monthly_amount"} <= set(errors)
    assert "低保申请/变更" in errors["status"][0] and "“状态”" in errors["status"][0]
    assert "“月保障金额”" in errors["monthly_amount"][0]
    assert not Household.objects.exists() and not AuditRecord.objects.exists()


def test_caseworker_api_write_of_amount_or_status_on_a_household_is_refused(users, client_for):
    household = pending(phone="13800000000")
    client = client_for(users["caseworker_a"])
    url = f"/api/v1/households/{household.pk}/"
    for change in ({"monthly_amount": "2000.00"}, {"status": "active"}, {"payment_stopped": True},
                   {"exited_on": "2026-03-01", "exit_reason": "收入超标"}):
        response = client.patch(url, {**change, "phone": "13900000000"}, content_type=JSON)
        assert response.status_code == 400, change
        assert set(change) <= set(response.json()), response.json()
    household.refresh_from_db()
    assert (household.status, household.monthly_amount, household.phone) == ("pending", None, "13800000000")
    assert not AuditRecord.objects.filter(action="household.update").exists()


def test_api_round_trip_with_unchanged_decisive_values_updates_descriptive_fields(users, client_for):
    household = HouseholdFactory(region_id="220102001001")  # 在保, 980.00
    client = client_for(users["caseworker_a"])
    url = f"/api/v1/households/{household.pk}/"
    data = client.get(url).json()
    assert data["status"] == "active" and data["monthly_amount"] == "980.00"
    data.update(phone="13912345678", monthly_amount="980")  # the same amount, written differently
    data["head_id_number"] = household.head_id_number
    response = client.put(url, data, content_type=JSON)
    assert response.status_code == 200, response.json()
    household.refresh_from_db()
    assert household.phone == "13912345678" and household.monthly_amount == Decimal("980.00")


def test_schema_marks_decisive_fields_read_only(users, client_for):
    schema = client_for(users["caseworker_a"]).get("/api/schema/", {"format": "json"}).json()
    props = schema["components"]["schemas"]["Household"]["properties"]
    assert props["status"].get("readOnly") and props["monthly_amount"].get("readOnly")
    assert not props["phone"].get("readOnly")


# ---------------------------------------------------------------- household page
def _edit_data(household, **fields):
    data = {"region": household.region_id, "head_name": household.head_name,
            "head_id_number": household.head_id_number, "category": "rural",
            "applied_on": household.applied_on.isoformat(), "management_class": "B",
            "members-TOTAL_FORMS": "0", "members-INITIAL_FORMS": "0", "members-MIN_NUM_FORMS": "0",
            "members-MAX_NUM_FORMS": "1000"}
    data.update(fields)
    return data


def test_household_page_shows_decisive_fields_read_only_and_ignores_them(users, client_for):
    household = HouseholdFactory(region_id="220102001001", phone="")
    client = client_for(users["caseworker_a"])
    url = reverse("cases:household_edit", args=[household.pk])
    body = client.get(url).content.decode()
    for name in ("status", "decided_on", "monthly_amount", "exited_on", "exit_reason", "rejection_reason"):
        assert f'name="{name}"' not in body, name
    assert 'id="decisive-fields"' in body and "980.00 元" in body and "低保申请或变更的审批步骤" in body
    response = client.post(url, _edit_data(household, phone="13800000000", status="exited",
                                           monthly_amount="2000", exited_on="2026-03-01"))
    assert response.status_code == 302
    household.refresh_from_db()
    assert (household.status, household.monthly_amount, household.exited_on) == ("active", Decimal("980.00"), None)
    assert household.phone == "13800000000"


def test_new_household_from_the_page_starts_pending(users, client_for):
    data = {"household_no": "NEW-1", "region": "220102001001", "head_name": "张三", "head_id_number": make_id(),
            "category": "rural", "applied_on": "2026-01-05", "management_class": "B",
            "status": "active", "decided_on": "2026-02-01", "monthly_amount": "2000",
            "members-TOTAL_FORMS": "0", "members-INITIAL_FORMS": "0", "members-MIN_NUM_FORMS": "0",
            "members-MAX_NUM_FORMS": "1000"}
    client = client_for(users["caseworker_a"])
    response = client.post(reverse("cases:household_create"), data)
    assert response.status_code == 302
    household = Household.objects.get(household_no="NEW-1")
    assert (household.status, household.decided_on, household.monthly_amount) == ("pending", None, None)
    # the next step is the application's 受理, offered on the household page
    body = client.get(response["Location"]).content.decode()
    assert f'id="accept-link" href="{reverse("cases:household_apply", args=[household.pk])}"' in body


def test_incomes_of_an_active_household_are_read_only_on_the_page(users, client_for):
    household = HouseholdFactory(region_id="220102001001")
    member = MemberFactory(household=household, monthly_income=Decimal("300.00"))
    client = client_for(users["caseworker_a"])
    url = reverse("cases:household_edit", args=[household.pk])
    response = client.get(url)
    forms = {f.instance.pk: f for f in response.context["formset"].forms if f.instance.pk}
    assert forms[member.pk].fields["monthly_income"].disabled
    head = household.members.get(relation="本人")
    rows = {"members-TOTAL_FORMS": "2", "members-INITIAL_FORMS": "2"}
    for i, (m, extra) in enumerate([(head, {}), (member, {"name": member.name, "id_number": member.id_number,
                                                           "relation": member.relation})]):
        rows.update({f"members-{i}-id": m.pk, f"members-{i}-monthly_income": "0",
                     f"members-{i}-disability_category": "肢体", f"members-{i}-disability_level": "2"})
        rows.update({f"members-{i}-{k}": v for k, v in extra.items()})
    response = client.post(url, {**_edit_data(household), **rows})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.monthly_income == Decimal("300.00")  # kept
    assert (member.disability_category, member.disability_level) == ("肢体", 2)  # descriptive: edited


# ---------------------------------------------------------------- services
def test_services_refuse_decisive_changes_with_the_field_named(users):
    household = pending()
    with pytest.raises(ValidationError) as exc:
        services.household_update(actor=users["caseworker_a"], household=household,
                                  data={"status": "active", "decided_on": dt.date(2026, 2, 1),
                                        "monthly_amount": Decimal("2000")})
    assert set(exc.value.message_dict) == {"status", "decided_on", "monthly_amount"}
    assert "“审批日期”" in exc.value.message_dict["decided_on"][0]
    # an admin is no exception: decisions are steps, and an admin's legacy data comes by import
    with pytest.raises(ValidationError):
        services.household_update(actor=users["admin"], household=household, data={"status": "active"})
    household.refresh_from_db()
    assert household.status == "pending"


def test_incomes_and_composition_of_an_active_household_change_through_review(users):
    household = HouseholdFactory(region_id="220102001001")
    member = MemberFactory(household=household, monthly_income=Decimal("300.00"))
    actor = users["caseworker_a"]
    with pytest.raises(ValidationError, match="在保家庭.*成员收入.*定期核查或低保变更"):
        services.member_update(actor=actor, member=member, data={"monthly_income": Decimal("0")})
    with pytest.raises(ValidationError, match="增加家庭成员"):
        services.member_add(actor=actor, household=household,
                            data={"name": "新成员", "id_number": make_id(), "relation": "子女"})
    with pytest.raises(ValidationError, match="减少家庭成员"):
        services.member_remove(actor=actor, member=member)
    services.member_update(actor=actor, member=member, data={"serious_illness": True,
                                                             "monthly_income": Decimal("300")})
    member.refresh_from_db()
    assert member.serious_illness and member.monthly_income == Decimal("300.00")
    assert household.members.count() == 2


def test_a_county_decision_on_a_finding_still_exits(users):
    household = HouseholdFactory(region_id="220102001001")
    services.household_exit(actor=users["reviewer"], household=household, exited_on=dt.date(2026, 3, 1),
                            reason="死亡")
    household.refresh_from_db()
    assert (household.status, household.exited_on) == ("exited", dt.date(2026, 3, 1))


# ---------------------------------------------------------------- registry imports
def _row(no, status="审核中", decided="", amount="", id_number=None, region="220102001001", phone=None):
    row = [no, region, "张三", id_number or make_id(), "农村低保", status, "2023-01-05", decided, "", amount, "B", "否"]
    return row if phone is None else row + [phone]


def test_caseworker_import_setting_active_is_refused(tmp_path, users):
    path = write_csv(tmp_path / "h.csv", HOUSEHOLD_HEADER,
                     [_row("N1"), _row("N2", status="在保", decided="2023-02-01", amount="2000")])
    job = run(users["caseworker_a"], "households", path)
    assert job.state == ImportJob.State.INVALID
    errors = [e for e in job.errors if e["row"] == 3]
    assert errors[0]["column"] == "状态" and errors[0]["value"] == "在保"
    assert "系统管理员" in errors[0]["reason"] and "legacy migration" in errors[0]["reason_en"]
    assert not Household.objects.exists()


def test_township_import_updates_descriptive_fields_of_an_active_household(tmp_path, users):
    household = HouseholdFactory(region_id="220102001001", household_no="H-1", decided_on=dt.date(2023, 2, 1))
    header = [*HOUSEHOLD_HEADER, "联系电话"]
    same = _row("H-1", status="在保", decided="2023-02-01", amount="980", id_number=household.head_id_number,
                phone="13800000000")
    job = run(users["caseworker_a"], "households", write_csv(tmp_path / "h.csv", header, [same]))
    assert job.state == ImportJob.State.DONE, job.report
    household.refresh_from_db()
    assert household.phone == "13800000000" and not household.legacy_migration
    raised = _row("H-1", status="在保", decided="2023-02-01", amount="1500", id_number=household.head_id_number)
    job = run(users["caseworker_a"], "households", write_csv(tmp_path / "h2.csv", HOUSEHOLD_HEADER, [raised]))
    assert job.state == ImportJob.State.INVALID and job.errors[0]["column"] == "月保障金额"
    household.refresh_from_db()
    assert household.monthly_amount == Decimal("980.00")


def test_admin_import_is_legacy_migration_marked_on_household_and_trail(tmp_path, users, client_for):
    step_made = HouseholdFactory(region_id="220102001001", household_no="H-STEP", decided_on=dt.date(2023, 2, 1))
    rows = [_row("H-OLD", status="在保", decided="2023-02-01", amount="760"), _row("H-NEW"),
            _row("H-STEP", status="在保", decided="2023-02-01", amount="980", id_number=step_made.head_id_number)]
    job = run(users["admin"], "households", write_csv(tmp_path / "h.csv", HOUSEHOLD_HEADER, rows))
    assert job.state == ImportJob.State.DONE, job.report
    marked = dict(Household.objects.values_list("household_no", "legacy_migration"))
    assert marked == {"H-OLD": True, "H-NEW": False, "H-STEP": False}
    record = AuditRecord.objects.get(action="import.households")
    assert record.after["legacy_migration"] == 1 and "历史数据迁移" in record.note
    old = Household.objects.get(household_no="H-OLD")
    assert old.status == "active" and old.monthly_amount == Decimal("760.00")
    body = client_for(users["caseworker_a"]).get(reverse("cases:household_detail", args=[old.pk])).content.decode()
    assert "历史数据迁移" in body
    body = client_for(users["caseworker_a"]).get(
        reverse("cases:household_detail", args=[step_made.pk])).content.decode()
    assert "历史数据迁移" not in body


# ---------------------------------------------------------------- the demo follows the same path
def test_demo_households_come_from_applications_with_computed_amounts(users, regions, settings, tmp_path):
    import random

    from cases import benefits, demo
    from cases.models import AmountHistory, Application, ApplicationState

    settings.MEDIA_ROOT = tmp_path
    summary = demo.seed(county=regions["220102"], users={"admin": users["admin"], "caseworker": users["caseworker_a"],
                                                         "county_reviewer": users["reviewer"]},
                        rng=random.Random(5), households=12)
    assert "24 households" in summary and "4 benefit standards" in summary  # 12 decided, 11 open, 1 not accepted
    assert not Household.objects.filter(legacy_migration=True).exists()
    for household in Household.objects.filter(status__in=["active", "exited"]).prefetch_related("members"):
        app = household.applications.get()
        assert app.state == ApplicationState.APPROVED and app.family_notified_on
        assert app.accepted_by != app.proposed_by and app.decided_by == users["reviewer"]
        month = household.decided_on.replace(day=1)
        assert household.monthly_amount == benefits.household_amount(household, month).amount > 0
        assert AmountHistory.objects.filter(household=household, amount=household.monthly_amount).exists()
    states = set(Application.objects.values_list("state", flat=True))
    assert {"accepted", "visited", "proposed", "notice", "approved", "refused", "not_accepted"} <= states
    overdue = Application.objects.filter(state="notice", confirm_due_on__lt=dt.date.today())
    assert overdue.exists()
    assert demo.seed(county=regions["220102"], users={"admin": users["admin"]}, rng=random.Random(5)) == \
        "registry: already seeded"


def test_household_pages_link_to_the_application_that_decided(people, applicant, today, client_for):
    app = accept(people, applicant)
    client = client_for(people["caseworker_a"])
    link = reverse("cases:application_detail", args=[app.pk])
    for name in ("cases:household_edit", "cases:household_detail"):
        body = client.get(reverse(name, args=[applicant.pk])).content.decode()
        assert f'href="{link}" id="decision-link"' in body and app.tracking_no in body

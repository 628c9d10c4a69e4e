"""The payment roll (payments.md): membership at the month's boundaries, the amount in force,
no overlap, approval by another county user, and the bank file."""
import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from cases.models import Status
from payments import services
from payments.models import PaymentLine
from payments.tests.helpers import amount
from tests.factories import HouseholdFactory, MemberFactory, make_id

pytestmark = pytest.mark.django_db
OCT = dt.date(2026, 10, 1)


def rolled(roll) -> dict[str, Decimal]:
    return dict(roll.lines.values_list("household_no", "amount"))


def test_membership_at_the_month_boundaries(users):
    inside = {
        "decided_last_day": HouseholdFactory(decided_on=dt.date(2026, 10, 31)),
        "exited_second": HouseholdFactory(status=Status.EXITED, exited_on=dt.date(2026, 10, 2)),
        "exits_later": HouseholdFactory(status=Status.EXITED, exited_on=dt.date(2026, 11, 1)),
    }
    outside = {
        "decided_next_month": HouseholdFactory(decided_on=dt.date(2026, 11, 1), applied_on=dt.date(2026, 10, 1)),
        "exited_first": HouseholdFactory(status=Status.EXITED, exited_on=dt.date(2026, 10, 1)),
        "pending": HouseholdFactory(status=Status.PENDING, decided_on=None),
        "rejected": HouseholdFactory(status=Status.REJECTED),
        "suspended": HouseholdFactory(payment_stopped=True),
        "zero": HouseholdFactory(monthly_amount=Decimal("0")),
        "other_county": HouseholdFactory(region_id="220103001001"),
    }
    roll = services.roll_create(actor=users["reviewer"], month=OCT)
    assert roll.region_code == "220102"
    assert set(rolled(roll)) == {h.household_no for h in inside.values()}
    assert roll.households == 3 and roll.total == Decimal("2940.00")


def test_a_suspension_counts_for_the_months_it_covered_after_payment_resumed(users):
    from cases.models import PaymentSuspension

    resumed = HouseholdFactory(payment_stopped=False)  # 停发 for September and October, resumed in November
    PaymentSuspension.objects.create(household=resumed, from_month=dt.date(2026, 9, 1),
                                     to_month=dt.date(2026, 10, 1), reason="外出务工收入待核实")
    still = HouseholdFactory(payment_stopped=True)
    PaymentSuspension.objects.create(household=still, from_month=dt.date(2026, 11, 1), reason="死亡待核实")
    paid_in_october = rolled(services.roll_create(actor=users["reviewer"], month=OCT))
    assert resumed.household_no not in paid_in_october and still.household_no in paid_in_october
    paid_in_november = rolled(services.roll_create(actor=users["reviewer"], month=dt.date(2026, 11, 1)))
    assert resumed.household_no in paid_in_november and still.household_no not in paid_in_november


def test_amount_in_force_after_a_change_and_before_the_first(users):
    changed = HouseholdFactory(monthly_amount=Decimal("700.00"))
    amount(changed, "2020-02", "980.00")
    amount(changed, "2026-10", "640.00")
    amount(changed, "2026-11", "700.00")
    not_yet = HouseholdFactory()
    amount(not_yet, "2026-11", "500.00")  # history starts after the month: nothing due yet
    roll = services.roll_create(actor=users["reviewer"], month=OCT)
    assert rolled(roll) == {changed.household_no: Decimal("640.00")}


def test_payee_account_and_ordering(users):
    b = HouseholdFactory(household_no="H2", region_id="220102002001", account_no="")
    a = HouseholdFactory(household_no="H1", account_no="6217000000000000001", bank_name="农村信用社")
    guardian = MemberFactory(household=a, name="监护人")
    a.payee_id_number = guardian.id_number
    a.save()
    roll = services.roll_create(actor=users["reviewer"], month=OCT)
    lines = list(roll.lines.order_by("region_code", "household_no"))
    assert [line.household_no for line in lines] == ["H1", "H2"]
    assert (lines[0].payee_name, lines[0].payee_id_number) == ("监护人", guardian.id_number)
    assert (lines[1].payee_name, lines[1].account_no) == (b.head_name, "")
    assert roll.no_account == 1


def test_rolls_of_a_month_do_not_overlap_and_approved_is_frozen(users, regions):
    HouseholdFactory()
    township = services.roll_create(actor="system", month=OCT, region_code="220102001")
    with pytest.raises(ValidationError, match="重叠"):
        services.roll_create(actor=users["reviewer"], month=OCT, region_code="220102")
    again = services.roll_create(actor="system", month=OCT, region_code="220102001")
    assert again.pk == township.pk and again.households == 1
    services.roll_approve(actor=users["reviewer"], roll=again)
    with pytest.raises(ValidationError, match="已于"):
        services.roll_create(actor="system", month=OCT, region_code="220102001")


def test_maker_is_not_checker(users, regions):
    from tests.factories import UserFactory

    HouseholdFactory()
    roll = services.roll_create(actor=users["reviewer"], month=OCT)
    with pytest.raises(PermissionDenied, match="编制与审批分离"):
        services.roll_approve(actor=users["reviewer"], roll=roll)
    with pytest.raises(PermissionDenied):
        services.roll_approve(actor=users["reviewer_other"], roll=roll)  # another county
    with pytest.raises(PermissionDenied):
        services.roll_create(actor=users["caseworker_a"], month=OCT)
    second = UserFactory(region=regions["220102"], role="county_reviewer")
    assert services.roll_approve(actor=second, roll=roll).is_approved


def test_payroll_commands_and_the_bank_file(regions, tmp_path):
    h = HouseholdFactory(head_name="=HYPERLINK(\"http://x\")", account_no="6217000000000000001", bank_name="+银行")
    out = io.StringIO()
    call_command("payroll", "--month", "2026-10", "--region", "220102", stdout=out)
    assert "1 households, total 980.00" in out.getvalue()
    csv_path, xlsx_path = tmp_path / "bank.csv", tmp_path / "bank.xlsx"
    call_command("export_payroll", "--month", "2026-10", "--region", "220102", "--output", str(csv_path),
                 stdout=io.StringIO())
    rows = list(csv.reader(csv_path.open(encoding="utf-8")))
    assert rows[0] == ["household_no", "payee_name", "payee_id_number", "account_no", "bank_name", "amount",
                       "region_code"]
    assert rows[1] == [h.household_no, "'=HYPERLINK(\"http://x\")", h.head_id_number, "6217000000000000001",
                       "'+银行", "980.00", "220102001001"]
    call_command("export_payroll", "--month", "2026-10", "--region", "220102", "--output", str(xlsx_path),
                 stdout=io.StringIO())
    sheet = openpyxl.load_workbook(xlsx_path).active
    assert "未审批" in sheet["A1"].value
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row]
    assert "=HYPERLINK(\"http://x\")" in cells and "南岭街道小计" in cells and "合计" in cells
    assert sheet.cell(row=4, column=3).data_type == "s"


def test_one_roll_per_household_and_month_in_the_database(users):
    h = HouseholdFactory()
    roll = services.roll_create(actor="system", month=OCT, region_code="220102001")
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentLine.objects.create(roll=roll, month=OCT, household=h, household_no=h.household_no,
                                   amount=Decimal("1"), region_code=h.region_id)

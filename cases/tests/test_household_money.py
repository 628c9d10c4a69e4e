"""The money side of the household page (payee, masked account, amount history with the amount
in force) and a 调标 that must not overwrite an amount decided after its list was prepared."""
import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from cases import services
from cases.models import AmountHistory, AmountSource, Household, RerateLine
from cases.tests.application_fixtures import accept, applicant, people, today  # noqa: F401 (fixtures)
from cases.tests.test_benefits import family, standard
from dibao.models import AuditRecord
from tests.factories import HouseholdFactory, UserFactory, make_id

D = Decimal
pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------ the household page
@pytest.fixture
def paid_household(people, applicant, today):
    """The applicant decided at 650 from 2026-09 (its application), with a change to 700 decided
    for 2026-11 — after this month (2026-10), so 650 is still the amount in force."""
    app = accept(people, applicant)
    payee = make_id(seq=77)
    Household.objects.filter(pk=applicant.pk).update(payee_id_number=payee, account_no="6228480012345678",
                                                     bank_name="农业银行南关支行")
    AmountHistory.objects.create(household=applicant, effective_month=dt.date(2026, 9, 1), amount=D("650"),
                                 covered_persons=2, source=AmountSource.APPLICATION, note=app.tracking_no,
                                 decided_by=people["reviewer"])
    AmountHistory.objects.create(household=applicant, effective_month=dt.date(2026, 11, 1), amount=D("700"),
                                 covered_persons=2, source=AmountSource.CHANGE, note="BG-UNKNOWN",
                                 decided_by=people["reviewer_2"])
    return {"household": Household.objects.get(pk=applicant.pk), "application": app, "payee": payee}


def test_detail_page_shows_payee_masked_and_the_amount_history(people, client_for, paid_household):
    household, app, payee = paid_household["household"], paid_household["application"], paid_household["payee"]
    page = client_for(people["caseworker_a"]).get(reverse("cases:household_detail", args=[household.pk]))
    text = page.content.decode()
    assert "****5678" in text and "6228480012345678" not in text
    assert household.payee_id_masked in text and payee not in text
    assert "农业银行南关支行" in text
    assert "2026-09" in text and "2026-11" in text and "700.00" in text
    assert reverse("cases:application_detail", args=[app.pk]) in text
    assert str(people["reviewer"]) in text
    in_force = page.context["amount_history"]
    assert [(row.effective_month.month, row.in_force) for row in in_force] == [(11, False), (9, True)]
    assert 'id="amount-in-force">650.00' in text


def test_payee_id_revealed_on_request_and_audited(people, client_for, paid_household):
    household, payee = paid_household["household"], paid_household["payee"]
    response = client_for(people["caseworker_a"]).post(reverse("cases:household_reveal", args=[household.pk]),
                                                       {"payee": "1"}, HTTP_HX_REQUEST="true")
    assert payee in response.content.decode()
    assert AuditRecord.objects.filter(action="id_number.reveal", object_id=str(household.pk),
                                      note=household.payee_id_masked).exists()


def test_household_without_payee_or_history_says_so(users, client_for):
    household = HouseholdFactory()
    text = client_for(users["caseworker_a"]).get(reverse("cases:household_detail", args=[household.pk])).content.decode()
    assert "户主本人" in text and "尚无核定金额" in text


# ------------------------------------------------------------------ 调标 against a change meanwhile
@pytest.fixture
def prepared(users):
    standard("220102", "490", dt.date(2023, 1, 1))
    new = standard("220102", "520", dt.date(2024, 1, 1))
    changed_now = family([D("500"), D("320"), None], monthly_amount=D("650"))
    changed_later = family([D("500"), D("320"), None], monthly_amount=D("650"))
    untouched = family([D("500"), D("320"), None], monthly_amount=D("650"))
    for household in (changed_now, changed_later, untouched):
        AmountHistory.objects.create(household=household, effective_month=dt.date(2023, 1, 1), amount=D("650"),
                                     covered_persons=3, source=AmountSource.APPLICATION)
    rerate = services.rerate_prepare(actor=users["reviewer"], region_code="220102", standard=new)
    assert set(rerate.lines.values_list("new_amount", flat=True)) == {D("740")}
    return rerate, changed_now, changed_later, untouched


def _decide_change(household, month, amount):
    """What a confirmed change writes: its amount history row and the household's amount."""
    AmountHistory.objects.create(household=household, effective_month=month, amount=amount, covered_persons=3,
                                 source=AmountSource.CHANGE, note="BG-1")
    Household.objects.filter(pk=household.pk).update(monthly_amount=amount)


def test_rerate_confirm_skips_and_reports_households_whose_amount_changed_meanwhile(users, prepared):
    rerate, changed_now, changed_later, untouched = prepared
    _decide_change(changed_now, dt.date(2024, 1, 1), D("300"))      # the rerate's own month
    # a later month: the amount in force at the rerate's month is the same, but the household's
    # amount would still be overwritten
    _decide_change(changed_later, dt.date(2024, 3, 1), D("310"))
    second = UserFactory(username="rev2", region=users["reviewer"].region, role="county_reviewer")

    outcome = services.rerate_confirm(actor=second, rerate=rerate)

    assert outcome.changed == 1
    assert outcome.skipped == sorted([changed_now.household_no, changed_later.household_no])
    amounts = dict(Household.objects.values_list("pk", "monthly_amount"))
    assert (amounts[changed_now.pk], amounts[changed_later.pk], amounts[untouched.pk]) == (D("300"), D("310"),
                                                                                           D("740"))
    rerated = AmountHistory.objects.filter(source=AmountSource.RERATE).values_list("household_id", flat=True)
    assert list(rerated) == [untouched.pk]
    assert set(RerateLine.objects.filter(stale=True).values_list("household_id", flat=True)) == {
        changed_now.pk, changed_later.pk}
    record = AuditRecord.objects.get(action="rerate.confirm")
    assert record.after["households_skipped"] == outcome.skipped


def test_rerate_confirm_page_warns_with_the_skipped_households(users, client_for, prepared):
    rerate, changed_now, _later, _untouched = prepared
    _decide_change(changed_now, dt.date(2024, 1, 1), D("300"))
    second = UserFactory(username="rev2", region=users["reviewer"].region, role="county_reviewer")
    page = client_for(second).post(reverse("cases:rerate_confirm", args=[rerate.pk]), follow=True)
    text = page.content.decode()
    assert "1 户在清单编制后现行金额已有变化" in text and changed_now.household_no in text
    assert "已确认调标：2 户" in text

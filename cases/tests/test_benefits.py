"""The amount of workflow.md: standards in force, the formula, 单人保, the history and 调标."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from cases import benefits, services
from cases.models import AmountHistory, AmountSource, BenefitStandard, Household, Member, Rerate
from dibao.models import AuditRecord
from tests.factories import HouseholdFactory, MemberFactory, UserFactory

D = Decimal


def standard(region, amount, effective, category="rural"):
    return BenefitStandard.objects.create(region_id=region, category=category, monthly_standard=D(amount),
                                          effective_from=effective)


def family(incomes, *, region="220102001001", category="rural", single_index=None, **kw):
    """A household whose members (the head first) have these incomes."""
    household = HouseholdFactory(region_id=region, category=category, **kw)
    members = list(household.members.all())
    head = members[0]
    head.monthly_income = incomes[0]
    head.save()
    members += [MemberFactory(household=household, relation="子女", monthly_income=i) for i in incomes[1:]]
    if single_index is not None:
        household.single_coverage_id_number = members[single_index].id_number
        household.save()
    return household


# ------------------------------------------------------------------ the formula
def test_ordinary_household_is_standard_times_members_minus_income():
    w = benefits.compute_amount(standard=D("490"), incomes=[D("500"), D("320"), None])
    assert (w.amount, w.covered_persons, w.income_total, w.single) == (D("650"), 3, D("820.00"), False)
    assert w.working == "（490 元 × 3 人 − 820.00 元）= 650 元"


def test_income_above_the_standard_gives_nothing():
    w = benefits.compute_amount(standard=D("490"), incomes=[D("1200"), D("300")])
    assert w.amount == 0
    assert "补差 0 元" in w.working


@pytest.mark.parametrize("incomes, expected", [
    ([D("819.50")], D("651")),      # 1470 − 819.50 = 650.50 → 651 (half up, not to even)
    ([D("818.50")], D("652")),      # 651.50 → 652
    ([D("819.51")], D("650")),      # 650.49 → 650
])
def test_rounding_to_whole_yuan_half_up(incomes, expected):
    w = benefits.compute_amount(standard=D("490"), incomes=[incomes[0], None, None])
    assert w.amount == expected
    assert "四舍五入" in w.working or w.amount == w.standard * 3 - incomes[0]


def test_single_coverage_is_paid_as_one_person_from_own_income_even_when_family_is_above():
    # Family income per head 600 > 490, so the family gets nothing; the disabled member alone gets 490 − 120.
    incomes = [D("1000"), D("680"), D("120")]
    assert benefits.compute_amount(standard=D("490"), incomes=incomes).amount == 0
    w = benefits.compute_amount(standard=D("490"), incomes=incomes, single_member_income=D("120"))
    assert (w.amount, w.covered_persons, w.single) == (D("370"), 1, True)
    assert w.income_per_head == D("600.00")
    assert w.working.startswith("单人保")


def test_edge_family_and_single_coverage_eligibility(settings):
    assert benefits.is_edge_family(standard=D("490"), incomes=[D("700"), D("700")])        # 700 < 735
    assert not benefits.is_edge_family(standard=D("490"), incomes=[D("735"), D("735")])
    settings.EDGE_FACTOR = "2"
    assert benefits.is_edge_family(standard=D("490"), incomes=[D("735"), D("735")])
    member = Member(disability_category="肢体", disability_level=2)
    assert benefits.single_coverage_eligible(member)
    assert not benefits.single_coverage_eligible(Member(disability_category="肢体", disability_level=3))
    assert benefits.single_coverage_eligible(Member(disability_category="精神", disability_level=3))
    assert benefits.single_coverage_eligible(Member(disability_category="智力", disability_level=3))
    assert benefits.single_coverage_eligible(Member(serious_illness=True))
    assert not benefits.single_coverage_eligible(Member())


# ------------------------------------------------------------------ the standard in force
@pytest.mark.django_db
def test_county_overrides_city_overrides_province(regions):
    standard("22", "400", dt.date(2023, 1, 1))
    city = standard("2201", "450", dt.date(2023, 1, 1))
    county = standard("220102", "490", dt.date(2023, 1, 1))
    july = dt.date(2023, 7, 1)
    assert benefits.standard_in_force(region_code="220102001001", category="rural", month=july) == county
    assert benefits.standard_in_force(region_code="220103001001", category="rural", month=july) == city


@pytest.mark.django_db
def test_a_county_row_dated_2023_beats_a_province_row_dated_2024(regions):
    county = standard("220102", "490", dt.date(2023, 1, 1))
    standard("22", "520", dt.date(2024, 1, 1))
    assert benefits.standard_in_force(region_code="220102001", category="rural", month=dt.date(2024, 6, 1)) == county


@pytest.mark.django_db
def test_latest_date_wins_and_a_future_standard_is_not_applied(regions):
    standard("220102", "490", dt.date(2023, 1, 1))
    newer = standard("220102", "510", dt.date(2024, 1, 1))
    standard("220102", "560", dt.date(2024, 7, 15))     # mid-month: in force from August
    assert benefits.standard_in_force(region_code="220102001", category="rural", month=dt.date(2024, 7, 20)) == newer
    assert benefits.standard_in_force(region_code="220102001", category="rural",
                                      month=dt.date(2024, 8, 1)).monthly_standard == D("560")
    assert benefits.standard_in_force(region_code="220102001", category="rural", month=dt.date(2022, 12, 1)) is None


@pytest.mark.django_db
def test_urban_and_rural_are_separate(regions):
    standard("220102", "490", dt.date(2023, 1, 1))
    urban = standard("220102", "535", dt.date(2023, 1, 1), category="urban")
    assert benefits.standard_in_force(region_code="220102001", category="urban", month=dt.date(2023, 5, 1)) == urban
    assert benefits.standard_in_force(region_code="220103001", category="urban", month=dt.date(2023, 5, 1)) is None


# ------------------------------------------------------------------ one household, and the same in SQL
def _sql_amounts(month):
    sql, params = benefits.computed_amounts_sql(where="h.region_code LIKE %s", params=["22%"], month=month)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        cols = [c[0] for c in cursor.description]
        return {row[0]: dict(zip(cols, row)) for row in cursor.fetchall()}


@pytest.mark.django_db
def test_household_amount_and_the_sql_formula_agree(regions):
    standard("22", "400.50", dt.date(2023, 1, 1))
    standard("220102", "490", dt.date(2023, 1, 1))
    standard("220102", "535", dt.date(2023, 1, 1), category="urban")
    families = [
        family([D("500"), D("320"), None]),
        family([D("819.50"), None, None]),
        family([D("1000"), D("680"), D("120")], single_index=2),
        family([D("3000")]),
        family([D("0.01"), D("0.02")], category="urban"),
        family([D("100"), D("33.33"), D("0.49")], region="220103001001"),
    ]
    gone = family([D("100"), D("50")], single_index=1)
    Member.objects.filter(id_number=gone.single_coverage_id_number).delete()  # 单人保 member left: ordinary again
    month = dt.date(2024, 3, 1)
    rows = _sql_amounts(month)
    for household in families + [gone]:
        working = benefits.household_amount(household, month)
        row = rows[household.pk]
        assert D(row["amount_cents"]) / 100 == working.amount, (household, working)
        assert row["covered_persons"] == working.covered_persons
    assert rows[families[2].pk]["covered_persons"] == 1 and rows[families[2].pk]["amount_cents"] == 37000
    assert rows[families[5].pk]["amount_cents"] == 106800  # province 400.50 × 3 − 133.82 = 1067.68 → 1068


@pytest.mark.django_db
def test_no_standard_means_no_amount(regions):
    household = family([D("100")])
    assert benefits.household_amount(household, dt.date(2024, 1, 1)) is None
    assert _sql_amounts(dt.date(2024, 1, 1)) == {}


@pytest.mark.django_db
def test_amount_in_force_is_the_latest_effective_on_or_before_the_month(regions):
    household = family([D("100")])
    for month, amount in ((dt.date(2023, 1, 1), "390"), (dt.date(2024, 1, 1), "410")):
        AmountHistory.objects.create(household=household, effective_month=month, amount=D(amount),
                                     source=AmountSource.CHANGE)
    assert benefits.amount_in_force(household.pk, dt.date(2022, 12, 1)) is None
    assert benefits.amount_in_force(household.pk, dt.date(2023, 12, 31)) == D("390")
    assert benefits.amount_in_force(household.pk, dt.date(2024, 2, 1)) == D("410")


@pytest.mark.django_db
def test_imported_amounts_become_history_from_the_decision_month(regions):
    active = HouseholdFactory(decided_on=dt.date(2021, 3, 17), monthly_amount=D("620"))
    exited = HouseholdFactory(status="exited", decided_on=dt.date(2019, 5, 2), exited_on=dt.date(2022, 1, 1),
                              monthly_amount=D("300"))
    HouseholdFactory(status="pending", decided_on=None, monthly_amount=None)
    from django.utils import timezone

    def record():
        with connection.cursor() as cursor:
            benefits.record_imported_amounts(cursor, households_where="1 = 1", params=[], now=timezone.now())
    record()
    record()  # idempotent
    assert list(AmountHistory.objects.order_by("household_id").values_list("household_id", "effective_month",
                                                                          "amount", "source")) == [
        (active.pk, dt.date(2021, 3, 1), D("620"), "import"), (exited.pk, dt.date(2019, 5, 1), D("300"), "import")]
    Household.objects.filter(pk=active.pk).update(monthly_amount=D("640"))
    record()  # a corrected import replaces the imported row
    assert benefits.amount_in_force(active.pk, dt.date(2021, 3, 1)) == D("640")
    assert AmountHistory.objects.filter(household=active).count() == 1


# ------------------------------------------------------------------ 调标
@pytest.fixture
def rerate_setup(users):
    old = standard("220102", "490", dt.date(2023, 1, 1))
    households = [family([D("500"), D("320"), None], monthly_amount=D("650")),
                  family([D("1000"), D("680"), D("120")], single_index=2, monthly_amount=D("370")),
                  family([D("2000")], monthly_amount=D("0"))]
    elsewhere = family([D("100")], region="220103001001", monthly_amount=D("390"))
    new = standard("220102", "520", dt.date(2024, 1, 1))
    return {"old": old, "new": new, "households": households, "elsewhere": elsewhere,
            "second": UserFactory(username="rev2", region=users["reviewer"].region, role="county_reviewer")}


@pytest.mark.django_db
def test_rerate_lists_old_and_new_and_a_second_county_user_confirms(users, rerate_setup):
    reviewer, second = users["reviewer"], rerate_setup["second"]
    h1, h2, h3 = rerate_setup["households"]
    rerate = services.rerate_prepare(actor=reviewer, region_code="220102", standard=rerate_setup["new"])
    lines = {line.household_id: (line.old_amount, line.new_amount, line.covered_persons)
             for line in rerate.lines.all()}
    assert lines == {h1.pk: (D("650"), D("740"), 3), h2.pk: (D("370"), D("400"), 1), h3.pk: (D("0"), D("0"), 1)}
    assert Household.objects.get(pk=h1.pk).monthly_amount == D("650")  # nothing changes before confirmation

    with pytest.raises(PermissionDenied, match="另一名"):
        services.rerate_confirm(actor=reviewer, rerate=rerate)
    with pytest.raises(PermissionDenied):
        services.rerate_confirm(actor=users["reviewer_other"], rerate=rerate)  # another county
    assert services.rerate_confirm(actor=second, rerate=rerate).changed == 2
    assert Household.objects.get(pk=h1.pk).monthly_amount == D("740")
    history = AmountHistory.objects.get(household=h2)
    assert (history.effective_month, history.amount, history.covered_persons, history.source,
            history.decided_by) == (dt.date(2024, 1, 1), D("400"), 1, "rerate", second)
    assert not AmountHistory.objects.filter(household=h3).exists()      # unchanged amounts are not rewritten
    assert Household.objects.get(pk=rerate_setup["elsewhere"].pk).monthly_amount == D("390")
    assert Rerate.objects.get(pk=rerate.pk).state == "confirmed"
    assert AuditRecord.objects.filter(action__in=["rerate.prepare", "rerate.confirm"]).count() == 2
    with pytest.raises(ValidationError):
        services.rerate_confirm(actor=second, rerate=rerate)


@pytest.mark.django_db
def test_rerate_is_for_county_users_of_the_standards_region(users, rerate_setup):
    with pytest.raises(PermissionDenied):
        services.rerate_prepare(actor=users["caseworker_a"], region_code="220102", standard=rerate_setup["new"])
    with pytest.raises(ValidationError, match="不适用"):
        services.rerate_prepare(actor=users["reviewer_other"], region_code="220103", standard=rerate_setup["new"])


# ------------------------------------------------------------------ pages
@pytest.mark.django_db
def test_standards_page_shows_the_standard_in_force_for_each_county(users, client_for):
    standard("22", "400", dt.date(2020, 1, 1))
    standard("220102", "490", dt.date(2020, 1, 1))
    page = client_for(users["caseworker_a"]).get(_url("cases:standard_list"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "南关区" in text and "490.00" in text and "宽城区" not in text
    supervisor = client_for(users["supervisor"]).get(_url("cases:standard_list")).content.decode()
    assert "宽城区" in supervisor and "400.00" in supervisor
    assert client_for(users["inspector"]).get(_url("cases:standard_list")).status_code == 403


@pytest.mark.django_db
def test_rerate_pages_prepare_then_another_reviewer_confirms(users, client_for, rerate_setup):
    maker = client_for(users["reviewer"])
    assert client_for(users["caseworker_a"]).get(_url("cases:rerate_list")).status_code == 403
    response = maker.post(_url("cases:rerate_list"), {"standard": rerate_setup["new"].pk, "region_code": "220102"})
    rerate = Rerate.objects.get()
    assert response.status_code == 302 and response["Location"] == _url("cases:rerate_detail", rerate.pk)
    own = maker.get(_url("cases:rerate_detail", rerate.pk)).content.decode()
    assert "740.00" in own and "确认全部" not in own
    checker = client_for(rerate_setup["second"])
    assert "确认全部 2 户" in checker.get(_url("cases:rerate_detail", rerate.pk)).content.decode()
    checker.post(_url("cases:rerate_confirm", rerate.pk))
    assert Household.objects.get(pk=rerate_setup["households"][0].pk).monthly_amount == D("740")
    assert client_for(users["reviewer_other"]).get(_url("cases:rerate_detail", rerate.pk)).status_code == 404


def _url(name, *args):
    from django.urls import reverse
    return reverse(name, args=args)

"""Payment verification (回访核实): a reproducible sample of a month's paid households per township,
visits recorded, problems opening PAYMENT_VERIFY findings for the county, rates per township."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audits import services as audit_services
from audits.models import Finding, FindingState
from payments import verification as services
from payments.models import PaymentVisit, VisitOutcome
from payments.tests.helpers import pay
from tests.factories import HouseholdFactory

pytestmark = pytest.mark.django_db
OCT = dt.date(2026, 10, 1)
TOWN = "220102001"


@pytest.fixture
def paid_town(regions):
    """Twelve households of township 220102001 paid in October, and decoys that must never be drawn:
    one paid only in September, one whose October payment failed, one paid in another township."""
    paid = [HouseholdFactory(region_id="220102001001") for _ in range(12)]
    for h in paid:
        pay(h, "2026-10", "620.00")
    september = HouseholdFactory(region_id="220102001001")
    pay(september, "2026-09")
    failed = HouseholdFactory(region_id="220102001001")
    pay(failed, "2026-10", status="failed")
    elsewhere = HouseholdFactory(region_id="220102002001")
    pay(elsewhere, "2026-10")
    return {"paid": paid, "decoys": [september, failed, elsewhere]}


def _drawn(verification) -> list[int]:
    return sorted(verification.visits.values_list("household_id", flat=True))


def test_same_seed_draws_the_same_households_and_only_paid_ones(users, paid_town):
    reviewer = users["reviewer"]
    first = services.verification_draw(actor=reviewer, month=OCT, township=TOWN, count=5, seed="回访-1")
    a = _drawn(first)
    again = services.verification_draw(actor=reviewer, month=OCT, township=TOWN, count=5, seed="回访-1")
    assert again.pk == first.pk and _drawn(again) == a
    other = services.verification_draw(actor=reviewer, month=OCT, township=TOWN, count=5, seed="another")
    assert _drawn(other) != a
    whole = services.verification_draw(actor=reviewer, month=OCT, township=TOWN, percent=Decimal("100"), seed="x")
    assert whole.population == 12
    assert _drawn(whole) == sorted(h.pk for h in paid_town["paid"])
    visit = whole.visits.get(household=paid_town["paid"][0])
    assert visit.amount_paid == Decimal("620.00") and visit.payment.household_id == paid_town["paid"][0].pk
    assert not set(_drawn(whole)) & {h.pk for h in paid_town["decoys"]}


def test_a_percentage_is_rounded_up_and_a_month_without_payments_is_refused(users, paid_town):
    v = services.verification_draw(actor=users["supervisor"], month=OCT, township=TOWN, percent=Decimal("10"))
    assert v.visits.count() == 2 and v.seed  # 10 % of 12, rounded up; a seed is recorded when none is given
    with pytest.raises(ValidationError, match="没有发放成功的记录"):
        services.verification_draw(actor=users["supervisor"], month=dt.date(2026, 8, 1), township=TOWN, count=1)


def test_a_not_received_answer_opens_a_finding_the_county_reviews(users, paid_town, client_for):
    verification = services.verification_draw(actor=users["reviewer"], month=OCT, township=TOWN, count=3, seed="s")
    ok, missing, unreached = list(verification.visits.order_by("id"))
    cw = users["caseworker_a"]
    services.visit_record(actor=cw, visit=ok, result=VisitOutcome.FULL, method="call", visited_on=dt.date(2026, 11, 5))
    services.visit_record(actor=cw, visit=unreached, result=VisitOutcome.UNREACHED, method="call",
                          visited_on=dt.date(2026, 11, 5))
    assert not Finding.objects.exists()
    services.visit_record(actor=cw, visit=missing, result=VisitOutcome.NONE, method="visit",
                          visited_on=dt.date(2026, 11, 6), note="户主称十月未收到低保金")
    finding = Finding.objects.get()
    household = missing.household
    assert (finding.rule, finding.household_id, finding.month, finding.state) == (
        "PAYMENT_VERIFY", household.pk, "2026-10", FindingState.PENDING)
    assert "未收到" in finding.detail and finding.batch_id is None
    assert PaymentVisit.objects.get(pk=missing.pk).finding_id == finding.pk

    # the county's 资金疑点 queue lists it, next to the findings of its latest batch
    page = client_for(users["reviewer"]).get(reverse("audits:review_queue") + "?section=D")
    assert household.household_no in page.content.decode() and "回访发现问题" in page.content.decode()
    detail = client_for(users["reviewer"]).get(reverse("audits:finding_detail", args=[finding.pk]))
    assert detail.status_code == 200 and "回访核实" in detail.content.decode()
    audit_services.finding_confirm(actor=users["reviewer"], finding=finding, reason="经核实属实，责令补发",
                                   refer_clue=False)
    assert Finding.objects.get().state == FindingState.CONFIRMED

    # an answer is final; 未联系上 may be called again
    with pytest.raises(ValidationError, match="不能更改"):
        services.visit_record(actor=cw, visit=missing, result=VisitOutcome.FULL, method="call",
                              visited_on=dt.date(2026, 11, 7))
    services.visit_record(actor=cw, visit=unreached, result=VisitOutcome.SHORT, method="call",
                          visited_on=dt.date(2026, 11, 7), amount_received=Decimal("300"), note="只收到三百元")
    assert Finding.objects.filter(household=unreached.household, rule="PAYMENT_VERIFY").exists()
    with pytest.raises(ValidationError, match="再次抽取|不能重新抽取"):
        services.verification_draw(actor=users["reviewer"], month=OCT, township=TOWN, count=3, seed="t")


def test_received_less_needs_an_amount_below_what_was_paid(users, paid_town):
    visit = services.verification_draw(actor=users["reviewer"], month=OCT, township=TOWN, count=1).visits.get()
    with pytest.raises(ValidationError) as exc:
        services.visit_record(actor=users["caseworker_a"], visit=visit, result=VisitOutcome.SHORT, method="call",
                              visited_on=dt.date(2026, 11, 5), amount_received=Decimal("620"), note="少")
    assert "amount_received" in exc.value.message_dict
    assert not Finding.objects.exists()


def test_answer_and_problem_rates_per_township(users, paid_town, client_for):
    for h in [HouseholdFactory(region_id="220102002001") for _ in range(2)]:
        pay(h, "2026-10")
    town_a = services.verification_draw(actor=users["reviewer"], month=OCT, township=TOWN, count=4, seed="a")
    town_b = services.verification_draw(actor=users["reviewer"], month=OCT, township="220102002", count=2, seed="b")
    a = list(town_a.visits.order_by("id"))
    for visit, result in zip(a, [VisitOutcome.FULL, VisitOutcome.FULL, VisitOutcome.NOT_OWN]):
        services.visit_record(actor=users["caseworker_a"], visit=visit, result=result, method="call",
                              visited_on=dt.date(2026, 11, 5), note="账户为村干部所有")
    services.visit_record(actor=users["caseworker_b"], visit=town_b.visits.first(), result=VisitOutcome.UNREACHED,
                          method="call", visited_on=dt.date(2026, 11, 5))
    page = client_for(users["reviewer"]).get(reverse("payments:verification_list") + "?month=2026-10")
    rows = {v.region_code: (v.drawn, v.answered, v.problems, v.answer_rate, v.problem_rate)
            for v in page.context["page"].object_list}
    assert rows == {TOWN: (4, 3, 1, Decimal("75.0"), Decimal("33.3")),
                    "220102002": (2, 0, 0, Decimal("0.0"), None)}
    assert "75.0%" in page.content.decode() and "33.3%" in page.content.decode()


def test_another_county_gets_404_and_the_wrong_role_403(users, paid_town, client_for):
    verification = services.verification_draw(actor=users["reviewer"], month=OCT, township=TOWN, count=1)
    visit = verification.visits.get()
    detail = reverse("payments:verification_detail", args=[verification.pk])
    record = reverse("payments:visit_record", args=[visit.pk])
    form = {"method": "call", "result": "full", "visited_on": "2026-11-05"}
    assert client_for(users["reviewer_other"]).get(detail).status_code == 404
    assert client_for(users["caseworker_c"]).post(record, form).status_code == 404
    assert client_for(users["caseworker_b"]).get(detail).status_code == 404  # another township of the county
    assert client_for(users["inspector"]).get(detail).status_code == 403
    assert client_for(users["supervisor"]).post(record, form).status_code == 403
    assert client_for(users["caseworker_a"]).post(reverse("payments:verification_draw"),
                                                  {"month": "2026-10", "township": TOWN, "count": 1}).status_code == 403
    with pytest.raises(PermissionDenied):
        services.verification_draw(actor=users["reviewer_other"], month=OCT, township=TOWN, count=1)
    with pytest.raises(PermissionDenied):
        services.visit_record(actor=users["caseworker_b"], visit=visit, result="full", method="call",
                              visited_on=dt.date(2026, 11, 5))
    response = client_for(users["caseworker_a"]).post(record, form)
    assert response.status_code == 302
    assert PaymentVisit.objects.get(pk=visit.pk).result == VisitOutcome.FULL
    assert client_for(users["caseworker_a"]).get(detail).status_code == 200

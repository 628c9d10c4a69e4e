import datetime as dt
from decimal import Decimal

import pytest

from complaints import selectors, services
from complaints.tests.conftest import staff_complaint_data

pytestmark = pytest.mark.django_db


def _complaint(users, regions, village="220102001001", **extra):
    data = {"channel": "phone", "anonymous": True, "subject_type": "household", "subject_region": regions[village],
            "content": "c"}
    data.update(extra)
    return services.complaint_create(actor=users["caseworker_a"] if village.startswith("220102001") else
                                     users["reviewer_other"], data=data)


def test_rollup_metrics(users, regions, fixed_today):
    fixed_today(dt.date(2026, 3, 2))
    clue = services.clue_create(actor=users["reviewer"], data={
        "source": "complaint", "region": regions["220102001001"], "category": "关系保", "summary": "s"})
    a = _complaint(users, regions)  # owned by township 220102001
    services.complaint_answer_on_spot(actor=users["caseworker_a"], complaint=a, reply="已答复")
    late = _complaint(users, regions)
    services.complaint_assign(actor=users["caseworker_a"], complaint=late, region=regions["220102001"], working_days=1)
    _complaint(users, regions, "220103001001")
    # a complaint about staff is owned by the county and counted at its natural code
    services.complaint_create(actor=users["reviewer"], data=staff_complaint_data(regions["220102001001"]))
    referral = services.clue_refer(actor=users["reviewer"], clue=clue, body_region=regions["220102"], body_name="")
    services.referral_record(actor=users["inspector"], referral=referral, investigation="i", outcome="属实",
                             funds_recovered=Decimal("500.25"),
                             disciplines=[{"kind": "党纪处分", "count": 1}, {"kind": "批评教育", "count": 2}])
    services.referral_conclude(actor=users["inspector"], referral=referral)

    m = selectors.rollup_metrics(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31))
    t = m["220102001"]
    assert t["complaints_received"] == 2 and t["complaints_closed"] == 1 and t["complaints_overdue"] == 1
    assert m["220103"]["complaints_received"] == 1  # received by the county itself: natural key
    assert m["220102"]["complaints_received"] == 1  # about staff: owned by the county
    assert t["clues_received"] == 1
    assert t["clues_transferred"] == 1 and t["clues_concluded"] == 1
    assert t["persons_disciplined"] == 3 and t["funds_recovered"] == Decimal("500.25")
    assert set(t) == {"complaints_received", "complaints_closed", "complaints_overdue", "clues_received",
                      "clues_transferred", "clues_concluded", "persons_disciplined", "funds_recovered"}
    earlier = selectors.rollup_metrics(start=dt.date(2026, 2, 1), end=dt.date(2026, 2, 28))
    assert "220102001" not in earlier


def test_demo_seed(users, regions):
    import random
    from tests.factories import HouseholdFactory
    HouseholdFactory(region_id="220102001001")
    demo_users = {"admin": users["admin"], "caseworker": users["caseworker_a"], "reviewer": users["reviewer"],
                  "supervisor": users["supervisor"], "inspector": users["inspector"]}
    from complaints import demo
    summary = demo.seed(county=regions["220102"], users=demo_users, rng=random.Random(1))
    assert "1 typical case" in summary
    assert demo.seed(county=regions["220102"], users=demo_users, rng=random.Random(1)) == "complaints: already seeded"

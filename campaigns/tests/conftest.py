import datetime as dt

import pytest

from campaigns import services
from cases.models import Status
from tests.factories import HouseholdFactory

PERIOD = dict(active_end=dt.date(2026, 6, 30), exited_from=dt.date(2026, 1, 1), exited_to=dt.date(2026, 6, 30),
              rejected_from=dt.date(2026, 1, 1), rejected_to=dt.date(2026, 6, 30),
              screening_deadline=dt.date(2026, 8, 31), reporting_deadline=dt.date(2026, 9, 10))


@pytest.fixture
def households(regions):
    """Township 220102001: two villages; township 220102002 has one household; county 220103 one."""
    return {
        "a1": HouseholdFactory(household_no="A1", region_id="220102001001", decided_on=dt.date(2026, 1, 5)),
        "a2": HouseholdFactory(household_no="A2", region_id="220102001001"),
        "a3": HouseholdFactory(household_no="A3", region_id="220102001002"),
        "b1": HouseholdFactory(household_no="B1", region_id="220102002001"),
        "c1": HouseholdFactory(household_no="C1", region_id="220103001001"),
    }


@pytest.fixture
def campaign(users, households):
    return services.campaign_create(actor=users["reviewer"], name="2026年农村低保专项排查", region_code="220102",
                                    **PERIOD)


def record(actor, entry, **overrides):
    data = dict(screened_on=dt.date(2026, 3, 1), screeners="张三、李四", result="no_problem", problem_types=[],
                handling="继续享受")
    data.update(overrides)
    return services.screening_record_save(actor=actor, campaign_household=entry, **data)


def confirmed_death(household, reviewer, *, exit_on=dt.date(2026, 3, 15)):
    """A DECEASED finding for the household's head, confirmed with exit."""
    from audits import services as audit_services
    from audits.models import Finding
    from audits.tests.helpers import ref, run

    ref("deaths", [{"name": household.head_name, "id_number": household.head_id_number,
                    "death_date": dt.date(2026, 2, 1)}])
    run(region="220102", as_of=dt.date(2026, 3, 10))
    finding = Finding.objects.get(household=household, rule="DECEASED")
    return audit_services.finding_confirm(actor=reviewer, finding=finding, reason="户主已死亡", exit_on=exit_on,
                                          exit_reason="死亡")

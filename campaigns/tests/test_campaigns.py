import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from campaigns import selectors, services
from campaigns.models import CampaignHousehold, Population
from campaigns.tests.conftest import PERIOD, confirmed_death, record
from cases.models import Status
from dibao.models import AuditRecord, Region
from tests.factories import HouseholdFactory

pytestmark = pytest.mark.django_db


def listed(campaign, population=None):
    qs = CampaignHousehold.objects.filter(campaign=campaign)
    if population:
        qs = qs.filter(population=population)
    return set(qs.values_list("household__household_no", flat=True))


def test_the_list_at_the_period_boundaries(users, regions):
    end, start = PERIOD["active_end"], PERIOD["exited_from"]
    HouseholdFactory(household_no="ON_END", decided_on=end)                      # approved on the end date: in
    HouseholdFactory(household_no="AFTER_END", decided_on=end + dt.timedelta(days=1), applied_on=end)
    HouseholdFactory(household_no="EXIT_ON_END", status=Status.EXITED, exited_on=end)   # left that day: exited
    HouseholdFactory(household_no="EXIT_AFTER", status=Status.EXITED, exited_on=end + dt.timedelta(days=1))
    HouseholdFactory(household_no="EXIT_ON_START", status=Status.EXITED, exited_on=start)
    HouseholdFactory(household_no="EXIT_BEFORE", status=Status.EXITED, exited_on=start - dt.timedelta(days=1))
    HouseholdFactory(household_no="REJ_START", status=Status.REJECTED, applied_on=start, monthly_amount=None)
    HouseholdFactory(household_no="REJ_BEFORE", status=Status.REJECTED, applied_on=start - dt.timedelta(days=1),
                     decided_on=start, monthly_amount=None)
    HouseholdFactory(household_no="OTHER_COUNTY", region_id="220103001001")
    campaign = services.campaign_create(actor=users["reviewer"], name="排查", region_code="220102", **PERIOD)
    assert listed(campaign, Population.ACTIVE) == {"ON_END", "EXIT_AFTER"}
    assert listed(campaign, Population.EXITED) == {"EXIT_ON_END", "EXIT_ON_START"}
    assert listed(campaign, Population.REJECTED) == {"REJ_START"}
    entry = CampaignHousehold.objects.get(campaign=campaign, household__household_no="ON_END")
    assert (entry.township_code, entry.village_code, entry.added_by_recompute) == ("220102001", "220102001001", False)
    assert AuditRecord.objects.filter(action="campaign.create", object_id=str(campaign.pk)).exists()


def test_recompute_adds_and_never_removes(users, campaign, households):
    before = listed(campaign)
    households["a2"].status = Status.EXITED
    households["a2"].exited_on = dt.date(2026, 2, 1)
    households["a2"].save()                                   # no longer in the active population
    late = HouseholdFactory(household_no="LATE", region_id="220102002001", decided_on=dt.date(2026, 6, 1))
    added = services.campaign_recompute(actor=users["reviewer"], campaign=campaign)
    assert added == 2  # LATE (active) and A2 (now also exited in the period)
    assert listed(campaign) == before | {"LATE"}
    assert "A2" in listed(campaign, Population.ACTIVE)
    assert CampaignHousehold.objects.get(campaign=campaign, household=late).added_by_recompute
    assert services.campaign_recompute(actor=users["reviewer"], campaign=campaign) == 0


def test_who_may_create_and_where(users, households):
    with pytest.raises(PermissionDenied):
        services.campaign_create(actor=users["caseworker_a"], name="x", region_code="220102", **PERIOD)
    with pytest.raises(PermissionDenied):
        services.campaign_create(actor=users["reviewer"], name="x", region_code="220103", **PERIOD)
    with pytest.raises(ValidationError) as exc:
        services.campaign_create(actor=users["supervisor"], name="x", region_code="220102001", **PERIOD)
    assert "乡镇" in str(exc.value)
    city = services.campaign_create(actor=users["supervisor"], name="全市", region_code="2201", **PERIOD)
    assert listed(city) == {"A1", "A2", "A3", "B1", "C1"}


def test_record_contradicting_a_confirmed_finding_is_refused(users, campaign, households):
    entry = CampaignHousehold.objects.get(campaign=campaign, household=households["a1"])
    confirmed_death(households["a1"], users["reviewer"])
    with pytest.raises(ValidationError) as exc:
        record(users["caseworker_a"], entry, result="no_problem")
    assert "户编号 A1 有已核实属实的疑点（死亡保）" in exc.value.message_dict["result"][0]
    saved = record(users["caseworker_a"], entry, result="problem", problem_types=["死亡保"], handling="退出")
    assert saved.version == 1


def test_problem_needs_types_and_handling(users, campaign, households):
    entry = CampaignHousehold.objects.get(campaign=campaign, household=households["a2"])
    with pytest.raises(ValidationError) as exc:
        record(users["caseworker_a"], entry, result="problem", problem_types=[], handling="")
    assert set(exc.value.message_dict) == {"problem_types", "handling"}
    assert "必须填写问题类型" in exc.value.message_dict["problem_types"][0]


def test_records_are_scoped_and_role_checked(users, campaign, households):
    entry = CampaignHousehold.objects.get(campaign=campaign, household=households["a1"])
    with pytest.raises(PermissionDenied):
        record(users["caseworker_b"], entry)        # another township
    with pytest.raises(PermissionDenied):
        record(users["reviewer"], entry)            # the county does not screen
    saved = record(users["caseworker_a"], entry)
    updated = record(users["caseworker_a"], entry, screeners="王五", expected_version=saved.version)
    assert updated.version == 2
    assert AuditRecord.objects.filter(action="screening.update", object_id=str(saved.pk)).exists()


def test_signoff_is_blocked_while_records_are_missing(users, campaign, households):
    cw = users["caseworker_a"]
    record(cw, CampaignHousehold.objects.get(campaign=campaign, household=households["a1"]))
    with pytest.raises(ValidationError) as exc:
        services.signoff_submit(actor=cw, campaign=campaign, township_code="220102001")
    assert "还有 2 户（共 3 户）没有排查记录" in exc.value.messages[0]
    for key in ("a2", "a3"):
        record(cw, CampaignHousehold.objects.get(campaign=campaign, household=households[key]))
    signoff = services.signoff_submit(actor=cw, campaign=campaign, township_code="220102001")
    assert signoff.state == "submitted"
    with pytest.raises(ValidationError):   # locked once submitted
        record(cw, CampaignHousehold.objects.get(campaign=campaign, household=households["a1"]), screeners="改")
    with pytest.raises(PermissionDenied):
        services.signoff_accept(actor=users["reviewer_other"], signoff=signoff)
    with pytest.raises(ValidationError):
        services.signoff_return(actor=users["reviewer"], signoff=signoff, reason=" ")
    returned = services.signoff_return(actor=users["reviewer"], signoff=signoff, reason="A1 的排查人未签字")
    assert returned.state == "returned"
    record(cw, CampaignHousehold.objects.get(campaign=campaign, household=households["a1"]), screeners="王五")
    services.signoff_submit(actor=cw, campaign=campaign, township_code="220102001")
    accepted = services.signoff_accept(actor=users["reviewer"], signoff=signoff)
    assert accepted.state == "accepted"
    actions = list(AuditRecord.objects.filter(object_type="townshipsignoff").values_list("action", flat=True))
    assert actions == ["signoff.submit", "signoff.return", "signoff.submit", "signoff.accept"]


def _sign_off(users, campaign, households, township, keys, caseworker):
    for key in keys:
        record(users[caseworker], CampaignHousehold.objects.get(campaign=campaign, household=households[key]))
    return services.signoff_submit(actor=users[caseworker], campaign=campaign, township_code=township)


def test_closing_waits_for_every_township_then_freezes_the_campaign(users, campaign, households, client_for):
    accepted = services.signoff_accept(actor=users["reviewer"], signoff=_sign_off(
        users, campaign, households, "220102001", ("a1", "a2", "a3"), "caseworker_a"))
    with pytest.raises(ValidationError) as exc:
        services.campaign_close(actor=users["reviewer"], campaign=campaign)
    township_b = Region.objects.get(code="220102002").name
    assert f"还有 1 个乡镇的排查结果未经确认（{township_b}）" in exc.value.messages[0]
    submitted = _sign_off(users, campaign, households, "220102002", ("b1",), "caseworker_b")
    with pytest.raises(ValidationError):      # submitted is not yet accepted
        services.campaign_close(actor=users["reviewer"], campaign=campaign)
    services.signoff_accept(actor=users["reviewer"], signoff=submitted)
    with pytest.raises(PermissionDenied):
        services.campaign_close(actor=users["reviewer_other"], campaign=campaign)
    with pytest.raises(PermissionDenied):
        services.campaign_close(actor=users["caseworker_a"], campaign=campaign)

    page = client_for(users["reviewer"]).post(f"/campaigns/{campaign.pk}/close/", follow=True)
    assert "已结束" in page.content.decode()
    campaign.refresh_from_db()
    assert campaign.state == "closed"
    assert AuditRecord.objects.filter(action="campaign.close", object_id=str(campaign.pk)).count() == 1
    with pytest.raises(ValidationError):
        services.signoff_return(actor=users["reviewer"], signoff=accepted, reason="再查一遍")
    with pytest.raises(ValidationError):
        services.campaign_recompute(actor=users["reviewer"], campaign=campaign)
    with pytest.raises(ValidationError):
        services.campaign_close(actor=users["reviewer"], campaign=campaign)


def test_an_empty_township_is_never_counted_as_screened(users, regions):
    HouseholdFactory(household_no="ONLY", region_id="220102001001")
    campaign = services.campaign_create(actor=users["reviewer"], name="排查", region_code="220102", **PERIOD)
    with pytest.raises(ValidationError) as exc:
        services.signoff_submit(actor=users["caseworker_b"], campaign=campaign, township_code="220102002")
    assert "不适用" in exc.value.messages[0]
    county = selectors.total_progress(campaign)
    assert (county.townships_total, county.townships_screened, county.townships_not_applicable) == (1, 0, 1)
    entry = CampaignHousehold.objects.get(campaign=campaign)
    record(users["caseworker_a"], entry)
    services.signoff_submit(actor=users["caseworker_a"], campaign=campaign, township_code="220102001")
    county = selectors.total_progress(campaign)
    assert (county.townships_total, county.townships_screened, county.townships_not_applicable) == (1, 1, 1)
    assert county.townships_percent == 100.0
    by_city = selectors.region_progress(campaign, length=4)["2201"]
    assert (by_city.households_screened, by_city.households_total) == (1, 1)
    rows = {r.code: r for r in selectors.township_rows(users["reviewer"], campaign)}
    assert rows["220102002"].not_applicable and not rows["220102002"].screened
    assert rows["220102001"].screened

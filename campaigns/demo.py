"""A demo screening campaign (专项排查, seed 004) over the demo county, ten days under way: the
second township has screened every household, signed off and been accepted; the demo
caseworker's township is part-way (its households with confirmed findings still open); the other
townships have not started, so the bulletin has regions behind schedule. Yesterday's and today's
bulletins show the day-over-day change, and the city owes a self-inspection report from each county."""
from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from campaigns import dispatch, services
from campaigns.models import Campaign, CampaignHousehold, ReportRequest, ScreeningResult
from dibao.models import Region, User
from dibao.workdays import add_working_days

CAMPAIGN_NAME = "农村低保专项治理集中排查"
STARTED_DAYS_AGO = 10


def _record(actor: User, entry: CampaignHousehold, day: dt.date, rng: random.Random) -> None:
    confirmed = services.confirmed_finding_names(entry.household_id)
    if confirmed:
        problem = dict(result=ScreeningResult.PROBLEM, problem_types=["其他"], handling="其他",
                       note="已确认疑点：" + "、".join(confirmed))
    elif rng.random() < 0.04:
        problem = dict(result=ScreeningResult.PROBLEM, problem_types=["收入超标"], handling="调整金额",
                       note="子女外出务工收入增加，已提出调整金额")
    else:
        problem = dict(result=ScreeningResult.NO_PROBLEM, problem_types=[], handling="继续享受", note="")
    services.screening_record_save(actor=actor, campaign_household=entry, screened_on=day,
                                   screeners=f"{actor.full_name}、村干部", **problem)


def seed(*, county: Region, users: dict[str, User], rng: random.Random) -> str:
    if Campaign.objects.filter(region=county).exists():
        return "campaigns: already seeded"
    today = timezone.localdate()
    started = today - dt.timedelta(days=STARTED_DAYS_AGO)
    campaign = services.campaign_create(
        actor=users["county_reviewer"], name=f"{today.year}年{CAMPAIGN_NAME}", region_code=county.code,
        active_end=started, exited_from=dt.date(today.year, 1, 1), exited_to=started,
        rejected_from=dt.date(today.year, 1, 1), rejected_to=started,
        screening_deadline=add_working_days(today, 10), reporting_deadline=add_working_days(today, 15))
    Campaign.objects.filter(pk=campaign.pk).update(created_at=timezone.now() - dt.timedelta(days=STARTED_DAYS_AGO))
    campaign.refresh_from_db()
    dispatch.bulletins_make(campaign=campaign, day=today - dt.timedelta(days=1))

    done = users["caseworker2"]
    entries = CampaignHousehold.objects.filter(campaign=campaign).select_related("household").order_by("id")
    for entry in entries.filter(township_code=done.region_id):
        _record(done, entry, started + dt.timedelta(days=rng.randint(1, STARTED_DAYS_AGO - 1)), rng)
    signoff = services.signoff_submit(actor=done, campaign=campaign, township_code=done.region_id)
    services.signoff_accept(actor=users["county_reviewer"], signoff=signoff)

    home = users["caseworker"]
    home_entries = [e for e in entries.filter(township_code=home.region_id)
                    if not services.confirmed_finding_names(e.household_id)]
    for entry in home_entries[: len(home_entries) * 3 // 5]:
        _record(home, entry, today - dt.timedelta(days=rng.randint(0, 3)), rng)
    bulletins = dispatch.bulletins_make(campaign=campaign, day=today)

    dispatch.report_request_create(
        actor=users["supervisor"], region_code=users["supervisor"].region_id, campaign=campaign,
        title="农村低保专项治理自查报告", due_on=add_working_days(today, 5), owed_by_level=ReportRequest.OwedBy.COUNTY,
        note="报告排查进度、发现的问题和整改情况，加盖公章后上传扫描件")
    return (f"campaigns: {campaign.name}, {entries.count()} households listed, "
            f"{bulletins} bulletins today, one report owed by the counties")

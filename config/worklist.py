"""What waits on the user: the home page of each role is its worklist (counts that link to the page
where the work is done). Every count is bounded (`BOUND`): a province supervisor's home page must not
count a million rows on each load, and "1000+" says enough about a pile that size.

The home page reads every app, so this module imports them inside the functions; the apps never
import it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from dibao.models import Role, User
from dibao.permissions import can

BOUND = 1000


@dataclass
class Item:
    label: str
    count: int
    url: str
    tone: str = ""  # "danger" for late work, "warning" for work due soon

    @property
    def shown(self) -> str:
        return f"{BOUND}+" if self.count >= BOUND else str(self.count)


@dataclass
class Section:
    title: str
    items: list[Item] = field(default_factory=list)


def bounded(queryset) -> int:
    return len(queryset.order_by().values_list("pk", flat=True)[:BOUND])


def _url(name: str, **query) -> str:
    return reverse(name) + (f"?{urlencode(query)}" if query else "")


def _tasks(user: User, today: dt.date) -> Section:
    from audits.models import TaskOutcome
    from audits.selectors import tasks_for
    open_tasks = tasks_for(user).filter(outcome=TaskOutcome.OPEN)
    return Section(_("五类人员核查任务"), [
        Item(_("已超期"), bounded(open_tasks.filter(deadline__lt=today)), _url("audits:task_list", view="overdue"),
             "danger"),
        Item(_("7 日内到期"), bounded(open_tasks.filter(deadline__gte=today, deadline__lte=today + dt.timedelta(7))),
             _url("audits:task_list", view="open"), "warning"),
        Item(_("待核查"), bounded(open_tasks), _url("audits:task_list", view="open")),
    ])


def _applications(user: User, today: dt.date, steps: list[str]) -> Section:
    from cases import application_selectors as sel
    counts = sel.worklist_counts(user, today)
    items = [Item(_("已超期"), counts["overdue"], _url("cases:application_list", due="overdue"), "danger"),
             Item(_("今日到期"), counts["today"], _url("cases:application_list", due="today"), "warning")]
    items += [Item(str(sel.STEP_FILTERS[key][0]), counts[key], _url("cases:application_list", step=key))
              for key in steps]
    return Section(_("低保申请"), items)


def _reviews_due(user: User, today: dt.date) -> Item:
    from cases.models import Household
    from cases.selectors import review_due_q
    qs = Household.objects.for_user(user).filter(review_due_q(today))
    return Item(_("30 日内到期的定期复核（户）"), bounded(qs), _url("cases:household_list", review="due"), "warning")


def _complaints(user: User, today: dt.date) -> Section:
    from complaints.models import OPEN_COMPLAINT_STATES, Complaint
    open_ = Complaint.objects.for_user(user).filter(state__in=OPEN_COMPLAINT_STATES)
    return Section(_("投诉举报"), [
        Item(_("已超期"), bounded(open_.filter(deadline__lt=today)), _url("complaints:complaint_list", overdue=1),
             "danger"),
        Item(_("办理中"), bounded(open_), _url("complaints:complaint_list")),
    ])


def _findings(user: User) -> Section:
    from audits import catalogue
    from audits.models import Finding, FindingState
    from audits.selectors import latest_done_batch
    batch = latest_done_batch(user)
    section = Section(_("待复核疑点（按规则，严重的在前）"))
    if batch is None:
        return section
    pending = Finding.objects.for_user(user).filter(batch=batch, state=FindingState.PENDING,
                                                   rule__in=catalogue.codes_of_section("A"))
    rules = set(pending.order_by().values_list("rule", flat=True).distinct())
    for code in sorted(rules, key=catalogue.RANK.__getitem__):
        section.items.append(Item(catalogue.rule_name(code), bounded(pending.filter(rule=code)),
                                  _url("audits:review_queue", rule=code, state=FindingState.PENDING, batch=batch.pk),
                                  "danger" if catalogue.RANK[code] < 2 else ""))
    return section


def _late_regions(user: User, today: dt.date) -> Section:
    """Townships (or counties, above a city) with overdue five-group tasks, the latest first."""
    from audits.selectors import task_progress
    from config.templatetags.names import region_name_of
    level = 6 if len(user.scope_prefix or "") < 6 else 9
    _counted_at, progress = task_progress(user, level)
    rows = sorted((r for r in progress if r["overdue"]), key=lambda r: -r["overdue"])[:8]
    return Section(_("核查任务超期的地区"), [
        Item(region_name_of(r["area"]), r["overdue"], _url("audits:task_list", view="overdue"), "danger")
        for r in rows])


def _key_figures(user: User, today: dt.date) -> Section:
    """The month's key figures of the user's region from the latest monthly rollup."""
    from reports.models import RollupRow
    region = user.region_id or ""
    row = RollupRow.objects.filter(region_code=region).order_by("-month").first() if region else None
    if row is None:
        return Section(_("本月关键指标"))
    title = _("关键指标（%(month)s 月度汇总）") % {"month": f"{row.month:%Y-%m}"}
    url = reverse("reports:index")
    return Section(title, [
        Item(_("在保户数"), row.households_active, url), Item(_("在保人数"), row.persons_active, url),
        Item(_("新增疑点"), row.findings_raised, url), Item(_("投诉超期"), row.complaints_overdue, url,
                                                          "danger" if row.complaints_overdue else ""),
    ])


def _referrals(user: User) -> Section:
    from complaints.models import Clue, ClueState
    clues = Clue.objects.for_user(user)
    waiting = clues.filter(state=ClueState.REFERRED, referral__concluded_on__isnull=True)
    return Section(_("移交本机关的问题线索"), [
        Item(_("待登记调查处理结果"), bounded(waiting.filter(referral__outcome="")),
             _url("complaints:clue_list", state=ClueState.REFERRED), "warning"),
        Item(_("调查中待办结"), bounded(waiting.exclude(referral__outcome="")),
             _url("complaints:clue_list", state=ClueState.REFERRED)),
        Item(_("已办结"), bounded(clues.filter(state=ClueState.CONCLUDED)),
             _url("complaints:clue_list", state=ClueState.CONCLUDED)),
    ])


def _campaign_link(campaign_ids: list[int], user: User) -> str:
    """The campaign page when one campaign is under way (a township lands on its own row), else the list."""
    if len(campaign_ids) != 1:
        return _url("campaigns:list")
    if user.role == Role.CASEWORKER and user.region_id and len(user.region_id) == 9:
        return reverse("campaigns:township", args=[campaign_ids[0], user.region_id])
    return reverse("campaigns:detail", args=[campaign_ids[0]])


def _campaigns(user: User) -> Section | None:
    """Screening campaigns under way: a township's households still to screen and returned sign-offs;
    a county's sign-offs waiting for its decision. None when no campaign is running here."""
    from campaigns.models import CampaignHousehold, CampaignState, SignoffState, TownshipSignoff

    running = list(CampaignHousehold.objects.for_user(user).filter(campaign__state=CampaignState.RUNNING)
                   .order_by().values_list("campaign_id", flat=True).distinct()[:2])
    if not running:
        return None
    link = _campaign_link(running, user)
    signoffs = TownshipSignoff.objects.for_user(user).filter(campaign__state=CampaignState.RUNNING)
    if user.role == Role.CASEWORKER:
        return Section(_("专项排查"), [
            Item(_("待排查户数"), bounded(CampaignHousehold.objects.for_user(user).filter(
                campaign__state=CampaignState.RUNNING, record__isnull=True)), link, "warning"),
            Item(_("被县级退回待更正"), bounded(signoffs.filter(state=SignoffState.RETURNED)), link, "danger")])
    return Section(_("专项排查"), [
        Item(_("乡镇排查结果待确认"), bounded(signoffs.filter(state=SignoffState.SUBMITTED)), link, "warning")])


def _county_decisions(user: User) -> Section:
    """What the county confirms besides applications: changes proposed by townships, payment rolls."""
    from cases.models import ChangeState, HouseholdChange
    from payments.models import PaymentRoll, RollState

    return Section(_("变更与发放"), [
        Item(_("变更待县级确认"), bounded(HouseholdChange.objects.for_user(user).filter(state=ChangeState.PROPOSED)),
             _url("cases:change_list", state=ChangeState.PROPOSED), "warning"),
        Item(_("发放名册待审批"), bounded(PaymentRoll.objects.for_user(user).filter(state=RollState.DRAFT)),
             _url("payments:roll_list"), "warning")])


def worklist(user: User) -> list[Section]:
    today = timezone.localdate()
    role = user.role
    sections: list[Section] = []
    if role == Role.CASEWORKER:
        sections.append(_applications(user, today, ["accepted", "visited", "proposed", "notice", "to_notify"]))
        sections.append(_tasks(user, today))
        sections.append(Section(_("家庭管理"), [_reviews_due(user, today)]))
        sections.append(_complaints(user, today))
    elif role == Role.COUNTY_REVIEWER:
        sections.append(_findings(user))
        sections.append(_applications(user, today, ["awaiting"]))
        sections.append(_county_decisions(user))
        sections.append(_tasks(user, today))
        sections.append(_complaints(user, today))
    elif role == Role.SUPERVISOR:
        sections.append(_key_figures(user, today))
        sections.append(_late_regions(user, today))
        sections.append(_complaints(user, today))
    elif role == Role.INSPECTOR:
        sections.append(_referrals(user))
    elif role == Role.ADMIN and can(user, "finding.view"):
        sections.append(_findings(user))
    if role in (Role.CASEWORKER, Role.COUNTY_REVIEWER):
        campaigns = _campaigns(user)
        if campaigns:
            sections.insert(1, campaigns)
    return sections

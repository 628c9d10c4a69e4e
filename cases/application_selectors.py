"""Reads of the applications (低保申请), scoped to the user: worklists, step timers, the
county's evidence panel, the case timeline, and the overdue figures of the dashboard and rollup."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import BooleanField, Case, CharField, Count, ExpressionWrapper, Q, When
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audits.selectors import is_recused
from cases.applications import appraisal_required, is_filed_relative, process_working_days
from cases.models import (
    OPEN_APPLICATION_STATES, Application, ApplicationState, ProposalDecision, RelativeFiling,
)
from dibao.models import AuditRecord
from dibao.workdays import calendar_knows, is_workday

AWAITING = "awaiting"  # the worklist's name for "submitted, the county's turn"
OVERDUE_STATES = (*OPEN_APPLICATION_STATES, ApplicationState.REFUSED)


def applications_for(user):
    return Application.objects.for_user(user).select_related("household", "household__region")


# --- deadlines ----------------------------------------------------------------------------------

def _deadline_q(day: dt.date, lookup: str) -> Q:
    """Applications with a deadline `lookup` ('lt' = missed, 'exact' = due) the day `day`."""
    undecided = Q(state__in=OPEN_APPLICATION_STATES)
    return (
        (undecided & Q(**{f"process_due_on__{lookup}": day}))
        | (Q(state__in=(ApplicationState.PROPOSED, ApplicationState.NOTICE), submitted_on__isnull=False)
           & Q(**{f"confirm_due_on__{lookup}": day}))
        | (Q(state__in=(ApplicationState.ACCEPTED, ApplicationState.VISITED, ApplicationState.PROPOSED))
           & Q(**{f"renotice_due_on__{lookup}": day}))
        | (Q(state=ApplicationState.REFUSED, family_notified_on__isnull=True)
           & Q(**{f"refusal_notice_due_on__{lookup}": day}))
    )


def overdue_q(day: dt.date) -> Q:
    return _deadline_q(day, "lt")


def due_today_q(day: dt.date) -> Q:
    return _deadline_q(day, "exact") & ~overdue_q(day)


def awaiting_confirmation_q(day: dt.date) -> Q:
    return (Q(state=ApplicationState.NOTICE, submitted_on__lte=day)
            | Q(state=ApplicationState.PROPOSED, proposal=ProposalDecision.REFUSE))


STEP_FILTERS = {
    # step key → (label, filter for the day)
    "accepted": (gettext_lazy("待入户调查"), lambda d: Q(state=ApplicationState.ACCEPTED)),
    "visited": (gettext_lazy("待提出审核意见"), lambda d: Q(state=ApplicationState.VISITED)),
    "proposed": (gettext_lazy("待公示"), lambda d: Q(state=ApplicationState.PROPOSED, proposal=ProposalDecision.APPROVE)),
    "notice": (gettext_lazy("公示中"), lambda d: Q(state=ApplicationState.NOTICE, submitted_on__gt=d)),
    AWAITING: (gettext_lazy("待县级确认"), awaiting_confirmation_q),
    "to_notify": (gettext_lazy("待通知家庭"), lambda d: Q(state__in=(ApplicationState.APPROVED, ApplicationState.REFUSED),
                                            family_notified_on__isnull=True)),
    "closed": (gettext_lazy("已办结"), lambda d: (Q(state__in=(ApplicationState.APPROVED, ApplicationState.REFUSED),
                                          family_notified_on__isnull=False)
                                        | Q(state=ApplicationState.NOT_ACCEPTED))),
}


def stage_label(app: Application, day: dt.date | None = None) -> str:
    """What the case waits for, in the words of the worklist (the same cut as STEP_FILTERS)."""
    day = day or timezone.localdate()
    state = app.state
    if state == ApplicationState.PROPOSED:
        key = AWAITING if app.proposal == ProposalDecision.REFUSE else "proposed"
    elif state == ApplicationState.NOTICE:
        key = AWAITING if app.submitted_on and app.submitted_on <= day else "notice"
    elif state in (ApplicationState.APPROVED, ApplicationState.REFUSED):
        if app.family_notified_on:
            return app.get_state_display()
        key = "to_notify"
    elif state in (ApplicationState.ACCEPTED, ApplicationState.VISITED):
        key = state
    else:
        return app.get_state_display()
    return STEP_FILTERS[key][0]


def worklist(user, *, step: str = "", due: str = "", day: dt.date | None = None):
    day = day or timezone.localdate()
    qs = applications_for(user)
    if step in STEP_FILTERS:
        qs = qs.filter(STEP_FILTERS[step][1](day))
    if due == "overdue":
        qs = qs.filter(overdue_q(day))
    elif due == "today":
        qs = qs.filter(due_today_q(day))
    # Cases still in hand first, the nearest deadline on top; the finished ones after, the latest first.
    finished = STEP_FILTERS["closed"][1](day)
    return qs.annotate(finished=ExpressionWrapper(finished, output_field=BooleanField())).order_by(
        "finished", Case(When(finished=False, then="process_due_on")).asc(nulls_last=True), "-accepted_on", "-id")


def worklist_counts(user, day: dt.date | None = None) -> dict[str, int]:
    """One aggregate query: how many cases wait at each step, and how many are due or late."""
    day = day or timezone.localdate()
    aggregates = {key: Count("id", filter=q(day)) for key, (_label, q) in STEP_FILTERS.items()}
    aggregates["overdue"] = Count("id", filter=overdue_q(day))
    aggregates["today"] = Count("id", filter=due_today_q(day))
    return applications_for(user).order_by().aggregate(**aggregates)


@dataclass
class Timer:
    label: str
    start: dt.date | None
    due: dt.date
    done_on: dt.date | None
    status: str               # done, late (done after the due date), overdue, today, running
    working_days_left: int = 0
    calendar_known: bool = True

    @property
    def css(self) -> str:
        return {"done": "success", "late": "warning", "overdue": "danger", "today": "warning"}.get(self.status,
                                                                                                   "secondary")

    @property
    def status_label(self) -> str:
        return {"done": _("按时完成"), "late": _("超期完成"), "overdue": _("已超期"), "today": _("今日到期")}.get(
            self.status, _("剩余 %(n)d 个工作日") % {"n": self.working_days_left})


def _working_days_between(start: dt.date, end: dt.date) -> int:
    days, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        days += is_workday(day)
    return days


def _timer(label, start, due, done_on, day) -> Timer:
    if done_on:
        status = "late" if done_on > due else "done"
    elif day > due:
        status = "overdue"
    elif day == due:
        status = "today"
    else:
        status = "running"
    return Timer(label=label, start=start, due=due, done_on=done_on, status=status,
                 working_days_left=_working_days_between(day, due) if status == "running" else 0,
                 calendar_known=calendar_knows(due))


def timers(app: Application, day: dt.date | None = None) -> list[Timer]:
    """Each step's clock as the case page shows it (day 0 = the day the step was taken)."""
    day = day or timezone.localdate()
    decided = app.decided_on or (app.accepted_on if app.state == ApplicationState.NOT_ACCEPTED else None)
    total = process_working_days(extended=bool(app.extended_on))
    out = [_timer(_("全程办结（%(n)s 个工作日）") % {"n": total}, app.accepted_on,
                  app.process_due_on, decided, day)]
    if app.renotice_due_on:
        out.append(_timer(_("异议后重新调查并公示"), None, app.renotice_due_on, app.notice_started_on, day))
    if app.notice_started_on:
        out.append(_timer(_("公示期（%(n)s 日）") % {"n": (app.notice_ends_on - app.notice_started_on).days + 1},
                          app.notice_started_on, app.notice_ends_on,
                          app.notice_ends_on if day > app.notice_ends_on else None, day))
    if app.confirm_due_on:
        out.append(_timer(_("县级确认"), app.submitted_on, app.confirm_due_on, app.decided_on, day))
    if app.refusal_notice_due_on:
        out.append(_timer(_("不予批准书面通知"), app.decided_on, app.refusal_notice_due_on, app.family_notified_on, day))
    return out


def unknown_calendar_years(app_timers: list[Timer]) -> list[int]:
    return sorted({t.due.year for t in app_timers if not t.calendar_known})


# --- the county's evidence panel -----------------------------------------------------------------

def evidence(app: Application, user) -> dict:
    household = app.household
    members = list(household.members.all())
    ids = [m.id_number for m in members]
    return {
        "members": members,
        "income_total": sum((m.monthly_income or 0 for m in members), 0),
        "checks": list(app.checks.select_related("taken_by")),
        "objections": list(app.objections.select_related("received_by")),
        "attachments": list(app.attachments.select_related("uploaded_by")),
        "filings": list(RelativeFiling.objects.filter(Q(household=household) | Q(relative_id_number__in=ids))
                        .select_related("staff")),
        "filed_relative": is_filed_relative(household),
        "appraisal_required": appraisal_required(app),
        "user_recused": is_recused(user=user, household=household),
        "investigators_recused": [u for u in (app.investigator_1, app.investigator_2)
                                  if u and is_recused(user=u, household=household)],
    }


def timeline(app: Application):
    """Every audit record of the application, and the household's records the steps wrote."""
    return (AuditRecord.objects
            .filter(Q(object_type="application", object_id=str(app.pk))
                    | Q(object_type="household", object_id=str(app.household_id), note=app.tracking_no))
            .order_by("id"))


# --- dashboard and rollup -------------------------------------------------------------------------

def overdue_by_region(user, *, length: int, day: dt.date | None = None) -> dict[str, int]:
    """Overdue applications per region code prefix of `length` digits inside the user's scope."""
    day = day or timezone.localdate()
    rows = (Application.objects.for_user(user).filter(overdue_q(day))
            .annotate(area=Substr("household__region_id", 1, length, output_field=CharField()))
            .values("area").order_by("area").annotate(n=Count("id")))
    return {row["area"]: row["n"] for row in rows}


def rollup_metrics(*, start: dt.date, end: dt.date) -> dict[str, dict[str, int]]:
    """Township → applications_overdue: accepted by E, not decided by E, and past the whole
    process or the county's confirmation deadline at E (reports.md v2)."""
    rows = (Application.objects
            .filter(accepted_on__lte=end)
            .exclude(state=ApplicationState.NOT_ACCEPTED)
            .filter(Q(decided_on__isnull=True) | Q(decided_on__gt=end))
            .filter(Q(process_due_on__lt=end) | Q(confirm_due_on__lt=end))
            .annotate(town=Substr("household__region_id", 1, 9, output_field=CharField()))
            .values("town").order_by("town").annotate(n=Count("id")))
    return {row["town"]: {"applications_overdue": row["n"]} for row in rows if row["n"]}

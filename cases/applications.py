"""The application (低保申请) from intake to county confirmation: one service per step of
workflow.md's table.

Each service re-fetches the application under a row lock, checks the permission table
against the household's region, the step's own rules (who may act, recusal, dates, order),
moves the state through the transition of `cases.models.Application` (django-fsm) and writes
the audit record in the same transaction. Deadlines are working days (dibao.workdays).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed

from audits import rules as audit_rules
from audits.selectors import entry_check, is_recused
from cases import benefits
from cases.models import (
    AmountHistory, AmountSource, Application, ApplicationAttachment, ApplicationCheck, ApplicationDecision,
    ApplicationObjection, ApplicationState, ApplicationStep, AttachmentKind, CheckStage, Household,
    OPEN_APPLICATION_STATES, ProposalDecision, Relation, RelativeFiling, Status,
)
from complaints.services import sniff_attachment
from dibao.audit import audit_change, audit_record, snapshot
from dibao.models import Role, User
from dibao.permissions import is_system, require
from dibao.workdays import add_working_days


def _days(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def notice_days() -> int:
    return _days("NOTICE_DAYS", 7)


def confirm_working_days() -> int:
    return _days("CONFIRM_WORKING_DAYS", 10)


def process_working_days(*, extended: bool = False) -> int:
    if extended:
        return _days("PROCESS_WORKING_DAYS_EXTENDED", 45)
    return _days("PROCESS_WORKING_DAYS", 30)


def refusal_notice_working_days() -> int:
    return _days("REFUSAL_NOTICE_WORKING_DAYS", 3)


def renotice_working_days() -> int:
    return _days("RENOTICE_WORKING_DAYS", 15)


def today() -> dt.date:
    return timezone.localdate()


# --- shared checks ----------------------------------------------------------------------------

def _fetch(application: Application) -> Application:
    return Application.objects.select_for_update().select_related("household").get(pk=application.pk)


def _label(app: Application) -> str:
    return _("申请 %(no)s（%(head)s户）") % {"no": app.tracking_no, "head": app.household.head_name}


def _move(app: Application, transition, step: str) -> None:
    """Take a django-fsm transition, saying in Chinese why it is refused."""
    try:
        transition()
    except TransitionNotAllowed:
        raise ValidationError(_("%(app)s当前环节为“%(state)s”，不能办理“%(step)s”")
                              % {"app": _label(app), "state": app.get_state_display(), "step": step})


def _step_date(day: dt.date | None, field: str, *after: tuple[dt.date | None, str]) -> dt.date:
    """The date a step was taken: not in the future, not before the steps it follows."""
    day = day or today()
    if day > today():
        raise ValidationError({field: _("日期 %(d)s 晚于今天，请填写实际办理日期") % {"d": day}})
    for earlier, what in after:
        if earlier and day < earlier:
            raise ValidationError({field: _("日期 %(d)s 早于%(what)s（%(e)s）") % {"d": day, "what": what, "e": earlier}})
    return day


def _text(value: str, field: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: _("请填写%(what)s") % {"what": what}})
    return value


def _refuse_if_recused(user, household: Household, who: str = "") -> None:
    if is_system(user) or not is_recused(user=user, household=household):
        return
    raise PermissionDenied(_("%(who)s%(name)s与户 %(no)s（%(head)s）的家庭成员存在近亲属关系（备案或户籍亲属关系数据），"
                             "依规应当回避，不能办理该申请")
                           % {"who": who, "name": getattr(user, "full_name", "") or user.get_username(),
                              "no": household.household_no, "head": household.head_name})


def _same_township(user: User, household: Household) -> bool:
    return bool(user.region_id) and len(user.region_id) >= 9 and household.township_code == user.region_id[:9]


def is_filed_relative(household: Household) -> bool:
    """The household is filed as close relatives of staff (近亲属备案): appraisal and a county visit are required."""
    ids = household.members.values_list("id_number", flat=True)
    return RelativeFiling.objects.filter(Q(household=household) | Q(relative_id_number__in=ids)).exists()


def township_caseworkers(household: Household):
    return User.objects.filter(is_active=True, groups__name=Role.CASEWORKER,
                               region__code__startswith=household.township_code)


def _set_household(*, actor, app: Application, action: str, data: dict) -> None:
    """The household's decisive facts change here only, as the result of a step: recorded on the
    household (so its own timeline shows the step) with the application's tracking number."""
    household = Household.objects.select_for_update().get(pk=app.household_id)
    before = snapshot(household)
    for key, value in data.items():
        setattr(household, key, value)
    household.save()
    audit_change(actor=actor, action=action, obj=household, region_code=household.region_id, before=before,
                 note=app.tracking_no)
    app.household = household


# --- attachments ------------------------------------------------------------------------------

def _attach(*, actor, app: Application, step: str, kind: str, upload) -> ApplicationAttachment:
    sniff_attachment(upload)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = ApplicationAttachment(application=app, step=step, kind=kind, sha256=digest.hexdigest(),
                                       original_name=(getattr(upload, "name", "") or "")[:255],
                                       size=upload.size, uploaded_by=actor, uploaded_at=timezone.now())
    attachment.file.save(upload.name or "scan", upload, save=False)
    attachment.save()
    audit_record(actor=actor, action="application.attachment", object_type="application", object_id=app.pk,
                 region_code=app.household.region_id,
                 after={"attachment_id": attachment.pk, "kind": kind, "step": step, "sha256": attachment.sha256,
                        "size": attachment.size},
                 note=f"{app.tracking_no} {attachment.get_kind_display()}")
    return attachment


def _require_upload(upload, field: str, what: str):
    if not upload:
        raise ValidationError({field: _("请上传%(what)s") % {"what": what}})
    return upload


@transaction.atomic
def application_attach(*, actor, application: Application, kind: str, upload) -> ApplicationAttachment:
    """An additional scan or photo for a step already taken (e.g. more photos of the home visit)."""
    app = _fetch(application)
    step = {AttachmentKind.AUTHORISATION: ApplicationStep.ACCEPT, AttachmentKind.SURVEY: ApplicationStep.VISIT,
            AttachmentKind.PHOTO: ApplicationStep.VISIT, AttachmentKind.MINUTES: ApplicationStep.APPRAISE,
            AttachmentKind.NOTICE: ApplicationStep.NOTICE, AttachmentKind.COUNTY_SURVEY: ApplicationStep.COUNTY_VISIT,
            }.get(kind, ApplicationStep.ACCEPT)
    action = "application.county_visit" if kind == AttachmentKind.COUNTY_SURVEY else "application.visit"
    require(actor, action, region_code=app.household.region_id)
    _refuse_if_recused(actor, app.household)
    return _attach(actor=actor, app=app, step=step, kind=kind, upload=_require_upload(upload, "file", _("文件")))


# --- 受理 / 不予受理 ----------------------------------------------------------------------------

def _open_household(actor, household: Household) -> Household:
    household = Household.objects.select_for_update().get(pk=household.pk)
    require(actor, "application.accept", region_code=household.region_id)
    if not is_system(actor) and not actor.is_unrestricted and not _same_township(actor, household):
        raise PermissionDenied(_("低保申请由户籍所在乡镇（街道）受理：户 %(no)s 的户籍不在您所在的乡镇")
                               % {"no": household.household_no})
    _refuse_if_recused(actor, household)
    current = household.applications.filter(state__in=OPEN_APPLICATION_STATES).first()
    if current:
        raise ValidationError(_("户 %(no)s 已有办理中的申请 %(t)s（%(s)s），不能重复受理")
                              % {"no": household.household_no, "t": current.tracking_no,
                                 "s": current.get_state_display()})
    if household.status == Status.ACTIVE:
        raise ValidationError(_("户 %(no)s 当前为在保家庭，不能再次申请；如情况变化请办理变更")
                              % {"no": household.household_no})
    return household


def _new_application(*, actor, household: Household, on: dt.date, declared_assets: str) -> Application:
    round_no = (household.applications.aggregate(n=Max("round_no"))["n"] or 0) + 1
    prefix = f"SQ{household.township_code}-{on.year}-"
    last = (Application.objects.filter(tracking_no__startswith=prefix)
            .order_by("-tracking_no").values_list("tracking_no", flat=True).first())
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    while True:
        app = Application(household=household, round_no=round_no, tracking_no=f"{prefix}{seq:05d}",
                          declared_assets=(declared_assets or "").strip(), accepted_by=actor, accepted_on=on,
                          process_due_on=add_working_days(on, process_working_days()))
        try:
            with transaction.atomic():
                app.save()
            return app
        except IntegrityError:
            # another township clerk took the number in the meantime
            if Application.objects.filter(household=household, round_no=round_no).exists():
                raise
            seq += 1


@transaction.atomic
def application_accept(*, actor, household: Household, authorisation, declared_assets: str = "",
                       accepted_on: dt.date | None = None) -> Application:
    """受理: a new round for a household of the actor's township, with the signed authorisation
    to check the family's economic situation, and the entry check taken at once."""
    household = _open_household(actor, household)
    on = _step_date(accepted_on, "accepted_on")
    _require_upload(authorisation, "authorisation", _("签字的家庭经济状况核对授权书扫描件"))
    app = _new_application(actor=actor, household=household, on=on, declared_assets=declared_assets)
    audit_change(actor=actor, obj=app, region_code=app.household.region_id,
                 action="application.accept", before=None, note=app.tracking_no)
    _attach(actor=actor, app=app, step=ApplicationStep.ACCEPT, kind=AttachmentKind.AUTHORISATION, upload=authorisation)
    _set_household(actor=actor, app=app, action="application.accept",
                   data={"status": Status.PENDING, "applied_on": on})
    _take_check(actor=actor, app=app, stage=CheckStage.ACCEPT)
    return app


@transaction.atomic
def application_not_accept(*, actor, household: Household, reason: str,
                           decided_on: dt.date | None = None) -> Application:
    """不予受理, with the reason given to the applicant; the round is kept as the record of it."""
    household = _open_household(actor, household)
    reason = _text(reason, "reason", _("不予受理的理由"))
    on = _step_date(decided_on, "decided_on")
    app = _new_application(actor=actor, household=household, on=on, declared_assets="")
    before = snapshot(app)
    _move(app, app.mark_not_accepted, _("不予受理"))
    app.not_accepted_reason = reason
    app.save()
    audit_change(actor=actor, obj=app, region_code=app.household.region_id,
                 action="application.not_accept", before=before, note=reason)
    if household.status == Status.PENDING:
        # a household entered for this application only: it stays on record as 未通过
        _set_household(actor=actor, app=app, action="application.not_accept",
                       data={"status": Status.REJECTED, "applied_on": on, "decided_on": on,
                             "rejection_reason": (_("不予受理：") + reason)[:200]})
    return app


# --- 信息核对 ---------------------------------------------------------------------------------

def _take_check(*, actor, app: Application, stage: str) -> ApplicationCheck:
    ids = list(app.household.members.values_list("id_number", flat=True))
    warnings = entry_check(id_numbers=ids, household_id=app.household_id)
    versions = {kind: number for kind, (_id, number) in audit_rules.current_versions().items()}
    check = ApplicationCheck.objects.create(
        application=app, stage=stage, taken_at=timezone.now(), taken_by=actor if not is_system(actor) else None,
        result=[{"rule": w.rule, "name": w.name, "id_number_masked": w.id_number_masked, "message": w.message,
                 "level": w.level} for w in warnings],
        versions=versions, warnings=sum(1 for w in warnings if w.level == "danger"))
    audit_record(actor=actor, action="application.check", object_type="application", object_id=app.pk,
                 region_code=app.household.region_id,
                 after={"check_id": check.pk, "stage": stage, "warnings": check.warnings, "versions": versions},
                 note=app.tracking_no)
    return check


@transaction.atomic
def application_check(*, actor, application: Application, stage: str = CheckStage.PROPOSAL) -> ApplicationCheck:
    """信息核对 on demand (the services take it themselves on accept and before the proposal)."""
    app = _fetch(application)
    require(actor, "entry_check.run", region_code=app.household.region_id)
    if not app.is_open:
        raise ValidationError(_("%(app)s已办结，不再核对") % {"app": _label(app)})
    return _take_check(actor=actor, app=app, stage=stage)


# --- 入户调查 ---------------------------------------------------------------------------------

def check_investigators(investigators: Iterable[User], household: Household) -> list[User]:
    """Two distinct active users of the household's township, neither recused (入户调查, 定期核查)."""
    people = [u for u in investigators if u]
    if len(people) != 2 or people[0].pk == people[1].pk:
        raise ValidationError({"investigators": _("入户调查须由两名不同的调查人员进行，请选择两人")})
    for person in people:
        if not person.is_active or not _same_township(person, household):
            raise ValidationError({"investigators": _("调查人员 %(n)s 不是户籍所在乡镇（%(t)s）的工作人员")
                                   % {"n": person.full_name or person.username, "t": household.township_code}})
        _refuse_if_recused(person, household, who=_("调查人员"))
    return people


@transaction.atomic
def application_visit(*, actor, application: Application, investigators: Iterable[User], visited_on: dt.date,
                      housing: str, income: str, assets: str, members_present: str, survey,
                      photos: Iterable = ()) -> Application:
    """入户调查 by two distinct investigators of the township, neither recused."""
    app = _fetch(application)
    household = app.household
    require(actor, "application.visit", region_code=household.region_id)
    _refuse_if_recused(actor, household)
    people = check_investigators(investigators, household)
    last_objection = app.objections.aggregate(d=Max("received_on"))["d"]
    on = _step_date(visited_on, "visited_on", (app.accepted_on, _("受理日期")), (last_objection, _("公示异议日期")))
    texts = {"visit_housing": _text(housing, "housing", _("住房情况")),
             "visit_income": _text(income, "income", _("收入情况")),
             "visit_assets": _text(assets, "assets", _("财产情况")),
             "visit_members_present": _text(members_present, "members_present", _("在场家庭成员"))}
    _require_upload(survey, "survey", _("双方签字的入户调查表扫描件"))
    before = snapshot(app)
    _move(app, app.mark_visited, _("入户调查"))
    app.investigator_1, app.investigator_2 = people
    app.visited_on = on
    for key, value in texts.items():
        setattr(app, key, value)
    # a re-visit after an objection asks for a new appraisal: the old one is of the old facts
    if last_objection:
        app.appraised_on, app.appraisal_participants, app.appraisal_result = None, "", ""
    app.save()
    app.objections.filter(handled=False).update(handled=True)
    audit_change(actor=actor, obj=app, region_code=app.household.region_id,
                 action="application.visit", before=before, note=app.tracking_no)
    _attach(actor=actor, app=app, step=ApplicationStep.VISIT, kind=AttachmentKind.SURVEY, upload=survey)
    for photo in photos:
        _attach(actor=actor, app=app, step=ApplicationStep.VISIT, kind=AttachmentKind.PHOTO, upload=photo)
    return app


# --- 民主评议 ---------------------------------------------------------------------------------

def appraisal_required(app: Application) -> bool:
    return app.objections.exists() or is_filed_relative(app.household)


@transaction.atomic
def application_appraise(*, actor, application: Application, appraised_on: dt.date, participants: str,
                         result: str, minutes) -> Application:
    app = _fetch(application)
    require(actor, "application.appraise", region_code=app.household.region_id)
    _refuse_if_recused(actor, app.household)
    on = _step_date(appraised_on, "appraised_on", (app.visited_on, _("入户调查日期")))
    participants = _text(participants, "participants", _("参加人员"))
    result = _text(result, "result", _("评议结果或表决情况"))
    _require_upload(minutes, "minutes", _("民主评议记录（扫描件）"))
    before = snapshot(app)
    _move(app, app.mark_appraised, _("民主评议"))
    app.appraised_on, app.appraisal_participants, app.appraisal_result = on, participants, result
    app.save()
    audit_change(actor=actor, obj=app, region_code=app.household.region_id,
                 action="application.appraise", before=before, note=app.tracking_no)
    _attach(actor=actor, app=app, step=ApplicationStep.APPRAISE, kind=AttachmentKind.MINUTES, upload=minutes)
    return app


# --- 审核意见 ---------------------------------------------------------------------------------

def proposal_amount(household: Household, *, month: dt.date, single_coverage_id_number: str = ""):
    """The computed amount with its working for a proposal (or a ValidationError saying what is missing).

    Also what the intake form and the proposal form show live."""
    standard = benefits.standard_in_force(region_code=household.region_id, category=household.category, month=month)
    if standard is None:
        raise ValidationError(_("户籍地（%(r)s）%(c)s在 %(m)s 没有生效的保障标准，无法测算金额；请联系管理员录入保障标准")
                              % {"r": household.region.name, "c": household.get_category_display(),
                                 "m": f"{month:%Y-%m}"})
    members = list(household.members.all())
    incomes = [m.monthly_income for m in members]
    single_income = None
    if single_coverage_id_number:
        member = next((m for m in members if m.id_number == single_coverage_id_number), None)
        if member is None:
            raise ValidationError({"single_coverage_id_number": _("单人保对象不是本户成员")})
        if not benefits.single_coverage_eligible(member):
            raise ValidationError({"single_coverage_id_number": _(
                "%(n)s 不符合单人保条件（须为一、二级残疾，三级智力或精神残疾，或患重病）") % {"n": member.name}})
        if not benefits.is_edge_family(standard=standard.monthly_standard, incomes=incomes):
            raise ValidationError({"single_coverage_id_number": _(
                "家庭人均收入不低于保障标准的 %(f)s 倍，不属于边缘家庭，不能单人保") % {"f": benefits.edge_factor()}})
        single_income = member.monthly_income or Decimal("0")
    return benefits.compute_amount(standard=standard.monthly_standard, incomes=incomes,
                                   single_member_income=single_income)


@transaction.atomic
def application_propose(*, actor, application: Application, proposal: str, proposed_on: dt.date | None = None,
                        proposed_amount: Decimal | None = None, amount_reason: str = "",
                        single_coverage_id_number: str = "", refusal_reasons: str = "") -> Application:
    """审核意见 of the township: approve with the computed amount (another figure only with a reason)
    and the 单人保 member if any, or refuse with reasons. A refusal goes to the county at once;
    an approval goes to the notice first."""
    app = _fetch(application)
    household = app.household
    require(actor, "application.propose", region_code=household.region_id)
    _refuse_if_recused(actor, household)
    if (not is_system(actor) and app.accepted_by_id == actor.pk
            and township_caseworkers(household).exclude(pk=actor.pk).exists()):
        raise PermissionDenied(_("本乡镇有两名以上经办人员：受理人不能同时提出审核意见，请由另一名经办人员办理"))
    if app.state == ApplicationState.VISITED and appraisal_required(app) and not app.appraised_on:
        reason = _("公示期间收到异议") if app.objections.exists() else _("申请家庭为工作人员备案近亲属")
        raise ValidationError(_("%(r)s，提出审核意见前须先进行民主评议") % {"r": reason})
    on = _step_date(proposed_on, "proposed_on", (app.visited_on, _("入户调查日期")),
                    (app.appraised_on, _("民主评议日期")))
    before = snapshot(app)
    _move(app, app.mark_proposed, _("提出审核意见"))
    app.proposal, app.proposed_by, app.proposed_on = proposal, actor, on
    if proposal == ProposalDecision.APPROVE:
        working = proposal_amount(household, month=on, single_coverage_id_number=single_coverage_id_number)
        amount = working.amount if proposed_amount in (None, "") else Decimal(proposed_amount).quantize(Decimal("0.01"))
        reason = (amount_reason or "").strip()
        if amount != working.amount and not reason:
            raise ValidationError({"amount_reason": _("拟保障金额 %(p)s 元与测算金额 %(c)s 元不一致，请写明理由")
                                   % {"p": amount, "c": working.amount}})
        if amount <= 0:
            raise ValidationError({"proposed_amount": _("测算补差为 0 元（%(w)s）：家庭收入不低于保障标准，应提出不予批准意见")
                                   % {"w": working.working}})
        app.computed_amount, app.amount_working, app.covered_persons = working.amount, working.working, \
            working.covered_persons
        app.proposed_amount, app.amount_reason = amount, reason if amount != working.amount else ""
        app.single_coverage_id_number = single_coverage_id_number or ""
        app.refusal_reasons, app.submitted_on, app.confirm_due_on = "", None, None
    elif proposal == ProposalDecision.REFUSE:
        app.refusal_reasons = _text(refusal_reasons, "refusal_reasons", _("拟不予批准的理由"))
        app.computed_amount = app.proposed_amount = app.covered_persons = None
        app.amount_working = app.amount_reason = app.single_coverage_id_number = ""
        app.submitted_on = on
        app.confirm_due_on = add_working_days(on, confirm_working_days())
    else:
        raise ValidationError({"proposal": _("请选择审核意见：拟批准或拟不予批准")})
    app.save()
    audit_change(actor=actor, obj=app, region_code=app.household.region_id,
                 action="application.propose", before=before,
           note=app.amount_working or app.refusal_reasons)
    _take_check(actor=actor, app=app, stage=CheckStage.PROPOSAL)
    return app


# --- 公示 -------------------------------------------------------------------------------------

@transaction.atomic
def application_notice_start(*, actor, application: Application, started_on: dt.date | None = None) -> Application:
    """公示 in the village for NOTICE_DAYS calendar days; without objection its end is the
    submission to the county, which starts the county's clock."""
    app = _fetch(application)
    require(actor, "application.notice", region_code=app.household.region_id)
    _refuse_if_recused(actor, app.household)
    on = _step_date(started_on, "started_on", (app.proposed_on, _("审核意见日期")))
    before = snapshot(app)
    _move(app, app.mark_notice, _("公示"))
    app.notice_started_on, app.notice_by = on, actor
    app.notice_ends_on = on + dt.timedelta(days=notice_days() - 1)
    app.submitted_on = on + dt.timedelta(days=notice_days())
    app.confirm_due_on = add_working_days(app.submitted_on, confirm_working_days())
    app.renotice_due_on = None
    app.save()
    audit_change(actor=actor, obj=app, region_code=app.household.region_id,
                 action="application.notice", before=before, note=app.tracking_no)
    return app


@transaction.atomic
def application_object(*, actor, application: Application, content: str,
                       received_on: dt.date | None = None) -> ApplicationObjection:
    """An objection during the notice: the case goes back to 入户调查, to be re-investigated,
    appraised and noticed again within RENOTICE_WORKING_DAYS."""
    app = _fetch(application)
    require(actor, "application.notice", region_code=app.household.region_id)
    _refuse_if_recused(actor, app.household)
    content = _text(content, "content", _("异议内容"))
    on = _step_date(received_on, "received_on", (app.notice_started_on, _("公示开始日期")))
    if app.notice_ends_on and on > app.notice_ends_on:
        raise ValidationError({"received_on": _("公示已于 %(d)s 期满，期满后收到的意见请作为投诉举报登记")
                               % {"d": app.notice_ends_on}})
    before = snapshot(app)
    _move(app, app.mark_objected, _("登记公示异议"))
    objection = ApplicationObjection.objects.create(application=app, received_on=on, content=content, received_by=actor)
    app.notice_started_on = app.notice_ends_on = app.submitted_on = app.confirm_due_on = None
    app.renotice_due_on = add_working_days(on, renotice_working_days())
    app.save()
    audit_change(actor=actor, obj=app, region_code=app.household.region_id,
                 action="application.object", before=before, note=content)
    return objection


# --- 县级入户核查 / 确认 / 不予批准 ------------------------------------------------------------

@transaction.atomic
def application_county_visit(*, actor, application: Application, visited_on: dt.date, findings: str,
                             record=None) -> Application:
    """The county's own home visit (100% for filed relatives of staff), by a county user who
    will then not confirm the case."""
    app = _fetch(application)
    require(actor, "application.county_visit", region_code=app.household.region_id)
    _refuse_if_recused(actor, app.household)
    on = _step_date(visited_on, "visited_on", (app.proposed_on, _("审核意见日期")))
    findings = _text(findings, "findings", _("县级入户核查情况"))
    before = snapshot(app)
    _move(app, app.mark_county_visited, _("县级入户核查"))
    app.county_visited_by, app.county_visited_on, app.county_visit_findings = actor, on, findings
    app.save()
    audit_change(actor=actor, obj=app, region_code=app.household.region_id,
                 action="application.county_visit", before=before, note=app.tracking_no)
    if record:
        _attach(actor=actor, app=app, step=ApplicationStep.COUNTY_VISIT, kind=AttachmentKind.COUNTY_SURVEY,
                upload=record)
    return app


def _check_decider(actor, app: Application, on: dt.date) -> None:
    """Separation of duties for the county's decision; `on` is the decision date."""
    if not app.submitted_on or on < app.submitted_on:
        raise ValidationError(_("%(app)s尚未报送县级（公示期至 %(d)s 期满），暂不能确认")
                              % {"app": _label(app), "d": app.notice_ends_on or "—"})
    if is_system(actor):
        return
    if actor.pk == app.proposed_by_id:
        raise PermissionDenied(_("您是该申请审核意见的提出人，不能同时确认；请由县级其他审核人员办理"))
    if actor.pk in (app.investigator_1_id, app.investigator_2_id):
        raise PermissionDenied(_("您参加了该申请的入户调查，不能确认本案"))
    _refuse_if_recused(actor, app.household)


@transaction.atomic
def application_confirm(*, actor, application: Application, decided_on: dt.date | None = None,
                        first_month: dt.date | None = None) -> Application:
    """县级确认 of a township approval after the notice: the household becomes 在保 with the
    proposed amount, effective from the first month, written to the amount history."""
    app = _fetch(application)
    household = app.household
    require(actor, "application.confirm", region_code=household.region_id)
    on = _step_date(decided_on, "decided_on", (app.proposed_on, _("审核意见日期")))
    _check_decider(actor, app, on)
    if app.proposal != ProposalDecision.APPROVE:
        raise ValidationError(_("乡镇意见为拟不予批准，只能作出不予批准决定"))
    if is_filed_relative(household):
        if not app.county_visited_on:
            raise ValidationError(_("申请家庭为工作人员备案近亲属：确认前须由县级工作人员入户核查（100%），尚未登记"))
        if not is_system(actor) and app.county_visited_by_id == actor.pk:
            raise PermissionDenied(_("县级入户核查由您进行：确认须由另一名县级审核人员办理"))
    default_month = on.replace(day=1)
    if getattr(settings, "PAY_FROM_NEXT_MONTH", False):
        default_month = (default_month + dt.timedelta(days=32)).replace(day=1)
    month = (first_month or default_month).replace(day=1)
    if month < app.accepted_on.replace(day=1):
        raise ValidationError({"first_month": _("起始保障月份 %(m)s 早于受理月份") % {"m": f"{month:%Y-%m}"}})
    before = snapshot(app)
    _move(app, app.mark_approved, _("县级确认"))
    app.decision, app.decided_by, app.decided_on = ApplicationDecision.CONFIRMED, actor, on
    app.decided_amount, app.first_month = app.proposed_amount, month
    app.save()
    audit_change(actor=actor, obj=app, region_code=app.household.region_id,
                 action="application.confirm", before=before,
           note=_("核定 %(a)s 元/月，%(n)s 人，自 %(m)s 起") % {"a": app.decided_amount, "n": app.covered_persons,
                                                            "m": f"{month:%Y-%m}"})
    _set_household(actor=actor, app=app, action="application.confirm", data={
        "status": Status.ACTIVE, "decided_on": on, "monthly_amount": app.decided_amount,
        "single_coverage_id_number": app.single_coverage_id_number, "rejection_reason": "",
        "exited_on": None, "exit_reason": ""})
    AmountHistory.objects.create(household=household, effective_month=month, amount=app.decided_amount,
                                 covered_persons=app.covered_persons,
                                 single_coverage_id_number=app.single_coverage_id_number,
                                 source=AmountSource.APPLICATION, note=app.tracking_no,
                                 decided_by=actor if not is_system(actor) else None)
    return app


@transaction.atomic
def application_refuse(*, actor, application: Application, reasons: str,
                       decided_on: dt.date | None = None) -> Application:
    """不予批准 with reasons: the household becomes 未通过; the written notice is due within
    REFUSAL_NOTICE_WORKING_DAYS."""
    app = _fetch(application)
    require(actor, "application.confirm", region_code=app.household.region_id)
    reasons = _text(reasons, "reasons", _("不予批准的理由"))
    on = _step_date(decided_on, "decided_on", (app.proposed_on, _("审核意见日期")))
    _check_decider(actor, app, on)
    before = snapshot(app)
    _move(app, app.mark_refused, _("不予批准"))
    app.decision, app.decided_by, app.decided_on, app.decision_reasons = ApplicationDecision.REFUSED, actor, on, reasons
    app.refusal_notice_due_on = add_working_days(on, refusal_notice_working_days())
    app.save()
    audit_change(actor=actor, obj=app, region_code=app.household.region_id,
                 action="application.refuse", before=before, note=reasons)
    _set_household(actor=actor, app=app, action="application.refuse", data={
        "status": Status.REJECTED, "decided_on": on, "rejection_reason": reasons[:200]})
    return app


# --- 通知 / 延期 ------------------------------------------------------------------------------

@transaction.atomic
def application_notify(*, actor, application: Application, notified_on: dt.date | None = None) -> Application:
    """The written notice delivered to the family (approval, or refusal with its reasons)."""
    app = _fetch(application)
    require(actor, "application.notify", region_code=app.household.region_id)
    on = _step_date(notified_on, "notified_on", (app.decided_on, _("确认日期")))
    before = snapshot(app)
    _move(app, app.mark_notified, _("通知申请家庭"))
    app.family_notified_on, app.notified_by = on, actor
    app.save()
    audit_change(actor=actor, obj=app, region_code=app.household.region_id,
                 action="application.notify", before=before, note=app.tracking_no)
    return app


@transaction.atomic
def application_extend(*, actor, application: Application, reason: str,
                       extended_on: dt.date | None = None) -> Application:
    """Extend the whole process to PROCESS_WORKING_DAYS_EXTENDED (45) working days, once, with a reason."""
    app = _fetch(application)
    require(actor, "application.extend", region_code=app.household.region_id)
    _refuse_if_recused(actor, app.household)
    reason = _text(reason, "reason", _("延期理由"))
    on = _step_date(extended_on, "extended_on", (app.accepted_on, _("受理日期")))
    before = snapshot(app)
    _move(app, app.mark_extended, _("延长办理时限"))
    app.extension_reason, app.extended_by, app.extended_on = reason, actor, on
    app.process_due_on = add_working_days(app.accepted_on, process_working_days(extended=True))
    app.save()
    audit_change(actor=actor, obj=app, region_code=app.household.region_id,
                 action="application.extend", before=before, note=reason)
    return app


# --- intake (the household and the application together) --------------------------------------

@transaction.atomic
def application_intake(*, actor, household_data: dict, members: list[dict], authorisation,
                       declared_assets: str = "", accepted_on: dt.date | None = None,
                       head_monthly_income: Decimal | None = None) -> Application:
    """A new household entered at the township window and accepted in one go (审核中)."""
    from cases.services import household_save, member_update

    require(actor, "application.accept")
    data = {**household_data, "status": Status.PENDING, "applied_on": accepted_on or today()}
    household = household_save(actor=actor, data=data, members=members)
    if head_monthly_income is not None:
        head = household.members.get(relation=Relation.SELF)
        member_update(actor=actor, member=head, data={"monthly_income": head_monthly_income})
    return application_accept(actor=actor, household=household, authorisation=authorisation,
                              declared_assets=declared_assets, accepted_on=accepted_on)

"""Writes of the audits app: starting and resuming rescreening batches, review decisions on
findings, and the townships' verification tasks. Each checks the rules, saves, and leaves an
audit record in the same transaction."""
from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audits import rules
from audits.models import BatchState, Finding, FindingState, RescreenBatch, TaskOutcome, VerificationTask
from audits.selectors import is_recused
from cases import services as cases_services
from cases.models import Household, Status
from dibao.audit import audit_record
from dibao.models import Region, Role, User
from dibao.scoping import in_scope

BATCH_STARTERS = {Role.COUNTY_REVIEWER, Role.SUPERVISOR, Role.ADMIN}
REVIEWERS = {Role.COUNTY_REVIEWER, Role.ADMIN}
TASK_WORKERS = {Role.CASEWORKER, Role.COUNTY_REVIEWER, Role.ADMIN}


def _is_user(actor) -> bool:
    return isinstance(actor, User)


def _require_in_scope(actor, region_code: str, message: str) -> None:
    if not in_scope(actor, region_code):
        raise PermissionDenied(message)


@transaction.atomic
def batch_create(*, actor, region_code: str = "", as_of: dt.date | None = None,
                 enqueue: bool = True) -> RescreenBatch:
    """Queue a rescreening batch over a region (empty = everything the actor may see)."""
    if _is_user(actor):
        if actor.role not in BATCH_STARTERS:
            raise PermissionDenied(_("您的角色不能发起复核比对"))
        if not region_code and actor.scope_prefix:
            region_code = actor.scope_prefix
    region_code = (region_code or "").strip()
    if region_code and not Region.objects.filter(code=region_code).exists():
        raise ValidationError({"region_code": _("区划代码 %(code)s 不存在") % {"code": region_code}})
    _require_in_scope(actor, region_code, _("区划 %(code)s 不在您的管辖范围内") % {"code": region_code})
    as_of = as_of or timezone.localdate()
    params = rules.current_params()
    params["ref_versions"] = {kind: list(v) for kind, v in rules.current_versions().items()}
    previous = (RescreenBatch.objects.filter(region_code=region_code, state=BatchState.DONE)
                .order_by("-id").first())
    batch = RescreenBatch.objects.create(region_code=region_code, as_of=as_of, params=params, previous=previous,
                                         started_by=actor if _is_user(actor) else None)
    audit_record(actor=actor, action="rescreen.start", object_type="rescreen_batch", object_id=batch.pk,
                 region_code=region_code, after={"region_code": region_code, "as_of": as_of, "params": params})
    if enqueue:
        _enqueue(batch.pk)
    return batch


def _enqueue(batch_id: int) -> None:
    from audits import tasks
    transaction.on_commit(lambda: tasks.run_batch.delay(batch_id))


@transaction.atomic
def batch_resume(*, actor, batch: RescreenBatch, enqueue: bool = True) -> RescreenBatch:
    """Run a failed or interrupted batch again: finished chunks are kept, the rest redone."""
    _require_in_scope(actor, batch.region_code, _("该批次不在您的管辖范围内"))
    if batch.state == BatchState.DONE:
        raise ValidationError(_("批次 #%(id)s 已完成，无需续跑") % {"id": batch.pk})
    RescreenBatch.objects.filter(pk=batch.pk).update(state=BatchState.QUEUED, error="")
    audit_record(actor=actor, action="rescreen.resume", object_type="rescreen_batch", object_id=batch.pk,
                 region_code=batch.region_code)
    if enqueue:
        _enqueue(batch.pk)
    batch.refresh_from_db()
    return batch


# --- review (疑点复核) -------------------------------------------------------------------------

def _check_reviewable(actor: User, finding: Finding) -> Household:
    if not _is_user(actor) or actor.role not in REVIEWERS:
        raise PermissionDenied(_("只有县级审核人员可以复核疑点"))
    _require_in_scope(actor, finding.region_code, _("该疑点不在您的管辖范围内"))
    if rules.RULES[finding.rule].section != "A":
        raise ValidationError(_("五类人员和数据质量疑点不经复核：前者转乡镇核查，后者仅作报告"))
    if finding.state != FindingState.PENDING:
        raise ValidationError(_("疑点 #%(id)s 已复核（%(state)s），不能重复处理")
                              % {"id": finding.pk, "state": finding.get_state_display()})
    household = finding.household
    if household is None:
        raise ValidationError(_("疑点 #%(id)s 对应的家庭已不存在") % {"id": finding.pk})
    if is_recused(user=actor, household=household):
        raise PermissionDenied(_("您与户 %(no)s 的家庭成员存在近亲属关系，依规应当回避，不能复核该疑点")
                               % {"no": household.household_no})
    return household


def _audit_decision(*, actor: User, finding: Finding, household: Household, action: str) -> None:
    # The household is the object, so its timeline shows the decision next to the registry changes.
    audit_record(actor=actor, action=action, object_type="household", object_id=household.pk,
                 region_code=household.region_id,
                 after={"finding_id": finding.pk, "rule": finding.rule, "state": finding.state,
                        "reason": finding.decision_reason, "actions": finding.actions,
                        "funds_recovered": finding.funds_recovered},
                 note=f"{finding.rule} {finding.detail}")


@transaction.atomic
def finding_dismiss(*, actor: User, finding: Finding, reason: str) -> Finding:
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    household = _check_reviewable(actor, finding)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("排除疑点必须填写理由")})
    finding.state = FindingState.DISMISSED
    finding.decision_reason = reason.strip()
    finding.decided_by = actor
    finding.decided_at = timezone.now()
    finding.save(update_fields=["state", "decision_reason", "decided_by", "decided_at"])
    _audit_decision(actor=actor, finding=finding, household=household, action="finding.dismiss")
    return finding


@transaction.atomic
def finding_confirm(*, actor: User, finding: Finding, reason: str, stop_payment: bool = False,
                    exit_on: dt.date | None = None, exit_reason: str = "",
                    recover_amount: Decimal | None = None, refer_clue: bool = False,
                    clue_summary: str = "") -> Finding:
    """属实: record the decision and carry out the chosen actions on the household."""
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    household = _check_reviewable(actor, finding)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("认定属实必须填写复核意见")})
    if recover_amount is not None:
        recover_amount = Decimal(recover_amount).quantize(Decimal("0.01"))
        if recover_amount <= 0:
            raise ValidationError({"recover_amount": _("追回金额必须大于 0")})
    actions: dict = {}
    household.refresh_from_db()
    note = _("疑点 #%(id)s（%(rule)s）复核属实") % {"id": finding.pk, "rule": finding.rule}
    if exit_on:
        if household.status == Status.ACTIVE:
            cases_services.household_exit(actor=actor, household=household, exited_on=exit_on,
                                          reason=exit_reason or reason, note=note)
        actions["exit"] = {"exited_on": exit_on.isoformat(), "reason": exit_reason or reason}
    if stop_payment:
        household.refresh_from_db()
        if not household.payment_stopped:
            cases_services.household_stop_payment(actor=actor, household=household, reason=note)
        actions["stop_payment"] = True
    if recover_amount is not None:
        actions["recover_funds"] = str(recover_amount)
        finding.funds_recovered = recover_amount
    if refer_clue:
        actions["clue"] = {"summary": clue_summary or finding.detail}
    finding.state = FindingState.CONFIRMED
    finding.decision_reason = reason.strip()
    finding.decided_by = actor
    finding.decided_at = timezone.now()
    finding.actions = actions
    finding.save(update_fields=["state", "decision_reason", "decided_by", "decided_at", "actions",
                                "funds_recovered"])
    if refer_clue:
        finding.clue_id = _refer_clue(actor=actor, finding=finding, summary=clue_summary or finding.detail)
        if finding.clue_id:
            finding.actions["clue"]["clue_id"] = finding.clue_id
        finding.save(update_fields=["clue_id", "actions"])
    _audit_decision(actor=actor, finding=finding, household=household, action="finding.confirm")
    return finding


def _refer_clue(*, actor: User, finding: Finding, summary: str) -> int | None:
    """Hand the finding to the clue ledger when the complaints app offers it; otherwise the
    request stays recorded on the finding (actions.clue) for the ledger to pick up."""
    try:
        complaints_services = importlib.import_module("complaints.services")
    except ImportError:
        return None
    create = getattr(complaints_services, "clue_create_from_finding", None)
    if create is None:
        return None
    clue = create(actor=actor, finding_id=finding.pk, summary=summary)
    return getattr(clue, "pk", None)


@transaction.atomic
def findings_bulk_decide(*, actor: User, findings: list[Finding], decision: str, reason: str,
                         **actions) -> list[Finding]:
    """One decision and one reason for a selection; all or nothing."""
    if not findings:
        raise ValidationError(_("请至少选择一条疑点"))
    done = []
    for finding in findings:
        if decision == "dismiss":
            done.append(finding_dismiss(actor=actor, finding=finding, reason=reason))
        elif decision == "confirm":
            done.append(finding_confirm(actor=actor, finding=finding, reason=reason, **actions))
        else:
            raise ValidationError(_("未知的复核结论：%(d)s") % {"d": decision})
    return done


# --- five-group verification tasks -------------------------------------------------------------

@transaction.atomic
def task_complete(*, actor: User, task: VerificationTask, visited_on: dt.date, investigator_1: str,
                  investigator_2: str, outcome: str, reason: str = "", household_no: str = "") -> VerificationTask:
    """Record the home visit (two investigators) and its outcome."""
    if not _is_user(actor) or actor.role not in TASK_WORKERS:
        raise PermissionDenied(_("您的角色不能办理核查任务"))
    _require_in_scope(actor, task.township_code, _("该任务不在您的管辖范围内"))
    task = VerificationTask.objects.select_for_update().get(pk=task.pk)
    if task.is_done:
        raise ValidationError(_("该任务已办结"))
    errors = {}
    one, two = (investigator_1 or "").strip(), (investigator_2 or "").strip()
    if not one or not two:
        errors["investigator_2"] = _("入户核查须由两名调查人员进行，请填写两人姓名")
    elif one == two:
        errors["investigator_2"] = _("两名调查人员不能是同一人")
    if visited_on and visited_on > timezone.localdate():
        errors["visited_on"] = _("入户核查日期不能晚于今天")
    if not visited_on and outcome != TaskOutcome.UNREACHABLE:
        errors["visited_on"] = _("请填写入户核查日期")
    if outcome not in (TaskOutcome.ENROLLED, TaskOutcome.NOT_ELIGIBLE, TaskOutcome.UNREACHABLE):
        errors["outcome"] = _("请选择核查结果")
    enrolled = None
    if outcome == TaskOutcome.ENROLLED:
        enrolled = Household.objects.for_user(actor).filter(household_no=(household_no or "").strip()).first()
        if enrolled is None:
            errors["household_no"] = _("户编号 %(no)s 不存在或不在您的管辖范围内") % {"no": household_no}
    if outcome == TaskOutcome.NOT_ELIGIBLE and not (reason or "").strip():
        errors["reason"] = _("认定不符合条件须填写理由")
    if errors:
        raise ValidationError(errors)
    task.visited_on = visited_on
    task.investigator_1, task.investigator_2 = one, two
    task.outcome = outcome
    task.outcome_reason = (reason or "").strip()
    task.enrolled_household = enrolled
    task.completed_at = timezone.now()
    task.completed_by = actor
    task.save()
    audit_record(actor=actor, action="verification_task.complete", object_type="verification_task",
                 object_id=task.pk, region_code=task.township_code,
                 after={"outcome": outcome, "visited_on": visited_on, "investigators": [one, two],
                        "household_no": enrolled.household_no if enrolled else "", "reason": task.outcome_reason})
    return task


def findings_export(*, actor, batch: RescreenBatch, findings, fmt: str, target, full_ids: bool) -> int:
    """Write findings as .csv or .xlsx to a path or stream, and record who exported what."""
    from audits.export import write_csv, write_xlsx

    if fmt == "csv":
        n = write_csv(findings, target, full_ids=full_ids)
    elif fmt == "xlsx":
        n = write_xlsx(findings, target, full_ids=full_ids)
    else:
        raise ValidationError(_("导出格式只能是 .csv 或 .xlsx"))
    audit_record(actor=actor, action="findings.export", object_type="rescreen_batch", object_id=batch.pk,
                 region_code=batch.region_code if not _is_user(actor) or actor.scope_prefix is None
                 else actor.scope_prefix,
                 after={"format": fmt, "rows": n, "full_ids": full_ids})
    return n

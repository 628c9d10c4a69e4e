"""Writes of the audits app: starting and resuming rescreening batches, review decisions on
findings, and the townships' verification tasks. Each checks the rules, saves, and leaves an
audit record in the same transaction."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from audits import rules
from audits.models import BatchChunk, Finding, FindingState, RescreenBatch, TaskOutcome, VerificationTask
from dibao.jobs import JobState, stale_running
from audits.selectors import is_recused
from cases.models import Household, Status
from dibao.audit import audit_record
from dibao.dispatch import enqueue
from dibao.concurrency import check_version
from dibao.models import Region, User
from dibao.permissions import is_system, require


@transaction.atomic
def batch_create(*, actor, region_code: str = "", as_of: dt.date | None = None,
                 enqueue: bool = True) -> RescreenBatch:
    """Queue a rescreening batch over a region (empty = everything the actor may see)."""
    require(actor, "rescreen.start")
    if not region_code and not is_system(actor):
        region_code = actor.scope_prefix or ""
    region_code = (region_code or "").strip()
    if region_code and not Region.objects.filter(code=region_code).exists():
        raise ValidationError({"region_code": _("区划代码 %(code)s 不存在") % {"code": region_code}})
    require(actor, "rescreen.start", region_code=region_code)
    as_of = as_of or timezone.localdate()
    params = rules.current_params()
    params["ref_versions"] = {kind: list(v) for kind, v in rules.current_versions().items()}
    previous = (RescreenBatch.objects.filter(region_code=region_code, state=JobState.DONE)
                .order_by("-id").first())
    batch = RescreenBatch.objects.create(region_code=region_code, as_of=as_of, params=params, previous=previous,
                                         started_by=None if is_system(actor) else actor)
    audit_record(actor=actor, action="rescreen.start", object_type="rescreen_batch", object_id=batch.pk,
                 region_code=region_code, after={"region_code": region_code, "as_of": as_of, "params": params})
    if enqueue:
        _enqueue(batch.pk)
    return batch


def _enqueue(batch_id: int) -> None:
    from audits import tasks
    enqueue(tasks.run_batch, batch_id)


@transaction.atomic
def batch_resume(*, actor, batch: RescreenBatch, enqueue: bool = True) -> RescreenBatch:
    """Run a failed or interrupted batch again: finished chunks are kept, the rest redone."""
    batch = RescreenBatch.objects.select_for_update().get(pk=batch.pk)
    require(actor, "rescreen.start", region_code=batch.region_code)
    if batch.state == JobState.DONE:
        raise ValidationError(_("批次 #%(id)s 已完成，无需续跑") % {"id": batch.pk})
    RescreenBatch.objects.filter(pk=batch.pk).update(state=JobState.QUEUED, error="", attempts=0)
    # a person looked at it: the chunks get their automatic retries again
    BatchChunk.objects.filter(batch=batch).exclude(state=JobState.DONE).update(attempts=0)
    audit_record(actor=actor, action="rescreen.resume", object_type="rescreen_batch", object_id=batch.pk,
                 region_code=batch.region_code)
    if enqueue:
        _enqueue(batch.pk)
    batch.refresh_from_db()
    return batch


@transaction.atomic
def recover_stale() -> dict[str, int]:
    """The watchdog (beat, every 5 minutes): requeue rescreening work whose worker died.

    A running chunk with an old heartbeat whose row no open transaction holds goes back to the
    queue: its transaction never committed, so it wrote nothing, and the rerun writes the rows a
    clean run would. A running batch with an old heartbeat and no chunk running (killed while
    staging its rules or finishing) runs again from where it stopped. Both are marked queued so
    the next pass does not requeue them twice.
    """
    from audits import tasks

    chunks = list(stale_running(BatchChunk.objects))
    for chunk in chunks:
        note = _("处理进程中断（心跳停止），已自动重新排队（已运行 %(n)d 次）") % {"n": chunk.attempts}
        BatchChunk.objects.filter(pk=chunk.pk).update(state=JobState.QUEUED, error=note)
        audit_record(actor="system", action="rescreen.recover", object_type="rescreen_batch",
                     object_id=chunk.batch_id,
                     region_code="" if chunk.region_code == BatchChunk.NO_REGION else chunk.region_code,
                     note=note)
        transaction.on_commit(lambda pk=chunk.pk: tasks.run_chunk.delay(pk))
    running_chunk = BatchChunk.objects.filter(batch=OuterRef("pk"), state=JobState.RUNNING)
    batches = list(stale_running(RescreenBatch.objects, "created_at")
                   .exclude(pk__in={c.batch_id for c in chunks}).exclude(Exists(running_chunk)))
    for batch in batches:
        note = _("处理进程中断（心跳停止），已自动续跑")
        RescreenBatch.objects.filter(pk=batch.pk).update(state=JobState.QUEUED)
        audit_record(actor="system", action="rescreen.recover", object_type="rescreen_batch", object_id=batch.pk,
                     region_code=batch.region_code, note=note)
        _enqueue(batch.pk)
    return {"chunks": len(chunks), "batches": len(batches)}


# --- review (疑点复核) -------------------------------------------------------------------------

def _check_reviewable(actor: User, finding: Finding) -> Household:
    if is_system(actor):
        raise PermissionDenied(_("疑点复核须由县级审核人员本人作出"))
    require(actor, "finding.review", region_code=finding.region_code)
    if finding.section not in ("A", "D"):
        raise ValidationError(_("五类人员和数据质量疑点不经复核：前者转乡镇核查，后者仅作报告"))
    if finding.state != FindingState.PENDING:
        raise ValidationError(_("疑点 #%(id)s 已复核（%(state)s），不能重复处理")
                              % {"id": finding.pk, "state": finding.get_state_display()})
    household = finding.household
    if household is None and finding.section == "D":
        return None  # a payment to a 户编号 the registry does not know: there is no family to act on
    if household is None:
        raise ValidationError(_("疑点 #%(id)s 对应的家庭已不存在") % {"id": finding.pk})
    if is_recused(user=actor, household=household):
        raise PermissionDenied(_("您与户 %(no)s 的家庭成员存在近亲属关系，依规应当回避，不能复核该疑点")
                               % {"no": household.household_no})
    return household


def _audit_decision(*, actor: User, finding: Finding, household: Household | None, action: str) -> None:
    # The household is the object, so its timeline shows the decision next to the registry changes;
    # a payment to an unknown 户编号 has only the finding.
    audit_record(actor=actor, action=action, object_type="household" if household else "finding",
                 object_id=household.pk if household else finding.pk,
                 region_code=household.region_id if household else finding.region_code,
                 after={"finding_id": finding.pk, "rule": finding.rule, "state": finding.state,
                        "reason": finding.decision_reason, "actions": finding.actions,
                        "funds_recovered": finding.funds_recovered},
                 note=f"{finding.rule_name} {finding.detail}")


def _check_version(finding: Finding, expected: int | None) -> None:
    # before the state check: a reviewer whose page is stale learns that, not just "already reviewed"
    check_version(finding, expected, label=_("疑点 #%(id)s") % {"id": finding.pk})


@transaction.atomic
def finding_dismiss(*, actor: User, finding: Finding, reason: str, expected_version: int | None = None) -> Finding:
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    _check_version(finding, expected_version)
    household = _check_reviewable(actor, finding)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("排除疑点必须填写理由")})
    finding.state = FindingState.DISMISSED
    finding.decision_reason = reason.strip()
    finding.decided_by = actor
    finding.decided_at = timezone.now()
    finding.version += 1
    finding.save(update_fields=["state", "decision_reason", "decided_by", "decided_at", "version"])
    _audit_decision(actor=actor, finding=finding, household=household, action="finding.dismiss")
    return finding


# The change a confirmed finding calls for (workflow.md "From findings"), by rule; a member's
# death or public salary removes that member, not the household, unless they were its only member.
MEMBER_RULES = ("DECEASED", "PUBLIC_PAYROLL")
REVIEW_RULES = ("ASSET_VEHICLE", "ASSET_BUSINESS", "ASSET_PROPERTY", "AMOUNT_MISMATCH", "REVIEW_OVERDUE")
CHANGE_LABELS = {"remove_member": _lazy("减员"), "exit": _lazy("退出"), "review": _lazy("交乡镇核查")}


def fitting_changes(finding: Finding) -> list[str]:
    """The changes a confirmation of this finding may carry, the fitting one first."""
    household = finding.household
    if household is None or finding.section != "A" or household.status != Status.ACTIVE:
        return []
    if finding.rule in REVIEW_RULES:
        return ["review"]
    if finding.rule in MEMBER_RULES:
        others = household.members.exclude(id_number=finding.id_number).exists()
        if not others:
            return ["exit"]
        return ["remove_member"] if finding.rule == "DECEASED" else ["remove_member", "exit"]
    return ["exit"]


def _carry_out_change(*, actor: User, finding: Finding, household: Household, change: str, exit_on: dt.date | None,
                      exit_reason: str, reason: str) -> dict:
    """The fitting change, proposed and decided in the reviewer's step; returns its entry in `actions`."""
    from cases import changes, reviews
    from cases.models import ChangeKind

    if change not in fitting_changes(finding):
        raise ValidationError({"change": _("疑点“%(rule)s”不能据以办理“%(c)s”；可办理：%(ok)s") % {
            "rule": finding.rule_name, "c": CHANGE_LABELS.get(change, change),
            "ok": "、".join(str(CHANGE_LABELS[c]) for c in fitting_changes(finding)) or _("无")}})
    why = (exit_reason or reason).strip()
    if change == "review":
        review = reviews.review_request(actor=actor, household=household, finding_id=finding.pk,
                                        reason=_("疑点 #%(id)s（%(rule)s）复核属实：%(r)s")
                                        % {"id": finding.pk, "rule": finding.rule_name, "r": reason.strip()})
        return {"review": {"review_id": review.pk}}
    if not exit_on:
        raise ValidationError({"exit_on": _("办理%(c)s须填写日期（成员死亡、领取财政工资或家庭退出的日期）")
                               % {"c": CHANGE_LABELS[change]}})
    if change == "exit":
        made = changes.change_from_finding(actor=actor, household=household, kind=ChangeKind.EXIT, reason=why,
                                           effective_month=exit_on, finding_id=finding.pk,
                                           payload={"exit_on": exit_on})
        return {"exit": {"exited_on": exit_on.isoformat(), "reason": why, "change": made.tracking_no}}
    member = household.members.filter(id_number=finding.id_number).first()
    leave = _("死亡") if finding.rule == "DECEASED" else _("财政供养")
    # the member counted until the month they died or took the salary; the new amount from the next
    made = changes.change_from_finding(actor=actor, household=household, kind=ChangeKind.REMOVE_MEMBER,
                                       reason=_("%(name)s %(leave)s（%(d)s）：%(r)s")
                                       % {"name": member.name, "leave": leave, "d": exit_on, "r": why},
                                       effective_month=changes.add_months(exit_on, 1), finding_id=finding.pk,
                                       payload={"member_id": member.pk, "leave_reason": leave})
    return {"remove_member": {"name": member.name, "left_on": exit_on.isoformat(), "change": made.tracking_no,
                              "amount": f"{made.proposed_amount:.2f}"}}


@transaction.atomic
def finding_confirm(*, actor: User, finding: Finding, reason: str, stop_payment: bool = False, change: str = "",
                    exit_on: dt.date | None = None, exit_reason: str = "",
                    recover_amount: Decimal | None = None, refer_clue: bool = False,
                    clue_summary: str = "", expected_version: int | None = None) -> Finding:
    """属实: record the decision and carry out the chosen actions on the household. `change` is one
    of `fitting_changes(finding)` (减员 / 退出 on `exit_on`, or a review for the township); given a
    date without one, the fitting change is made."""
    from cases import changes
    from cases.models import ChangeKind

    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    _check_version(finding, expected_version)
    household = _check_reviewable(actor, finding)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("认定属实必须填写复核意见")})
    if recover_amount is not None:
        recover_amount = Decimal(recover_amount).quantize(Decimal("0.01"))
        if recover_amount <= 0:
            raise ValidationError({"recover_amount": _("追回金额必须大于 0")})
    actions: dict = {}
    if household is None and (change or exit_on or stop_payment):
        raise ValidationError(_("户编号 %(no)s 不在低保家庭登记中，无法停发或办理变更；请追回资金或移交线索")
                              % {"no": finding.household_no})
    if household is not None:
        household.refresh_from_db()
    if exit_on and not change:
        change = next(iter(fitting_changes(finding)), "exit")
    note = _("疑点 #%(id)s（%(rule)s）复核属实") % {"id": finding.pk, "rule": finding.rule_name}
    if stop_payment:
        household.refresh_from_db()
        if not household.payment_stopped and household.status == Status.ACTIVE:
            changes.change_from_finding(actor=actor, household=household, kind=ChangeKind.SUSPEND,
                                        reason=f"{note}：{reason.strip()}", effective_month=timezone.localdate(),
                                        finding_id=finding.pk)
        actions["stop_payment"] = True
    if change:
        household.refresh_from_db()
        actions.update(_carry_out_change(actor=actor, finding=finding, household=household, change=change,
                                         exit_on=exit_on, exit_reason=exit_reason, reason=reason))
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
    finding.version += 1
    finding.save(update_fields=["state", "decision_reason", "decided_by", "decided_at", "actions",
                                "funds_recovered", "version"])
    if refer_clue:
        finding.clue_id = _refer_clue(actor=actor, finding=finding, summary=clue_summary or finding.detail)
        if finding.clue_id:
            finding.actions["clue"]["clue_id"] = finding.clue_id
        finding.save(update_fields=["clue_id", "actions"])
    _audit_decision(actor=actor, finding=finding, household=household, action="finding.confirm")
    return finding


def _refer_clue(*, actor: User, finding: Finding, summary: str) -> int:
    """Hand the finding to the clue ledger.

    complaints depends on audits (a clue names the finding it came from); this is the one call
    back, imported at call time so that audits' modules load without complaints' models."""
    from complaints.services import clue_create_from_finding

    return clue_create_from_finding(actor=actor, finding_id=finding.pk, summary=summary).pk


@transaction.atomic
def findings_bulk_decide(*, actor: User, findings: list[Finding], decision: str, reason: str,
                         expected_versions: dict[int, int] | None = None, **actions) -> list[Finding]:
    """One decision and one reason for a selection; all or nothing. `expected_versions`: finding
    id → the version the reviewer's list showed."""
    if not findings:
        raise ValidationError(_("请至少选择一条疑点"))
    versions = expected_versions or {}
    done = []
    for finding in findings:
        if decision == "dismiss":
            done.append(finding_dismiss(actor=actor, finding=finding, reason=reason,
                                        expected_version=versions.get(finding.pk)))
        elif decision == "confirm":
            done.append(finding_confirm(actor=actor, finding=finding, reason=reason,
                                        expected_version=versions.get(finding.pk), **actions))
        else:
            raise ValidationError(_("未知的复核结论：%(d)s") % {"d": decision})
    return done


# --- five-group verification tasks -------------------------------------------------------------

@transaction.atomic
def task_complete(*, actor: User, task: VerificationTask, visited_on: dt.date, investigator_1: str,
                  investigator_2: str, outcome: str, reason: str = "", household_no: str = "") -> VerificationTask:
    """Record the home visit (two investigators) and its outcome. Only 已纳入低保 or 不符合条件 closes
    the task: a person not reached (无法联系) is visited again, so the task stays open with the
    attempt recorded on it and in the trail."""
    if is_system(actor):
        raise PermissionDenied(_("核查任务须由入户核查的工作人员办结"))
    task = VerificationTask.objects.select_for_update().get(pk=task.pk)
    require(actor, "task.complete", region_code=task.township_code)
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
    task.outcome_reason = (reason or "").strip()
    if outcome == TaskOutcome.UNREACHABLE:
        task.save(update_fields=["visited_on", "investigator_1", "investigator_2", "outcome_reason"])
        audit_record(actor=actor, action="verification_task.unreachable", object_type="verification_task",
                     object_id=task.pk, region_code=task.township_code,
                     after={"visited_on": visited_on, "investigators": [one, two], "reason": task.outcome_reason})
        return task
    task.outcome = outcome
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
    require(actor, "export.findings")
    if full_ids:
        require(actor, "export.full_id")
    from audits.export import write_csv, write_xlsx

    if fmt == "csv":
        n = write_csv(findings, target, full_ids=full_ids)
    elif fmt == "xlsx":
        n = write_xlsx(findings, target, full_ids=full_ids)
    else:
        raise ValidationError(_("导出格式只能是 .csv 或 .xlsx"))
    audit_record(actor=actor, action="export.findings", object_type="rescreen_batch", object_id=batch.pk,
                 region_code=batch.region_code if is_system(actor) or actor.scope_prefix is None
                 else actor.scope_prefix,
                 after={"format": fmt, "rows": n, "full_ids": full_ids})
    return n

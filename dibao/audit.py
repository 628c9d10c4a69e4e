"""Appending to and verifying the hash-chained audit trail.

Services call `audit_record(...)` inside their own transaction, so the record is
written if and only if the change is. Appends are serialised so two writers can never
chain onto the same predecessor: on PostgreSQL by a transaction-scoped advisory lock,
on SQLite by the database's single writer lock.

Three things keep the trail from being rewritten quietly:
- each record's hash is an HMAC-SHA256 keyed with `settings.AUDIT_HMAC_KEY`, which is never
  stored in the database, so rewriting a record and recomputing its hash needs the key;
- on PostgreSQL triggers refuse UPDATE, DELETE and TRUNCATE of the table (migrations);
- every verification appends a signed checkpoint of the chain's head to a file outside the
  database (`settings.AUDIT_CHECKPOINT_DIR`), and the next one checks that this head is still
  in the table, so deleting the newest records is detected too.

Records written before the HMAC cut-over (migration 0003 appended an `audit.hmac_cutover`
record after them) keep their plain SHA-256 hashes: verification checks them that way and says
so, since re-keying them now would claim a protection they never had.
"""
from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import hmac
import json
import os
import uuid
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dibao.models import AuditRecord

GENESIS_HASH = "0" * 64
_ADVISORY_LOCK_KEY = 0x44494241  # "DIBA"


class AuditAction(models.TextChoices):
    """Every action the trail records. `audit_record` refuses anything else, so a misspelt
    action fails the first test that reaches it instead of splitting the log's filter."""

    # households, members, staff roster and close-relative filings (cases)
    HOUSEHOLD_CREATE = "household.create", _("新建低保家庭")
    HOUSEHOLD_UPDATE = "household.update", _("修改低保家庭")
    MEMBER_CREATE = "member.create", _("新增家庭成员")
    MEMBER_UPDATE = "member.update", _("修改家庭成员")
    MEMBER_DELETE = "member.delete", _("删除家庭成员")
    ID_NUMBER_REVEAL = "id_number.reveal", _("查看完整身份证号")
    STAFF_CREATE = "staff.create", _("新增工作人员")
    STAFF_UPDATE = "staff.update", _("修改工作人员")
    FILING_CREATE = "filing.create", _("登记近亲属备案")
    FILING_UPDATE = "filing.update", _("修改近亲属备案")
    RERATE_PREPARE = "rerate.prepare", _("编制调标清单")
    RERATE_CONFIRM = "rerate.confirm", _("确认调标")
    # applications (低保申请), one action per step
    APPLICATION_ACCEPT = "application.accept", _("受理低保申请")
    APPLICATION_NOT_ACCEPT = "application.not_accept", _("不予受理低保申请")
    APPLICATION_CHECK = "application.check", _("登记信息核对")
    APPLICATION_ATTACHMENT = "application.attachment", _("上传申请材料")
    APPLICATION_VISIT = "application.visit", _("登记入户调查")
    APPLICATION_APPRAISE = "application.appraise", _("登记民主评议")
    APPLICATION_PROPOSE = "application.propose", _("提出乡镇审核意见")
    APPLICATION_NOTICE = "application.notice", _("登记公示")
    APPLICATION_OBJECT = "application.object", _("登记公示异议")
    APPLICATION_COUNTY_VISIT = "application.county_visit", _("登记县级入户核查")
    APPLICATION_CONFIRM = "application.confirm", _("批准低保申请")
    APPLICATION_REFUSE = "application.refuse", _("不予批准低保申请")
    APPLICATION_NOTIFY = "application.notify", _("登记通知申请家庭")
    APPLICATION_EXTEND = "application.extend", _("延长办理时限")
    APPLICATION_DOCUMENT = "application.document", _("下载申请文书")
    # dynamic management (定期核查, 变更, 渐退)
    REVIEW_REQUEST = "review.request", _("交办核查")
    REVIEW_RECORD = "review.record", _("登记定期核查")
    CHANGE_PROPOSE = "change.propose", _("提出低保变更")
    CHANGE_CONFIRM = "change.confirm", _("确认低保变更")
    CHANGE_REFUSE = "change.refuse", _("不予确认低保变更")
    CHANGE_GRACE_EXIT = "change.grace_exit", _("渐退期满退出")
    CHANGE_DOCUMENT = "change.document", _("下载变更文书")
    # rescreening and review (audits)
    RESCREEN_START = "rescreen.start", _("发起复核比对")
    RESCREEN_RESUME = "rescreen.resume", _("继续复核比对")
    RESCREEN_RECOVER = "rescreen.recover", _("自动恢复中断的复核比对")
    FINDING_CONFIRM = "finding.confirm", _("确认疑点")
    FINDING_DISMISS = "finding.dismiss", _("排除疑点")
    VERIFICATION_TASK_COMPLETE = "verification_task.complete", _("完成五类人员核查任务")
    VERIFICATION_TASK_UNREACHABLE = "verification_task.unreachable", _("入户未能联系（任务继续办理）")
    # screening campaigns (campaigns)
    CAMPAIGN_CREATE = "campaign.create", _("发起专项排查")
    CAMPAIGN_RECOMPUTE = "campaign.recompute", _("补充排查对象")
    CAMPAIGN_CLOSE = "campaign.close", _("结束专项排查")
    SCREENING_CREATE = "screening.create", _("登记排查记录")
    SCREENING_UPDATE = "screening.update", _("修改排查记录")
    SIGNOFF_SUBMIT = "signoff.submit", _("乡镇确认上报排查结果")
    SIGNOFF_RETURN = "signoff.return", _("退回乡镇排查结果")
    SIGNOFF_ACCEPT = "signoff.accept", _("确认乡镇排查结果")
    BULLETIN_CREATE = "bulletin.create", _("生成日调度通报")
    SUMMONS_RECORD = "summons.record", _("登记约谈")
    REPORT_REQUEST_CREATE = "report_request.create", _("布置报送任务")
    REPORT_SUBMISSION_UPLOAD = "report_submission.upload", _("上传报送材料")
    # imports: one action per file kind (imports.kinds); `.rejected` = refused, nothing written
    IMPORT_HOUSEHOLDS = "import.households", _("导入低保家庭")
    IMPORT_HOUSEHOLDS_REJECTED = "import.households.rejected", _("导入低保家庭（未通过校验）")
    IMPORT_MEMBERS = "import.members", _("导入家庭成员")
    IMPORT_MEMBERS_REJECTED = "import.members.rejected", _("导入家庭成员（未通过校验）")
    IMPORT_STAFF = "import.staff", _("导入工作人员名册")
    IMPORT_STAFF_REJECTED = "import.staff.rejected", _("导入工作人员名册（未通过校验）")
    IMPORT_RELATIVES = "import.relatives", _("导入近亲属备案")
    IMPORT_RELATIVES_REJECTED = "import.relatives.rejected", _("导入近亲属备案（未通过校验）")
    IMPORT_STANDARDS = "import.standards", _("导入保障标准")
    IMPORT_STANDARDS_REJECTED = "import.standards.rejected", _("导入保障标准（未通过校验）")
    IMPORT_SCREENINGS = "import.screenings", _("导入排查记录")
    IMPORT_SCREENINGS_REJECTED = "import.screenings.rejected", _("导入排查记录（未通过校验）")
    IMPORT_PAYMENTS = "import.payments", _("导入发放记录")
    IMPORT_PAYMENTS_REJECTED = "import.payments.rejected", _("导入发放记录（未通过校验）")
    IMPORT_DEATHS = "import.deaths", _("导入死亡人员")
    IMPORT_DEATHS_REJECTED = "import.deaths.rejected", _("导入死亡人员（未通过校验）")
    IMPORT_DISABILITY = "import.disability", _("导入残疾人")
    IMPORT_DISABILITY_REJECTED = "import.disability.rejected", _("导入残疾人（未通过校验）")
    IMPORT_ILLNESS = "import.illness", _("导入重病患者")
    IMPORT_ILLNESS_REJECTED = "import.illness.rejected", _("导入重病患者（未通过校验）")
    IMPORT_POVERTY = "import.poverty", _("导入建档立卡贫困人口")
    IMPORT_POVERTY_REJECTED = "import.poverty.rejected", _("导入建档立卡贫困人口（未通过校验）")
    IMPORT_PAYROLL = "import.payroll", _("导入财政供养人员")
    IMPORT_PAYROLL_REJECTED = "import.payroll.rejected", _("导入财政供养人员（未通过校验）")
    IMPORT_VEHICLES = "import.vehicles", _("导入机动车登记")
    IMPORT_VEHICLES_REJECTED = "import.vehicles.rejected", _("导入机动车登记（未通过校验）")
    IMPORT_BUSINESS = "import.business", _("导入市场主体登记")
    IMPORT_BUSINESS_REJECTED = "import.business.rejected", _("导入市场主体登记（未通过校验）")
    IMPORT_PROPERTY = "import.property", _("导入不动产登记")
    IMPORT_PROPERTY_REJECTED = "import.property.rejected", _("导入不动产登记（未通过校验）")
    IMPORT_KINSHIP = "import.kinship", _("导入户籍亲属关系")
    IMPORT_KINSHIP_REJECTED = "import.kinship.rejected", _("导入户籍亲属关系（未通过校验）")
    IMPORT_RECOVER = "import.recover", _("自动恢复中断的数据导入")  # requeued, or failed after its attempts
    # exports and downloads: `export.<what was exported>`
    EXPORT_HOUSEHOLDS = "export.households", _("导出低保家庭")
    EXPORT_MEMBERS = "export.members", _("导出家庭成员")
    EXPORT_STAFF = "export.staff", _("导出工作人员名册")
    EXPORT_RELATIVES = "export.relatives", _("导出近亲属备案")
    EXPORT_FINDINGS = "export.findings", _("导出疑点")
    EXPORT_ROLLUP = "export.rollup", _("导出月度汇总表")
    EXPORT_SCREENING = "export.screening", _("导出农村低保排查情况统计表")
    EXPORT_BULLETIN = "export.bulletin", _("导出专项治理进度通报")
    EXPORT_REQUEST = "export.request", _("申请导出报表")
    EXPORT_DOWNLOAD = "export.download", _("导出台账")
    EXPORT_PAYROLL = "export.payroll", _("导出发放名册（银行文件）")
    EXPORT_RECONCILIATION = "export.reconciliation", _("导出对账表")
    FILE_DOWNLOAD = "file.download", _("下载文件")
    # hotlines, complaints, clues, discipline referrals, rectification, spot checks (complaints)
    HOTLINE_CREATE = "hotline.create", _("登记投诉举报电话")
    HOTLINE_UPDATE = "hotline.update", _("修改投诉举报电话")
    DIAL_TEST_RECORD = "dial_test.record", _("登记拨打督导")
    COMPLAINT_SUBMIT_PUBLIC = "complaint.submit_public", _("群众网上投诉")
    COMPLAINT_CREATE = "complaint.create", _("登记投诉举报")
    COMPLAINT_ANSWER_ON_SPOT = "complaint.answer_on_spot", _("当场答复投诉")
    COMPLAINT_ASSIGN = "complaint.assign", _("交办投诉")
    COMPLAINT_VERIFY = "complaint.verify", _("登记投诉核实情况")
    COMPLAINT_REPLY = "complaint.reply", _("答复投诉人")
    COMPLAINT_CLOSE = "complaint.close", _("办结投诉")
    COMPLAINT_REVEAL_IDENTITY = "complaint.reveal_identity", _("查看投诉人身份")
    CLUE_CREATE = "clue.create", _("登记问题线索")
    CLUE_UPDATE = "clue.update", _("修改问题线索")
    CLUE_CONCLUDE = "clue.conclude", _("办结问题线索")
    CLUE_REFER = "clue.refer", _("移交问题线索")
    REFERRAL_CREATE = "referral.create", _("移交纪检监察")
    REFERRAL_RECORD = "referral.record", _("登记调查处理结果")
    REFERRAL_CONCLUDE = "referral.conclude", _("纪检监察办结")
    TYPICAL_CASE_MARK = "typical_case.mark", _("标记典型案例")
    RECTIFICATION_CREATE = "rectification.create", _("新增整改事项")
    RECTIFICATION_UPDATE = "rectification.update", _("更新整改进展")
    RECTIFICATION_CLOSE = "rectification.close", _("整改销号")
    INSPECTION_CREATE = "inspection.create", _("新建督查")
    INSPECTION_RESULTS = "inspection.results", _("登记督查结果")
    SAMPLE_DRAW = "sample.draw", _("抽取入户抽查样本")
    VISIT_RECORD = "visit.record", _("登记入户抽查结果")
    # statistics (reports)
    PAYROLL_CREATE = "payroll.create", _("编制发放名册")
    PAYROLL_APPROVE = "payroll.approve", _("审批发放名册")
    PAYMENT_VERIFY_DRAW = "payment_verify.draw", _("抽取回访核实样本")
    PAYMENT_VERIFY_RECORD = "payment_verify.record", _("登记回访核实结果")
    ROLLUP_COMPUTE = "rollup.compute", _("计算月度汇总")
    NOTICE_RELEASE = "notice.release", _("发布长期公示")
    # the platform itself
    REGION_LOAD = "region.load", _("导入行政区划")
    DEMO_SEED = "demo.seed", _("生成演示数据")
    HMAC_CUTOVER = "audit.hmac_cutover", _("审计记录启用密钥签名")


class AuditObject(models.TextChoices):
    """What a record is about. A model's rows go by its `model_name` or that name with
    underscores, as the existing trail has them; the field labels of the change come from it."""

    APPLICATION = "application", _("低保申请")
    HOUSEHOLD_REVIEW = "householdreview", _("定期核查")
    HOUSEHOLD_CHANGE = "householdchange", _("低保变更")
    HOUSEHOLD = "household", _("低保家庭")
    MEMBER = "member", _("家庭成员")
    STAFF = "staff", _("工作人员")
    RELATIVE_FILING = "relativefiling", _("近亲属备案")
    RERATE = "rerate", _("调标")
    RESCREEN_BATCH = "rescreen_batch", _("复核批次")
    FINDING = "finding", _("疑点")
    VERIFICATION_TASK = "verification_task", _("五类人员核查任务")
    IMPORT_JOB = "import_job", _("导入记录")
    REGISTRY_EXPORT = "export", _("档案导出")
    EXPORT_JOB = "export_job", _("报表导出")
    COMPLAINTS_EXPORT = "complaints_export", _("台账导出")
    PAYMENT_ROLL = "paymentroll", _("发放名册")
    RECONCILIATION = "reconciliation", _("对账")
    PAYMENT_VERIFICATION = "paymentverification", _("回访核实样本")
    PAYMENT_VISIT = "paymentvisit", _("回访核实")
    ROLLUP = "rollup", _("月度汇总表")
    ROLLUP_RUN = "rollup_run", _("月度汇总计算")
    FORM = "form", _("统计报表")
    CAMPAIGN = "campaign", _("排查活动")
    SCREENING_RECORD = "screeningrecord", _("排查记录")
    TOWNSHIP_SIGNOFF = "townshipsignoff", _("乡镇确认上报")
    BULLETIN = "bulletin", _("日调度通报")
    SUMMONS = "summons", _("约谈记录")
    REPORT_REQUEST = "reportrequest", _("报送任务")
    REPORT_SUBMISSION = "reportsubmission", _("报送材料")
    NOTICE_RELEASE = "noticerelease", _("长期公示（期次）")
    REGION = "region", _("行政区划")
    HOTLINE = "hotline", _("投诉举报电话")
    DIAL_TEST = "dialtest", _("拨打督导记录")
    COMPLAINT = "complaint", _("投诉举报")
    COMPLAINT_ATTACHMENT = "complaint_attachment", _("投诉举报附件")
    CLUE = "clue", _("问题线索")
    REFERRAL = "referral", _("移交纪检监察")
    TYPICAL_CASE = "typicalcase", _("典型案例")
    RECTIFICATION = "rectificationitem", _("整改事项")
    INSPECTION = "inspection", _("督查记录")
    HOME_SAMPLE = "homesample", _("入户抽查样本")
    HOME_VISIT = "homevisit", _("入户抽查")
    AUDIT_TRAIL = "auditrecord", _("审计记录")


def action_label(value: str) -> str:
    """The Chinese name of an action; a value from before the vocabulary shows as stored."""
    try:
        return AuditAction(value).label
    except ValueError:
        return value


def object_label(value: str) -> str:
    try:
        return AuditObject(value).label
    except ValueError:
        return value


@dataclass
class RequestContext:
    request_id: str = ""
    ip: str | None = None


current_request: ContextVar[RequestContext] = ContextVar("current_request", default=RequestContext())


def _json_default(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return str(value)


def to_jsonable(data):
    """Round-trip through JSON so what is hashed is exactly what the JSONField stores."""
    if data is None:
        return None
    return json.loads(json.dumps(data, default=_json_default, ensure_ascii=False))


def _canonical(data: dict) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _hmac(message: bytes) -> str:
    return hmac.new(settings.AUDIT_HMAC_KEY.encode("utf-8"), message, hashlib.sha256).hexdigest()


def compute_hash(record, *, keyed: bool = True) -> str:
    """The record's hash: HMAC-SHA256 with the audit key, or (`keyed=False`) the plain SHA-256
    that records before the cut-over carry. `record` is an AuditRecord, current or historical."""
    message = _canonical({
        "created_at": record.created_at.astimezone(dt.timezone.utc).isoformat(timespec="microseconds"),
        "actor_id": record.actor_id,
        "actor_name": record.actor_name,
        "action": record.action,
        "object_type": record.object_type,
        "object_id": str(record.object_id),
        "region_code": record.region_code,
        "before": record.before,
        "after": record.after,
        "note": record.note,
        "request_id": record.request_id,
        "ip": record.ip,
        "prev_hash": record.prev_hash,
    })
    return _hmac(message) if keyed else hashlib.sha256(message).hexdigest()


def model_snapshot(instance: models.Model, exclude: tuple[str, ...] = ()) -> dict:
    """Field values of a model instance, by attribute name (FKs as their ids)."""
    data = {}
    for field_ in instance._meta.concrete_fields:
        if field_.name in exclude:
            continue
        data[field_.attname] = getattr(instance, field_.attname)
    return to_jsonable(data)


def diff(before: dict | None, after: dict | None) -> tuple[dict | None, dict | None]:
    """Keep only the keys that changed, so a record shows what was edited."""
    if not before or not after:
        return before, after
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def _append(model, **fields):
    """Chain one record onto the newest; `model` is AuditRecord or its historical twin in a migration."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
    last = model.objects.order_by("-id").values_list("hash", flat=True).first()
    record = model(created_at=timezone.now(), prev_hash=last or GENESIS_HASH, **fields)
    record.hash = compute_hash(record)
    record.save(force_insert=True)
    return record


@transaction.atomic
def audit_record(*, actor, action: str, object_type: str, object_id, region_code: str = "",
                 before: dict | None = None, after: dict | None = None, note: str = "") -> AuditRecord:
    if action not in AuditAction.values or action == AuditAction.HMAC_CUTOVER:
        raise ValueError(f"audit action {str(action)!r} is not in dibao.audit.AuditAction")
    if object_type not in AuditObject.values:
        raise ValueError(f"audit object type {str(object_type)!r} is not in dibao.audit.AuditObject")
    ctx = current_request.get()
    actor_obj = actor if actor is not None and getattr(actor, "pk", None) else None
    return _append(
        AuditRecord,
        actor=actor_obj,
        actor_name=(actor.get_username() if actor_obj else (str(actor) if actor else "system")),
        action=str(action),
        object_type=str(object_type),
        object_id=str(object_id),
        region_code=region_code or "",
        before=to_jsonable(before),
        after=to_jsonable(after),
        note=note,
        request_id=ctx.request_id,
        ip=ctx.ip,
    )


# Bookkeeping columns: a save that changes only these changed nothing a person would trace.
UNTRACED = ("created_at", "updated_at", "version")


def snapshot(obj: models.Model, exclude: tuple[str, ...] = ()) -> dict:
    """What the trail shows of a row: its fields, less bookkeeping columns and `exclude`."""
    return model_snapshot(obj, exclude=tuple(exclude) + UNTRACED)


def audit_change(*, actor, action: str, obj: models.Model, region_code: str, before: dict | None = None,
                 exclude: tuple[str, ...] = (), note: str = "", deleted: bool = False,
                 object_type: str | None = None) -> AuditRecord | None:
    """Record what a service did to one row: the fields it changed, before and after.

    `before` is `snapshot(obj)` taken before the change (None for a new row, whose filled fields are
    recorded); `deleted` records the row's last state only. An update that changed nothing a person
    would trace, with no note, leaves no record.
    """
    after = None if deleted else snapshot(obj, exclude)
    if before is None and after is not None:
        after = {key: value for key, value in after.items() if value not in (None, "")}
    old, new = diff(before, after)
    if before is not None and after is not None and not new and not note:
        return None
    return audit_record(actor=actor, action=action, object_type=object_type or obj._meta.model_name,
                        object_id=obj.pk, region_code=region_code, before=old, after=new, note=note)


def append_hmac_cutover(model) -> None:
    """Mark where keyed hashes begin, after the records that predate them (migration 0003).
    An empty trail needs no mark: every record it will ever hold is keyed."""
    last_id = model.objects.order_by("-id").values_list("id", flat=True).first()
    if last_id is None:
        return
    _append(model, actor=None, actor_name="system", action=AuditAction.HMAC_CUTOVER.value,
            object_type=AuditObject.AUDIT_TRAIL.value, object_id=str(last_id), region_code="",
            before=None, after={"legacy_through": last_id},
            note=f"第 1–{last_id} 条记录早于启用密钥（AUDIT_HMAC_KEY），其校验值为不带密钥的 SHA-256")


# --- verification --------------------------------------------------------------------------

@dataclass
class ChainBreak:
    record_id: int
    reason: str


@dataclass
class Checkpoint:
    """The chain's head as one verification saw it, signed with the audit key."""
    record_id: int
    hash: str
    records: int
    cutover_id: int | None
    at: str
    signature: str = ""

    def _message(self) -> bytes:
        data = asdict(self)
        del data["signature"]
        return b"dibao-audit-checkpoint\n" + _canonical(data)

    def signed(self) -> Checkpoint:
        self.signature = _hmac(self._message())
        return self

    def is_authentic(self) -> bool:
        return hmac.compare_digest(self.signature, _hmac(self._message()))


@dataclass
class ChainReport:
    checked: int = 0
    legacy: int = 0                    # checked with plain SHA-256 (before the cut-over)
    cutover_id: int | None = None
    head_id: int = 0
    head_hash: str = GENESIS_HASH
    broken: ChainBreak | None = None
    at_checkpoint: tuple[int, str] | None = None  # (records up to, hash of) the checkpointed record


def verify_chain(*, checkpoint_id: int | None = None, batch_size: int = 5000) -> ChainReport:
    """Walk the whole chain in id order, stopping at the first break. Records before the
    `audit.hmac_cutover` mark are checked with plain SHA-256, every other one with the HMAC."""
    report = ChainReport()
    if checkpoint_id == 0:  # checkpointed while the trail was still empty
        report.at_checkpoint = (0, GENESIS_HASH)
    report.cutover_id = (AuditRecord.objects.filter(action=AuditAction.HMAC_CUTOVER)
                         .order_by("id").values_list("id", flat=True).first())
    while True:
        batch = list(AuditRecord.objects.filter(id__gt=report.head_id).order_by("id")[:batch_size])
        if not batch:
            return report
        for record in batch:
            if record.prev_hash != report.head_hash:
                report.broken = ChainBreak(record.id, "prev_hash does not match the previous record "
                                                      "(a record was removed or inserted)")
                return report
            legacy = report.cutover_id is not None and record.id < report.cutover_id
            if compute_hash(record, keyed=not legacy) != record.hash:
                report.broken = ChainBreak(record.id, "content does not match its hash (the record was altered)")
                return report
            report.checked += 1
            report.legacy += legacy
            report.head_id, report.head_hash = record.id, record.hash
            if record.id == checkpoint_id:
                report.at_checkpoint = (report.checked, record.hash)


def checkpoint_path() -> Path:
    """One file per database, so a test or a second installation never reads another's heads."""
    name = Path(str(connection.settings_dict["NAME"])).name or "default"
    return Path(settings.AUDIT_CHECKPOINT_DIR) / f"audit-checkpoints-{name}.jsonl"


class CheckpointFileError(Exception):
    pass


def read_latest_checkpoint(path: Path) -> Checkpoint | None:
    """The checkpoint with the highest record id; every line must carry a valid signature."""
    if not path.exists():
        return None
    latest = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            checkpoint = Checkpoint(**json.loads(line))
        except (TypeError, ValueError):
            raise CheckpointFileError(f"{path} line {number} is not a checkpoint") from None
        if not checkpoint.is_authentic():
            raise CheckpointFileError(f"{path} line {number}: signature does not match "
                                      "(the file was edited, or AUDIT_HMAC_KEY is not the key it was signed with)")
        if latest is None or checkpoint.record_id >= latest.record_id:
            latest = checkpoint
    return latest


def _append_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(asdict(checkpoint), ensure_ascii=False) + "\n").encode("utf-8")
    # One write to a file opened for appending: concurrent verifications add whole lines.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class TrailReport:
    chain: ChainReport
    path: Path
    compared_with: Checkpoint | None = None
    written: Checkpoint | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_trail() -> TrailReport:
    """Verify the chain, compare it with the latest checkpoint and, if all is well, checkpoint the
    new head. A failed verification writes nothing: the next run must fail the same way."""
    path = checkpoint_path()
    try:
        previous = read_latest_checkpoint(path)
    except CheckpointFileError as exc:
        report = TrailReport(chain=verify_chain(), path=path)
        report.problems.append(str(exc))
        return report
    chain = verify_chain(checkpoint_id=previous.record_id if previous else None)
    report = TrailReport(chain=chain, path=path, compared_with=previous)
    if chain.broken:
        report.problems.append(f"audit chain broken at record #{chain.broken.record_id}: {chain.broken.reason} "
                               f"({chain.checked} records before it verified)")
    if previous and not chain.broken:
        if chain.at_checkpoint is None:
            report.problems.append(
                f"record #{previous.record_id}, the head checkpointed at {previous.at}, is no longer in the table "
                f"(the table ends at #{chain.head_id}): the newest records were deleted")
        elif chain.at_checkpoint != (previous.records, previous.hash):
            report.problems.append(
                f"record #{previous.record_id} does not match the checkpoint of {previous.at} "
                f"({chain.at_checkpoint[0]} records up to it, checkpoint says {previous.records}): "
                f"the trail up to it was rebuilt")
        if previous.cutover_id != chain.cutover_id:
            report.problems.append(f"the HMAC cut-over is at #{chain.cutover_id}, the checkpoint of {previous.at} "
                                   f"recorded #{previous.cutover_id}")
    if report.ok:
        report.written = Checkpoint(record_id=chain.head_id, hash=chain.head_hash, records=chain.checked,
                                    cutover_id=chain.cutover_id,
                                    at=timezone.localtime().isoformat(timespec="seconds")).signed()
        _append_checkpoint(path, report.written)
    return report

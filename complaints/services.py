"""Writes for complaints, clues, referrals, typical cases, rectification and spot checks.

Every service checks the role and the rules, saves, and writes the audit record in the
same transaction. The complainant's name and phone never go into the audit trail (which
supervisors read): the trail records only whether the complaint is real-name.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audits.catalogue import BY_CODE as RULE_CATALOGUE
from audits.models import Finding
from cases.models import Household, Staff, Status
from dibao import sampling
from dibao.audit import audit_change, audit_record, diff, snapshot
from dibao.concurrency import check_version
from dibao.models import Region, Role, User, natural_code
from dibao.permissions import require
from dibao.scoping import in_scope
from complaints.models import (
    BodyKind, CheckResult, Checklist, Clue, ClueSource, ClueState, Complaint, ComplaintAttachment, ComplaintState,
    DialTest, Discipline, HomeSample, HomeVisit, Hotline, Inspection, InspectionResult,
    RectificationItem, RectificationStatus, Referral, TypicalCase, VisitResult,
)
from complaints.workdays import default_complaint_days
from dibao.workdays import add_working_days

TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read out over the phone
TRACKING_LENGTH = 12
MAX_ATTACHMENTS = 3
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
# Magic bytes of the formats we accept; the file name and the browser's type are not trusted.
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)



def today() -> dt.date:
    return timezone.localdate()


def _locked(obj):
    """Reload the caller's instance from the row as stored now, locked for this transaction, so a
    service never decides on stale or hand-made values (and the caller's object shows the result)."""
    obj.refresh_from_db(from_queryset=type(obj).objects.select_for_update())
    return obj


def _require_in_scope(user: User, region: Region, field: str = "region") -> None:
    if not in_scope(user, region.code):
        raise ValidationError({field: _("区划 %(code)s 不在您的管辖范围内") % {"code": region.code}})


# Bookkeeping columns, not something a person changed.
# ---------------------------------------------------------------- hotlines and dial tests
@transaction.atomic
def hotline_save(*, actor: User, data: dict[str, Any], hotline: Hotline | None = None) -> Hotline:
    require(actor, "hotline.manage")
    if hotline is not None:
        hotline = _locked(hotline)
        require(actor, "hotline.manage", region_code=hotline.region_id)
    region = data["region"]
    if len(region.code) > 9:
        raise ValidationError({"region": _("投诉举报电话按乡镇（街道）及以上单位公布，请选择乡镇或以上区划")})
    _require_in_scope(actor, region)
    before = snapshot(hotline) if hotline else None
    hotline = hotline or Hotline()
    for key, value in data.items():
        setattr(hotline, key, value)
    hotline.full_clean()
    hotline.save()
    audit_change(actor=actor, action="hotline.update" if before else "hotline.create", obj=hotline,
           region_code=hotline.region_id, before=before, exclude=("updated_at",))
    return hotline


@transaction.atomic
def dial_test_record(*, actor: User, hotline: Hotline, called_at: dt.datetime, number: str, answered: bool,
                     handled_properly: bool | None, notes: str = "") -> DialTest:
    require(actor, "dial_test.record", region_code=hotline.region_id)
    number = (number or "").strip() or hotline.number_list[0]
    if number not in hotline.number_list:
        raise ValidationError({"number": _("号码 %(n)s 不是该单位公布的投诉举报电话") % {"n": number}})
    if called_at > timezone.now():
        raise ValidationError({"called_at": _("拨打时间不能晚于现在")})
    if not answered and handled_properly:
        raise ValidationError({"handled_properly": _("无人接听时不能登记为处置得当")})
    test = DialTest.objects.create(hotline=hotline, number=number, called_at=called_at, answered=answered,
                                   handled_properly=handled_properly if answered else None, notes=notes,
                                   caller=actor)
    audit_change(actor=actor, action="dial_test.record", obj=test, region_code=hotline.region_id)
    return test


# ---------------------------------------------------------------- complaints
def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


def sniff_attachment(upload) -> str:
    """The real type of an uploaded file from its first bytes, or a ValidationError."""
    name = getattr(upload, "name", "") or _("附件")
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError(_("附件“%(name)s”大小为 %(size).1f MB，超过 5 MB 上限，请压缩后重新上传")
                              % {"name": name, "size": upload.size / 1024 / 1024})
    if upload.size == 0:
        raise ValidationError(_("附件“%(name)s”是空文件") % {"name": name})
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for magic, content_type in _SIGNATURES:
        if head.startswith(magic):
            return content_type
    raise ValidationError(_("附件“%(name)s”不是 JPG、PNG 图片或 PDF 文件（按文件内容识别），请换一个文件")
                          % {"name": name})


def route_complaint(*, subject_region: Region, accuses_staff: bool, accused_region: Region | None) -> Region:
    """The unit that receives and owns a complaint (受理单位).

    Ordinary complaints go to the county of the place concerned. A complaint about staff is
    handled above the accused unit and at least at county level: village or township staff
    → county, county staff → city, city staff → province.
    """
    code = subject_region.code
    if accuses_staff:
        accused = (accused_region or subject_region).code[:9]
        owner = {2: accused[:2], 4: accused[:2], 6: accused[:4]}.get(len(accused), accused[:6])
        return Region.objects.get(code=owner)
    return Region.objects.get(code=code[:6] if len(code) >= 6 else code)


def _accused_unit(subject_region: Region, subject_staff: Staff | None) -> Region:
    """The unit whose users must never see the complaint: the township (or higher) office
    the accused staff member belongs to — a village cadre's township, too."""
    base = subject_staff.region if subject_staff else subject_region
    return Region.objects.get(code=base.code[:9]) if len(base.code) > 9 else base


def _complaint_fields(data: dict[str, Any]) -> dict[str, Any]:
    subject_region: Region = data["subject_region"]
    subject_staff: Staff | None = data.get("subject_staff")
    accuses_staff = bool(data.get("accuses_staff")) or data["subject_type"] == "staff" or subject_staff is not None
    anonymous = bool(data.get("anonymous"))
    name = (data.get("complainant_name") or "").strip()
    phone = (data.get("complainant_phone") or "").strip()
    if not anonymous and not (name and phone):
        raise ValidationError({"complainant_name": _("实名反映请填写姓名和联系电话；不愿留下姓名请选择匿名")})
    if anonymous:
        name, phone = "", ""
    if not (data.get("content") or "").strip():
        raise ValidationError({"content": _("请填写反映的具体问题")})
    accused_region = _accused_unit(subject_region, subject_staff) if accuses_staff else None
    owner = route_complaint(subject_region=subject_region, accuses_staff=accuses_staff,
                            accused_region=accused_region)
    return {
        "channel": data["channel"], "anonymous": anonymous, "complainant_name": name, "complainant_phone": phone,
        "subject_type": data["subject_type"], "subject_name": (data.get("subject_name") or "").strip(),
        "subject_household": data.get("subject_household"), "subject_staff": subject_staff,
        "subject_region": subject_region, "accuses_staff": accuses_staff, "accused_region": accused_region,
        "content": data["content"].strip(), "owner_region": owner, "region": owner,
    }


_IDENTITY = ("complainant_name", "complainant_phone", "tracking_code")


def _save_with_code(complaint: Complaint) -> Complaint:
    for _attempt in range(5):
        complaint.tracking_code = new_tracking_code()
        try:
            with transaction.atomic():
                complaint.save()
            return complaint
        except IntegrityError:
            if Complaint.objects.filter(tracking_code=complaint.tracking_code).exists():
                continue
            raise
    raise RuntimeError("could not allocate a unique tracking code")


def _kept_deadline(received_on: dt.date) -> dt.date:
    """A complaint the receiving unit keeps has the same working-day deadline as one it assigns
    (counted from receipt), so it turns overdue on the worklists like any other."""
    return add_working_days(received_on, default_complaint_days())


@transaction.atomic
def complaint_submit_public(*, data: dict[str, Any], files: list | None = None) -> Complaint:
    """A complaint filed by a member of the public on /public/complaint/ (no login)."""
    files = files or []
    if len(files) > MAX_ATTACHMENTS:
        raise ValidationError({"attachments": _("最多上传 %(n)d 个附件") % {"n": MAX_ATTACHMENTS}})
    sniffed = [(f, sniff_attachment(f)) for f in files]
    fields = _complaint_fields({**data, "channel": "online", "subject_household": None, "subject_staff": None})
    complaint = Complaint(**fields, submitted_online=True, received_on=today())
    complaint.deadline = _kept_deadline(complaint.received_on)
    _save_with_code(complaint)
    for upload, content_type in sniffed:
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        ComplaintAttachment.objects.create(complaint=complaint, file=upload, original_name=upload.name[:200],
                                           content_type=content_type, size=upload.size, sha256=digest.hexdigest())
    audit_change(actor=None, action="complaint.submit_public", obj=complaint, region_code=complaint.region_id,
           exclude=_IDENTITY, note=_("实名") if not complaint.anonymous else _("匿名"))
    return complaint


@transaction.atomic
def complaint_create(*, actor: User, data: dict[str, Any]) -> Complaint:
    """Staff intake of a complaint received by phone, letter, visit, 12345, media or from above."""
    require(actor, "complaint.handle")
    _require_in_scope(actor, data["subject_region"], "subject_region")
    fields = _complaint_fields(data)
    if actor.role == Role.CASEWORKER and not fields["accuses_staff"]:
        # a township takes ordinary complaints about its own villages itself
        fields["owner_region"] = fields["region"] = actor.region
    complaint = Complaint(**fields, received_on=data.get("received_on") or today(), created_by=actor)
    complaint.deadline = _kept_deadline(complaint.received_on)
    _save_with_code(complaint)
    audit_change(actor=actor, action="complaint.create", obj=complaint, region_code=complaint.region_id,
           exclude=_IDENTITY, note=_("实名") if not complaint.anonymous else _("匿名"))
    return complaint


def _require_handler(actor: User, complaint: Complaint) -> None:
    """Verifying belongs to the region the complaint was assigned to (or above)."""
    require(actor, "complaint.handle", region_code=complaint.region_id)


def _require_owner(actor: User, complaint: Complaint) -> None:
    """Answering, assigning and closing belong to the receiving unit (or above)."""
    require(actor, "complaint.handle")
    if not in_scope(actor, complaint.owner_region_id):
        raise PermissionDenied(_("该投诉由%(unit)s受理，您只能登记核查情况") % {"unit": complaint.owner_region.name})


def _transition(complaint: Complaint, allowed, target: str) -> None:
    if complaint.state not in allowed:
        raise ValidationError(_("投诉当前状态为“%(s)s”，不能执行此操作") % {"s": complaint.get_state_display()})
    complaint.state = target


@transaction.atomic
def complaint_answer_on_spot(*, actor: User, complaint: Complaint, reply: str) -> Complaint:
    """当场回签: answered when received, no verification needed; closes the complaint."""
    complaint = _locked(complaint)
    _require_owner(actor, complaint)
    if not reply.strip():
        raise ValidationError({"reply": _("请填写答复意见")})
    before = snapshot(complaint, _IDENTITY)
    _transition(complaint, (ComplaintState.RECEIVED,), ComplaintState.CLOSED)
    complaint.on_spot = True
    complaint.reply = reply.strip()
    complaint.replied_on = complaint.closed_on = today()
    complaint.save()
    audit_change(actor=actor, action="complaint.answer_on_spot", obj=complaint, region_code=complaint.region_id,
           before=before, exclude=_IDENTITY)
    return complaint


@transaction.atomic
def complaint_assign(*, actor: User, complaint: Complaint, region: Region, working_days: int | None = None) -> Complaint:
    """Refer for verification (交办核查) to a region, with a deadline in working days."""
    complaint = _locked(complaint)
    _require_owner(actor, complaint)
    _require_in_scope(actor, region)
    if not region.code.startswith(complaint.owner_region_id):
        raise ValidationError({"region": _("只能交办给受理单位辖区内的单位")})
    if complaint.accused_region_id and region.code.startswith(complaint.accused_region_id):
        raise ValidationError({"region": _("该投诉反映%(unit)s工作人员的问题，不能交给被反映单位核查（回避）")
                                         % {"unit": complaint.accused_region.name}})
    days = working_days or default_complaint_days()
    if not 1 <= days <= 60:
        raise ValidationError({"working_days": _("办理期限应在 1 到 60 个工作日之间")})
    before = snapshot(complaint, _IDENTITY)
    _transition(complaint, (ComplaintState.RECEIVED, ComplaintState.ASSIGNED), ComplaintState.ASSIGNED)
    complaint.region = region
    complaint.deadline = add_working_days(today(), days)
    complaint.save()
    audit_change(actor=actor, action="complaint.assign", obj=complaint, region_code=complaint.region_id,
           before=before, exclude=_IDENTITY, note=_("%(n)d 个工作日") % {"n": days})
    return complaint


@transaction.atomic
def complaint_verify(*, actor: User, complaint: Complaint, verification: str) -> Complaint:
    """The handling region records its verification (核查情况); may be updated until replied."""
    complaint = _locked(complaint)
    _require_handler(actor, complaint)
    if not verification.strip():
        raise ValidationError({"verification": _("请填写核查情况")})
    before = snapshot(complaint, _IDENTITY)
    # RECEIVED: the receiving unit verifies a complaint it kept itself.
    _transition(complaint, (ComplaintState.RECEIVED, ComplaintState.ASSIGNED, ComplaintState.VERIFYING),
                ComplaintState.VERIFYING)
    complaint.verification = verification.strip()
    complaint.save()
    audit_change(actor=actor, action="complaint.verify", obj=complaint, region_code=complaint.region_id,
           before=before, exclude=_IDENTITY)
    return complaint


@transaction.atomic
def complaint_reply(*, actor: User, complaint: Complaint, reply: str) -> Complaint:
    """The public reply (答复意见) shown on the status page."""
    complaint = _locked(complaint)
    _require_owner(actor, complaint)
    if not reply.strip():
        raise ValidationError({"reply": _("请填写答复意见")})
    before = snapshot(complaint, _IDENTITY)
    _transition(complaint, (ComplaintState.VERIFYING, ComplaintState.REPLIED), ComplaintState.REPLIED)
    complaint.reply = reply.strip()
    complaint.replied_on = today()
    complaint.save()
    audit_change(actor=actor, action="complaint.reply", obj=complaint, region_code=complaint.region_id,
           before=before, exclude=_IDENTITY)
    return complaint


@transaction.atomic
def complaint_close(*, actor: User, complaint: Complaint) -> Complaint:
    complaint = _locked(complaint)
    _require_owner(actor, complaint)
    before = snapshot(complaint, _IDENTITY)
    _transition(complaint, (ComplaintState.REPLIED,), ComplaintState.CLOSED)
    complaint.closed_on = today()
    complaint.save()
    audit_change(actor=actor, action="complaint.close", obj=complaint, region_code=complaint.region_id,
           before=before, exclude=_IDENTITY)
    return complaint


def complaint_reveal_identity(*, actor: User, complaint: Complaint) -> dict[str, str]:
    """Handlers see the complainant; each look is audited (who saw whom)."""
    if not complaint.identity_visible_to(actor):
        raise PermissionDenied(_("只有受理单位的承办人员可以查看反映人信息"))
    audit_record(actor=actor, action="complaint.reveal_identity", object_type="complaint", object_id=complaint.pk,
                 region_code=complaint.region_id)
    return {"name": complaint.complainant_name, "phone": complaint.complainant_phone}


# ---------------------------------------------------------------- clues
def _next_number(model, prefix: str) -> str:
    last = (model.objects.filter(number__startswith=prefix).order_by("-number")
            .values_list("number", flat=True).first())
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


def _save_numbered(obj, model, prefix: str):
    for _attempt in range(5):
        obj.number = _next_number(model, prefix)
        try:
            with transaction.atomic():
                obj.save()
            return obj
        except IntegrityError:
            if model.objects.filter(number=obj.number).exists():
                continue
            raise
    raise RuntimeError("could not allocate a unique number")


def _clue_prefix(region_code: str, received_on: dt.date) -> str:
    return f"XS-{region_code[:6]}-{received_on.year}-"


@transaction.atomic
def clue_create(*, actor: User, data: dict[str, Any], staff: list[Staff] | None = None) -> Clue:
    require(actor, "clue.manage")
    region: Region = data["region"]
    _require_in_scope(actor, region)
    if len(region.code) < 6:
        raise ValidationError({"region": _("问题线索应登记到县（市、区）、乡镇或村一级")})
    clue = Clue(**data, created_by=actor)
    clue.received_on = clue.received_on or today()
    if clue.deadline and clue.deadline < clue.received_on:
        raise ValidationError({"deadline": _("办理期限不能早于受理日期")})
    _save_numbered(clue, Clue, _clue_prefix(region.code, clue.received_on))
    if staff:
        outside = [s for s in staff if not s.region_id.startswith(region.code[:6])]
        if outside:
            raise ValidationError({"staff": _("工作人员 %(name)s 不属于该县") % {"name": outside[0].name}})
        clue.staff.set(staff)
    audit_change(actor=actor, action="clue.create", obj=clue, region_code=clue.region_id)
    return clue


@transaction.atomic
def clue_create_from_complaint(*, actor: User, complaint: Complaint, category: str, summary: str = "") -> Clue:
    data = {"source": ClueSource.COMPLAINT, "channel": complaint.channel, "region": complaint.subject_region,
            "category": category, "summary": summary.strip() or complaint.content, "complaint": complaint,
            "people_involved": complaint.subject_name}
    return clue_create(actor=actor, data=data,
                       staff=[complaint.subject_staff] if complaint.subject_staff else None)


def _finding_facts(finding_id: int) -> tuple[str, str]:
    """(region_code, rule) of the finding a clue is made from."""
    row = Finding.objects.filter(pk=finding_id).values_list("region_code", "rule").first()
    return (row[0] or "", row[1] or "") if row else ("", "")


@transaction.atomic
def clue_create_from_finding(*, actor: User, finding_id: int, summary: str, region_code: str = "",
                             category: str | None = None) -> Clue:
    """The "refer as clue" of audits' county review. Idempotent per finding.

    Region and category come from the finding when audits has it; `region_code` and
    `category` (default by the finding's rule, else 错保) cover a caller that passes them.
    """
    existing = Clue.objects.filter(finding_id=finding_id).first()
    if existing:
        return existing
    finding_region, rule = _finding_facts(finding_id)
    code = natural_code(finding_region or region_code)
    if not code:
        raise ValidationError({"region": _("疑点 %(id)s 没有所属区划，无法登记线索") % {"id": finding_id}})
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise ValidationError({"region": _("区划代码 %(code)s 不存在") % {"code": code}})
    return clue_create(actor=actor, data={"source": ClueSource.FINDING, "region": region,
                                          "category": category or (RULE_CATALOGUE[rule].clue_category if rule in RULE_CATALOGUE
                                                                    else "错保"),
                                          "summary": summary, "finding_id": finding_id})


def _check_clue_version(clue: Clue, expected: int | None) -> None:
    check_version(clue, expected, label=_("线索 %(n)s") % {"n": clue.number})


def _clue_of_referral(referral: Referral, expected: int | None) -> Clue:
    """The referral's clue, locked and checked: the body's writes are part of the clue's record."""
    clue = Clue.objects.select_for_update().get(pk=referral.clue_id)
    _check_clue_version(clue, expected)
    return clue


@transaction.atomic
def clue_update(*, actor: User, clue: Clue, data: dict[str, Any], staff: list[Staff] | None = None,
                expected_version: int | None = None) -> Clue:
    clue = _locked(clue)
    require(actor, "clue.manage", region_code=clue.region_id)
    _check_clue_version(clue, expected_version)
    if clue.state == ClueState.CONCLUDED:
        raise ValidationError(_("线索已办结，不能再修改"))
    if "region" in data:
        _require_in_scope(actor, data["region"])
    before = snapshot(clue)
    for key, value in data.items():
        setattr(clue, key, value)
    if clue.state == ClueState.REGISTERED and clue.handling:
        clue.state = ClueState.VERIFYING
    clue.version += 1
    clue.save()
    if staff is not None:
        clue.staff.set(staff)
    audit_change(actor=actor, action="clue.update", obj=clue, region_code=clue.region_id, before=before)
    return clue


@transaction.atomic
def clue_conclude_directly(*, actor: User, clue: Clue, handling: str, expected_version: int | None = None) -> Clue:
    """The bureau settles a clue within its own remit (直查快办) without referral."""
    clue = _locked(clue)
    require(actor, "clue.manage", region_code=clue.region_id)
    _check_clue_version(clue, expected_version)
    if clue.state in (ClueState.REFERRED, ClueState.CONCLUDED):
        raise ValidationError(_("已移交纪检监察机关或已办结的线索，由纪检监察机关办结"))
    if not handling.strip():
        raise ValidationError({"handling": _("请填写办理情况")})
    before = snapshot(clue)
    clue.handling = handling.strip()
    clue.state = ClueState.CONCLUDED
    clue.concluded_on = today()
    clue.version += 1
    clue.save()
    audit_change(actor=actor, action="clue.conclude", obj=clue, region_code=clue.region_id, before=before)
    return clue


@transaction.atomic
def clue_refer(*, actor: User, clue: Clue, body_region: Region, body_name: str, note: str = "",
               body_kind: str = BodyKind.COMMISSION, expected_version: int | None = None) -> Referral:
    """移交纪检监察机关 (seed 004): clues about township caseworkers and village cadres go to the
    township's own discipline body (a 9-digit region), clues about bureau staff to the county's
    commission or the group it stations in the bureau (派驻纪检组, county level or above)."""
    clue = _locked(clue)
    require(actor, "clue.refer", region_code=clue.region_id)
    _check_clue_version(clue, expected_version)
    if clue.state in (ClueState.REFERRED, ClueState.CONCLUDED):
        raise ValidationError(_("线索已移交或已办结"))
    if body_kind not in BodyKind.values:
        raise ValidationError({"body_kind": _("接收机关类别只能是纪委监委或派驻纪检组")})
    if len(body_region.code) > 9:
        raise ValidationError({"body_region": _("村（居）没有纪检监察机关，请选择乡镇（街道）或以上区划")})
    if body_kind == BodyKind.STATIONED and len(body_region.code) > 6:
        raise ValidationError({"body_region": _("派驻纪检组设在县级或以上民政部门，请选择县（市、区）或以上区划")})
    if not clue.region_id.startswith(body_region.code):
        raise ValidationError({"body_region": _("只能移交给线索所在地或其上级的纪检监察机关")})
    before = snapshot(clue)
    referral = Referral.objects.create(clue=clue, body_region=body_region, body_kind=body_kind,
                                       body_name=body_name.strip() or default_body_name(body_region, body_kind),
                                       referred_on=today(), referred_by=actor, note=note)
    clue.state = ClueState.REFERRED
    clue.version += 1
    clue.save(update_fields=["state", "version"])
    audit_change(actor=actor, action="clue.refer", obj=clue, region_code=clue.region_id, before=before,
           note=referral.body_name)
    audit_change(actor=actor, action="referral.create", obj=referral, region_code=clue.region_id)
    return referral


def default_body_name(region: Region, kind: str) -> str:
    if kind == BodyKind.STATIONED:
        return _("%(r)s纪委监委驻%(r)s民政局纪检监察组") % {"r": region.name}
    if len(region.code) == 9:
        return _("%(r)s纪委") % {"r": region.name}
    return _("%(r)s纪委监委") % {"r": region.name}


def _require_body_inspector(actor: User, referral: Referral) -> None:
    """Only the body the clue was referred to records its outcome (not the bodies above it)."""
    require(actor, "clue.outcome", region_code=referral.body_region_id)
    if actor.region_id != referral.body_region_id:
        raise PermissionDenied(_("只有接收该线索的纪检监察机关可以登记调查结果"))


@transaction.atomic
def referral_record(*, actor: User, referral: Referral, investigation: str, outcome: str,
                    funds_recovered: Decimal, disciplines: list[dict[str, Any]],
                    expected_version: int | None = None) -> Referral:
    """The body's investigation, conclusion, disciplined persons and recovered funds."""
    referral = _locked(referral)
    _require_body_inspector(actor, referral)
    clue = _clue_of_referral(referral, expected_version)
    if referral.concluded_on:
        raise ValidationError(_("该线索已办结，不能再修改调查结果"))
    if funds_recovered is None or funds_recovered < 0:
        raise ValidationError({"funds_recovered": _("追回资金不能为负数")})
    if outcome == "不属实" and any(d["count"] for d in disciplines):
        raise ValidationError({"outcome": _("结论为不属实时不应登记处理处分人数")})
    before = snapshot(referral)
    before["disciplines"] = [[d.kind, d.count] for d in referral.disciplines.all()]
    referral.investigation = investigation.strip()
    referral.outcome = outcome
    referral.funds_recovered = Decimal(funds_recovered).quantize(Decimal("0.01"))
    referral.save()
    clue.version += 1
    clue.save(update_fields=["version"])
    referral.disciplines.all().delete()
    Discipline.objects.bulk_create([Discipline(referral=referral, kind=d["kind"], count=d["count"],
                                               note=d.get("note", "")) for d in disciplines if d["count"]])
    after = snapshot(referral)
    after["disciplines"] = [[d["kind"], d["count"]] for d in disciplines if d["count"]]
    b, a = diff(before, after)
    audit_record(actor=actor, action="referral.record", object_type="referral", object_id=referral.pk,
                 region_code=referral.clue.region_id, before=b, after=a)
    return referral


@transaction.atomic
def referral_conclude(*, actor: User, referral: Referral, expected_version: int | None = None) -> Referral:
    referral = _locked(referral)
    _require_body_inspector(actor, referral)
    clue = _clue_of_referral(referral, expected_version)
    if referral.concluded_on:
        raise ValidationError(_("该线索已办结"))
    if not referral.outcome or not referral.investigation:
        raise ValidationError(_("请先登记调查情况和调查结论，再办结"))
    referral.concluded_on = today()
    referral.concluded_by = actor
    referral.save()
    clue.state = ClueState.CONCLUDED
    clue.concluded_on = referral.concluded_on
    clue.version += 1
    clue.save(update_fields=["state", "concluded_on", "version"])
    audit_record(actor=actor, action="referral.conclude", object_type="referral", object_id=referral.pk,
                 region_code=clue.region_id, after={"outcome": referral.outcome,
                                                    "concluded_on": referral.concluded_on.isoformat()})
    return referral


@transaction.atomic
def typical_case_mark(*, actor: User, clue: Clue, title: str, summary: str, month: dt.date | None = None) -> TypicalCase:
    """Publish a concluded clue as a typical case (典型案例) in the month's list."""
    clue = _locked(clue)
    require(actor, "typical_case.mark", region_code=clue.region_id)
    referral = getattr(clue, "referral", None)
    if actor.role == Role.INSPECTOR and (referral is None or actor.region_id != referral.body_region_id):
        raise PermissionDenied(_("只有办理该线索的纪检监察机关可以将其标记为典型案例"))
    if clue.state != ClueState.CONCLUDED:
        raise ValidationError(_("只有已办结的线索可以作为典型案例"))
    if referral is not None and referral.outcome == "不属实":
        raise ValidationError(_("调查结论为不属实的线索不能作为典型案例"))
    if hasattr(clue, "typical_case"):
        raise ValidationError(_("该线索已是典型案例"))
    if not title.strip() or not summary.strip():
        raise ValidationError({"summary": _("请填写标题和可公开的案例摘要")})
    month = (month or clue.concluded_on or today()).replace(day=1)
    case = TypicalCase.objects.create(clue=clue, region=clue.region, title=title.strip(), summary=summary.strip(),
                                      month=month, marked_by=actor)
    audit_change(actor=actor, action="typical_case.mark", obj=case, region_code=clue.region_id, exclude=("marked_at",))
    return case


# ---------------------------------------------------------------- rectification ledger
@transaction.atomic
def rectification_create(*, actor: User, data: dict[str, Any]) -> RectificationItem:
    require(actor, "rectification.create")
    region: Region = data["region"]
    _require_in_scope(actor, region)
    if data["deadline"] < today() - dt.timedelta(days=366):
        raise ValidationError({"deadline": _("整改时限不合理，请核对日期")})
    item = RectificationItem(**data, created_by=actor)
    _save_numbered(item, RectificationItem, f"ZG-{region.code[:6]}-{today().year}-")
    audit_change(actor=actor, action="rectification.create", obj=item, region_code=item.region_id)
    return item


@transaction.atomic
def rectification_update(*, actor: User, item: RectificationItem, progress: str, evidence: str,
                         done: bool) -> RectificationItem:
    """The responsible unit reports progress and, when finished, asks for closing off."""
    item = _locked(item)
    require(actor, "rectification.update", region_code=item.region_id)
    if item.status == RectificationStatus.CLOSED:
        raise ValidationError(_("该事项已销号"))
    if done and not evidence.strip():
        raise ValidationError({"evidence": _("标记整改完成前请填写佐证材料")})
    before = snapshot(item)
    item.progress = progress.strip()
    item.evidence = evidence.strip()
    if done:
        item.status = RectificationStatus.DONE
        item.done_on = today()
    else:
        item.status = RectificationStatus.OPEN
        item.done_on = None
    item.save()
    audit_change(actor=actor, action="rectification.update", obj=item, region_code=item.region_id, before=before)
    return item


@transaction.atomic
def rectification_close(*, actor: User, item: RectificationItem) -> RectificationItem:
    """对账销号: only a supervisor, and only an item reported done with evidence."""
    item = _locked(item)
    require(actor, "rectification.close", region_code=item.region_id)
    if item.status != RectificationStatus.DONE:
        raise ValidationError(_("只有已整改待销号的事项可以销号"))
    before = snapshot(item)
    item.status = RectificationStatus.CLOSED
    item.closed_on = today()
    item.closed_by = actor
    item.save()
    audit_change(actor=actor, action="rectification.close", obj=item, region_code=item.region_id, before=before)
    return item


# ---------------------------------------------------------------- spot checks
@transaction.atomic
def inspection_create(*, actor: User, data: dict[str, Any]) -> Inspection:
    require(actor, "inspection.manage")
    _require_in_scope(actor, data["region"])
    if len(data["region"].code) > 9:
        raise ValidationError({"region": _("督查对象应为县（市、区）或乡镇")})
    inspection = Inspection.objects.create(**data, created_by=actor)
    audit_change(actor=actor, action="inspection.create", obj=inspection, region_code=inspection.region_id)
    return inspection


@transaction.atomic
def inspection_record_results(*, actor: User, inspection: Inspection, results: dict[int, tuple[str, str]],
                              summary: str) -> Inspection:
    inspection = _locked(inspection)
    require(actor, "inspection.manage", region_code=inspection.region_id)
    items = set(inspection.checklist.items.values_list("id", flat=True))
    unknown = set(results) - items
    if unknown:
        raise ValidationError(_("检查项目 %(ids)s 不属于该清单") % {"ids": sorted(unknown)})
    for item_id, (result, note) in results.items():
        if result not in CheckResult.values:
            raise ValidationError(_("检查结果无效"))
        InspectionResult.objects.update_or_create(inspection=inspection, item_id=item_id,
                                                  defaults={"result": result, "note": note})
    inspection.summary = summary
    inspection.save(update_fields=["summary"])
    audit_record(actor=actor, action="inspection.results", object_type="inspection", object_id=inspection.pk,
                 region_code=inspection.region_id,
                 after={"problems": sum(1 for r, _n in results.values() if r == CheckResult.PROBLEM),
                        "items": len(results)})
    return inspection


@transaction.atomic
def sample_draw(*, actor: User, inspection: Inspection, township: Region, count: int | None = None,
                percent: Decimal | None = None, seed: str = "") -> HomeSample:
    """Draw households in dibao of a township for home visits, reproducibly.

    Order = md5(seed || id): the same seed over the same registry gives the same sample,
    so anyone can re-draw and check that nobody picked the households by hand.
    """
    inspection = _locked(inspection)
    require(actor, "inspection.manage", region_code=inspection.region_id)
    _require_in_scope(actor, township, "township")
    if len(township.code) != 9 or not township.code.startswith(inspection.region_id):
        raise ValidationError({"township": _("请选择被检查地区内的一个乡镇（街道）")})
    seed = sampling.clean_seed(seed)
    population_qs = Household.objects.filter(region__code__startswith=township.code, status=Status.ACTIVE)
    population = population_qs.count()
    n = sampling.sample_size(population, count=count, percent=percent)
    if population == 0:
        raise ValidationError({"township": _("%(t)s 没有在保家庭，无法抽查") % {"t": township.name}})
    sample = HomeSample.objects.create(inspection=inspection, region=township, seed=seed, requested_count=count,
                                       requested_percent=percent, population=population)
    picked = sampling.draw(population_qs, seed=seed, n=n)
    HomeVisit.objects.bulk_create([HomeVisit(sample=sample, household_id=hid) for hid in picked])
    audit_record(actor=actor, action="sample.draw", object_type="homesample", object_id=sample.pk,
                 region_code=township.code, after={"seed": seed, "n": n, "population": population})
    return sample


@transaction.atomic
def visit_record(*, actor: User, visit: HomeVisit, result: str, visited_on: dt.date, note: str = "") -> HomeVisit:
    visit = HomeVisit.objects.select_for_update().select_related("sample").get(pk=visit.pk)
    require(actor, "inspection.manage", region_code=visit.sample.region_id)
    if result not in VisitResult.values or result == VisitResult.PENDING:
        raise ValidationError({"result": _("请选择走访结果")})
    if visited_on > today():
        raise ValidationError({"visited_on": _("走访日期不能晚于今天")})
    if result == VisitResult.PROBLEM and not note.strip():
        raise ValidationError({"note": _("存在问题时请说明具体问题")})
    before = snapshot(visit)
    visit.result, visit.visited_on, visit.note = result, visited_on, note.strip()
    visit.save()
    audit_change(actor=actor, action="visit.record", obj=visit, region_code=visit.sample.region_id, before=before)
    return visit


def default_checklist() -> Checklist | None:
    return Checklist.objects.filter(is_default=True, active=True).first()


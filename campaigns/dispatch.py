"""Writes of a campaign's dispatch (调度): the daily bulletins, summons (约谈), reports owed
upward (报送) and their uploads. Each service checks role and jurisdiction against the row it
acts on (`require`) and leaves its audit record in the same transaction."""
from __future__ import annotations

import datetime as dt
import hashlib
import zipfile

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns import progress
from campaigns.models import Bulletin, Campaign, CampaignState, ReportRequest, ReportSubmission, Summons
from dibao.audit import audit_record, model_snapshot
from dibao.models import Region
from dibao.permissions import require

BULLETIN_LEVELS = (Region.Level.PROVINCE, Region.Level.CITY, Region.Level.COUNTY)


# --- daily bulletins ---------------------------------------------------------------------------

@transaction.atomic
def bulletins_make(*, actor="system", campaign: Campaign, day: dt.date) -> int:
    """The day's frozen bulletin of every county, city and province in the campaign's area; a
    region that already has that day's bulletin keeps it. Returns how many were made."""
    from campaigns.dispatch_selectors import owed_report_rows

    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    require(actor, "bulletin.make", region_code=campaign.region_id)
    if campaign.state != CampaignState.RUNNING:
        raise ValidationError(_("排查活动“%(name)s”已结束，不再生成日调度通报") % {"name": campaign.name})
    figures = progress.figures_by_region(campaign, day)
    regions = list(Region.objects.filter(code__startswith=campaign.region_id, level__lte=Region.Level.TOWNSHIP)
                   .order_by("code").values_list("code", "name", "level", "parent_id"))
    children: dict[str, list[tuple[str, str]]] = {}
    for code, name, _level, parent in regions:
        children.setdefault(parent, []).append((code, name))
    owed = owed_report_rows(within=campaign.region_id, day=day)
    existing = set(Bulletin.objects.filter(campaign=campaign, day=day).values_list("region_code", flat=True))
    made = [Bulletin(campaign=campaign, region_code=code, day=day,
                     snapshot=progress.bulletin_snapshot(
                         campaign, (code, name), children.get(code, []), figures, day,
                         [row for row in owed if row["region_code"].startswith(code)]))
            for code, name, level, _parent in regions if level in BULLETIN_LEVELS and code not in existing]
    Bulletin.objects.bulk_create(made, batch_size=500)
    if made:
        audit_record(actor=actor, action="bulletin.create", object_type="campaign", object_id=campaign.pk,
                     region_code=campaign.region_id, after={"day": day, "bulletins": len(made)})
    return len(made)


# --- summons (约谈) -------------------------------------------------------------------------------

@transaction.atomic
def summons_record(*, actor, campaign: Campaign, region_code: str, held_on: dt.date, participants: str,
                   reason: str, outcome: str = "") -> Summons:
    """A supervisor's summons of a region below them in the campaign's area."""
    campaign = Campaign.objects.get(pk=campaign.pk)
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        raise ValidationError({"region": _("区划代码 %(code)s 不存在") % {"code": region_code}})
    require(actor, "summons.record", region_code=region.code)
    errors = {}
    if not region.code.startswith(campaign.region_id) or region.level > Region.Level.TOWNSHIP:
        errors["region"] = _("%(name)s 不是排查活动“%(campaign)s”范围内的县、市或乡镇") % {
            "name": region.name, "campaign": campaign.name}
    elif getattr(actor, "region_id", None) == region.code:
        errors["region"] = _("约谈对象应是本级以下的地区，不能约谈本级（%(name)s）") % {"name": region.name}
    if held_on > timezone.localdate():
        errors["held_on"] = _("约谈日期不能晚于今天")
    if not (participants or "").strip():
        errors["participants"] = _("请写明约谈人和被约谈人（姓名、职务）")
    if not (reason or "").strip():
        errors["reason"] = _("请写明约谈事由，例如逾期未完成排查的户数")
    if errors:
        raise ValidationError(errors)
    summons = Summons.objects.create(campaign=campaign, region=region, held_on=held_on,
                                     participants=participants.strip(), reason=reason.strip(),
                                     outcome=(outcome or "").strip(), recorded_by=actor)
    audit_record(actor=actor, action="summons.record", object_type="summons", object_id=summons.pk,
                 region_code=region.code, after=model_snapshot(summons, exclude=("recorded_at",)))
    return summons


# --- reports owed upward (报送) -------------------------------------------------------------------

@transaction.atomic
def report_request_create(*, actor, region_code: str, title: str, due_on: dt.date, owed_by_level: int,
                          note: str = "", campaign: Campaign | None = None) -> ReportRequest:
    """A report owed by every region of `owed_by_level` under `region_code`."""
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        raise ValidationError({"region": _("区划代码 %(code)s 不存在") % {"code": region_code}})
    require(actor, "report_request.create", region_code=region.code)
    errors = {}
    if owed_by_level not in ReportRequest.OwedBy.values:
        errors["owed_by_level"] = _("报送单位只能是县（市、区）或市（州）")
    elif region.level >= owed_by_level:
        errors["owed_by_level"] = _("%(name)s 以下没有%(level)s一级，请选择更低一级或由上级布置") % {
            "name": region.name, "level": ReportRequest.OwedBy(owed_by_level).label}
    if not (title or "").strip():
        errors["title"] = _("请填写报送事项，例如“自查报告”")
    if due_on < timezone.localdate():
        errors["due_on"] = _("报送截止日期不能早于今天")
    if campaign is not None and not region.code.startswith(campaign.region_id) \
            and not campaign.region_id.startswith(region.code):
        errors["campaign"] = _("排查活动“%(name)s”不在 %(region)s 范围内") % {"name": campaign.name, "region": region.name}
    if errors:
        raise ValidationError(errors)
    request = ReportRequest.objects.create(region=region, campaign=campaign, title=title.strip(), due_on=due_on,
                                           owed_by_level=owed_by_level, note=(note or "").strip(),
                                           created_by=actor)
    audit_record(actor=actor, action="report_request.create", object_type="reportrequest", object_id=request.pk,
                 region_code=region.code, after=model_snapshot(request, exclude=("created_at",)))
    return request


# The documents a region sends up: PDF, Word/WPS and Excel, told by their first bytes.
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc, .xls, .wps


def sniff_report(upload) -> str:
    """The real type of an uploaded report from its content, or a ValidationError naming the file."""
    name = getattr(upload, "name", "") or _("文件")
    limit = settings.REPORT_MAX_FILE_BYTES
    if upload.size > limit:
        raise ValidationError(_("文件“%(name)s”大小为 %(size).1f MB，超过 %(limit)d MB 上限，请压缩或删去图片后再上传")
                              % {"name": name, "size": upload.size / 1024 / 1024, "limit": limit // 1024 // 1024})
    if upload.size == 0:
        raise ValidationError(_("文件“%(name)s”是空文件") % {"name": name})
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(_OLE2):
        return "application/msword"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(upload) as archive:
                parts = archive.namelist()
        except zipfile.BadZipFile:
            parts = []
        finally:
            upload.seek(0)
        if any(p.startswith("word/") for p in parts):
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        if any(p.startswith("xl/") for p in parts):
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    raise ValidationError(_("文件“%(name)s”不是 PDF、Word（doc/docx/wps）或 Excel 文件（按文件内容识别），请另存后上传")
                          % {"name": name})


def _sha256(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


@transaction.atomic
def report_submission_upload(*, actor, request: ReportRequest, region_code: str, upload) -> ReportSubmission:
    """A region's document for a report it owes; an upload after the due date is kept, marked late."""
    request = ReportRequest.objects.select_for_update().get(pk=request.pk)
    require(actor, "report_submission.upload", region_code=region_code)
    region = Region.objects.filter(code=region_code, code__startswith=request.region_id,
                                   level=request.owed_by_level).first()
    if region is None:
        raise ValidationError({"region": _("区划 %(code)s 不是“%(title)s”的报送单位") % {
            "code": region_code, "title": request.title}})
    if getattr(actor, "region_id", None) not in (None, region.code):
        raise PermissionDenied(_("报送材料由%(name)s本级上传，上级不能代报") % {"name": region.name})
    content_type = sniff_report(upload)
    now = timezone.now()
    submission = ReportSubmission(request=request, region_code=region.code,
                                  original_name=(upload.name or "")[:200], content_type=content_type,
                                  size=upload.size, sha256=_sha256(upload), uploaded_by=actor, uploaded_at=now,
                                  late=timezone.localtime(now).date() > request.due_on)
    submission.file.save(upload.name or "report", upload, save=False)
    submission.save()
    audit_record(actor=actor, action="report_submission.upload", object_type="reportsubmission",
                 object_id=submission.pk, region_code=region.code,
                 after={"request": request.pk, "file": submission.original_name, "sha256": submission.sha256,
                        "size": submission.size, "late": submission.late})
    return submission


def ensure_bulletin_schedule(sender, using="default", **kwargs):
    """Register the daily bulletin with beat once (post_migrate), at CAMPAIGN_BULLETIN_TIME;
    administrators change the time or disable it in the admin like the other periodic tasks."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    if PeriodicTask.objects.using(using).filter(task="campaigns.tasks.daily_bulletins").exists():
        return
    hour, minute = settings.CAMPAIGN_BULLETIN_TIME.split(":")
    schedule, _created = CrontabSchedule.objects.using(using).get_or_create(
        minute=str(int(minute)), hour=str(int(hour)), day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Asia/Shanghai")
    PeriodicTask.objects.using(using).create(
        name="专项排查日调度通报（工作日）", task="campaigns.tasks.daily_bulletins", crontab=schedule,
        description="为每个进行中的排查活动生成当日各县、市、省的通报；节假日（chinesecalendar）不生成")

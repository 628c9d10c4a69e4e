"""Dispatch (调度) of a running campaign, spec/campaigns.md "Progress and daily bulletin" and
"Reports owed upward": the frozen daily bulletins, the summons of late regions (约谈) and the
reports the regions below owe (报送). Imported by campaigns/models.py.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _

from dibao.downloads import RandomName
from dibao.models import CODE_LENGTHS, Region
from dibao.scoping import ScopedQuerySet


class Bulletin(models.Model):
    """One day's bulletin (日调度日通报) of one county, city or province: the progress figures of
    the region and of each region one level below, frozen when made, so yesterday's bulletin
    still says what it said yesterday."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="bulletins")
    region_code = models.CharField(_("区划代码"), max_length=12)
    day = models.DateField(_("通报日期"))
    snapshot = models.JSONField(_("通报数据"))
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("日调度通报")
        verbose_name_plural = _("日调度通报")
        ordering = ["-day", "region_code"]
        constraints = [models.UniqueConstraint(fields=["campaign", "region_code", "day"], name="bulletin_unique_day")]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.region_code} {self.day}"


class Summons(models.Model):
    """A summons (约谈) of a region that fell behind, recorded by the supervisor above it."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="summonses")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", db_column="region_code",
                               verbose_name=_("被约谈地区"))
    held_on = models.DateField(_("约谈日期"))
    participants = models.CharField(_("约谈人与被约谈人"), max_length=200)
    reason = models.TextField(_("约谈事由"))
    outcome = models.TextField(_("约谈结果与整改要求"), blank=True)
    recorded_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("登记人"))
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "region__code"

    class Meta:
        verbose_name = _("约谈记录")
        verbose_name_plural = _("约谈记录")
        ordering = ["-held_on", "-id"]


class ReportRequestQuerySet(ScopedQuerySet):
    def for_user(self, user, *, within: str = ""):
        """Requests set inside the user's region, and those set above it: what a county owes
        was asked by its city or province."""
        below = super().for_user(user, within=within)
        prefix = getattr(user, "scope_prefix", None)
        if within or not prefix or not user.is_authenticated or not user.is_active:
            return below
        return below | self.filter(region_id__in=[prefix[:n] for n in CODE_LENGTHS if n < len(prefix)])


class ReportRequest(models.Model):
    """A report owed upward (报送): every region of `owed_by_level` under `region` uploads one."""

    class OwedBy(models.IntegerChoices):
        CITY = Region.Level.CITY, _("市（州）")
        COUNTY = Region.Level.COUNTY, _("县（市、区）")

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", db_column="region_code",
                               verbose_name=_("布置单位区划"))
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="report_requests", verbose_name=_("所属排查活动"))
    title = models.CharField(_("报送事项"), max_length=100)
    due_on = models.DateField(_("报送截止日期"))
    owed_by_level = models.PositiveSmallIntegerField(_("报送单位层级"), choices=OwedBy.choices)
    note = models.TextField(_("报送要求"), blank=True)
    created_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("布置人"))
    created_at = models.DateTimeField(_("布置时间"), auto_now_add=True)

    objects = ReportRequestQuerySet.as_manager()
    region_field = "region__code"

    class Meta:
        verbose_name = _("报送任务")
        verbose_name_plural = _("报送任务")
        ordering = ["-due_on", "-id"]

    def __str__(self) -> str:
        return self.title


class ReportSubmission(models.Model):
    """One upload of a region's document; a region may upload again, every copy is kept."""

    request = models.ForeignKey(ReportRequest, on_delete=models.PROTECT, related_name="submissions")
    region_code = models.CharField(_("报送单位区划"), max_length=12)
    file = models.FileField(_("文件"), upload_to=RandomName("reports_owed"), max_length=200)
    original_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("上传人"))
    uploaded_at = models.DateTimeField(_("上传时间"))
    late = models.BooleanField(_("逾期报送"))

    objects = ScopedQuerySet.as_manager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("报送材料")
        verbose_name_plural = _("报送材料")
        ordering = ["request_id", "region_code", "-uploaded_at"]
        indexes = [models.Index(fields=["request", "region_code"], name="report_submission_region_idx")]

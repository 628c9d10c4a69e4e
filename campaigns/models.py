"""Screening campaigns (专项排查, spec/campaigns.md): the campaign, its fixed list of households,
one screening record per listed household, and each township's sign-off.

The list is a table of its own rather than a query over the registry, so the campaign keeps
the households it was asked to screen while the registry moves on; it carries the township and
village codes so progress is a GROUP BY on code prefixes without a join to the registry.
"""
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dibao.concurrency import version_field
from dibao.models import CODE_LENGTHS, Region
from dibao.scoping import ScopedQuerySet


class CampaignState(models.TextChoices):
    RUNNING = "running", _("进行中")
    CLOSED = "closed", _("已结束")


class CampaignQuerySet(ScopedQuerySet):
    def for_user(self, user, *, within: str = ""):
        """Campaigns inside the user's region, and those over a region containing it: a county's
        campaign is every one of its townships' campaign too (their rows are scoped one by one)."""
        below = super().for_user(user, within=within)
        prefix = getattr(user, "scope_prefix", None)
        if within or not prefix or not user.is_authenticated or not user.is_active:
            return below
        above = self.filter(region_id__in=[prefix[:n] for n in CODE_LENGTHS if n < len(prefix)])
        return below | above


class Campaign(models.Model):
    name = models.CharField(_("活动名称"), max_length=100)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="campaigns",
                               db_column="region_code", verbose_name=_("组织区划"))
    # The three populations of the screening form's annexes (reports.md).
    active_end = models.DateField(_("在保截止日期"), help_text=_("此日在保的家庭"))
    exited_from = models.DateField(_("退出起始日期"))
    exited_to = models.DateField(_("退出截止日期"))
    rejected_from = models.DateField(_("申请未通过起始日期"))
    rejected_to = models.DateField(_("申请未通过截止日期"))
    screening_deadline = models.DateField(_("排查截止日期"))
    reporting_deadline = models.DateField(_("报送截止日期"))
    state = models.CharField(_("状态"), max_length=8, choices=CampaignState.choices, default=CampaignState.RUNNING,
                             db_index=True)
    created_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("创建人"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    version = version_field()

    objects = CampaignQuerySet.as_manager()
    region_field = "region__code"

    class Meta:
        verbose_name = _("排查活动")
        verbose_name_plural = _("排查活动")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(exited_from__lte=models.F("exited_to")),
                                   name="campaign_exited_period"),
            models.CheckConstraint(condition=Q(rejected_from__lte=models.F("rejected_to")),
                                   name="campaign_rejected_period"),
        ]

    def __str__(self) -> str:
        return self.name


class Population(models.TextChoices):
    ACTIVE = "active", _("在保")
    EXITED = "exited", _("退出")
    REJECTED = "rejected", _("申请未通过")


class CampaignHousehold(models.Model):
    """One household on a campaign's list, for one population (a household exited in the period
    and re-admitted by its end is on the list twice, as it is on two annexes)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="households")
    household = models.ForeignKey("cases.Household", on_delete=models.PROTECT, related_name="campaign_entries",
                                  verbose_name=_("低保家庭"))
    population = models.CharField(_("排查类别"), max_length=8, choices=Population.choices)
    township_code = models.CharField(_("乡镇代码"), max_length=9)
    village_code = models.CharField(_("村（居）代码"), max_length=12)
    added_at = models.DateTimeField(_("列入时间"))
    added_by_recompute = models.BooleanField(_("补充列入"), default=False)

    objects = ScopedQuerySet.as_manager()
    region_field = "village_code"

    class Meta:
        verbose_name = _("排查对象")
        verbose_name_plural = _("排查对象")
        ordering = ["campaign_id", "village_code", "household_id", "population"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "household", "population"],
                                    name="campaign_household_unique"),
        ]
        indexes = [
            models.Index(fields=["campaign", "township_code"], name="campaign_hh_township_idx"),
            models.Index(fields=["campaign", "village_code"], name="campaign_hh_village_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.household_id}:{self.population}"


class ScreeningResult(models.TextChoices):
    NO_PROBLEM = "no_problem", _("无问题")
    PROBLEM = "problem", _("存在问题")


class ProblemType(models.TextChoices):
    WRONG = "错保", _("错保")
    MISSED = "漏保", _("漏保")
    FAVOUR = "人情保", _("人情保")
    CONNECTION = "关系保", _("关系保")
    DECEASED = "死亡保", _("死亡保")
    DUPLICATE = "重复享受", _("重复享受")
    ASSETS = "资产超标", _("资产超标")
    INCOME = "收入超标", _("收入超标")
    OTHER = "其他", _("其他")


class Handling(models.TextChoices):
    CONTINUE = "继续享受", _("继续享受")
    ADJUST = "调整金额", _("调整金额")
    STOP = "停发", _("停发")
    EXIT = "退出", _("退出")
    ADMIT = "纳入", _("纳入")
    CLUE = "移交线索", _("移交线索")
    OTHER = "其他", _("其他")


class ScreeningRecord(models.Model):
    campaign_household = models.OneToOneField(CampaignHousehold, on_delete=models.CASCADE,
                                              related_name="record", verbose_name=_("排查对象"))
    screened_on = models.DateField(_("排查日期"))
    screeners = models.CharField(_("排查人"), max_length=100)
    result = models.CharField(_("排查结果"), max_length=12, choices=ScreeningResult.choices)
    problem_types = models.JSONField(_("问题类型"), default=list, blank=True)
    handling = models.CharField(_("处理情况"), max_length=8, choices=Handling.choices, blank=True)
    # The step or clue the handling started (campaigns.md: "with the step or clue it links to").
    application = models.ForeignKey("cases.Application", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("关联申请/变更"))
    clue = models.ForeignKey("complaints.Clue", on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("关联线索"))
    finding = models.ForeignKey("audits.Finding", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("关联疑点"), db_constraint=False)
    note = models.TextField(_("备注"), blank=True)
    recorded_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("登记人"))
    recorded_at = models.DateTimeField(_("登记时间"), auto_now=True)
    version = version_field()

    objects = ScopedQuerySet.as_manager()
    region_field = "campaign_household__village_code"

    class Meta:
        verbose_name = _("排查记录")
        verbose_name_plural = _("排查记录")
        ordering = ["campaign_household_id"]

    def __str__(self) -> str:
        return f"{self.campaign_household_id} {self.get_result_display()}"


class SignoffState(models.TextChoices):
    SUBMITTED = "submitted", _("已上报")
    RETURNED = "returned", _("已退回")
    ACCEPTED = "accepted", _("已确认")


class TownshipSignoff(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="signoffs")
    township_code = models.CharField(_("乡镇代码"), max_length=9)
    state = models.CharField(_("状态"), max_length=10, choices=SignoffState.choices)
    submitted_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("上报人"))
    submitted_at = models.DateTimeField(_("上报时间"), null=True, blank=True)
    returned_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("退回人"))
    returned_at = models.DateTimeField(_("退回时间"), null=True, blank=True)
    return_reason = models.TextField(_("退回原因"), blank=True)
    accepted_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("确认人"))
    accepted_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    version = version_field()

    objects = ScopedQuerySet.as_manager()
    region_field = "township_code"

    class Meta:
        verbose_name = _("乡镇确认上报")
        verbose_name_plural = _("乡镇确认上报")
        ordering = ["campaign_id", "township_code"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "township_code"], name="signoff_unique_township"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.township_code} {self.get_state_display()}"

    @property
    def counts_as_screened(self) -> bool:
        return self.state in (SignoffState.SUBMITTED, SignoffState.ACCEPTED)


# Dispatch of a running campaign (bulletins, summons, reports owed upward) lives in its own module.
from campaigns.dispatch_models import Bulletin, ReportRequest, ReportSubmission, Summons  # noqa: E402,F401

"""Stored monthly rollups (月度汇总快照) and export jobs.

A rollup is a snapshot: `RollupRow` keeps the figures as they were computed, so later
edits to the registry never change a published month. Each computation is recorded as a
`RollupRun`; recomputing a month replaces the rows of the run's subtree (rows are unique
per month and region) and the run history stays.
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dibao.jobs import Job, JobState
from dibao.downloads import RandomName
from dibao.scoping import ScopedQuerySet

# Column key -> Chinese header, in the order of reports.md. `MONEY_METRICS` are Decimal.
METRICS: list[tuple[str, str]] = [
    ("households_active", _("在保户数")),
    ("persons_active", _("在保人数")),
    ("amount_total", _("月保障金额合计（元）")),
    ("households_new", _("新增户数")),
    ("households_exited", _("退出户数")),
    ("applications", _("申请户数")),
    ("applications_rejected", _("未通过户数")),
    ("applications_overdue", _("审核确认超期")),
    ("findings_raised", _("新增疑点")),
    ("findings_confirmed", _("核实属实")),
    ("findings_dismissed", _("核实排除")),
    ("screening_tasks_done", _("重点人群核查完成")),
    ("complaints_received", _("投诉受理")),
    ("complaints_closed", _("投诉办结")),
    ("complaints_overdue", _("投诉超期")),
    ("clues_received", _("线索受理")),
    ("clues_transferred", _("线索移交纪检监察")),
    ("clues_concluded", _("线索办结")),
    ("persons_disciplined", _("处理处分人数")),
    ("funds_recovered", _("追回资金（元）")),
    ("relatives_filed", _("近亲属备案人数（本月）")),
    ("relatives_filed_total", _("近亲属备案人数（累计）")),
    ("amount_paid", _("实际发放金额（元）")),
    ("payment_anomalies", _("资金疑点")),
]
METRIC_KEYS = [key for key, _label in METRICS]
MONEY_METRICS = {"amount_total", "funds_recovered", "amount_paid"}
# Columns that come from the household registry only: households always sit at a township
# or village, so for these a parent's figure is exactly the sum of its children.
REGISTRY_METRICS = ["households_active", "persons_active", "amount_total", "households_new",
                    "households_exited", "applications", "applications_rejected", "applications_overdue"]

LEVEL_KEYS = {9: "township", 6: "county", 4: "city", 2: "province"}
LEVEL_LENGTHS = {v: k for k, v in LEVEL_KEYS.items()}
LEVEL_LABELS = {"township": _("乡镇"), "county": _("县"), "city": _("市"), "province": _("省")}


def _count():
    return models.PositiveIntegerField(default=0)


def _money():
    return models.DecimalField(max_digits=18, decimal_places=2, default=0)


class RollupRun(models.Model):
    """One computation of a month's snapshot over a region subtree ('' = every region)."""

    month = models.DateField(_("月份"), help_text=_("该月第一天"), db_index=True)
    scope_code = models.CharField(_("汇总范围"), max_length=12, blank=True)
    computed_at = models.DateTimeField(_("计算时间"), auto_now_add=True)
    computed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("计算人"))
    computed_by_name = models.CharField(_("计算人"), max_length=150)
    row_count = models.PositiveIntegerField(_("行数"), default=0)
    replaced_rows = models.PositiveIntegerField(_("替换行数"), default=0)
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), default=0)

    objects = ScopedQuerySet.as_manager()
    region_field = "scope_code"

    class Meta:
        verbose_name = _("月度汇总计算")
        verbose_name_plural = _("月度汇总计算")
        ordering = ["-computed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.scope_code or '全部'} #{self.pk}"


class RollupRow(models.Model):
    """The figures of one region for one month, as computed by `run`."""

    run = models.ForeignKey(RollupRun, on_delete=models.PROTECT, related_name="rows")
    month = models.DateField(_("月份"))
    region_code = models.CharField(_("区划代码"), max_length=12)
    level = models.CharField(_("层级"), max_length=10)
    region_name = models.CharField(_("区划名称"), max_length=100)

    households_active = _count()
    persons_active = _count()
    amount_total = _money()
    households_new = _count()
    households_exited = _count()
    applications = _count()
    applications_rejected = _count()
    applications_overdue = _count()
    findings_raised = _count()
    findings_confirmed = _count()
    findings_dismissed = _count()
    screening_tasks_done = _count()
    complaints_received = _count()
    complaints_closed = _count()
    complaints_overdue = _count()
    clues_received = _count()
    clues_transferred = _count()
    clues_concluded = _count()
    persons_disciplined = _count()
    funds_recovered = _money()
    relatives_filed = _count()
    relatives_filed_total = _count()
    amount_paid = _money()
    payment_anomalies = _count()

    findings_by_rule = models.JSONField(_("新增疑点（分规则）"), default=dict, blank=True)
    # Items attached to this region itself rather than to a township below it (a clue
    # recorded against a county, a filing by county staff with no household): the
    # metric -> value part of this row that is not the sum of its children.
    own_level = models.JSONField(_("本级直接数"), default=dict, blank=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("月度汇总")
        verbose_name_plural = _("月度汇总")
        ordering = ["month", "region_code"]
        constraints = [models.UniqueConstraint(fields=["month", "region_code"], name="rollup_row_month_region")]
        indexes = [models.Index(fields=["month", "level", "region_code"], name="rollup_row_level_idx")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.region_name}"

    def metrics(self) -> dict:
        return {key: getattr(self, key) for key in METRIC_KEYS}


class ExportJob(Job):
    """A workbook built by a worker; the file is kept under MEDIA_ROOT/exports/ for download."""

    class Kind(models.TextChoices):
        ROLLUP = "rollup", _("月度汇总表")
        SCREENING = "screening", _("农村低保排查情况统计表")
        BULLETIN = "bulletin", _("专项治理进度通报")

    kind = models.CharField(_("报表"), max_length=16, choices=Kind.choices)
    params = models.JSONField(_("参数"), default=dict)
    region_code = models.CharField(_("区划代码"), max_length=12)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("申请人"))
    full_ids = models.BooleanField(_("完整身份证号"), default=False)
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    rows_written = models.PositiveIntegerField(_("已写行数"), default=0)
    file = models.FileField(_("文件"), upload_to=RandomName("exports"), blank=True)
    error = models.TextField(_("错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("报表导出")
        verbose_name_plural = _("报表导出")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)

    @property
    def params_display(self) -> str:
        """What the job was asked for, in words (月份 2026-11，汇总到乡镇), not the stored keys."""
        p = self.params
        if "month" in p:
            return _("%(month)s，汇总到%(level)s") % {"month": p["month"],
                                                   "level": LEVEL_LABELS.get(p.get("level"), p.get("level", ""))}
        return _("%(start)s 至 %(end)s") % {"start": p.get("from", ""), "end": p.get("to", "")}


class NoticeRelease(models.Model):
    """One dated edition of the long-term public notice (长期公示) of a village (monthly) or a
    township (quarterly), seed 004: the rows as released, kept as they were, so the public
    reads what was published that day and the earlier editions stay reachable."""

    region_code = models.CharField(_("区划代码"), max_length=12)
    period = models.CharField(_("公示期次"), max_length=7, help_text=_("村（居）按月 YYYY-MM，乡镇按季度 YYYY-Qn"))
    released_on = models.DateField(_("发布日期"))
    rows = models.JSONField(_("公示内容"))
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("发布人"), help_text=_("空：到期自动发布"))
    released_at = models.DateTimeField(_("发布时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("长期公示（期次）")
        verbose_name_plural = _("长期公示（期次）")
        ordering = ["region_code", "-period"]
        constraints = [models.UniqueConstraint(fields=["region_code", "period"], name="notice_release_unique_period")]

    def __str__(self) -> str:
        return f"{self.region_code} {self.period}"

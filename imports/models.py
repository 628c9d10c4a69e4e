from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dibao.downloads import RandomName
from dibao.jobs import Job
from dibao.scoping import ScopedQuerySet


class ImportJob(Job):
    """One upload (or command-line run) of one file of one kind, with its outcome.

    `region_code` is the importer's region, so the history page is scoped like every
    other list: a township sees its own imports, the county sees its townships'.
    """

    class State(models.TextChoices):
        # The job lifecycle's four states (dibao.jobs.JobState) and the dry run's two outcomes.
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("处理中")
        CHECKED = "checked", _("预检通过")
        INVALID = "invalid", _("有错误，未导入")
        DONE = "done", _("已导入")
        FAILED = "failed", _("失败")

    kind = models.CharField(_("数据类型"), max_length=16, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("导入人"))
    actor_name = models.CharField(_("导入人"), max_length=150)
    region_code = models.CharField(_("区划代码"), max_length=12, blank=True, db_index=True)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    file = models.FileField(_("文件"), upload_to=RandomName("imports"), blank=True, max_length=255)
    source_path = models.CharField(max_length=1024, blank=True, help_text="file read in place (command line)")
    file_name = models.CharField(_("文件名"), max_length=255)
    file_size = models.BigIntegerField(_("文件大小"), default=0)
    sha256 = models.CharField("SHA-256", max_length=64)
    dry_run = models.BooleanField(_("仅预检"), default=True)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    rows_read = models.PositiveIntegerField(_("已读行数"), default=0)
    rows_total = models.PositiveIntegerField(_("数据行数"), default=0)
    rows_new = models.PositiveIntegerField(_("新增"), default=0)
    rows_updated = models.PositiveIntegerField(_("更新"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("未变"), default=0)
    rows_invalid = models.PositiveIntegerField(_("错误行"), default=0)
    outcome = models.TextField(_("结果"), blank=True)
    report = models.JSONField(_("错误报告"), default=dict, blank=True)
    ref_version_id = models.BigIntegerField(null=True, blank=True)
    batch = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="batch_jobs",
                              verbose_name=_("同批导入"),
                              help_text=_("与之同批上传的低保家庭文件（家庭成员可属于该文件中的家庭）"))

    objects = ScopedQuerySet.as_manager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("导入记录")
        verbose_name_plural = _("导入记录")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.file_name}"

    @property
    def kind_label(self):
        from imports.kinds import all_kinds
        kind = all_kinds().get(self.kind)
        return kind.label if kind else self.kind

    @property
    def finished(self) -> bool:
        return self.state in (self.State.CHECKED, self.State.INVALID, self.State.DONE, self.State.FAILED)

    @property
    def errors(self) -> list:
        return self.report.get("errors", [])

    @property
    def warnings(self) -> list:
        return self.report.get("warnings", [])

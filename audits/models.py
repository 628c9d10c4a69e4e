"""Cross-check reference data (核对数据) from other departments.

Each import of a kind creates a new `RefVersion`; the version flagged current is the
data set the rules join against, older versions stay for the audit trail. The rows of
all versions live in one table per kind, keyed by version, so replacing a data set is
one INSERT … SELECT / COPY plus flipping `is_current`.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _

from audits import catalogue
from dibao.concurrency import version_field
from dibao.jobs import Job, JobState
from dibao.scoping import ScopedQuerySet
from dibao.validators import non_negative, not_in_future


class RefKind(models.TextChoices):
    DEATHS = "deaths", _("死亡人员")
    DISABILITY = "disability", _("残疾人")
    ILLNESS = "illness", _("重病患者")
    POVERTY = "poverty", _("建档立卡贫困人口")
    PAYROLL = "payroll", _("财政供养人员")
    VEHICLES = "vehicles", _("机动车登记")
    BUSINESS = "business", _("市场主体登记")
    PROPERTY = "property", _("不动产登记")
    KINSHIP = "kinship", _("户籍亲属关系")


class RefVersion(models.Model):
    kind = models.CharField(_("数据类型"), max_length=16, choices=RefKind.choices)
    version_no = models.PositiveIntegerField(_("版本号"))
    is_current = models.BooleanField(_("当前版本"), default=False)
    loaded_at = models.DateTimeField(_("导入时间"), auto_now_add=True)
    loaded_by = models.ForeignKey("dibao.User", on_delete=models.SET_NULL, null=True, blank=True,
                                  verbose_name=_("导入人"), related_name="+")
    file_name = models.CharField(_("文件名"), max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    row_count = models.PositiveIntegerField(_("行数"), default=0)

    class Meta:
        verbose_name = _("核对数据版本")
        verbose_name_plural = _("核对数据版本")
        ordering = ["kind", "-version_no"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version_no"], name="refversion_unique_no"),
            models.UniqueConstraint(fields=["kind"], condition=models.Q(is_current=True),
                                    name="refversion_one_current_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version_no}"


class RefRow(models.Model):
    # No database constraint: rows are only written by the import, in the transaction that
    # creates their version, and a deferred check per row doubled the commit of a 1M-row file.
    version = models.ForeignKey(RefVersion, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    id_number = models.CharField(_("身份证号"), max_length=18)

    class Meta:
        abstract = True
        indexes = []

    @classmethod
    def current(cls):
        return cls.objects.filter(version__is_current=True)


def _version_id_index(name: str):
    return [models.Index(fields=["version", "id_number"], name=f"{name}_ver_id_idx")]


class DeathRecord(RefRow):
    name = models.CharField(_("姓名"), max_length=50)
    death_date = models.DateField(_("死亡日期"))

    class Meta:
        verbose_name = _("死亡人员")
        indexes = _version_id_index("ref_death")


class DisabilityRecord(RefRow):
    name = models.CharField(_("姓名"), max_length=50)
    category = models.CharField(_("残疾类别"), max_length=4)
    level = models.PositiveSmallIntegerField(_("残疾等级"))
    region_code = models.CharField(_("区划代码"), max_length=12, blank=True)

    class Meta:
        verbose_name = _("残疾人")
        indexes = _version_id_index("ref_disab")


class IllnessRecord(RefRow):
    name = models.CharField(_("姓名"), max_length=50)
    disease = models.CharField(_("病种"), max_length=100)
    diagnosed_on = models.DateField(_("确诊日期"), null=True, blank=True)
    region_code = models.CharField(_("区划代码"), max_length=12, blank=True)

    class Meta:
        verbose_name = _("重病患者")
        indexes = _version_id_index("ref_ill")


class PovertyRecord(RefRow):
    name = models.CharField(_("姓名"), max_length=50)
    poverty_household_no = models.CharField(_("扶贫户编号"), max_length=50, blank=True)
    region_code = models.CharField(_("区划代码"), max_length=12, blank=True)

    class Meta:
        verbose_name = _("建档立卡贫困人口")
        indexes = _version_id_index("ref_poor")


class PayrollRecord(RefRow):
    name = models.CharField(_("姓名"), max_length=50)
    employer = models.CharField(_("工作单位"), max_length=200)

    class Meta:
        verbose_name = _("财政供养人员")
        indexes = _version_id_index("ref_payroll")


class VehicleRecord(RefRow):
    plate_no = models.CharField(_("号牌号码"), max_length=20)
    vehicle_type = models.CharField(_("车辆类型"), max_length=50)
    registered_on = models.DateField(_("登记日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("机动车登记")
        indexes = _version_id_index("ref_vehicle")


class BusinessRecord(RefRow):
    company_name = models.CharField(_("企业名称"), max_length=200)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    registered_capital = models.DecimalField(_("注册资本（万元）"), max_digits=14, decimal_places=2,
                                             null=True, blank=True)
    status = models.CharField(_("登记状态"), max_length=4)

    class Meta:
        verbose_name = _("市场主体登记")
        indexes = _version_id_index("ref_business")


class PropertyRecord(RefRow):
    unit_no = models.CharField(_("不动产单元号"), max_length=40)
    usage = models.CharField(_("用途"), max_length=4)
    area = models.DecimalField(_("面积（㎡）"), max_digits=10, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("不动产登记")
        indexes = _version_id_index("ref_property")


class KinshipRecord(models.Model):
    # No database constraint: rows are only written by the import, in the transaction that
    # creates their version, and a deferred check per row doubled the commit of a 1M-row file.
    version = models.ForeignKey(RefVersion, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    id_number_a = models.CharField(_("身份证号A"), max_length=18)
    id_number_b = models.CharField(_("身份证号B"), max_length=18)
    relation = models.CharField(_("关系"), max_length=8, help_text=_("B 是 A 的……"))

    class Meta:
        verbose_name = _("户籍亲属关系")
        indexes = [
            models.Index(fields=["version", "id_number_a"], name="ref_kin_ver_a_idx"),
            models.Index(fields=["version", "id_number_b"], name="ref_kin_ver_b_idx"),
        ]

    @classmethod
    def current(cls):
        return cls.objects.filter(version__is_current=True)


REF_MODELS = {
    RefKind.DEATHS: DeathRecord,
    RefKind.DISABILITY: DisabilityRecord,
    RefKind.ILLNESS: IllnessRecord,
    RefKind.POVERTY: PovertyRecord,
    RefKind.PAYROLL: PayrollRecord,
    RefKind.VEHICLES: VehicleRecord,
    RefKind.BUSINESS: BusinessRecord,
    RefKind.PROPERTY: PropertyRecord,
    RefKind.KINSHIP: KinshipRecord,
}


# ---------------------------------------------------------------------------
# Rescreening batches, findings, verification tasks
# ---------------------------------------------------------------------------


class RescreenBatch(Job):
    """One run of every rule of rules.md over a region as of a date.

    `region_code` empty = no region filter (everything in the database, including
    five-group findings that have no region at all).
    """

    region_code = models.CharField(_("区划代码"), max_length=12, blank=True, db_index=True)
    as_of = models.DateField(_("比对基准日"))
    params = models.JSONField(_("规则参数"), default=dict)
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    counts = models.JSONField(_("各规则疑点数"), default=dict, blank=True)
    staged_rules = models.JSONField(_("已完成的规则"), default=list, blank=True)
    new_count = models.PositiveIntegerField(_("新增"), default=0)
    open_count = models.PositiveIntegerField(_("仍未解决"), default=0)
    resolved_count = models.PositiveIntegerField(_("已消除"), default=0)
    previous = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("上一批次"))
    started_by = models.ForeignKey("dibao.User", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("发起人"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    error = models.TextField(_("错误信息"), blank=True)
    # Beaten at each step (rule staged, chunk done); see dibao/jobs.py for the lifecycle.

    objects = ScopedQuerySet.as_manager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("复核批次")
        verbose_name_plural = _("复核批次")
        ordering = ["-id"]
        indexes = [models.Index(fields=["region_code", "state", "-id"], name="batch_region_state_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.region_code or _('全部')} {self.as_of}"

    @property
    def total(self) -> int:
        return sum(self.counts.values()) if self.counts else 0


class BatchChunk(Job):
    """One county of a batch; its findings are written in one transaction with its state."""

    NO_REGION = "-"  # the chunk of five-group findings without any region code

    batch = models.ForeignKey(RescreenBatch, on_delete=models.CASCADE, related_name="chunks")
    region_code = models.CharField(_("区划代码"), max_length=12)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("批次分块")
        ordering = ["batch_id", "region_code"]
        constraints = [models.UniqueConstraint(fields=["batch", "region_code"], name="chunk_unique_region")]


class StagedFinding(models.Model):
    """A batch's findings before they are split into county chunks.

    Each rule runs once over the batch's whole region (hash joins over the province, not a
    nested loop per county); the chunks then move their county's rows into `Finding`.
    Removed when the batch finishes.
    """

    # Written only by the batch's own rule statements (audits.engine.run_rule), so the reference holds
    # by construction; the database's check of it queued one trigger event per staged row (2.2M for
    # a province) and the batch's own index is the lead column of staged_batch_region_idx. Django
    # still deletes a batch's rows with it.
    batch = models.ForeignKey(RescreenBatch, on_delete=models.CASCADE, related_name="+", db_constraint=False,
                              db_index=False)
    rule = models.CharField(max_length=24)
    household_id = models.BigIntegerField(null=True)
    id_number = models.CharField(max_length=18, blank=True)
    name = models.CharField(max_length=50, blank=True)
    region_code = models.CharField(max_length=12, blank=True)
    subject_key = models.CharField(max_length=40)
    detail = models.TextField()
    evidence_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=16)
    month = models.CharField(max_length=7, blank=True, default="")
    household_no = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["batch", "region_code"], name="staged_batch_region_idx")]


class Novelty(models.TextChoices):
    NEW = "new", _("新增")
    OPEN = "open", _("仍未解决")


class FindingState(models.TextChoices):
    PENDING = "pending", _("待复核")
    CONFIRMED = "confirmed", _("属实")
    DISMISSED = "dismissed", _("排除")
    AUTO_DISMISSED = "auto_dismissed", _("已排除（证据未变）")
    TASKED = "tasked", _("已转乡镇核查")
    REPORTED = "reported", _("数据质量（仅报告）")


class Finding(models.Model):
    # Empty for PAYMENT_VERIFY: a finding a payment verification visit raised, outside any batch.
    # A batch's findings are written only by its own chunks (audits.engine.move_chunk), so batch and
    # chunk hold by construction: no database check (two trigger events per finding, 4.4M for a
    # province) and no single-column indexes beside finding_unique_subject / finding_chunk_idx.
    batch = models.ForeignKey(RescreenBatch, on_delete=models.CASCADE, related_name="findings", null=True, blank=True,
                              db_constraint=False, db_index=False)
    chunk = models.ForeignKey(BatchChunk, on_delete=models.CASCADE, related_name="+", null=True, blank=True,
                              db_constraint=False, db_index=False)
    rule = models.CharField(_("规则代码"), max_length=24)
    household = models.ForeignKey("cases.Household", on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="findings", verbose_name=_("家庭"), db_constraint=False,
                                  db_index=False)  # finding_household_idx
    id_number = models.CharField(_("身份证号"), max_length=18, blank=True)
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    region_code = models.CharField(_("区划代码"), max_length=12, blank=True)
    # Identifies the same problem across batches: rule + this key (household:person; for the funds
    # rules of section D 户编号:pay month, as a payment may name a 户编号 the registry does not know).
    subject_key = models.CharField(max_length=40)
    # Section D: the pay month (YYYY-MM) and the payment's 户编号; empty for the other sections.
    month = models.CharField(_("月份"), max_length=7, blank=True, default="", db_default="")
    household_no = models.CharField(_("户编号"), max_length=32, blank=True, default="", db_default="")
    detail = models.TextField(_("说明"))
    evidence_hash = models.CharField(_("证据指纹"), max_length=64)
    novelty = models.CharField(_("比对上批"), max_length=8, choices=Novelty.choices, default=Novelty.NEW)
    state = models.CharField(_("复核状态"), max_length=16, choices=FindingState.choices,
                             default=FindingState.PENDING)
    first_raised_on = models.DateField(_("首次发现日期"))
    carried_from = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("沿用的复核结论"))
    decided_by = models.ForeignKey("dibao.User", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("复核人"))
    decided_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    decision_reason = models.TextField(_("复核意见"), blank=True)
    actions = models.JSONField(_("处理措施"), default=dict, blank=True)
    funds_recovered = models.DecimalField(_("追回资金"), max_digits=12, decimal_places=2, null=True, blank=True,
                                          validators=[non_negative])
    clue_id = models.BigIntegerField(_("线索编号"), null=True, blank=True)
    version = version_field()

    objects = ScopedQuerySet.as_manager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("疑点")
        verbose_name_plural = _("疑点")
        ordering = ["batch_id", "rule", "region_code", "subject_key"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "rule", "subject_key"], name="finding_unique_subject"),
        ]
        indexes = [
            models.Index(fields=["chunk"], name="finding_chunk_idx"),
            models.Index(fields=["rule", "subject_key"], name="finding_rule_subject_idx"),
            models.Index(fields=["region_code"], name="finding_region_idx"),
            models.Index(fields=["household"], name="finding_household_idx"),
            models.Index(fields=["state", "decided_at"], name="finding_state_decided_idx"),
            models.Index(fields=["first_raised_on"], name="finding_first_raised_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.subject_key}"

    @property
    def section(self) -> str:
        return catalogue.section_of(self.rule)

    @property
    def rule_name(self) -> str:
        return catalogue.rule_name(self.rule)


class TaskOutcome(models.TextChoices):
    OPEN = "", _("待核查")
    ENROLLED = "enrolled", _("已纳入低保")
    NOT_ELIGIBLE = "not_eligible", _("不符合条件")
    UNREACHABLE = "unreachable", _("无法联系")


class VerificationTask(models.Model):
    """A five-group person (漏保) the township must visit: one per person per batch region."""

    scope_region = models.CharField(_("批次区划"), max_length=12, blank=True)
    id_number = models.CharField(_("身份证号"), max_length=18)
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    region_code = models.CharField(_("区划代码"), max_length=12, blank=True)
    township_code = models.CharField(_("乡镇"), max_length=9, blank=True, db_index=True)
    household = models.ForeignKey("cases.Household", on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+", db_constraint=False, verbose_name=_("原家庭"))
    is_disabled = models.BooleanField(_("重度残疾人"), default=False)
    is_ill = models.BooleanField(_("重病患者"), default=False)
    is_poor = models.BooleanField(_("建档立卡贫困人口"), default=False)
    is_exited = models.BooleanField(_("2016年以来退保"), default=False)
    is_rejected = models.BooleanField(_("2017年以来未通过"), default=False)
    first_batch = models.ForeignKey(RescreenBatch, on_delete=models.SET_NULL, null=True, related_name="+")
    # Rewritten on every open task each batch: with no index on it (and room left on each page, the
    # table's fillfactor, migration 0012) PostgreSQL updates the row in place instead of inserting
    # into all the table's indexes again (the task UPDATE of a 100k province: 6.5–7.5 s → 1.7–1.8 s).
    last_batch = models.ForeignKey(RescreenBatch, on_delete=models.SET_NULL, null=True, related_name="+",
                                   db_index=False)
    created_on = models.DateField(_("下发日期"))
    deadline = models.DateField(_("办理期限"))
    visited_on = models.DateField(_("入户核查日期"), null=True, blank=True, validators=[not_in_future])
    investigator_1 = models.CharField(_("调查人一"), max_length=50, blank=True)
    investigator_2 = models.CharField(_("调查人二"), max_length=50, blank=True)
    outcome = models.CharField(_("核查结果"), max_length=16, choices=TaskOutcome.choices, blank=True,
                               default=TaskOutcome.OPEN)
    outcome_reason = models.TextField(_("说明"), blank=True)
    enrolled_household = models.ForeignKey("cases.Household", on_delete=models.SET_NULL, null=True, blank=True,
                                           related_name="+", db_constraint=False, verbose_name=_("纳入家庭"))
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    completed_by = models.ForeignKey("dibao.User", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")

    objects = ScopedQuerySet.as_manager()
    region_field = "township_code"

    class Meta:
        verbose_name = _("五类人员核查任务")
        verbose_name_plural = _("五类人员核查任务")
        ordering = ["deadline", "id"]
        constraints = [
            models.UniqueConstraint(fields=["scope_region", "id_number"], name="task_unique_person"),
        ]
        indexes = [models.Index(fields=["outcome", "completed_at"], name="task_outcome_idx"),
                   # Open tasks of a jurisdiction by deadline: the worklists' due / overdue counts and the
                   # list's order read this instead of every task of a county (336k at 1M households).
                   models.Index(fields=["township_code", "deadline", "id"], condition=models.Q(outcome=""),
                                name="task_open_deadline_idx"),
                   # ... and the list's first page for a city or the province, in the list's order.
                   models.Index(fields=["deadline", "id"], condition=models.Q(outcome=""),
                                name="task_open_order_idx")]

    def __str__(self) -> str:
        return f"{self.name} {self.township_code}"

    @property
    def is_done(self) -> bool:
        return bool(self.outcome)

    def reasons(self) -> list[str]:
        flags = [("MISSED_DISABLED", self.is_disabled), ("MISSED_ILLNESS", self.is_ill),
                 ("MISSED_POOR", self.is_poor), ("MISSED_EXITED", self.is_exited),
                 ("MISSED_REJECTED", self.is_rejected)]
        return [catalogue.rule_name(code) for code, on in flags if on]

"""The dibao registry: households, members, the staff roster and close-relative filings.

Field names are the English keys of spec/formats.md, so imports, exports and the API
speak the same words.
"""
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from dibao import idnumber
from dibao.downloads import RandomName
from dibao.concurrency import version_field
from dibao.models import Region
from dibao.scoping import ScopedQuerySet
from dibao.validators import non_negative, not_in_future


class Category(models.TextChoices):
    RURAL = "rural", _("农村低保")
    URBAN = "urban", _("城市低保")


class Status(models.TextChoices):
    ACTIVE = "active", _("在保")
    EXITED = "exited", _("已退出")
    REJECTED = "rejected", _("未通过")
    PENDING = "pending", _("审核中")


class PovertyCause(models.TextChoices):
    ILLNESS = "因病", _("因病")
    DISABILITY = "因残", _("因残")
    SCHOOLING = "因学", _("因学")
    DISASTER = "因灾", _("因灾")
    NO_LABOUR = "缺劳力", _("缺劳力")
    NO_SKILLS = "缺技术", _("缺技术")
    OTHER = "其他", _("其他")


class ManagementClass(models.TextChoices):
    A = "A", _("A类（每年复核）")
    B = "B", _("B类（每半年复核）")
    C = "C", _("C类（每季度复核）")


class Relation(models.TextChoices):
    SELF = "本人", _("本人")
    SPOUSE = "配偶", _("配偶")
    CHILD = "子女", _("子女")
    PARENT = "父母", _("父母")
    SIBLING = "兄弟姐妹", _("兄弟姐妹")
    GRANDPARENT = "祖父母", _("祖父母")
    GRANDCHILD = "孙子女", _("孙子女")
    OTHER = "其他", _("其他")


class DisabilityCategory(models.TextChoices):
    SIGHT = "视力", _("视力")
    HEARING = "听力", _("听力")
    SPEECH = "言语", _("言语")
    PHYSICAL = "肢体", _("肢体")
    INTELLECTUAL = "智力", _("智力")
    MENTAL = "精神", _("精神")
    MULTIPLE = "多重", _("多重")


class LabourCapacity(models.TextChoices):
    FULL = "有", _("有")
    PARTIAL = "部分丧失", _("部分丧失")
    NONE = "完全丧失", _("完全丧失")


class StaffType(models.TextChoices):
    VILLAGE_CADRE = "village_cadre", _("村(居)委会干部")
    CASEWORKER = "caseworker", _("低保经办人员")
    CIVIL_AFFAIRS = "civil_affairs", _("民政部门干部职工")
    PUBLIC_PAYROLL = "public_payroll", _("其他财政供养人员")


class KinRelation(models.TextChoices):
    """Close relatives in the sense of Civil Code art. 1045."""

    SPOUSE = "配偶", _("配偶")
    PARENT = "父母", _("父母")
    CHILD = "子女", _("子女")
    SIBLING = "兄弟姐妹", _("兄弟姐妹")
    GRANDPARENT = "祖父母", _("祖父母")
    MATERNAL_GRANDPARENT = "外祖父母", _("外祖父母")
    GRANDCHILD = "孙子女", _("孙子女")
    MATERNAL_GRANDCHILD = "外孙子女", _("外孙子女")


# The registry's decisive facts (workflow.md "Separation of duties"): they change only through
# the application / change steps (township proposes, county confirms) or an admin's legacy import.
DECISIVE_FIELDS = ("status", "decided_on", "exited_on", "exit_reason", "rejection_reason", "monthly_amount",
                   "single_coverage_id_number", "payment_stopped", "planned_exit_on")


class Household(models.Model):
    household_no = models.CharField(_("户编号"), max_length=32, unique=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name=_("区划"),
                               db_column="region_code", related_name="households")
    head_name = models.CharField(_("户主姓名"), max_length=50)
    head_id_number = models.CharField(_("户主身份证号"), max_length=18, db_index=True)
    category = models.CharField(_("保障类别"), max_length=8, choices=Category.choices, default=Category.RURAL)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, db_index=True)
    applied_on = models.DateField(_("申请日期"), validators=[not_in_future])
    decided_on = models.DateField(_("审批日期"), null=True, blank=True, validators=[not_in_future])
    exited_on = models.DateField(_("退出日期"), null=True, blank=True)
    exit_reason = models.CharField(_("退出原因"), max_length=200, blank=True)
    rejection_reason = models.CharField(_("未通过原因"), max_length=200, blank=True)
    monthly_amount = models.DecimalField(_("月保障金额"), max_digits=10, decimal_places=2, null=True, blank=True,
                                         validators=[non_negative])
    poverty_cause = models.CharField(_("致贫原因"), max_length=8, choices=PovertyCause.choices, blank=True)
    management_class = models.CharField(_("分类管理"), max_length=1, choices=ManagementClass.choices,
                                        default=ManagementClass.B)
    last_reviewed_on = models.DateField(_("最近复核日期"), null=True, blank=True, validators=[not_in_future])
    registered_poor = models.BooleanField(_("建档立卡户"), default=False)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    payment_stopped = models.BooleanField(_("已停发"), default=False)
    # 渐退: the last day of the grace months after an exit for income above the standard; the
    # household stays 在保 until then and cases.tasks.grace_exits makes the exit take effect.
    planned_exit_on = models.DateField(_("渐退期截止日期"), null=True, blank=True)
    # 单人保: the one member covered alone; empty = every member is covered (workflow.md).
    single_coverage_id_number = models.CharField(_("单人保对象身份证号"), max_length=18, blank=True, default="",
                                                 db_default="", validators=[idnumber.validate_id])
    # A member, a guardian or an agent (代领人): any valid ID number (formats.md).
    payee_id_number = models.CharField(_("收款人身份证号"), max_length=18, blank=True, default="", db_default="",
                                       help_text=_("为空时由户主收款"), validators=[idnumber.validate_id])
    account_no = models.CharField(_("收款账号"), max_length=30, blank=True, default="", db_default="",
                                  validators=[RegexValidator(r"^\d{10,30}$", _("收款账号应为 10–30 位数字"))])
    bank_name = models.CharField(_("开户银行"), max_length=100, blank=True, default="", db_default="")
    # Decisive facts that came from a registry file an admin imported, not from the steps.
    legacy_migration = models.BooleanField(_("历史数据迁移"), default=False, db_default=False)
    created_at = models.DateTimeField(_("建档时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    version = version_field()

    objects = ScopedQuerySet.as_manager()
    region_field = "region__code"

    class Meta:
        verbose_name = _("低保家庭")
        verbose_name_plural = _("低保家庭")
        ordering = ["household_no"]
        indexes = [
            # Pattern opclasses: the database collation is not C, so only these serve LIKE 'prefix%'.
            models.Index(fields=["region", "household_no"], name="household_region_no_idx",
                         opclasses=["varchar_pattern_ops", "varchar_pattern_ops"]),
            models.Index(fields=["head_name"], name="household_head_name_idx", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.household_no} {self.head_name}"

    @property
    def head_id_masked(self) -> str:
        return idnumber.mask_id(self.head_id_number)

    @property
    def township_code(self) -> str:
        return self.region_id[:9]

    @property
    def payee_id_masked(self) -> str:
        return idnumber.mask_id(self.payee_id_number)

    @property
    def account_masked(self) -> str:
        """Only the last 4 digits: enough for a family to recognise its card."""
        return f"****{self.account_no[-4:]}" if self.account_no else ""


class Member(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members",
                                  verbose_name=_("家庭"))
    name = models.CharField(_("姓名"), max_length=50, db_index=True)  # household search by a member's name
    id_number = models.CharField(_("身份证号"), max_length=18, db_index=True)
    relation = models.CharField(_("与户主关系"), max_length=8, choices=Relation.choices)
    disability_category = models.CharField(_("残疾类别"), max_length=4, choices=DisabilityCategory.choices,
                                           blank=True)
    disability_level = models.PositiveSmallIntegerField(_("残疾等级"), null=True, blank=True,
                                                        choices=[(i, f"{i}级") for i in range(1, 5)])
    serious_illness = models.BooleanField(_("重病"), default=False)
    labour_capacity = models.CharField(_("劳动能力"), max_length=8, choices=LabourCapacity.choices, blank=True)
    monthly_income = models.DecimalField(_("月收入"), max_digits=10, decimal_places=2, null=True, blank=True,
                                         validators=[non_negative])
    version = version_field()

    objects = ScopedQuerySet.as_manager()
    region_field = "household__region__code"

    class Meta:
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")
        ordering = ["household_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["household", "id_number"], name="member_unique_id_per_household"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.relation}）"

    @property
    def id_masked(self) -> str:
        return idnumber.mask_id(self.id_number)

    @property
    def sex(self) -> str:
        return idnumber.sex(self.id_number)

    @property
    def birth_date(self):
        return idnumber.birth_date(self.id_number)

    @property
    def age(self) -> int:
        """Age today in Asia/Shanghai (the day the page is read)."""
        from django.utils import timezone
        return idnumber.age_on(self.id_number, timezone.localdate())


class Staff(models.Model):
    """People whose close relatives must be filed (近亲属备案)."""

    name = models.CharField(_("姓名"), max_length=50)
    id_number = models.CharField(_("身份证号"), max_length=18, unique=True)
    staff_type = models.CharField(_("人员类别"), max_length=16, choices=StaffType.choices)
    employer = models.CharField(_("工作单位"), max_length=100, blank=True)
    position = models.CharField(_("职务"), max_length=50, blank=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name=_("区划"),
                               db_column="region_code", related_name="staff")
    user = models.OneToOneField("dibao.User", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="staff_record", verbose_name=_("系统账号"))

    objects = ScopedQuerySet.as_manager()
    region_field = "region__code"

    class Meta:
        verbose_name = _("工作人员")
        verbose_name_plural = _("工作人员")
        ordering = ["region_id", "name"]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_staff_type_display()}）"

    @property
    def id_masked(self) -> str:
        return idnumber.mask_id(self.id_number)


class RelativeFiling(models.Model):
    """A declared close relative of a staff person who applies for or receives dibao."""

    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="filings", verbose_name=_("备案人"))
    relative_name = models.CharField(_("亲属姓名"), max_length=50)
    relative_id_number = models.CharField(_("亲属身份证号"), max_length=18, db_index=True)
    relation = models.CharField(_("关系"), max_length=8, choices=KinRelation.choices)
    household = models.ForeignKey(Household, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="relative_filings", verbose_name=_("户编号"))
    filed_on = models.DateField(_("备案日期"), validators=[not_in_future])
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "staff__region__code"

    class Meta:
        verbose_name = _("近亲属备案")
        verbose_name_plural = _("近亲属备案")
        ordering = ["-filed_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["staff", "relative_id_number"], name="filing_unique_staff_relative"),
        ]

    def __str__(self) -> str:
        return f"{self.staff.name} — {self.relative_name}（{self.relation}）"

    @property
    def relative_id_masked(self) -> str:
        return idnumber.mask_id(self.relative_id_number)


class BenefitStandard(models.Model):
    """A monthly standard per person (保障标准) for a province, city or county and a category,
    from its effective date; each row adds to the history (cases.benefits reads it)."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name=_("区划"), db_column="region_code",
                               related_name="benefit_standards")
    category = models.CharField(_("保障类别"), max_length=8, choices=Category.choices)
    monthly_standard = models.DecimalField(_("月保障标准（元/人）"), max_digits=10, decimal_places=2)
    effective_from = models.DateField(_("生效日期"))
    created_by = models.ForeignKey("dibao.User", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("录入人"))
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "region__code"

    class Meta:
        verbose_name = _("保障标准")
        verbose_name_plural = _("保障标准")
        ordering = ["region_id", "category", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["region", "category", "effective_from"], name="standard_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.get_category_display()} {self.monthly_standard} 元（{self.effective_from} 起）"


class AmountSource(models.TextChoices):
    APPLICATION = "application", _("申请审批")
    CHANGE = "change", _("变更")
    RERATE = "rerate", _("调标")
    IMPORT = "import", _("导入")


class AmountHistory(models.Model):
    """Every approved amount with the month it takes effect; the one in force for month M is
    the latest effective on or before M (cases.benefits.amount_in_force)."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="amount_history",
                                  verbose_name=_("低保家庭"))
    effective_month = models.DateField(_("生效月份"), help_text=_("该月 1 日"))
    amount = models.DecimalField(_("月保障金额"), max_digits=10, decimal_places=2)
    # Null for imported amounts: covered persons are then all members, resolved when computed.
    covered_persons = models.PositiveSmallIntegerField(_("保障人数"), null=True, blank=True)
    single_coverage_id_number = models.CharField(_("单人保对象身份证号"), max_length=18, blank=True)
    source = models.CharField(_("来源"), max_length=12, choices=AmountSource.choices)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    decided_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("决定人"))
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "household__region__code"

    class Meta:
        verbose_name = _("金额历史")
        verbose_name_plural = _("金额历史")
        ordering = ["household_id", "-effective_month", "-id"]
        indexes = [models.Index(fields=["household", "effective_month"], name="amount_history_month_idx")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.effective_month:%Y-%m} {self.amount}"


class Rerate(models.Model):
    """调标: one county's recomputation after a new standard, prepared by one county user and
    confirmed in bulk by another."""

    class State(models.TextChoices):
        PREPARED = "prepared", _("待确认")
        CONFIRMED = "confirmed", _("已确认")

    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name=_("区划"), db_column="region_code",
                               related_name="+")
    standard = models.ForeignKey(BenefitStandard, on_delete=models.PROTECT, related_name="rerates",
                                 verbose_name=_("保障标准"))
    effective_month = models.DateField(_("生效月份"))
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PREPARED)
    prepared_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("编制人"))
    prepared_at = models.DateTimeField(_("编制时间"), auto_now_add=True)
    confirmed_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("确认人"))
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "region__code"

    class Meta:
        verbose_name = _("调标")
        verbose_name_plural = _("调标")
        ordering = ["-prepared_at", "-id"]

    def __str__(self) -> str:
        return f"调标 {self.region_id} {self.effective_month:%Y-%m}"


class RerateLine(models.Model):
    """One household of a 调标: the amount in force before and the recomputed one."""

    rerate = models.ForeignKey(Rerate, on_delete=models.CASCADE, related_name="lines")
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="+")
    old_amount = models.DecimalField(_("原金额"), max_digits=10, decimal_places=2, null=True)
    new_amount = models.DecimalField(_("新金额"), max_digits=10, decimal_places=2)
    covered_persons = models.PositiveSmallIntegerField(_("保障人数"))
    single_coverage_id_number = models.CharField(_("单人保对象身份证号"), max_length=18, blank=True)
    # Set at confirmation when the household's amount in force changed after the list was
    # prepared (a change or review decided meanwhile): the line is skipped, not overwritten.
    stale = models.BooleanField(_("编制后金额已变化，未调整"), default=False, db_default=False)

    class Meta:
        ordering = ["rerate_id", "household_id"]
        constraints = [models.UniqueConstraint(fields=["rerate", "household"], name="rerate_line_unique")]


# --- applications (低保申请) -------------------------------------------------------------------
# One application per household and round, worked through the steps of workflow.md. The state
# field is protected: it changes only through the transitions below, which cases/applications.py
# calls after checking the step's rules (who, recusal, deadlines) and before writing the audit record.


class ApplicationState(models.TextChoices):
    ACCEPTED = "accepted", _("已受理（待入户调查）")
    NOT_ACCEPTED = "not_accepted", _("不予受理")
    VISITED = "visited", _("已入户调查")
    PROPOSED = "proposed", _("已提出审核意见")
    NOTICE = "notice", _("公示中")
    APPROVED = "approved", _("已批准")
    REFUSED = "refused", _("不予批准")


OPEN_APPLICATION_STATES = (ApplicationState.ACCEPTED, ApplicationState.VISITED,
                           ApplicationState.PROPOSED, ApplicationState.NOTICE)
DECIDED_APPLICATION_STATES = (ApplicationState.APPROVED, ApplicationState.REFUSED)


class ProposalDecision(models.TextChoices):
    APPROVE = "approve", _("拟批准")
    REFUSE = "refuse", _("拟不予批准")


class ApplicationDecision(models.TextChoices):
    CONFIRMED = "confirmed", _("批准")
    REFUSED = "refused", _("不予批准")


class ApplicationStep(models.TextChoices):
    ACCEPT = "accept", _("受理")
    CHECK = "check", _("信息核对")
    VISIT = "visit", _("入户调查")
    APPRAISE = "appraise", _("民主评议")
    PROPOSE = "propose", _("审核意见")
    NOTICE = "notice", _("公示")
    COUNTY_VISIT = "county_visit", _("县级入户核查")
    DECIDE = "decide", _("县级确认")
    NOTIFY = "notify", _("通知")


class Application(FSMModelMixin, models.Model):
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="applications",
                                  verbose_name=_("低保家庭"))
    round_no = models.PositiveSmallIntegerField(_("申请轮次"))
    tracking_no = models.CharField(_("申请编号"), max_length=32, unique=True)
    state = FSMField(_("办理环节"), max_length=16, choices=ApplicationState.choices,
                     default=ApplicationState.ACCEPTED, protected=True, db_index=True)
    declared_assets = models.TextField(_("申报财产情况"), blank=True)

    # 受理 / 不予受理
    accepted_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("受理人"))
    accepted_on = models.DateField(_("受理日期"))
    not_accepted_reason = models.TextField(_("不予受理理由"), blank=True)

    # 入户调查
    investigator_1 = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+", verbose_name=_("调查人员一"))
    investigator_2 = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+", verbose_name=_("调查人员二"))
    visited_on = models.DateField(_("入户调查日期"), null=True, blank=True)
    visit_housing = models.TextField(_("住房情况"), blank=True)
    visit_income = models.TextField(_("收入情况"), blank=True)
    visit_assets = models.TextField(_("财产情况"), blank=True)
    visit_members_present = models.TextField(_("在场家庭成员"), blank=True)

    # 民主评议
    appraised_on = models.DateField(_("民主评议日期"), null=True, blank=True)
    appraisal_participants = models.TextField(_("参加人员"), blank=True)
    appraisal_result = models.TextField(_("评议结果（表决情况）"), blank=True)

    # 审核意见 (乡镇)
    proposal = models.CharField(_("乡镇审核意见"), max_length=8, choices=ProposalDecision.choices, blank=True)
    computed_amount = models.DecimalField(_("测算金额"), max_digits=10, decimal_places=2, null=True, blank=True)
    amount_working = models.TextField(_("测算过程"), blank=True)
    proposed_amount = models.DecimalField(_("拟保障金额"), max_digits=10, decimal_places=2, null=True, blank=True)
    amount_reason = models.TextField(_("金额与测算不一致的理由"), blank=True)
    covered_persons = models.PositiveSmallIntegerField(_("保障人数"), null=True, blank=True)
    single_coverage_id_number = models.CharField(_("单人保对象身份证号"), max_length=18, blank=True)
    refusal_reasons = models.TextField(_("拟不予批准理由"), blank=True)
    proposed_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("审核意见提出人"))
    proposed_on = models.DateField(_("审核意见日期"), null=True, blank=True)

    # 公示
    notice_started_on = models.DateField(_("公示开始日期"), null=True, blank=True)
    notice_ends_on = models.DateField(_("公示截止日期"), null=True, blank=True)
    notice_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("公示登记人"))
    # The day the county's clock starts: the end of a notice without objection, or a refusal proposal.
    submitted_on = models.DateField(_("报送县级日期"), null=True, blank=True)

    # 县级入户核查 (filed relatives of staff)
    county_visited_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                          related_name="+", verbose_name=_("县级核查人"))
    county_visited_on = models.DateField(_("县级入户核查日期"), null=True, blank=True)
    county_visit_findings = models.TextField(_("县级入户核查情况"), blank=True)

    # 县级确认
    decision = models.CharField(_("县级确认结果"), max_length=10, choices=ApplicationDecision.choices, blank=True)
    decided_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("确认人"))
    decided_on = models.DateField(_("确认日期"), null=True, blank=True)
    decided_amount = models.DecimalField(_("核定月保障金额"), max_digits=10, decimal_places=2, null=True, blank=True)
    first_month = models.DateField(_("起始保障月份"), null=True, blank=True)
    decision_reasons = models.TextField(_("不予批准理由"), blank=True)

    # 通知
    family_notified_on = models.DateField(_("通知家庭日期"), null=True, blank=True)
    notified_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("通知人"))

    # 时限 (working days, dibao/workdays.py)
    extension_reason = models.TextField(_("延期理由"), blank=True)
    extended_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("延期登记人"))
    extended_on = models.DateField(_("延期日期"), null=True, blank=True)
    process_due_on = models.DateField(_("办结时限"))
    confirm_due_on = models.DateField(_("县级确认时限"), null=True, blank=True)
    renotice_due_on = models.DateField(_("重新调查公示时限"), null=True, blank=True)
    refusal_notice_due_on = models.DateField(_("不予批准通知时限"), null=True, blank=True)

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "household__region__code"

    class Meta:
        verbose_name = _("低保申请")
        verbose_name_plural = _("低保申请")
        ordering = ["-accepted_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["household", "round_no"], name="application_unique_round"),
        ]
        indexes = [models.Index(fields=["state", "process_due_on"], name="application_state_due_idx")]

    def __str__(self) -> str:
        return f"{self.tracking_no} {self.household.head_name}"

    # --- transitions: the rules live in cases/applications.py, which calls these ------------

    @transition(field=state, source=ApplicationState.ACCEPTED, target=ApplicationState.NOT_ACCEPTED)
    def mark_not_accepted(self):
        pass

    @transition(field=state, source=[ApplicationState.ACCEPTED, ApplicationState.VISITED],
                target=ApplicationState.VISITED)
    def mark_visited(self):
        pass

    @transition(field=state, source=ApplicationState.VISITED, target=None)
    def mark_appraised(self):
        pass

    @transition(field=state, source=ApplicationState.VISITED, target=ApplicationState.PROPOSED)
    def mark_proposed(self):
        pass

    @transition(field=state, source=ApplicationState.PROPOSED, target=ApplicationState.NOTICE,
                conditions=[lambda a: a.proposal == ProposalDecision.APPROVE])
    def mark_notice(self):
        pass

    @transition(field=state, source=ApplicationState.NOTICE, target=ApplicationState.ACCEPTED)
    def mark_objected(self):
        pass

    @transition(field=state, source=[ApplicationState.PROPOSED, ApplicationState.NOTICE], target=None)
    def mark_county_visited(self):
        pass

    @transition(field=state, source=ApplicationState.NOTICE, target=ApplicationState.APPROVED)
    def mark_approved(self):
        pass

    @transition(field=state, source=[ApplicationState.PROPOSED, ApplicationState.NOTICE],
                target=ApplicationState.REFUSED)
    def mark_refused(self):
        pass

    @transition(field=state, source=list(DECIDED_APPLICATION_STATES), target=None,
                conditions=[lambda a: a.family_notified_on is None])
    def mark_notified(self):
        pass

    @transition(field=state, source=list(OPEN_APPLICATION_STATES), target=None,
                conditions=[lambda a: a.extended_on is None])
    def mark_extended(self):
        pass

    # --- reading ------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_APPLICATION_STATES

    @property
    def returned_by_objection(self) -> bool:
        return self.objections.exists()

    def attachment(self, kind: str):
        """The latest upload of a kind (authorisation, survey, minutes …), or None."""
        return self.attachments.filter(kind=kind).order_by("-uploaded_at", "-id").first()

    @property
    def authorisation_scan(self):
        return self.attachment(AttachmentKind.AUTHORISATION)

    @property
    def survey_scan(self):
        return self.attachment(AttachmentKind.SURVEY)

    @property
    def minutes_file(self):
        return self.attachment(AttachmentKind.MINUTES)


class ApplicationObjection(models.Model):
    """An objection (异议) received during the notice; it sends the case back to the home visit."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="objections",
                                    verbose_name=_("低保申请"))
    received_on = models.DateField(_("收到日期"))
    content = models.TextField(_("异议内容"))
    received_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("登记人"))
    handled = models.BooleanField(_("已重新调查"), default=False)

    objects = ScopedQuerySet.as_manager()
    region_field = "application__household__region__code"

    class Meta:
        verbose_name = _("公示异议")
        verbose_name_plural = _("公示异议")
        ordering = ["received_on", "id"]

    def __str__(self) -> str:
        return f"{self.application.tracking_no} {self.received_on}"


class CheckStage(models.TextChoices):
    ACCEPT = "accept", _("受理时核对")
    PROPOSAL = "proposal", _("审核意见前核对")


class ApplicationCheck(models.Model):
    """The entry check (逢进必核) as it stood when taken: kept as evidence with the data versions used."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="checks",
                                    verbose_name=_("低保申请"))
    stage = models.CharField(_("核对环节"), max_length=10, choices=CheckStage.choices)
    taken_at = models.DateTimeField(_("核对时间"))
    taken_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("发起人"))
    # [{"rule", "name", "id_number_masked", "message", "level"}]
    result = models.JSONField(_("核对结果"), default=list)
    # {"deaths": 3, ...}: the cross-check version number of each data set at the time
    versions = models.JSONField(_("比对数据版本"), default=dict)
    warnings = models.PositiveIntegerField(_("疑点数"), default=0)

    objects = ScopedQuerySet.as_manager()
    region_field = "application__household__region__code"

    class Meta:
        verbose_name = _("信息核对记录")
        verbose_name_plural = _("信息核对记录")
        ordering = ["taken_at", "id"]

    def __str__(self) -> str:
        return f"{self.application.tracking_no} {self.get_stage_display()}"


class AttachmentKind(models.TextChoices):
    AUTHORISATION = "authorisation", _("家庭经济状况核对授权书（签字扫描件）")
    SURVEY = "survey", _("入户调查表（签字扫描件）")
    PHOTO = "photo", _("入户照片")
    MINUTES = "minutes", _("民主评议记录")
    NOTICE = "notice", _("公示照片")
    COUNTY_SURVEY = "county_survey", _("县级入户核查记录")
    OTHER = "other", _("其他材料")


class ApplicationAttachment(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="attachments",
                                    verbose_name=_("低保申请"))
    step = models.CharField(_("环节"), max_length=16, choices=ApplicationStep.choices)
    kind = models.CharField(_("材料类型"), max_length=16, choices=AttachmentKind.choices)
    file = models.FileField(_("文件"), upload_to=RandomName("applications"), max_length=255)
    original_name = models.CharField(_("原文件名"), max_length=255, blank=True)
    size = models.PositiveIntegerField(_("大小（字节）"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("上传人"))
    uploaded_at = models.DateTimeField(_("上传时间"))

    objects = ScopedQuerySet.as_manager()
    region_field = "application__household__region__code"

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.application.tracking_no} {self.get_kind_display()}"


# --- dynamic management (动态管理): periodic reviews, changes, suspensions -------------------------
# Written by cases/reviews.py and cases/changes.py; a change's state moves only through its
# transitions, taken by those services after the checks (who, recusal, maker ≠ checker).


class ReviewState(models.TextChoices):
    REQUESTED = "requested", _("待核查")
    DONE = "done", _("已核查")


class ReviewOutcome(models.TextChoices):
    MAINTAIN = "maintain", _("维持")
    CHANGE = "change", _("提出变更")


class HouseholdReview(models.Model):
    """A periodic review (定期核查), or one a confirmed finding asked for: two investigators, the
    members' incomes as found, and the outcome. Recording it sets the household's last_reviewed_on."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="reviews",
                                  verbose_name=_("低保家庭"))
    state = models.CharField(_("状态"), max_length=10, choices=ReviewState.choices, default=ReviewState.DONE)
    requested_reason = models.TextField(_("核查事由"), blank=True)
    finding_id = models.BigIntegerField(_("来源疑点"), null=True, blank=True)
    requested_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("交办人"))
    reviewed_on = models.DateField(_("核查日期"), null=True, blank=True)
    investigator_1 = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+", verbose_name=_("调查人员一"))
    investigator_2 = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+", verbose_name=_("调查人员二"))
    situation = models.TextField(_("核查情况"), blank=True)
    # [{"member_id", "name", "before", "after"}]: the incomes the visit found
    incomes = models.JSONField(_("收入核查结果"), default=list, blank=True)
    outcome = models.CharField(_("核查结论"), max_length=10, choices=ReviewOutcome.choices, blank=True)
    change = models.OneToOneField("HouseholdChange", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="review", verbose_name=_("提出的变更"))
    recorded_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("登记人"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "household__region__code"

    class Meta:
        verbose_name = _("定期核查")
        verbose_name_plural = _("定期核查")
        ordering = ["-reviewed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.household.household_no} {self.reviewed_on or self.get_state_display()}"


class ChangeKind(models.TextChoices):
    ADD_MEMBER = "add_member", _("增员")
    REMOVE_MEMBER = "remove_member", _("减员")
    ADJUST_AMOUNT = "adjust_amount", _("调整金额")
    SINGLE_ON = "single_on", _("单人保（纳入）")
    SINGLE_OFF = "single_off", _("单人保（取消）")
    SUSPEND = "suspend", _("停发")
    RESUME = "resume", _("恢复发放")
    EXIT = "exit", _("退出")


# The kinds after which the amount is recomputed and written to the amount history.
AMOUNT_CHANGE_KINDS = (ChangeKind.ADD_MEMBER, ChangeKind.REMOVE_MEMBER, ChangeKind.ADJUST_AMOUNT,
                       ChangeKind.SINGLE_ON, ChangeKind.SINGLE_OFF)


class ChangeState(models.TextChoices):
    PROPOSED = "proposed", _("待县级确认")
    CONFIRMED = "confirmed", _("已确认")
    REFUSED = "refused", _("不予确认")


class HouseholdChange(FSMModelMixin, models.Model):
    """A change (变更) of an 在保 household: proposed by the township, confirmed by the county."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="changes",
                                  verbose_name=_("低保家庭"))
    tracking_no = models.CharField(_("变更编号"), max_length=32, unique=True)
    kind = models.CharField(_("变更类型"), max_length=16, choices=ChangeKind.choices)
    # add_member: the member's fields; remove_member: member_id, name, id_number, left_on, new_head_id;
    # single_on: id_number; exit: exit_on, income_above (渐退); every kind: reason
    payload = models.JSONField(_("变更内容"), default=dict, blank=True)
    reason = models.TextField(_("变更理由"))
    effective_month = models.DateField(_("生效月份"), help_text=_("该月 1 日"))
    state = FSMField(_("状态"), max_length=10, choices=ChangeState.choices, default=ChangeState.PROPOSED,
                     protected=True, db_index=True)
    proposed_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("提出人"))
    proposed_on = models.DateField(_("提出日期"))
    amount_before = models.DecimalField(_("变更前金额"), max_digits=10, decimal_places=2, null=True, blank=True)
    computed_amount = models.DecimalField(_("测算金额"), max_digits=10, decimal_places=2, null=True, blank=True)
    amount_working = models.TextField(_("测算过程"), blank=True)
    proposed_amount = models.DecimalField(_("拟保障金额"), max_digits=10, decimal_places=2, null=True, blank=True)
    amount_reason = models.TextField(_("金额与测算不一致的理由"), blank=True)
    covered_persons = models.PositiveSmallIntegerField(_("保障人数"), null=True, blank=True)
    decided_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("确认人"))
    decided_on = models.DateField(_("确认日期"), null=True, blank=True)
    decision_reason = models.TextField(_("不予确认理由"), blank=True)
    finding_id = models.BigIntegerField(_("来源疑点"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "household__region__code"

    class Meta:
        verbose_name = _("低保变更")
        verbose_name_plural = _("低保变更")
        ordering = ["-proposed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.tracking_no} {self.get_kind_display()}"

    @transition(field=state, source=ChangeState.PROPOSED, target=ChangeState.CONFIRMED)
    def mark_confirmed(self):
        pass

    @transition(field=state, source=ChangeState.PROPOSED, target=ChangeState.REFUSED)
    def mark_refused(self):
        pass

    @property
    def grace(self) -> bool:
        return self.kind == ChangeKind.EXIT and bool(self.payload.get("income_above"))


class PaymentSuspension(models.Model):
    """停发 from a month until the month before 恢复 (open while to_month is empty): whether a
    household was suspended for a given month stays answerable after it resumed."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="suspensions",
                                  verbose_name=_("低保家庭"))
    from_month = models.DateField(_("停发起始月份"))
    to_month = models.DateField(_("停发截止月份"), null=True, blank=True, help_text=_("为空表示仍在停发"))
    reason = models.TextField(_("停发原因"))
    change = models.ForeignKey(HouseholdChange, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+", verbose_name=_("停发变更"))

    objects = ScopedQuerySet.as_manager()
    region_field = "household__region__code"

    class Meta:
        verbose_name = _("停发记录")
        verbose_name_plural = _("停发记录")
        ordering = ["household_id", "from_month"]
        indexes = [models.Index(fields=["household", "from_month"], name="suspension_household_idx")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.from_month:%Y-%m}–{self.to_month or ''}"

"""The money (spec/payments.md): monthly payment rolls, the bank's return (the payments ledger).

Months are stored as the date of their first day. A roll line and a payment carry the region
code of their household as plain text, so scoping, reconciliation and the funds rules group them
without joining the registry again.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _

from dibao.scoping import ScopedQuerySet
from dibao.validators import non_negative


class RollState(models.TextChoices):
    DRAFT = "draft", _("待审批")
    APPROVED = "approved", _("已审批")


class PaymentRoll(models.Model):
    """发放名册: one month of one region ('' = the whole registry, made by the system user)."""

    month = models.DateField(_("发放月份"), help_text=_("该月 1 日"))
    region_code = models.CharField(_("区划代码"), max_length=12, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=RollState.choices, default=RollState.DRAFT)
    created_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("编制人"))
    created_at = models.DateTimeField(_("编制时间"))
    approved_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("审批人"))
    approved_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    households = models.PositiveIntegerField(_("户数"), default=0)
    total = models.DecimalField(_("发放金额合计（元）"), max_digits=16, decimal_places=2, default=0)
    no_account = models.PositiveIntegerField(_("无账户户数"), default=0)

    objects = ScopedQuerySet.as_manager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("发放名册")
        verbose_name_plural = _("发放名册")
        ordering = ["-month", "region_code"]
        constraints = [models.UniqueConstraint(fields=["month", "region_code"], name="roll_unique_month_region")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.region_code or _('全部')}"

    @property
    def month_text(self) -> str:
        return f"{self.month:%Y-%m}"

    @property
    def is_approved(self) -> bool:
        return self.state == RollState.APPROVED


class PaymentLine(models.Model):
    # Lines are written only by the roll's one INSERT … SELECT from the households, for the roll
    # made in the same transaction, so the references hold by construction; the database's own
    # check of them cost 21 of a province roll's 52 s (1M trigger calls each). Django still
    # cascades a roll's deletion and protects a paid household. The roll is the lead column of
    # `rollline_order_idx`, which serves its lookups.
    roll = models.ForeignKey(PaymentRoll, on_delete=models.CASCADE, related_name="lines", db_constraint=False,
                             db_index=False)
    # Repeats the roll's month so the database itself keeps a household on one roll per month.
    month = models.DateField(_("发放月份"))
    household = models.ForeignKey("cases.Household", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("低保家庭"), db_constraint=False)
    household_no = models.CharField(_("户编号"), max_length=32)
    payee_name = models.CharField(_("收款人姓名"), max_length=50, blank=True)
    payee_id_number = models.CharField(_("收款人身份证号"), max_length=18, blank=True)
    account_no = models.CharField(_("银行账号"), max_length=30, blank=True)
    bank_name = models.CharField(_("开户银行"), max_length=100, blank=True)
    amount = models.DecimalField(_("发放金额"), max_digits=10, decimal_places=2)
    region_code = models.CharField(_("区划代码"), max_length=12)

    objects = ScopedQuerySet.as_manager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("名册明细")
        verbose_name_plural = _("名册明细")
        ordering = ["region_code", "household_no"]
        constraints = [models.UniqueConstraint(fields=["month", "household"], name="rollline_one_roll_per_month")]
        indexes = [models.Index(fields=["roll", "region_code", "household_no"], name="rollline_order_idx"),
                   models.Index(fields=["month", "household_no"], name="rollline_month_no_idx")]


class PaymentStatus(models.TextChoices):
    SUCCESS = "success", _("成功")
    FAILED = "failed", _("失败")


class Payment(models.Model):
    """One transfer the bank returned (发放记录), keyed by its 交易流水号. A 户编号 the registry
    does not know is kept (household and region empty): that is itself a finding.

    On PostgreSQL the table is partitioned by pay month (dibao/partitions.py, migration 0004), so
    its unique keys include the month: the 交易流水号 is unique in the ledger because the import
    matches it across all months before writing (an existing one is corrected in place)."""

    txn_no = models.CharField(_("交易流水号"), max_length=40)
    pay_month = models.DateField(_("发放月份"), help_text=_("该月 1 日"))
    household_no = models.CharField(_("户编号"), max_length=32)
    household = models.ForeignKey("cases.Household", on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+", db_constraint=False, verbose_name=_("低保家庭"))
    payee_name = models.CharField(_("收款人姓名"), max_length=50)
    payee_id_number = models.CharField(_("收款人身份证号"), max_length=18)
    account_no = models.CharField(_("银行账号"), max_length=30)
    amount = models.DecimalField(_("发放金额"), max_digits=12, decimal_places=2, validators=[non_negative])
    paid_on = models.DateField(_("发放日期"))
    status = models.CharField(_("发放状态"), max_length=8, choices=PaymentStatus.choices,
                              default=PaymentStatus.SUCCESS)
    region_code = models.CharField(_("区划代码"), max_length=12, null=True, blank=True)
    imported_at = models.DateTimeField(_("导入时间"))

    objects = ScopedQuerySet.as_manager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("发放记录")
        verbose_name_plural = _("发放记录")
        ordering = ["pay_month", "household_no", "txn_no"]
        constraints = [models.UniqueConstraint(fields=["txn_no", "pay_month"], name="payment_txn_month_key")]
        indexes = [
            # The funds rules group a month's payments by household and by account; reconciliation
            # and the rollup read a month of a region.
            models.Index(fields=["pay_month", "household_no"], name="payment_month_no_idx"),
            models.Index(fields=["account_no", "pay_month"], name="payment_account_month_idx"),
            models.Index(fields=["pay_month", "region_code"], name="payment_month_region_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.txn_no} {self.household_no} {self.pay_month:%Y-%m}"


class PaymentVerification(models.Model):
    """回访核实样本: a reproducible random sample of one township's households paid in a month
    (dibao/sampling.py: the same seed over the same payments draws the same households)."""

    month = models.DateField(_("发放月份"), help_text=_("该月 1 日"))
    region_code = models.CharField(_("乡镇"), max_length=9)
    seed = models.CharField(_("随机种子"), max_length=32)
    requested_count = models.PositiveIntegerField(_("抽取户数"), null=True, blank=True)
    requested_percent = models.DecimalField(_("抽取比例（%）"), max_digits=5, decimal_places=2, null=True, blank=True)
    population = models.PositiveIntegerField(_("当月已发放户数"))
    drawn_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("抽取人"))
    drawn_at = models.DateTimeField(_("抽取时间"))

    objects = ScopedQuerySet.as_manager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("回访核实样本")
        verbose_name_plural = _("回访核实样本")
        ordering = ["-month", "region_code"]
        constraints = [models.UniqueConstraint(fields=["month", "region_code"], name="verification_unique_month_town")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.region_code}"

    @property
    def month_text(self) -> str:
        return f"{self.month:%Y-%m}"


class VisitMethod(models.TextChoices):
    CALL = "call", _("电话回访")
    VISIT = "visit", _("入户回访")


class VisitOutcome(models.TextChoices):
    PENDING = "pending", _("待回访")
    UNREACHED = "unreached", _("未联系上")
    FULL = "full", _("足额收到")
    SHORT = "short", _("收到金额不足")
    NONE = "none", _("未收到")
    NOT_OWN = "not_own", _("账户非本户所有")

    @classmethod
    def answered(cls) -> list[str]:
        return [cls.FULL, cls.SHORT, cls.NONE, cls.NOT_OWN]

    @classmethod
    def problems(cls) -> list[str]:
        return [cls.SHORT, cls.NONE, cls.NOT_OWN]


class PaymentVisit(models.Model):
    """One sampled household: the month's payment to it and what the family said."""

    verification = models.ForeignKey(PaymentVerification, on_delete=models.CASCADE, related_name="visits")
    household = models.ForeignKey("cases.Household", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("低保家庭"))
    # no database constraint: a partitioned ledger's keys include the pay month
    payment = models.ForeignKey(Payment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                db_constraint=False, verbose_name=_("发放记录"))
    amount_paid = models.DecimalField(_("当月实发金额"), max_digits=12, decimal_places=2)
    method = models.CharField(_("回访方式"), max_length=8, choices=VisitMethod.choices, blank=True)
    result = models.CharField(_("回访结果"), max_length=10, choices=VisitOutcome.choices,
                              default=VisitOutcome.PENDING)
    amount_received = models.DecimalField(_("实际收到金额"), max_digits=12, decimal_places=2, null=True, blank=True,
                                          validators=[non_negative])
    visited_on = models.DateField(_("回访日期"), null=True, blank=True)
    note = models.CharField(_("情况说明"), max_length=300, blank=True)
    recorded_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("登记人"))
    recorded_at = models.DateTimeField(_("登记时间"), null=True, blank=True)
    finding = models.ForeignKey("audits.Finding", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("回访发现问题"))

    objects = ScopedQuerySet.as_manager()
    region_field = "verification__region_code"

    class Meta:
        verbose_name = _("回访核实")
        verbose_name_plural = _("回访核实")
        ordering = ["verification_id", "id"]
        constraints = [models.UniqueConstraint(fields=["verification", "household"], name="payment_visit_unique")]

    @property
    def is_final(self) -> bool:
        return self.result in VisitOutcome.answered()

"""The dibao registry: households, members, the staff roster and close-relative filings.

Field names are the English keys of spec/formats.md, so imports, exports and the API
speak the same words.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _

from dibao import idnumber
from dibao.models import Region
from dibao.scoping import ScopedQuerySet


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


class Household(models.Model):
    household_no = models.CharField(_("户编号"), max_length=32, unique=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name=_("区划"),
                               db_column="region_code", related_name="households")
    head_name = models.CharField(_("户主姓名"), max_length=50)
    head_id_number = models.CharField(_("户主身份证号"), max_length=18, db_index=True)
    category = models.CharField(_("保障类别"), max_length=8, choices=Category.choices, default=Category.RURAL)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, db_index=True)
    applied_on = models.DateField(_("申请日期"))
    decided_on = models.DateField(_("审批日期"), null=True, blank=True)
    exited_on = models.DateField(_("退出日期"), null=True, blank=True)
    exit_reason = models.CharField(_("退出原因"), max_length=200, blank=True)
    rejection_reason = models.CharField(_("未通过原因"), max_length=200, blank=True)
    monthly_amount = models.DecimalField(_("月保障金额"), max_digits=10, decimal_places=2, null=True, blank=True)
    poverty_cause = models.CharField(_("致贫原因"), max_length=8, choices=PovertyCause.choices, blank=True)
    management_class = models.CharField(_("分类管理"), max_length=1, choices=ManagementClass.choices,
                                        default=ManagementClass.B)
    last_reviewed_on = models.DateField(_("最近复核日期"), null=True, blank=True)
    registered_poor = models.BooleanField(_("建档立卡户"), default=False)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    payment_stopped = models.BooleanField(_("已停发"), default=False)
    created_at = models.DateTimeField(_("建档时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

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


class Member(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members",
                                  verbose_name=_("家庭"))
    name = models.CharField(_("姓名"), max_length=50)
    id_number = models.CharField(_("身份证号"), max_length=18, db_index=True)
    relation = models.CharField(_("与户主关系"), max_length=8, choices=Relation.choices)
    disability_category = models.CharField(_("残疾类别"), max_length=4, choices=DisabilityCategory.choices,
                                           blank=True)
    disability_level = models.PositiveSmallIntegerField(_("残疾等级"), null=True, blank=True,
                                                        choices=[(i, f"{i}级") for i in range(1, 5)])
    serious_illness = models.BooleanField(_("重病"), default=False)
    labour_capacity = models.CharField(_("劳动能力"), max_length=8, choices=LabourCapacity.choices, blank=True)
    monthly_income = models.DecimalField(_("月收入"), max_digits=10, decimal_places=2, null=True, blank=True)

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
    filed_on = models.DateField(_("备案日期"))
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

"""Cross-check reference data (核对数据) from other departments.

Each import of a kind creates a new `RefVersion`; the version flagged current is the
data set the rules join against, older versions stay for the audit trail. The rows of
all versions live in one table per kind, keyed by version, so replacing a data set is
one INSERT … SELECT / COPY plus flipping `is_current`.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _


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
    version = models.ForeignKey(RefVersion, on_delete=models.PROTECT, related_name="+")
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
    version = models.ForeignKey(RefVersion, on_delete=models.PROTECT, related_name="+")
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

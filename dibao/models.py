from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from dibao.scoping import ScopedQuerySet


class Region(models.Model):
    """A node of the national statistical division tree (2023 edition).

    The code is kept at its natural length (2 province, 4 city, 6 county, 9 township,
    12 village) so that "everything under X" is `code LIKE 'X%'`, served by the
    varchar_pattern_ops index Django adds to an indexed CharField on PostgreSQL.
    """

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("省")
        CITY = 2, _("市")
        COUNTY = 3, _("县")
        TOWNSHIP = 4, _("乡镇")
        VILLAGE = 5, _("村（居）")

    code = models.CharField(_("区划代码"), max_length=12, primary_key=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.PositiveSmallIntegerField(_("层级"), choices=Level.choices, db_index=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")

    objects = ScopedQuerySet.as_manager()
    region_field = "code"

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def code12(self) -> str:
        return self.code.ljust(12, "0")

    def ancestors(self) -> list["Region"]:
        """Province down to self, one query."""
        prefixes = [self.code[:n] for n in CODE_LENGTHS if n <= len(self.code)]
        return list(Region.objects.filter(code__in=prefixes).order_by("code"))

    @property
    def full_name(self) -> str:
        return "".join(r.name for r in self.ancestors() if r.name not in {"市辖区", "县"})


CODE_LENGTHS = (2, 4, 6, 9, 12)
LEVEL_BY_LENGTH = {2: Region.Level.PROVINCE, 4: Region.Level.CITY, 6: Region.Level.COUNTY,
                   9: Region.Level.TOWNSHIP, 12: Region.Level.VILLAGE}
LENGTH_BY_LEVEL = {v: k for k, v in LEVEL_BY_LENGTH.items()}


def natural_code(code: str) -> str:
    """'220102001000' -> '220102001'; a natural-length code is returned unchanged.

    A 12-digit code padded with zeros is shortened to the longest level length whose
    tail is all zeros, which is how the statistical codes are built.
    """
    code = (code or "").strip()
    if len(code) != 12 or not code.isdigit():
        return code
    for length in (2, 4, 6, 9):
        if code[length:] == "0" * (12 - length):
            return code[:length]
    return code


class Role(models.TextChoices):
    CASEWORKER = "caseworker", _("乡镇经办")
    COUNTY_REVIEWER = "county_reviewer", _("县级审核")
    SUPERVISOR = "supervisor", _("督导")
    INSPECTOR = "inspector", _("纪检监察")
    ADMIN = "admin", _("系统管理员")


class User(AbstractUser):
    """A staff user bound to one region node; every query they run is limited to its subtree.

    The role is the user's Django group (one of `Role`); `role` reads it.
    """

    region = models.ForeignKey(Region, on_delete=models.PROTECT, null=True, blank=True,
                               verbose_name=_("所属区划"), related_name="users")
    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def role(self) -> str | None:
        if not hasattr(self, "_role_cache"):
            if self.is_superuser:
                self._role_cache = Role.ADMIN.value
            else:
                names = {g.name for g in self.groups.all()}
                self._role_cache = next((r.value for r in Role if r.value in names), None)
        return self._role_cache

    @property
    def role_label(self) -> str:
        return Role(self.role).label if self.role else _("未分配角色")

    @property
    def is_unrestricted(self) -> bool:
        """Admins without a region see the whole country."""
        return self.role == Role.ADMIN and self.region_id is None

    @property
    def scope_prefix(self) -> str | None:
        """The code prefix this user's queries are limited to; None = everything.

        A user with no region and no admin role has no scope at all, which
        `ScopedQuerySet.for_user` turns into an empty result.
        """
        if self.is_unrestricted:
            return None
        return self.region_id or "\x00"

    @property
    def can_see_full_id(self) -> bool:
        from dibao.permissions import can
        return can(self, "household.reveal_id")

    @property
    def can_export_full_id(self) -> bool:
        from dibao.permissions import can
        return can(self, "export.full_id")


class AuditRecord(models.Model):
    """One step of the append-only, hash-chained audit trail (步步有痕迹、环环能倒查).

    `hash` = HMAC-SHA256 (key: settings.AUDIT_HMAC_KEY, never in the database) over the
    canonical JSON of the record's content and `prev_hash`; changing any stored field, or
    removing a record, breaks the chain from that point, and removing the newest records
    contradicts the last signed checkpoint: `manage.py verify_audit` reports either
    (dibao.audit). On PostgreSQL triggers refuse UPDATE, DELETE and TRUNCATE outright.
    `action` and `object_type` are values of dibao.audit.AuditAction / AuditObject.
    """

    created_at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              db_constraint=False)
    actor_name = models.CharField(_("操作人"), max_length=150)
    action = models.CharField(_("操作"), max_length=64, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64)
    object_id = models.CharField(_("对象编号"), max_length=64)
    region_code = models.CharField(_("区划代码"), max_length=12, blank=True, db_index=True)
    before = models.JSONField(_("变更前"), null=True, blank=True)
    after = models.JSONField(_("变更后"), null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "region_code"

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id}"

"""Hotlines, dial tests, complaints, clues, discipline referrals, typical cases,
rectification ledger and spot checks.

Jurisdiction: every model has a `region_field`; querysets subclass `ScopedQuerySet` and
only override `for_user` where a role sees something other than its subtree:

* complaints — `region` is the *handling* region (承办单位). A complaint that accuses
  staff is routed above the accused unit, so the accused township's users are not in its
  subtree and never see it. Inspectors do not work complaints (none).
* clues — county reviewers / supervisors by subtree; inspectors see exactly the clues
  referred to their own body (`referral.body_region == user.region`), not the subtree,
  because a city commission does not take over a county commission's cases;
  caseworkers see none (the ledger names township staff).
"""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from dibao.concurrency import version_field
from dibao.downloads import RandomName
from dibao.models import Region, Role
from dibao.scoping import ScopedQuerySet
from dibao.validators import at_most_persons, non_negative, not_in_future


# ---------------------------------------------------------------- hotlines, dial tests
class Hotline(models.Model):
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name=_("所属区划"),
                               db_column="region_code", related_name="hotlines")
    unit = models.CharField(_("受理单位"), max_length=100)
    numbers = models.CharField(_("电话号码"), max_length=200, help_text=_("多个号码用逗号分隔"))
    hours = models.CharField(_("接听时间"), max_length=100, default="工作日 8:30-17:00")
    online_channel = models.CharField(_("网络举报渠道"), max_length=200, blank=True)
    postal_address = models.CharField(_("来信地址"), max_length=200, blank=True)
    active = models.BooleanField(_("在用"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "region__code"

    class Meta:
        verbose_name = _("投诉举报电话")
        verbose_name_plural = _("投诉举报电话")
        ordering = ["region_id", "id"]

    def __str__(self) -> str:
        return f"{self.unit} {self.numbers}"

    @property
    def number_list(self) -> list[str]:
        return [n.strip() for n in self.numbers.replace("，", ",").split(",") if n.strip()]


class DialTest(models.Model):
    """One test call (拨打督导) to a published hotline."""

    hotline = models.ForeignKey(Hotline, on_delete=models.PROTECT, related_name="dial_tests",
                                verbose_name=_("投诉举报电话"))
    number = models.CharField(_("拨打号码"), max_length=30)
    called_at = models.DateTimeField(_("拨打时间"))
    answered = models.BooleanField(_("有人接听"))
    handled_properly = models.BooleanField(_("处置得当"), null=True, blank=True)
    notes = models.TextField(_("情况记录"), blank=True)
    caller = models.ForeignKey("dibao.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("督导人"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "hotline__region__code"

    class Meta:
        verbose_name = _("拨打督导记录")
        verbose_name_plural = _("拨打督导记录")
        ordering = ["-called_at", "-id"]


# ---------------------------------------------------------------- complaints
class Channel(models.TextChoices):
    PHONE = "phone", _("电话")
    LETTER = "letter", _("来信")
    VISIT = "visit", _("来访")
    ONLINE = "online", _("网络")
    HOTLINE_12345 = "12345", _("12345")
    MEDIA = "media", _("媒体")
    HIGHER = "higher", _("上级交办")


class SubjectType(models.TextChoices):
    HOUSEHOLD = "household", _("低保家庭")
    PERSON = "person", _("个人")
    STAFF = "staff", _("工作人员")
    VILLAGE = "village", _("村（社区）或乡镇")


class ComplaintState(models.TextChoices):
    RECEIVED = "received", _("已受理")
    ASSIGNED = "assigned", _("已交办")
    VERIFYING = "verifying", _("核查中")
    REPLIED = "replied", _("已答复")
    CLOSED = "closed", _("已办结")


OPEN_COMPLAINT_STATES = (ComplaintState.RECEIVED, ComplaintState.ASSIGNED, ComplaintState.VERIFYING)


class ComplaintQuerySet(ScopedQuerySet):
    def for_user(self, user):
        if user is not None and user.is_authenticated and user.role == Role.INSPECTOR:
            return self.none()
        return super().for_user(user)


class Complaint(models.Model):
    tracking_code = models.CharField(_("查询码"), max_length=16, unique=True)
    channel = models.CharField(_("来源渠道"), max_length=8, choices=Channel.choices)
    submitted_online = models.BooleanField(_("群众网上提交"), default=False)
    anonymous = models.BooleanField(_("匿名"), default=False)
    complainant_name = models.CharField(_("反映人姓名"), max_length=50, blank=True)
    complainant_phone = models.CharField(_("反映人电话"), max_length=20, blank=True)
    subject_type = models.CharField(_("反映对象类型"), max_length=10, choices=SubjectType.choices)
    subject_name = models.CharField(_("反映对象"), max_length=100, blank=True)
    subject_household = models.ForeignKey("cases.Household", on_delete=models.SET_NULL, null=True, blank=True,
                                          related_name="+", verbose_name=_("涉及家庭"))
    subject_staff = models.ForeignKey("cases.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="+", verbose_name=_("涉及工作人员"))
    subject_region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+",
                                       verbose_name=_("问题发生地"))
    accuses_staff = models.BooleanField(_("反映工作人员问题"), default=False)
    accused_region = models.ForeignKey(Region, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                       verbose_name=_("被反映人员所在单位"))
    content = models.TextField(_("反映内容"))
    owner_region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("受理单位"))
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="complaints",
                               db_column="region_code", verbose_name=_("承办单位"))
    state = models.CharField(_("状态"), max_length=10, choices=ComplaintState.choices,
                             default=ComplaintState.RECEIVED, db_index=True)
    received_on = models.DateField(_("受理日期"), db_index=True, validators=[not_in_future])
    deadline = models.DateField(_("办理期限"), null=True, blank=True, db_index=True)
    on_spot = models.BooleanField(_("当场回签"), default=False)
    verification = models.TextField(_("核查情况"), blank=True)
    reply = models.TextField(_("答复意见"), blank=True, help_text=_("将在查询页面向反映人公开"))
    replied_on = models.DateField(_("答复日期"), null=True, blank=True)
    closed_on = models.DateField(_("办结日期"), null=True, blank=True, db_index=True)
    created_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("登记人"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ComplaintQuerySet.as_manager()
    region_field = "region__code"

    class Meta:
        verbose_name = _("投诉举报")
        verbose_name_plural = _("投诉举报")
        ordering = ["-received_on", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_channel_display()} {self.received_on}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_COMPLAINT_STATES

    def identity_visible_to(self, user) -> bool:
        """The complainant's name and phone: only the receiving unit's own handlers.

        Handlers = users placed exactly at the receiving unit (`owner_region`) with the role
        that works complaints at that level; everybody else (the township a complaint was
        assigned to for verification, supervisors above, admins) sees them masked.
        """
        if not user.is_authenticated or user.region_id != self.owner_region_id:
            return False
        return user.role in (Role.COUNTY_REVIEWER, Role.SUPERVISOR, Role.CASEWORKER)

    def masked_name(self) -> str:
        if self.anonymous or not self.complainant_name:
            return str(_("匿名"))
        from dibao.idnumber import mask_name

        return mask_name(self.complainant_name)

    def masked_phone(self) -> str:
        if not self.complainant_phone:
            return ""
        return self.complainant_phone[:3] + "****" + self.complainant_phone[-4:]


class ComplaintAttachment(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("文件"), upload_to=RandomName("complaints"))
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=40)
    size = models.PositiveIntegerField(_("大小"))
    sha256 = models.CharField(max_length=64)

    objects = ScopedQuerySet.as_manager()
    region_field = "complaint__region__code"

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["id"]


# ---------------------------------------------------------------- clues and referrals
class ClueSource(models.TextChoices):
    COMPLAINT = "complaint", _("投诉举报")
    FINDING = "finding", _("比对核查")
    INSPECTION = "inspection", _("督查检查")
    AUDIT = "audit", _("审计")
    MEDIA = "media", _("媒体曝光")
    LEADERSHIP = "leadership", _("领导批示")
    OTHER = "other", _("其他")


class ClueCategory(models.TextChoices):
    FAVOUR = "人情保", _("人情保")
    RELATIONSHIP = "关系保", _("关系保")
    WRONG = "错保", _("错保")
    MISSED = "漏保", _("漏保")
    DEATH = "死亡保", _("死亡保")
    DUPLICATE = "重复享受", _("重复享受")
    EMBEZZLE = "贪污侵占", _("贪污侵占")
    WITHHOLD = "截留私分", _("截留私分")
    FALSE_CLAIM = "虚报冒领", _("虚报冒领")
    EXTORT = "吃拿卡要", _("吃拿卡要")
    NEPOTISM = "优亲厚友", _("优亲厚友")
    CONDUCT = "作风问题", _("作风问题")


class ClueState(models.TextChoices):
    REGISTERED = "registered", _("已登记")
    VERIFYING = "verifying", _("核查中")
    REFERRED = "referred", _("已移交纪检监察")
    CONCLUDED = "concluded", _("已办结")


class ClueQuerySet(ScopedQuerySet):
    def for_user(self, user):
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.role == Role.INSPECTOR:
            if not user.region_id:
                return self.none()
            return self.filter(referral__body_region_id=user.region_id)
        if user.role == Role.CASEWORKER:
            return self.none()
        return super().for_user(user)


class Clue(models.Model):
    number = models.CharField(_("线索编号"), max_length=32, unique=True)
    received_on = models.DateField(_("受理日期"), db_index=True, validators=[not_in_future])
    source = models.CharField(_("线索来源"), max_length=12, choices=ClueSource.choices)
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices, blank=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="clues", db_column="region_code",
                               verbose_name=_("所属区划"))
    category = models.CharField(_("问题类型"), max_length=8, choices=ClueCategory.choices)
    summary = models.TextField(_("线索摘要"))
    people_involved = models.CharField(_("涉及人员"), max_length=200, blank=True)
    staff = models.ManyToManyField("cases.Staff", blank=True, related_name="+", verbose_name=_("涉及工作人员"))
    evidence_links = models.TextField(_("证据材料"), blank=True, help_text=_("每行一条：文件编号、链接或存放位置"))
    deadline = models.DateField(_("办理期限"), null=True, blank=True)
    state = models.CharField(_("状态"), max_length=12, choices=ClueState.choices, default=ClueState.REGISTERED,
                             db_index=True)
    complaint = models.ForeignKey(Complaint, on_delete=models.SET_NULL, null=True, blank=True, related_name="clues",
                                  verbose_name=_("来源投诉"))
    finding_id = models.BigIntegerField(_("来源疑点编号"), null=True, blank=True, db_index=True)
    handling = models.TextField(_("办理情况"), blank=True)
    concluded_on = models.DateField(_("办结日期"), null=True, blank=True, db_index=True)
    created_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("登记人"))
    created_at = models.DateTimeField(auto_now_add=True)
    # also counts its referral's writes: the clue page and API show them as part of the clue
    version = version_field()

    objects = ClueQuerySet.as_manager()
    region_field = "region__code"

    class Meta:
        verbose_name = _("问题线索")
        verbose_name_plural = _("问题线索")
        ordering = ["-received_on", "-id"]

    def __str__(self) -> str:
        return self.number

    @property
    def evidence_list(self) -> list[str]:
        return [line.strip() for line in self.evidence_links.splitlines() if line.strip()]


class Outcome(models.TextChoices):
    TRUE = "属实", _("属实")
    PARTLY = "部分属实", _("部分属实")
    FALSE = "不属实", _("不属实")


class BodyKind(models.TextChoices):
    """Which discipline body takes a clue (seed 004): the local commission — a township's own 纪委
    for its caseworkers and village cadres — or the group the commission stations in the civil-
    affairs bureau (派驻纪检组) for the bureau's staff."""

    COMMISSION = "commission", _("纪委监委")
    STATIONED = "stationed", _("派驻纪检组")


class Referral(models.Model):
    """A clue referred to a discipline inspection and supervision body (移交纪检监察机关)."""

    clue = models.OneToOneField(Clue, on_delete=models.PROTECT, related_name="referral")
    body_region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("接收机关所在区划"))
    body_name = models.CharField(_("接收机关"), max_length=100)
    body_kind = models.CharField(_("接收机关类别"), max_length=10, choices=BodyKind.choices,
                                 default=BodyKind.COMMISSION)
    referred_on = models.DateField(_("移交日期"), db_index=True, validators=[not_in_future])
    referred_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("移交人"))
    note = models.TextField(_("移交说明"), blank=True)
    investigation = models.TextField(_("调查情况"), blank=True)
    outcome = models.CharField(_("调查结论"), max_length=8, choices=Outcome.choices, blank=True)
    funds_recovered = models.DecimalField(_("追回资金（元）"), max_digits=14, decimal_places=2, default=0,
                                          validators=[non_negative])
    concluded_on = models.DateField(_("办结日期"), null=True, blank=True)
    concluded_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("办结人"))

    objects = ScopedQuerySet.as_manager()
    region_field = "clue__region__code"

    class Meta:
        verbose_name = _("移交纪检监察")
        verbose_name_plural = _("移交纪检监察")

    @property
    def persons_total(self) -> int:
        return sum(d.count for d in self.disciplines.all())


class DisciplineKind(models.TextChoices):
    PARTY = "党纪处分", _("党纪处分")
    GOVERNMENT = "政务处分", _("政务处分")
    ORGANISATIONAL = "组织处理", _("组织处理")
    ADMONITION = "诫勉谈话", _("诫勉谈话")
    CRITICISM = "批评教育", _("批评教育")
    OTHER = "其他", _("其他")


class Discipline(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="disciplines")
    kind = models.CharField(_("处理方式"), max_length=8, choices=DisciplineKind.choices)
    count = models.PositiveIntegerField(_("人数"), validators=[at_most_persons])
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("处理处分")
        verbose_name_plural = _("处理处分")
        ordering = ["id"]


class TypicalCase(models.Model):
    clue = models.OneToOneField(Clue, on_delete=models.PROTECT, related_name="typical_case")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", db_column="region_code",
                               verbose_name=_("所属区划"))
    title = models.CharField(_("标题"), max_length=100)
    summary = models.TextField(_("公开摘要"), help_text=_("可公开通报的内容，不得包含身份证号、电话等个人信息"))
    month = models.DateField(_("通报月份"), db_index=True, help_text=_("当月第一天"))
    marked_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, related_name="+")
    marked_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "region__code"

    class Meta:
        verbose_name = _("典型案例")
        verbose_name_plural = _("典型案例")
        ordering = ["-month", "region_id", "id"]


# ---------------------------------------------------------------- rectification ledger
class RectificationSource(models.TextChoices):
    FINDING = "finding", _("比对疑点")
    CLUE = "clue", _("问题线索")
    INSPECTION = "inspection", _("督查检查")
    SPOT_CHECK = "spot_check", _("入户抽查")
    OTHER = "other", _("其他")


class RectificationStatus(models.TextChoices):
    OPEN = "open", _("整改中")
    DONE = "done", _("已整改待销号")
    CLOSED = "closed", _("已销号")


class RectificationItem(models.Model):
    number = models.CharField(_("编号"), max_length=32, unique=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", db_column="region_code",
                               verbose_name=_("所属区划"))
    source = models.CharField(_("问题来源"), max_length=12, choices=RectificationSource.choices)
    finding_id = models.BigIntegerField(_("疑点编号"), null=True, blank=True)
    clue = models.ForeignKey(Clue, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                             verbose_name=_("问题线索"))
    inspection = models.ForeignKey("Inspection", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="rectifications", verbose_name=_("督查记录"))
    problem = models.TextField(_("存在问题"))
    measures = models.TextField(_("整改措施"))
    responsible_unit = models.CharField(_("责任单位"), max_length=100)
    responsible_person = models.CharField(_("责任人"), max_length=50)
    deadline = models.DateField(_("整改时限"), db_index=True)
    status = models.CharField(_("整改状态"), max_length=8, choices=RectificationStatus.choices,
                              default=RectificationStatus.OPEN, db_index=True)
    progress = models.TextField(_("整改进展"), blank=True)
    evidence = models.TextField(_("佐证材料"), blank=True)
    done_on = models.DateField(_("完成日期"), null=True, blank=True)
    closed_on = models.DateField(_("销号日期"), null=True, blank=True)
    closed_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name=_("销号人"))
    created_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "region__code"

    class Meta:
        verbose_name = _("整改事项")
        verbose_name_plural = _("整改台账")
        ordering = ["deadline", "id"]


# ---------------------------------------------------------------- spot checks
class Checklist(models.Model):
    name = models.CharField(_("检查清单"), max_length=100, unique=True)
    is_default = models.BooleanField(_("默认清单"), default=False)
    active = models.BooleanField(_("在用"), default=True)

    class Meta:
        verbose_name = _("督查清单")
        verbose_name_plural = _("督查清单")
        ordering = ["-is_default", "name"]

    def __str__(self) -> str:
        return self.name


class ChecklistItem(models.Model):
    checklist = models.ForeignKey(Checklist, on_delete=models.CASCADE, related_name="items")
    category = models.CharField(_("类别"), max_length=50)
    text = models.CharField(_("检查内容"), max_length=200)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("检查项目")
        verbose_name_plural = _("检查项目")
        ordering = ["checklist_id", "order", "id"]

    def __str__(self) -> str:
        return f"{self.category}：{self.text}"


class Inspection(models.Model):
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", db_column="region_code",
                               verbose_name=_("被检查地区"))
    checklist = models.ForeignKey(Checklist, on_delete=models.PROTECT, verbose_name=_("检查清单"))
    inspected_on = models.DateField(_("检查日期"), validators=[not_in_future])
    team = models.CharField(_("督查组成员"), max_length=200)
    summary = models.TextField(_("检查结论"), blank=True)
    created_by = models.ForeignKey("dibao.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "region__code"

    class Meta:
        verbose_name = _("督查记录")
        verbose_name_plural = _("督查记录")
        ordering = ["-inspected_on", "-id"]

    def __str__(self) -> str:
        return f"{self.region.name} {self.inspected_on}"


class CheckResult(models.TextChoices):
    OK = "ok", _("符合")
    PROBLEM = "problem", _("存在问题")
    NA = "na", _("不适用")


class InspectionResult(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="results")
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="+")
    result = models.CharField(_("结果"), max_length=8, choices=CheckResult.choices)
    note = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        ordering = ["item__order", "id"]
        constraints = [models.UniqueConstraint(fields=["inspection", "item"], name="inspection_result_unique")]


class HomeSample(models.Model):
    """A reproducible random sample of a township's households for home spot checks (入户抽查)."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="samples")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", db_column="region_code",
                               verbose_name=_("抽查乡镇"))
    seed = models.CharField(_("随机种子"), max_length=32)
    requested_count = models.PositiveIntegerField(_("抽查户数"), null=True, blank=True)
    requested_percent = models.DecimalField(_("抽查比例（%）"), max_digits=5, decimal_places=2, null=True, blank=True)
    population = models.PositiveIntegerField(_("在保户数"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "region__code"

    class Meta:
        verbose_name = _("入户抽查样本")
        verbose_name_plural = _("入户抽查样本")
        ordering = ["id"]


class VisitResult(models.TextChoices):
    PENDING = "pending", _("待走访")
    OK = "ok", _("无问题")
    PROBLEM = "problem", _("存在问题")
    ABSENT = "absent", _("未见到户")


class HomeVisit(models.Model):
    sample = models.ForeignKey(HomeSample, on_delete=models.CASCADE, related_name="visits")
    household = models.ForeignKey("cases.Household", on_delete=models.PROTECT, related_name="+")
    result = models.CharField(_("走访结果"), max_length=8, choices=VisitResult.choices, default=VisitResult.PENDING)
    visited_on = models.DateField(_("走访日期"), null=True, blank=True, validators=[not_in_future])
    note = models.CharField(_("情况说明"), max_length=300, blank=True)

    objects = ScopedQuerySet.as_manager()
    region_field = "sample__region__code"

    class Meta:
        ordering = ["sample_id", "id"]
        constraints = [models.UniqueConstraint(fields=["sample", "household"], name="home_visit_unique")]

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cases.models import Staff
from dibao.concurrency import VersionedFormMixin
from dibao.forms import TextInputMixin
from dibao.validators import MAX_PERSONS, not_in_future
from dibao.models import Region
from complaints import services
from complaints.models import (
    BodyKind, Channel, Checklist, Clue, ClueCategory, DisciplineKind, Hotline, Outcome, RectificationItem,
    RectificationSource, SubjectType, VisitResult,
)

DATE = forms.DateInput(attrs={"type": "date", "class": "form-control"})
PHONE_RE = re.compile(r"^1\d{10}$|^0\d{2,3}-?\d{7,8}$")
MAX_CONTENT = 5000


def _style(form):
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, (forms.CheckboxInput,)):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


class RegionCodeField(forms.CharField):
    """A region chosen with the cascading picker, returned as a Region."""

    def __init__(self, *, lengths=(6, 9, 12), **kwargs):
        self.lengths = lengths
        kwargs.setdefault("widget", forms.HiddenInput)
        super().__init__(max_length=12, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        region = Region.objects.filter(code=value.strip()).first()
        if region is None:
            raise ValidationError(_("区划代码 %(code)s 不存在") % {"code": value})
        if len(region.code) not in self.lengths:
            raise ValidationError(_("请选择到正确的层级"))
        return region


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".jpg,.jpeg,.png,.pdf"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        if len(files) > services.MAX_ATTACHMENTS:
            raise ValidationError(_("最多上传 %(n)d 个附件，您选择了 %(m)d 个") % {"n": services.MAX_ATTACHMENTS,
                                                                          "m": len(files)})
        errors = []
        for f in files:
            try:
                services.sniff_attachment(f)
            except ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise ValidationError(errors)
        return list(files)


class _ComplaintBase(TextInputMixin, forms.Form):
    anonymous = forms.BooleanField(label=_("匿名反映"), required=False,
                                   help_text=_("匿名反映无法接收电话回访，请保存好查询码查看答复"))
    complainant_name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    complainant_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False,
                                        help_text=_("手机号或带区号的固定电话；查询办理结果时需输入后四位"))
    subject_type = forms.ChoiceField(label=_("反映对象"), choices=SubjectType.choices)
    subject_name = forms.CharField(label=_("对象姓名或名称"), max_length=100, required=False)
    accuses_staff = forms.BooleanField(label=_("反映工作人员（村干部、经办人员、民政干部）的问题"), required=False)
    subject_region = RegionCodeField(label=_("问题发生地（乡镇或村）"), lengths=(9, 12),
                                     error_messages={"required": _("请选择问题发生的乡镇（街道）或村（居）")})
    content = forms.CharField(label=_("反映内容"), widget=forms.Textarea(attrs={"rows": 6}), max_length=MAX_CONTENT,
                              error_messages={"max_length": _("反映内容不能超过 %(limit_value)d 字（当前 %(show_value)d 字）")})

    def clean_complainant_phone(self):
        phone = self.cleaned_data["complainant_phone"].strip().replace(" ", "")
        if phone and not PHONE_RE.match(phone):
            raise ValidationError(_("联系电话格式不正确：请填写 11 位手机号或带区号的固定电话，如 0431-88612347"))
        return phone

    def clean(self):
        data = super().clean()
        if not data.get("anonymous") and not (data.get("complainant_name") and data.get("complainant_phone")):
            self.add_error("complainant_name", _("实名反映请填写姓名和联系电话；不愿留下姓名请勾选“匿名反映”"))
        return data


class PublicComplaintForm(_ComplaintBase):
    attachments = AttachmentsField(label=_("附件（图片或 PDF，最多 3 个，每个不超过 5 MB）"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class ComplaintForm(_ComplaintBase):
    """Staff intake."""

    channel = forms.ChoiceField(label=_("来源渠道"), choices=Channel.choices)
    received_on = forms.DateField(label=_("受理日期"), widget=DATE, validators=[not_in_future])
    subject_staff = forms.ModelChoiceField(label=_("被反映工作人员（如已登记）"), queryset=Staff.objects.none(),
                                           required=False)

    field_order = ["channel", "received_on", "anonymous", "complainant_name", "complainant_phone", "subject_type",
                   "subject_name", "subject_staff", "accuses_staff", "subject_region", "content"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject_staff"].queryset = Staff.objects.for_user(user)
        _style(self)


class AssignForm(TextInputMixin, forms.Form):
    region = RegionCodeField(label=_("交办单位"), lengths=(2, 4, 6, 9))
    working_days = forms.IntegerField(label=_("办理期限（工作日）"), min_value=1, max_value=60)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["working_days"].initial = services.default_complaint_days()
        _style(self)


class TextForm(TextInputMixin, forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=MAX_CONTENT)

    def __init__(self, *args, label=None, **kwargs):
        super().__init__(*args, **kwargs)
        if label:
            self.fields["text"].label = label
        _style(self)


class ClueFromComplaintForm(TextInputMixin, forms.Form):
    category = forms.ChoiceField(label=_("问题类型"), choices=ClueCategory.choices)
    summary = forms.CharField(label=_("线索摘要"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class ClueForm(VersionedFormMixin, TextInputMixin, forms.ModelForm):
    region = RegionCodeField(label=_("所属区划"), lengths=(6, 9, 12))

    class Meta:
        model = Clue
        fields = ["received_on", "source", "channel", "region", "category", "summary", "people_involved", "staff",
                  "evidence_links", "deadline"]
        widgets = {"received_on": DATE, "deadline": DATE, "summary": forms.Textarea(attrs={"rows": 4}),
                   "evidence_links": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = Staff.objects.for_user(user)
        self.fields["staff"].required = False
        if self.instance.pk:
            self.initial["region"] = self.instance.region_id
        _style(self)


class ReferForm(TextInputMixin, forms.Form):
    body_kind = forms.ChoiceField(label=_("接收机关类别"), choices=BodyKind.choices, initial=BodyKind.COMMISSION,
                                  required=False,
                                  help_text=_("反映乡镇经办人员、村（居）干部的线索移交乡镇纪委；反映民政部门干部职工的可移交派驻纪检组"))
    body_region = RegionCodeField(label=_("纪检监察机关所在区划"), lengths=(2, 4, 6, 9))
    body_name = forms.CharField(label=_("机关名称"), max_length=100, required=False,
                                help_text=_("不填写时按“××纪委监委”生成"))
    note = forms.CharField(label=_("移交说明"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class OutcomeForm(TextInputMixin, forms.Form):
    investigation = forms.CharField(label=_("调查情况"), widget=forms.Textarea(attrs={"rows": 5}),
                                    max_length=MAX_CONTENT)
    outcome = forms.ChoiceField(label=_("调查结论"), choices=Outcome.choices)
    funds_recovered = forms.DecimalField(label=_("追回资金（元）"), min_value=Decimal("0"), decimal_places=2,
                                         max_digits=14, initial=Decimal("0.00"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in DisciplineKind.choices:
            self.fields[f"n_{kind}"] = forms.IntegerField(label=_("%(k)s（人）") % {"k": label}, min_value=0,
                                                          max_value=MAX_PERSONS, initial=0, required=False)
        _style(self)

    def disciplines(self) -> list[dict]:
        return [{"kind": kind, "count": self.cleaned_data.get(f"n_{kind}") or 0} for kind in DisciplineKind.values]


class TypicalCaseForm(TextInputMixin, forms.Form):
    title = forms.CharField(label=_("标题"), max_length=100)
    summary = forms.CharField(label=_("公开摘要"), widget=forms.Textarea(attrs={"rows": 5}), max_length=MAX_CONTENT,
                              help_text=_("可公开通报的内容，不得包含身份证号、电话号码"))
    month = forms.DateField(label=_("通报月份（任一天）"), widget=DATE, required=False)

    def clean_summary(self):
        text = self.cleaned_data["summary"]
        if re.search(r"\d{17}[\dXx]|1\d{10}", text):
            raise ValidationError(_("公开摘要中含有身份证号或手机号，请删除后再提交"))
        return text

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class RectificationForm(TextInputMixin, forms.ModelForm):
    region = RegionCodeField(label=_("所属区划"), lengths=(6, 9, 12))
    clue = forms.ModelChoiceField(label=_("问题线索"), queryset=Clue.objects.none(), required=False)

    class Meta:
        model = RectificationItem
        fields = ["region", "source", "finding_id", "clue", "inspection", "problem", "measures", "responsible_unit",
                  "responsible_person", "deadline"]
        widgets = {"deadline": DATE, "problem": forms.Textarea(attrs={"rows": 3}),
                   "measures": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        from complaints.models import Inspection
        self.fields["clue"].queryset = Clue.objects.for_user(user)
        self.fields["inspection"].queryset = Inspection.objects.for_user(user)
        self.fields["source"].choices = RectificationSource.choices
        _style(self)


class RectificationProgressForm(TextInputMixin, forms.Form):
    progress = forms.CharField(label=_("整改进展"), widget=forms.Textarea(attrs={"rows": 3}), max_length=MAX_CONTENT)
    evidence = forms.CharField(label=_("佐证材料"), widget=forms.Textarea(attrs={"rows": 2}), required=False,
                               help_text=_("文件编号、照片存放位置或链接，每行一条"))
    done = forms.BooleanField(label=_("整改已完成，申请销号"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class HotlineForm(TextInputMixin, forms.ModelForm):
    region = RegionCodeField(label=_("所属区划（乡镇及以上）"), lengths=(2, 4, 6, 9))

    class Meta:
        model = Hotline
        fields = ["region", "unit", "numbers", "hours", "online_channel", "postal_address", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["region"] = self.instance.region_id
        _style(self)


class DialTestForm(TextInputMixin, forms.Form):
    hotline = forms.ModelChoiceField(label=_("投诉举报电话"), queryset=Hotline.objects.none())
    number = forms.CharField(label=_("拨打号码"), max_length=30, required=False, help_text=_("不填为第一个号码"))
    called_at = forms.DateTimeField(label=_("拨打时间"),
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                    input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"], validators=[not_in_future])
    answered = forms.BooleanField(label=_("有人接听"), required=False)
    handled_properly = forms.NullBooleanField(label=_("处置得当"), required=False, widget=forms.Select(choices=[
        ("unknown", _("—")), ("true", _("是")), ("false", _("否"))]))
    notes = forms.CharField(label=_("情况记录"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hotline"].queryset = Hotline.objects.for_user(user).filter(active=True)
        _style(self)


class InspectionForm(TextInputMixin, forms.Form):
    region = RegionCodeField(label=_("被检查地区（县或乡镇）"), lengths=(6, 9))
    checklist = forms.ModelChoiceField(label=_("检查清单"), queryset=Checklist.objects.filter(active=True))
    inspected_on = forms.DateField(label=_("检查日期"), widget=DATE, validators=[not_in_future])
    team = forms.CharField(label=_("督查组成员"), max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        default = services.default_checklist()
        if default:
            self.fields["checklist"].initial = default.pk
        _style(self)


class SampleForm(TextInputMixin, forms.Form):
    township = RegionCodeField(label=_("抽查乡镇（街道）"), lengths=(9,))
    count = forms.IntegerField(label=_("抽查户数"), min_value=1, max_value=MAX_PERSONS, required=False)
    percent = forms.DecimalField(label=_("或抽查比例（%）"), min_value=Decimal("0.01"), max_value=Decimal("100"),
                                 decimal_places=2, required=False)
    seed = forms.CharField(label=_("随机种子"), max_length=32, required=False,
                           help_text=_("留空自动生成；填写同一种子可复现同一样本"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class VisitForm(TextInputMixin, forms.Form):
    result = forms.ChoiceField(label=_("走访结果"),
                               choices=[c for c in VisitResult.choices if c[0] != VisitResult.PENDING])
    visited_on = forms.DateField(label=_("走访日期"), widget=DATE, validators=[not_in_future])
    note = forms.CharField(label=_("情况说明"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


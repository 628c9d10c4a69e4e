"""Forms of the registry pages. They check what a caseworker typed (ID numbers, dates,
rows repeating each other); the rules that hold for every path are in `cases.services`."""
from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cases.models import Household, Member, RelativeFiling, Relation, Staff, Status
from dibao import idnumber
from dibao.concurrency import VersionedFormMixin
from dibao.forms import RegionField, TextInputMixin
from dibao.models import User

DATE_WIDGET = forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")


def bootstrap_widgets(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput):
            continue
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


class IdNumberField(forms.CharField):
    """An ID number field: normalised (full-width digits, lower-case x) and checked, with the
    reason in Chinese."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 40)
        super().__init__(*args, **kwargs)
        self.widget.attrs.update({"autocomplete": "off", "class": "form-control id-input"})

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return value
        return idnumber.validate_id(value)


class HouseholdForm(TextInputMixin, VersionedFormMixin, forms.ModelForm):
    """Descriptive fields only: the decisive ones (cases.models.DECISIVE_FIELDS) are shown read-only
    beside the form and change through the application's steps."""

    region = RegionField(label=_("户籍区划"), help_text=_("选到乡镇（街道）或村（居）一级"))
    head_id_number = IdNumberField(label=_("户主身份证号"))
    entry_check_note = forms.CharField(
        label=_("比对提示核实说明"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("右侧“逢进必核”有红色提示时必填：写明逐条核实的情况，随本次保存记入该户的操作记录"))

    class Meta:
        model = Household
        fields = ["household_no", "region", "head_name", "head_id_number", "category", "applied_on",
                  "poverty_cause", "management_class", "last_reviewed_on", "registered_poor", "phone",
                  "payee_id_number", "account_no", "bank_name"]
        widgets = {name: DATE_WIDGET for name in ("applied_on", "last_reviewed_on")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # the key that imports match on; changing it would orphan re-imports
            self.fields["household_no"].disabled = True
            self.initial["region"] = self.instance.region_id
        bootstrap_widgets(self)

    def _post_clean(self):
        # The service runs the model's own checks (with the cross-field rules) on save;
        # only the unique key is checked here so its error sits next to the field.
        pass

    def clean_household_no(self):
        value = idnumber.normalize_text(self.cleaned_data["household_no"])
        clash = Household.objects.filter(household_no=value).exclude(pk=self.instance.pk)
        if value and clash.exists():
            raise ValidationError(_("户编号 %(no)s 已存在") % {"no": value})
        return value

    def service_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k in self.Meta.fields}
        if self.instance.pk:
            data.pop("household_no", None)
        return data


MEMBER_FIELDS = ("name", "id_number", "relation", "disability_category", "disability_level", "serious_illness",
                 "labour_capacity", "monthly_income")


class MemberForm(TextInputMixin, VersionedFormMixin, forms.ModelForm):
    id_number = IdNumberField(label=_("身份证号"))

    class Meta:
        model = Member
        # a copy: the inline formset appends its foreign key to this list
        fields = list(MEMBER_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.household.status == Status.ACTIVE:
            # the amount is computed from incomes: after approval they change through a review or change
            self.fields["monthly_income"].disabled = True
            self.fields["monthly_income"].help_text = _("在保家庭的收入通过定期核查或低保变更修改")
        if self.instance.pk and self.instance.relation == Relation.SELF:
            # the head's row mirrors the household's head fields
            for name in ("name", "id_number", "relation"):
                self.fields[name].disabled = True
                self.fields[name].required = False
            self.is_head = True
        else:
            self.is_head = False
            self.fields["relation"].choices = [c for c in self.fields["relation"].choices if c[0] != Relation.SELF]
        bootstrap_widgets(self)

    def _post_clean(self):
        pass

    def service_row(self) -> dict:
        row = {k: v for k, v in self.cleaned_data.items() if k in MEMBER_FIELDS}
        if self.instance.pk:
            row["id"] = self.instance.pk
            row["version"] = self.cleaned_data.get("version")
        if self.cleaned_data.get("DELETE"):
            row["DELETE"] = True
        if self.is_head:
            for name in ("name", "id_number", "relation"):
                row.pop(name, None)
        return row


class BaseMemberFormSet(forms.BaseInlineFormSet):
    head_id_number: str | None = None

    def validate_unique(self):
        # clean() below checks the one unique key (ID number within the household) with a
        # message naming the row; Django's generic duplicate message would not.
        pass

    def clean(self):
        super().clean()
        seen: dict[str, int] = {}
        for index, form in enumerate(self.forms, start=1):
            data = getattr(form, "cleaned_data", None)
            if not data:
                continue
            if self._should_delete_form(form):
                if form.is_head:
                    form.add_error(None, _("不能删除户主；请先变更户主"))
                continue
            number = data.get("id_number")
            if form.is_head or not number:
                continue
            if self.head_id_number and number == self.head_id_number:
                form.add_error("id_number", _("这是户主的身份证号；户主已自动登记为“本人”，无需重复填写"))
            elif number in seen:
                form.add_error("id_number", _("与第 %(n)d 行成员的身份证号重复") % {"n": seen[number]})
            else:
                seen[number] = index

    def service_rows(self) -> list[dict]:
        """Changed rows only, so an untouched member leaves no empty audit record."""
        return [form.service_row() for form in self.forms if form.has_changed()]


MemberFormSet = forms.inlineformset_factory(Household, Member, form=MemberForm, formset=BaseMemberFormSet,
                                            extra=1, can_delete=True)


class StaffForm(TextInputMixin, forms.ModelForm):
    region = RegionField(label=_("工作单位所在区划"))
    id_number = IdNumberField(label=_("身份证号"))
    user = forms.ModelChoiceField(queryset=User.objects.none(), required=False, label=_("系统账号"),
                                  help_text=_("本人若有系统账号，关联后可据此自动回避"))

    class Meta:
        model = Staff
        fields = ["name", "id_number", "staff_type", "employer", "position", "region", "user"]

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        prefix = actor.scope_prefix
        users = User.objects.filter(is_active=True).order_by("username")
        self.fields["user"].queryset = users if prefix is None else users.filter(region__code__startswith=prefix)
        if self.instance.pk:
            self.initial["region"] = self.instance.region_id
        bootstrap_widgets(self)

    def _post_clean(self):
        pass

    def clean_id_number(self):
        value = self.cleaned_data["id_number"]
        if value and Staff.objects.filter(id_number=value).exclude(pk=self.instance.pk).exists():
            raise ValidationError(_("该身份证号已在工作人员名册中"))
        return value

    def service_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k in self.Meta.fields}


class FilingForm(TextInputMixin, forms.ModelForm):
    relative_id_number = IdNumberField(label=_("亲属身份证号"))
    household_no = forms.CharField(label=_("户编号"), required=False, max_length=32,
                                   help_text=_("该亲属所在的低保家庭（如有）"))

    class Meta:
        model = RelativeFiling
        fields = ["staff", "relative_name", "relative_id_number", "relation", "filed_on"]
        widgets = {"filed_on": DATE_WIDGET}

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["staff"].queryset = Staff.objects.for_user(actor).order_by("name")
        if self.instance.pk and self.instance.household_id:
            self.initial["household_no"] = self.instance.household.household_no
        bootstrap_widgets(self)

    def _post_clean(self):
        pass

    def clean_household_no(self):
        value = idnumber.normalize_text(self.cleaned_data.get("household_no"))
        if not value:
            return None
        household = Household.objects.for_user(self.actor).filter(household_no=value).first()
        if household is None:
            raise ValidationError(_("户编号 %(no)s 不存在或不在您的管辖范围内") % {"no": value})
        return household

    def service_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k in self.Meta.fields}
        data["household"] = self.cleaned_data.get("household_no")
        return data

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.models import Handling, ProblemType, ScreeningResult
from dibao.forms import RegionField, TextInputMixin

DATE = forms.DateInput(attrs={"type": "date", "class": "form-control"})


class CampaignForm(TextInputMixin, forms.Form):
    name = forms.CharField(label=_("活动名称"), max_length=100,
                           widget=forms.TextInput(attrs={"class": "form-control"}))
    region = RegionField(label=_("组织区划（县、市或省）"))
    active_end = forms.DateField(label=_("在保：此日在保的家庭"), widget=DATE)
    exited_from = forms.DateField(label=_("退出：起始日期"), widget=DATE)
    exited_to = forms.DateField(label=_("退出：截止日期"), widget=DATE)
    rejected_from = forms.DateField(label=_("申请未通过：申请日期起"), widget=DATE)
    rejected_to = forms.DateField(label=_("申请未通过：申请日期止"), widget=DATE)
    screening_deadline = forms.DateField(label=_("排查截止日期"), widget=DATE)
    reporting_deadline = forms.DateField(label=_("报送截止日期"), widget=DATE)


class RecordForm(TextInputMixin, forms.Form):
    """One row of the village worklist; `link` is "application:ID", "clue:ID" or "finding:ID"."""

    screened_on = forms.DateField(label=_("排查日期"), widget=forms.DateInput(
        attrs={"type": "date", "class": "form-control form-control-sm"}))
    screeners = forms.CharField(label=_("排查人"), max_length=100, widget=forms.TextInput(
        attrs={"class": "form-control form-control-sm", "placeholder": _("一至两人，用、分隔")}))
    result = forms.ChoiceField(label=_("排查结果"), choices=ScreeningResult.choices,
                               widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
    problem_types = forms.MultipleChoiceField(label=_("问题类型"), choices=ProblemType.choices, required=False,
                                              widget=forms.CheckboxSelectMultiple)
    handling = forms.ChoiceField(label=_("处理情况"), choices=[("", "—"), *Handling.choices], required=False,
                                 widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
    link = forms.CharField(label=_("关联"), required=False, widget=forms.Select(
        attrs={"class": "form-select form-select-sm"}))
    note = forms.CharField(label=_("备注"), required=False, max_length=1000, widget=forms.TextInput(
        attrs={"class": "form-control form-control-sm"}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, links=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["link"].widget.choices = [("", "—"), *links]
        self.link_values = {value for value, _label in links}

    def clean_link(self):
        value = self.cleaned_data["link"]
        if value and value not in self.link_values:
            raise forms.ValidationError(_("请从列表中选择关联的申请、疑点或线索"))
        return value

    def link_ids(self) -> dict:
        kind, _sep, pk = (self.cleaned_data.get("link") or "").partition(":")
        return {f"{name}_id": (int(pk) if kind == name else None) for name in ("application", "clue", "finding")}


class ReturnForm(TextInputMixin, forms.Form):
    reason = forms.CharField(label=_("退回原因"), widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

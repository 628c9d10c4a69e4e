from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.models import ReportRequest
from dibao.forms import TextInputMixin

DATE = forms.DateInput(attrs={"type": "date", "class": "form-control"})


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
        field.widget.attrs.setdefault("class", css)


class SummonsForm(TextInputMixin, forms.Form):
    region = forms.ChoiceField(label=_("被约谈地区"))
    held_on = forms.DateField(label=_("约谈日期"), widget=DATE)
    participants = forms.CharField(label=_("约谈人与被约谈人"), max_length=200,
                                   help_text=_("例如：市民政局副局长王某约谈××县民政局局长李某"))
    reason = forms.CharField(label=_("约谈事由"), widget=forms.Textarea(attrs={"rows": 3}))
    outcome = forms.CharField(label=_("约谈结果与整改要求"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, regions: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = regions
        _style(self)


class ReportRequestForm(TextInputMixin, forms.Form):
    title = forms.CharField(label=_("报送事项"), max_length=100, help_text=_("例如：自查报告、阶段性总结"))
    due_on = forms.DateField(label=_("报送截止日期"), widget=DATE)
    owed_by_level = forms.TypedChoiceField(label=_("报送单位"), coerce=int, choices=ReportRequest.OwedBy.choices,
                                           initial=ReportRequest.OwedBy.COUNTY)
    campaign = forms.ModelChoiceField(label=_("所属排查活动"), queryset=None, required=False)
    note = forms.CharField(label=_("报送要求"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, campaigns, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns
        _style(self)


class ReportUploadForm(forms.Form):
    file = forms.FileField(label=_("报送材料"), help_text=_("PDF、Word（doc/docx/wps）或 Excel，20 MB 以内"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)

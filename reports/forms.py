import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports import metrics
from reports.models import LEVEL_LABELS, ExportJob
from dibao.forms import TextInputMixin


class MonthField(forms.CharField):
    widget = forms.TextInput(attrs={"type": "month", "class": "form-control"})

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return metrics.parse_month(value)
        except ValueError:
            raise forms.ValidationError(_("月份格式应为 YYYY-MM"))


def _date_input():
    return forms.DateInput(attrs={"type": "date", "class": "form-control"})


class ComputeForm(TextInputMixin, forms.Form):
    month = MonthField(label=_("月份"))
    region = forms.CharField(label=_("区划代码"), max_length=12, required=False, widget=forms.HiddenInput)


class ExportForm(TextInputMixin, forms.Form):
    kind = forms.ChoiceField(label=_("报表"), choices=ExportJob.Kind.choices,
                             widget=forms.Select(attrs={"class": "form-select"}))
    region = forms.CharField(label=_("区划"), max_length=12,
                             widget=forms.TextInput(attrs={"class": "form-control", "readonly": True}))
    month = MonthField(label=_("月份（月度汇总表）"), required=False)
    level = forms.ChoiceField(label=_("汇总层级（月度汇总表）"), required=False,
                              choices=[(k, v) for k, v in LEVEL_LABELS.items()],
                              widget=forms.Select(attrs={"class": "form-select"}))
    start = forms.DateField(label=_("起始日期（排查表、进度通报）"), required=False, widget=_date_input())
    end = forms.DateField(label=_("截止日期（排查表、进度通报）"), required=False, widget=_date_input())

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == ExportJob.Kind.ROLLUP:
            if not data.get("month"):
                self.add_error("month", _("月度汇总表需要选择月份"))
            if not data.get("level"):
                self.add_error("level", _("月度汇总表需要选择汇总层级"))
        elif kind:
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                self.add_error("start", _("请填写起始日期和截止日期"))
            elif start > end:
                self.add_error("end", _("截止日期不能早于起始日期"))
        return data

    def params(self) -> dict:
        data = self.cleaned_data
        if data["kind"] == ExportJob.Kind.ROLLUP:
            return {"month": f"{data['month']:%Y-%m}", "level": data["level"]}
        return {"from": data["start"].isoformat(), "to": data["end"].isoformat()}

    @staticmethod
    def initial_for(region_code: str) -> dict:
        today = timezone.localdate()
        return {"region": region_code, "month": f"{metrics.previous_month(today):%Y-%m}", "level": "township",
                "start": dt.date(today.year, 1, 1), "end": today}

"""Forms of the payments app: drawing a payment verification sample and recording a visit."""
from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from dibao.validators import MAX_PERSONS, not_in_future
from payments.models import VisitMethod, VisitOutcome
from reports.metrics import parse_month

SMALL = {"class": "form-control form-control-sm"}


class VerificationDrawForm(forms.Form):
    month = forms.CharField(label=_("发放月份"), widget=forms.TextInput(attrs={**SMALL, "type": "month"}))
    township = forms.RegexField(label=_("乡镇区划代码"), regex=r"^\d{9}$",
                                error_messages={"invalid": _("请填写 9 位乡镇（街道）区划代码")},
                                widget=forms.TextInput(attrs={**SMALL, "inputmode": "numeric", "maxlength": 9}))
    count = forms.IntegerField(label=_("抽取户数"), min_value=1, max_value=MAX_PERSONS, required=False,
                               widget=forms.NumberInput(attrs=SMALL))
    percent = forms.DecimalField(label=_("或抽取比例（%）"), min_value=Decimal("0.01"), max_value=Decimal("100"),
                                 decimal_places=2, required=False, widget=forms.NumberInput(attrs=SMALL))
    seed = forms.CharField(label=_("随机种子"), max_length=32, required=False, widget=forms.TextInput(attrs=SMALL),
                           help_text=_("留空自动生成；填写同一种子可复现同一样本"))

    def clean_month(self):
        try:
            return parse_month(self.cleaned_data["month"])
        except ValueError:
            raise ValidationError(_("发放月份格式应为 YYYY-MM")) from None


class VisitRecordForm(forms.Form):
    method = forms.ChoiceField(label=_("回访方式"), choices=VisitMethod.choices,
                               widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
    result = forms.ChoiceField(label=_("回访结果"),
                               choices=[c for c in VisitOutcome.choices if c[0] != VisitOutcome.PENDING],
                               widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
    amount_received = forms.DecimalField(label=_("实际收到金额（元）"), min_value=Decimal("0"), decimal_places=2,
                                         max_digits=12, required=False, widget=forms.NumberInput(attrs=SMALL))
    visited_on = forms.DateField(label=_("回访日期"), validators=[not_in_future],
                                 widget=forms.DateInput(attrs={**SMALL, "type": "date"}))
    note = forms.CharField(label=_("情况说明"), max_length=300, required=False, widget=forms.TextInput(attrs=SMALL))

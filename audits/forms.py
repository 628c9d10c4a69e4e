from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audits.models import FindingState, TaskOutcome
from audits.catalogue import RULE_CHOICES
from audits.services import CHANGE_LABELS
from dibao.concurrency import version_form_field
from dibao.forms import TextInputMixin
from dibao.validators import not_in_future

_date = forms.DateInput(attrs={"type": "date", "class": "form-control"})
_text = forms.TextInput(attrs={"class": "form-control"})
_area = forms.Textarea(attrs={"class": "form-control", "rows": 2})


class BatchStartForm(TextInputMixin, forms.Form):
    region_code = forms.CharField(label=_("比对区划"), required=False, max_length=12, widget=forms.HiddenInput)
    as_of = forms.DateField(label=_("比对基准日"), required=False, widget=_date,
                            help_text=_("默认今天；死亡、复核期限等按此日期计算"))


class QueueFilterForm(TextInputMixin, forms.Form):
    rule = forms.ChoiceField(label=_("规则"), required=False, choices=[("", _("全部规则"))] + RULE_CHOICES,
                             widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
    township = forms.CharField(label=_("区划"), required=False, max_length=12, widget=forms.HiddenInput)
    state = forms.ChoiceField(label=_("状态"), required=False,
                              choices=[("", _("全部状态"))] + list(FindingState.choices),
                              widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
    batch = forms.IntegerField(label=_("批次"), required=False, min_value=1,
                               widget=forms.NumberInput(attrs={"class": "form-control form-control-sm",
                                                               "placeholder": _("批次号")}))


class DecisionForm(TextInputMixin, forms.Form):
    decision = forms.ChoiceField(label=_("复核结论"), choices=[("confirm", _("属实")), ("dismiss", _("排除"))],
                                 widget=forms.RadioSelect)
    reason = forms.CharField(label=_("复核意见 / 排除理由"), widget=_area, max_length=2000)
    stop_payment = forms.BooleanField(label=_("停发保障金"), required=False)
    # The change the finding calls for (audits.services.fitting_changes), decided in this step.
    change = forms.ChoiceField(label=_("据以办理的变更"), required=False, widget=forms.RadioSelect,
                               choices=[("", _("不办理变更"))] + [(k, v) for k, v in CHANGE_LABELS.items()])
    exit_on = forms.DateField(label=_("减员 / 退出日期"), required=False, widget=_date,
                              help_text=_("成员死亡、领取财政工资或家庭退出的日期"))
    exit_reason = forms.CharField(label=_("变更理由"), required=False, max_length=200, widget=_text)
    recover = forms.BooleanField(label=_("追回资金"), required=False)
    recover_amount = forms.DecimalField(label=_("追回金额（元）"), required=False, max_digits=12, decimal_places=2,
                                        min_value=0.01,
                                        widget=forms.NumberInput(attrs={"class": "form-control", "step": "0.01"}))
    refer_clue = forms.BooleanField(label=_("移送问题线索"), required=False)
    clue_summary = forms.CharField(label=_("线索摘要"), required=False, widget=_area, max_length=2000)
    version = version_form_field()

    def __init__(self, *args, fitting: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if fitting is not None:
            self.fields["change"].choices = [("", _("不办理变更"))] + [(k, CHANGE_LABELS[k]) for k in fitting]

    def clean(self):
        data = super().clean()
        if data.get("decision") == "confirm":
            dated = data.get("change") in ("remove_member", "exit")
            if dated and not data.get("exit_on"):
                self.add_error("exit_on", _("办理减员或退出须填写日期"))
            if dated and data.get("exit_on") and data["exit_on"] > timezone.localdate():
                self.add_error("exit_on", _("减员 / 退出日期不能晚于今天"))
            if data.get("recover") and not data.get("recover_amount"):
                self.add_error("recover_amount", _("追回资金须填写金额"))
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        if data["decision"] == "dismiss":
            return {"reason": data["reason"]}
        return {
            "reason": data["reason"],
            "stop_payment": data.get("stop_payment", False),
            "change": data.get("change", ""),
            "exit_on": data.get("exit_on") if data.get("change") in ("remove_member", "exit") else None,
            "exit_reason": data.get("exit_reason", ""),
            "recover_amount": data.get("recover_amount") if data.get("recover") else None,
            "refer_clue": data.get("refer_clue", False),
            "clue_summary": data.get("clue_summary", ""),
        }


class BulkDecisionForm(DecisionForm):
    ids = forms.CharField(widget=forms.HiddenInput, required=False)
    version = None  # one per selected row instead (version_<id>)


class TaskForm(TextInputMixin, forms.Form):
    visited_on = forms.DateField(label=_("入户核查日期"), required=False, widget=_date, validators=[not_in_future])
    investigator_1 = forms.CharField(label=_("调查人一"), max_length=50, widget=_text)
    investigator_2 = forms.CharField(label=_("调查人二"), max_length=50, widget=_text)
    # Starts empty: a result is what the visit found, never a preselected answer.
    outcome = forms.ChoiceField(label=_("核查结果"),
                                choices=[("", _("— 请选择 —"))] + [c for c in TaskOutcome.choices if c[0]],
                                widget=forms.Select(attrs={"class": "form-select"}))
    household_no = forms.CharField(label=_("纳入的户编号"), required=False, max_length=32, widget=_text,
                                   help_text=_("核查结果为“已纳入低保”时填写"))
    reason = forms.CharField(label=_("说明 / 不符合条件的理由"), required=False, widget=_area, max_length=2000)

"""Forms of dynamic management: the review, the change proposal and the county's decision. Each
`service_kwargs()` is what its service in cases/reviews.py or cases/changes.py takes."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.changes import LEAVE_REASONS
from cases.models import ChangeKind, Household, Relation, ReviewOutcome
from dibao.forms import TextInputMixin
from dibao.models import Role, User
from dibao.validators import not_in_future

_date = forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")
_month = forms.DateInput(attrs={"type": "month", "class": "form-control"}, format="%Y-%m")
_area = forms.Textarea(attrs={"class": "form-control", "rows": 2})
_select = forms.Select(attrs={"class": "form-select"})
_money = forms.NumberInput(attrs={"class": "form-control", "step": "0.01"})
MONTH_FORMATS = ["%Y-%m", "%Y-%m-%d"]


class ChangeFields(TextInputMixin, forms.Form):
    """The proposal itself, on the change form and on a review that ends in a change."""

    kind = forms.ChoiceField(label=_("变更类型"), choices=[("", _("— 请选择 —"))] + list(ChangeKind.choices),
                             widget=_select, required=False)
    reason = forms.CharField(label=_("变更理由"), widget=_area, max_length=2000, required=False)
    effective_month = forms.DateField(label=_("生效月份"), input_formats=MONTH_FORMATS, widget=_month, required=False,
                                      help_text=_("默认本月"))
    # member ids of the household: a select on the page, the id in the API
    member = forms.IntegerField(label=_("成员（减员 / 单人保）"), required=False, widget=_select)
    leave_reason = forms.ChoiceField(label=_("减员原因"), required=False, widget=_select,
                                     choices=[("", "—")] + [(r, r) for r in LEAVE_REASONS])
    new_head = forms.IntegerField(label=_("新户主（户主减员时）"), required=False, widget=_select)
    new_name = forms.CharField(label=_("新增成员姓名"), max_length=50, required=False,
                               widget=forms.TextInput(attrs={"class": "form-control"}))
    new_id_number = forms.CharField(label=_("新增成员身份证号"), max_length=18, required=False,
                                    widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}))
    new_relation = forms.ChoiceField(label=_("与户主关系"), required=False, widget=_select,
                                     choices=[("", "—")] + [c for c in Relation.choices if c[0] != Relation.SELF])
    new_income = forms.DecimalField(label=_("新增成员月收入（元）"), required=False, min_value=0, decimal_places=2,
                                    widget=_money)
    exit_on = forms.DateField(label=_("退出日期"), required=False, widget=_date)
    income_above = forms.BooleanField(label=_("因收入超过保障标准退出（给予渐退期）"), required=False,
                                      widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))
    proposed_amount = forms.DecimalField(label=_("拟保障金额（元）"), required=False, min_value=0, decimal_places=2,
                                         widget=_money, help_text=_("不填则按测算金额"))
    amount_reason = forms.CharField(label=_("金额与测算不一致的理由"), widget=_area, max_length=2000, required=False)

    def set_household(self, household: Household) -> None:
        members = [(m.pk, f"{m.name}（{m.relation}）") for m in household.members.all()]
        self.fields["member"].widget.choices = [("", "—")] + members
        self.fields["new_head"].widget.choices = [("", "—")] + members

    def change_kwargs(self) -> dict:
        d = self.cleaned_data
        kind = d.get("kind") or ""
        payload = {}
        if kind == ChangeKind.ADD_MEMBER:
            payload["member"] = {"name": (d.get("new_name") or "").strip(), "id_number": d.get("new_id_number") or "",
                                 "relation": d.get("new_relation") or "",
                                 "monthly_income": None if d.get("new_income") is None else str(d["new_income"])}
        elif kind in (ChangeKind.REMOVE_MEMBER, ChangeKind.SINGLE_ON):
            payload = {"member_id": d.get("member"), "leave_reason": d.get("leave_reason") or "",
                       "new_head_id": d.get("new_head")}
        elif kind == ChangeKind.EXIT:
            payload = {"exit_on": d.get("exit_on"), "income_above": d.get("income_above", False)}
        return {"kind": kind, "reason": d.get("reason") or "", "effective_month": d.get("effective_month"),
                "payload": payload, "proposed_amount": d.get("proposed_amount"),
                "amount_reason": d.get("amount_reason") or ""}


class ChangeForm(ChangeFields):
    def __init__(self, *args, household: Household, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].required = self.fields["reason"].required = True
        self.set_household(household)

    def service_kwargs(self) -> dict:
        return self.change_kwargs()


class ReviewForm(ChangeFields):
    reviewed_on = forms.DateField(label=_("核查日期"), widget=_date, validators=[not_in_future])
    investigator_1 = forms.ModelChoiceField(label=_("调查人员一"), queryset=User.objects.none(), widget=_select)
    investigator_2 = forms.ModelChoiceField(label=_("调查人员二"), queryset=User.objects.none(), widget=_select)
    situation = forms.CharField(label=_("核查情况"), widget=_area, max_length=4000)
    outcome = forms.ChoiceField(label=_("核查结论"), choices=ReviewOutcome.choices,
                                widget=forms.RadioSelect(attrs={"class": "form-check-input"}))

    def __init__(self, *args, household: Household, **kwargs):
        super().__init__(*args, **kwargs)
        self.household = household
        self.set_household(household)
        people = User.objects.filter(is_active=True, groups__name=Role.CASEWORKER,
                                     region__code__startswith=household.township_code).order_by("username")
        self.fields["investigator_1"].queryset = self.fields["investigator_2"].queryset = people
        self.members = list(household.members.all())
        for m in self.members:
            self.fields[f"income_{m.pk}"] = forms.DecimalField(
                label=_("%(n)s 月收入（元）") % {"n": m.name}, required=False, min_value=0, decimal_places=2,
                widget=_money, initial=m.monthly_income)

    def income_fields(self):
        return [self[f"income_{m.pk}"] for m in self.members]

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {"reviewed_on": d["reviewed_on"], "investigators": [d["investigator_1"], d["investigator_2"]],
                "situation": d["situation"], "outcome": d["outcome"],
                "incomes": {m.pk: d.get(f"income_{m.pk}") for m in self.members},
                "change": self.change_kwargs() if d["outcome"] == ReviewOutcome.CHANGE else None}


class ConfirmForm(TextInputMixin, forms.Form):
    decided_on = forms.DateField(label=_("确认日期"), required=False, widget=_date, validators=[not_in_future])

    def service_kwargs(self) -> dict:
        return {"decided_on": self.cleaned_data.get("decided_on")}


class RefuseForm(ConfirmForm):
    reason = forms.CharField(label=_("不予确认理由"), widget=_area, max_length=2000)

    def service_kwargs(self) -> dict:
        return {**super().service_kwargs(), "reason": self.cleaned_data["reason"]}

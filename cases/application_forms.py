"""Forms of the application's step pages: what a caseworker or county reviewer types; the
step's rules are in cases.applications and come back as errors next to these fields."""
from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.benefits import single_coverage_eligible
from cases.forms import DATE_WIDGET, bootstrap_widgets
from cases.models import Application, ProposalDecision
from dibao.forms import TextInputMixin
from dibao.models import User

TEXTAREA = forms.Textarea(attrs={"rows": 3})
SCAN_HELP = _("JPG、PNG 或 PDF，不超过 5 MB；系统记录文件的 SHA-256 指纹")


class StepForm(TextInputMixin, forms.Form):
    """A step form; `service_kwargs()` is what the step's service takes."""

    def __init__(self, *args, application: Application | None = None, **kwargs):
        self.application = application
        super().__init__(*args, **kwargs)
        bootstrap_widgets(self)

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class AcceptForm(StepForm):
    accepted_on = forms.DateField(label=_("受理日期"), widget=DATE_WIDGET, initial=timezone.localdate, required=False)
    declared_assets = forms.CharField(label=_("申报财产情况"), required=False, widget=TEXTAREA,
                                      help_text=_("存款、车辆、房产、经营等，按申请人申报填写"))
    authorisation = forms.FileField(label=_("家庭经济状况核对授权书（签字扫描件）"), help_text=SCAN_HELP)


class IntakeForm(AcceptForm):
    head_monthly_income = forms.DecimalField(label=_("户主月收入（元）"), required=False, min_value=0, decimal_places=2,
                                             help_text=_("其他成员的收入在成员表中填写"))


class NotAcceptForm(StepForm):
    decided_on = forms.DateField(label=_("告知日期"), widget=DATE_WIDGET, initial=timezone.localdate, required=False)
    reason = forms.CharField(label=_("不予受理理由"), widget=TEXTAREA)


def _township_users(application: Application):
    return (User.objects.filter(is_active=True, region__code__startswith=application.household.township_code)
            .order_by("full_name", "username"))


class VisitForm(StepForm):
    visited_on = forms.DateField(label=_("入户调查日期"), widget=DATE_WIDGET)
    investigator_1 = forms.ModelChoiceField(queryset=User.objects.none(), label=_("调查人员一"))
    investigator_2 = forms.ModelChoiceField(queryset=User.objects.none(), label=_("调查人员二"))
    members_present = forms.CharField(label=_("在场家庭成员"))
    housing = forms.CharField(label=_("住房情况"), widget=TEXTAREA)
    income = forms.CharField(label=_("收入情况"), widget=TEXTAREA)
    assets = forms.CharField(label=_("财产情况"), widget=TEXTAREA)
    survey = forms.FileField(label=_("入户调查表（调查人员与申请人签字扫描件）"), help_text=SCAN_HELP)
    photo = forms.FileField(label=_("入户照片"), required=False, help_text=SCAN_HELP)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        users = _township_users(self.application)
        for name in ("investigator_1", "investigator_2"):
            self.fields[name].queryset = users
            self.fields[name].label_from_instance = lambda u: f"{u.full_name or u.username}（{u.role_label}）"

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data["investigators"] = [data.pop("investigator_1"), data.pop("investigator_2")]
        photo = data.pop("photo")
        data["photos"] = [photo] if photo else []
        return data


class AppraiseForm(StepForm):
    appraised_on = forms.DateField(label=_("民主评议日期"), widget=DATE_WIDGET)
    participants = forms.CharField(label=_("参加人员"), widget=TEXTAREA,
                                   help_text=_("乡镇、村（居）干部和群众代表的姓名或人数"))
    result = forms.CharField(label=_("评议结果（表决情况）"), widget=TEXTAREA)
    minutes = forms.FileField(label=_("民主评议记录（扫描件）"), help_text=SCAN_HELP)


class ProposeForm(StepForm):
    proposal = forms.ChoiceField(label=_("乡镇审核意见"), choices=ProposalDecision.choices, widget=forms.RadioSelect)
    proposed_on = forms.DateField(label=_("审核意见日期"), widget=DATE_WIDGET, initial=timezone.localdate, required=False)
    # the members who qualify are offered; the service checks the number whatever the client sends
    single_coverage_id_number = forms.CharField(label=_("单人保对象身份证号"), required=False, widget=forms.Select,
                                                help_text=_("边缘家庭中的重度残疾或重病成员可单独纳入，按一人户计算"))
    proposed_amount = forms.DecimalField(label=_("拟保障金额（元/月）"), required=False, min_value=0, decimal_places=2,
                                         help_text=_("留空即按测算金额；填写不同金额须写明理由"))
    amount_reason = forms.CharField(label=_("金额与测算不一致的理由"), required=False, widget=TEXTAREA)
    refusal_reasons = forms.CharField(label=_("拟不予批准理由"), required=False, widget=TEXTAREA)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        eligible = [m for m in self.application.household.members.all() if single_coverage_eligible(m)]
        self.fields["single_coverage_id_number"].widget.choices = [("", _("不适用（全家保障）"))] + [
            (m.id_number, f"{m.name}（{m.id_masked}）") for m in eligible]
        self.fields["proposal"].widget.attrs.pop("class", None)


class NoticeForm(StepForm):
    started_on = forms.DateField(label=_("公示开始日期"), widget=DATE_WIDGET, initial=timezone.localdate, required=False,
                                 help_text=_("在村（居）公示栏张贴之日；公示 7 日期满后报县级确认"))


class ObjectionForm(StepForm):
    received_on = forms.DateField(label=_("收到异议日期"), widget=DATE_WIDGET, initial=timezone.localdate, required=False)
    content = forms.CharField(label=_("异议内容"), widget=TEXTAREA,
                              help_text=_("登记后申请退回入户调查，须重新调查、民主评议并重新公示"))


class CountyVisitForm(StepForm):
    visited_on = forms.DateField(label=_("县级入户核查日期"), widget=DATE_WIDGET)
    findings = forms.CharField(label=_("核查情况"), widget=TEXTAREA)
    record = forms.FileField(label=_("核查记录（扫描件）"), required=False, help_text=SCAN_HELP)


class ConfirmForm(StepForm):
    first_month = forms.DateField(label=_("起始保障月份"), required=False, input_formats=["%Y-%m"],
                                  widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
                                  help_text=_("留空为确认当月"))


class RefuseForm(StepForm):
    reasons = forms.CharField(label=_("不予批准理由"), widget=TEXTAREA,
                              help_text=_("将写入不予批准通知书，告知申请家庭"))


class NotifyForm(StepForm):
    notified_on = forms.DateField(label=_("书面通知送达日期"), widget=DATE_WIDGET, initial=timezone.localdate, required=False)


class ExtendForm(StepForm):
    reason = forms.CharField(label=_("延期理由"), widget=TEXTAREA,
                             help_text=_("办理时限由 30 个工作日延长至 45 个工作日，只能延长一次"))


class AttachForm(StepForm):
    kind = forms.ChoiceField(label=_("材料类型"))
    upload = forms.FileField(label=_("文件"), help_text=SCAN_HELP)

    def __init__(self, *args, **kwargs):
        from cases.models import AttachmentKind
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = AttachmentKind.choices

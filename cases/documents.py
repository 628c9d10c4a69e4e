"""The standard documents (规范文书) of an application, built from what its steps recorded.

Each document is one `Document`: a title, the issuing office, labelled facts, at most one table,
paragraphs and signature lines. The same object renders as the A4 print page
(templates/cases/document_print.html) and as a .docx filled from the Word template
cases/docx_templates/<key>.docx (docxtpl). The templates are made once by
scripts/make_docx_templates.py; an office may replace one with its own letterhead in Word as long
as it keeps the {{ … }} fields, without any change here.

ID numbers: in full only for a role that may see them (`household.reveal_id`) and never on the
public notice sheet (公示), which shows them masked like the public notice pages.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import (
    Application, ApplicationDecision, ApplicationState, ApplicationStep, ChangeKind, ChangeState, HouseholdChange,
    Status,
)
from dibao import idnumber
from dibao.audit import audit_record
from dibao.permissions import can, require

TEMPLATE_DIR = Path(__file__).resolve().parent / "docx_templates"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class Document:
    key: str
    title: str
    issuer: str
    tracking_no: str
    step: str
    fields: list[dict] = field(default_factory=list)           # [{"label", "value"}]
    table: dict | None = None                                   # {"caption", "headers", "rows"}
    paragraphs: list[str] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)
    printed_on: str = ""

    def context(self) -> dict:
        return {"title": self.title, "issuer": self.issuer, "tracking_no": self.tracking_no, "step": self.step,
                "fields": self.fields, "table": self.table, "paragraphs": self.paragraphs,
                "signatures": self.signatures, "printed_on": self.printed_on}


@dataclass(frozen=True)
class DocumentKind:
    key: str
    title: object
    step: str
    available: Callable[[Application], bool]
    build: Callable[["_Facts"], None]
    public: bool = False

    @property
    def step_label(self) -> str:
        return str(ApplicationStep(self.step).label)


# --- the facts every document draws on ------------------------------------------------------------

def _name(user) -> str:
    return str(user) if user else ""


def _day(value: dt.date | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def _yuan(value) -> str:
    return _("%(v)s 元") % {"v": f"{value:,.2f}"} if value is not None else ""


class _Facts:
    """One application's facts, with ID numbers shown as the reader may see them."""

    def __init__(self, app: Application, *, full_ids: bool, doc: Document):
        self.app, self.household, self.doc = app, app.household, doc
        self.full_ids = full_ids
        self.members = list(self.household.members.all())

    def id_of(self, number: str) -> str:
        return number if self.full_ids else idnumber.mask_id(number)

    def add(self, label, value) -> None:
        self.doc.fields.append({"label": str(label), "value": "" if value is None else str(value)})

    def household_fields(self) -> None:
        h = self.household
        self.add(_("户主姓名"), h.head_name)
        self.add(_("户主身份证号"), self.id_of(h.head_id_number))
        self.add(_("户编号"), h.household_no)
        self.add(_("户籍地"), h.region.full_name)
        self.add(_("保障类别"), h.get_category_display())
        self.add(_("联系电话"), h.phone)

    def members_table(self, *, with_income: bool = True) -> None:
        headers = [_("姓名"), _("与户主关系"), _("身份证号"), _("残疾/重病"), _("劳动能力")]
        if with_income:
            headers.append(_("月收入（元）"))
        rows = []
        for m in self.members:
            health = " ".join(filter(None, [m.disability_category and f"{m.disability_category}"
                                            f"{m.get_disability_level_display() or ''}",
                                            _("重病") if m.serious_illness else ""]))
            row = [m.name, m.relation, self.id_of(m.id_number), health or _("无"), m.labour_capacity or ""]
            if with_income:
                row.append(f"{m.monthly_income:,.2f}" if m.monthly_income is not None else "0.00")
            rows.append([str(c) for c in row])
        self.doc.table = {"caption": str(_("家庭成员")), "headers": [str(h) for h in headers], "rows": rows}


def _township_office(app: Application) -> str:
    township = app.household.region if len(app.household.region_id) == 9 else app.household.region.parent
    return _("%(name)s人民政府") % {"name": township.name}


def _county_office(app: Application) -> str:
    county = app.household.region
    while county is not None and len(county.code) > 6:
        county = county.parent
    return _("%(name)s民政局") % {"name": county.name if county else ""}


# --- the documents -------------------------------------------------------------------------------

def _accept_notice(f: _Facts) -> None:
    a = f.app
    f.household_fields()
    f.add(_("受理日期"), _day(a.accepted_on))
    f.add(_("受理人"), _name(a.accepted_by))
    f.add(_("办结时限"), _day(a.process_due_on))
    f.doc.paragraphs = [
        _("%(name)s：您（户）的最低生活保障申请材料齐全，经审查，本机关已于 %(day)s 依法受理。"
          "我们将进行家庭经济状况核对、入户调查，必要时组织民主评议，并在村（居）公示，"
          "办理结果将书面告知。") % {"name": f.household.head_name, "day": _day(a.accepted_on)},
    ]
    f.doc.signatures = [_("受理人"), _("申请人签收")]


def _not_accept_notice(f: _Facts) -> None:
    a = f.app
    f.household_fields()
    f.add(_("告知日期"), _day(a.accepted_on))
    f.add(_("经办人"), _name(a.accepted_by))
    f.add(_("不予受理理由"), a.not_accepted_reason)
    f.doc.paragraphs = [
        _("%(name)s：您（户）的最低生活保障申请，因以下原因本机关决定不予受理：%(reason)s。"
          "如有异议，可自收到本告知书之日起依法申请行政复议或提起行政诉讼。") % {
            "name": f.household.head_name, "reason": a.not_accepted_reason},
    ]
    f.doc.signatures = [_("经办人"), _("申请人签收")]


def _authorisation(f: _Facts) -> None:
    f.household_fields()
    f.members_table(with_income=False)
    f.doc.paragraphs = [
        _("本人及共同生活的家庭成员自愿申请最低生活保障，授权民政部门及其委托的机构，向公安、人力资源社会保障、"
          "自然资源、住房城乡建设、市场监管、税务、金融机构等单位核对本家庭的户籍、收入和财产状况，"
          "并承诺所提供的信息真实、完整。如有虚报、隐瞒、伪造，愿承担相应法律责任。"),
        _("家庭成员均须本人签字（无民事行为能力人由监护人代签）。"),
    ]
    f.doc.signatures = [str(_("%(name)s 签字") % {"name": m.name}) for m in f.members] or [_("申请人签字")]


def _survey(f: _Facts) -> None:
    a = f.app
    f.household_fields()
    f.add(_("调查日期"), _day(a.visited_on))
    f.add(_("调查人员"), "、".join(filter(None, [_name(a.investigator_1), _name(a.investigator_2)])))
    f.add(_("在场家庭成员"), a.visit_members_present)
    f.add(_("住房情况"), a.visit_housing)
    f.add(_("收入情况"), a.visit_income)
    f.add(_("财产情况"), a.visit_assets)
    f.add(_("申报财产情况"), a.declared_assets)
    f.members_table()
    f.doc.signatures = [_("调查人员一"), _("调查人员二"), _("被调查人")]


def _appraisal(f: _Facts) -> None:
    a = f.app
    f.household_fields()
    f.add(_("评议日期"), _day(a.appraised_on))
    f.add(_("参加人员"), a.appraisal_participants)
    f.add(_("评议结果（表决情况）"), a.appraisal_result)
    f.doc.signatures = [_("主持人"), _("记录人")]


def _notice(f: _Facts) -> None:
    """The village board sheet: public, so ID numbers masked whoever prints it."""
    a = f.app
    f.add(_("户主姓名"), f.household.head_name)
    f.add(_("户籍地"), f.household.region.full_name)
    f.add(_("保障人数"), a.covered_persons or len(f.members))
    f.add(_("拟保障金额（每月）"), _yuan(a.proposed_amount))
    f.add(_("公示期"), _("%(start)s 至 %(end)s") % {"start": _day(a.notice_started_on), "end": _day(a.notice_ends_on)})
    rows = [[m.name, m.relation, idnumber.mask_id(m.id_number)] for m in f.members]
    f.doc.table = {"caption": str(_("家庭成员")), "headers": [str(_("姓名")), str(_("与户主关系")), str(_("身份证号"))],
                   "rows": rows}
    f.doc.paragraphs = [
        _("以上家庭申请最低生活保障，经入户调查和乡镇（街道）审核，拟予批准，现予公示。"
          "公示期内如有异议，请向乡镇（街道）或县级民政部门反映。"),
    ]
    f.doc.signatures = [_("公示登记人 %(name)s") % {"name": _name(a.notice_by)}]


def _approval_form(f: _Facts) -> None:
    a = f.app
    f.household_fields()
    f.add(_("受理日期 / 受理人"), f"{_day(a.accepted_on)} {_name(a.accepted_by)}")
    f.add(_("入户调查"), f"{_day(a.visited_on)} {'、'.join(filter(None, [_name(a.investigator_1), _name(a.investigator_2)]))}")
    if a.appraised_on:
        f.add(_("民主评议"), f"{_day(a.appraised_on)} {a.appraisal_result}")
    f.add(_("乡镇审核意见"), f"{a.get_proposal_display()} {_day(a.proposed_on)} {_name(a.proposed_by)}")
    f.add(_("测算金额"), _yuan(a.computed_amount))
    f.add(_("测算过程"), a.amount_working)
    f.add(_("拟保障金额"), _yuan(a.proposed_amount))
    if a.amount_reason:
        f.add(_("金额与测算不一致的理由"), a.amount_reason)
    f.add(_("保障人数"), a.covered_persons or "")
    if a.single_coverage_id_number:
        f.add(_("单人保对象身份证号"), f.id_of(a.single_coverage_id_number))
    if a.refusal_reasons:
        f.add(_("拟不予批准理由"), a.refusal_reasons)
    f.add(_("公示期"), f"{_day(a.notice_started_on)} — {_day(a.notice_ends_on)}")
    f.add(_("县级确认结果"), a.get_decision_display() if a.decision else _("待确认"))
    f.add(_("核定月保障金额"), _yuan(a.decided_amount))
    f.add(_("起始保障月份"), a.first_month.strftime("%Y-%m") if a.first_month else "")
    f.add(_("确认人 / 日期"), f"{_name(a.decided_by)} {_day(a.decided_on)}")
    f.members_table()
    f.doc.signatures = [_("乡镇（街道）审核人"), _("县级民政部门确认人")]


def _refusal_notice(f: _Facts) -> None:
    a = f.app
    f.household_fields()
    f.add(_("决定日期"), _day(a.decided_on))
    f.add(_("确认人"), _name(a.decided_by))
    f.add(_("不予批准理由"), a.decision_reasons)
    f.doc.paragraphs = [
        _("%(name)s：您（户）的最低生活保障申请，经审核确认，决定不予批准，理由如下：%(reasons)s。"
          "如对本决定不服，可自收到本通知书之日起六十日内申请行政复议，或六个月内提起行政诉讼。") % {
            "name": f.household.head_name, "reasons": a.decision_reasons},
    ]
    f.doc.signatures = [_("经办人"), _("申请人签收")]


def _relative_filing(f: _Facts) -> None:
    f.household_fields()
    rows = [[r.staff.name, r.staff.get_staff_type_display(), r.staff.employer, r.relative_name, r.relation,
             f.id_of(r.relative_id_number), _day(r.filed_on)]
            for r in f.household.relative_filings.select_related("staff").order_by("filed_on", "id")]
    f.doc.table = {"caption": str(_("近亲属备案")),
                   "headers": [str(h) for h in (_("备案人"), _("人员类别"), _("工作单位"), _("亲属姓名"), _("关系"),
                                                _("亲属身份证号"), _("备案日期"))],
                   "rows": rows}
    f.doc.paragraphs = [_("备案人的近亲属申请或享受最低生活保障，备案人应当回避相关审核确认工作；"
                          "县级民政部门对其家庭 100% 入户核查。")]
    f.doc.signatures = [_("备案人"), _("经办人")]


def _accepted(app: Application) -> bool:
    return app.state != ApplicationState.NOT_ACCEPTED


KINDS: dict[str, DocumentKind] = {k.key: k for k in (
    DocumentKind("accept_notice", gettext_lazy("受理通知书"), ApplicationStep.ACCEPT, _accepted, _accept_notice),
    DocumentKind("not_accept_notice", gettext_lazy("不予受理告知书"), ApplicationStep.ACCEPT,
                 lambda a: a.state == ApplicationState.NOT_ACCEPTED, _not_accept_notice),
    DocumentKind("authorisation", gettext_lazy("家庭经济状况核对授权书"), ApplicationStep.ACCEPT, _accepted,
                 _authorisation),
    DocumentKind("survey", gettext_lazy("入户调查表"), ApplicationStep.VISIT, _accepted, _survey),
    DocumentKind("appraisal", gettext_lazy("民主评议记录表"), ApplicationStep.APPRAISE,
                 lambda a: a.appraised_on is not None, _appraisal),
    DocumentKind("notice", gettext_lazy("低保公示（村务公开栏）"), ApplicationStep.NOTICE,
                 lambda a: a.notice_started_on is not None, _notice, public=True),
    DocumentKind("approval_form", gettext_lazy("最低生活保障审核确认审批表"), ApplicationStep.DECIDE,
                 lambda a: a.proposed_on is not None, _approval_form),
    DocumentKind("refusal_notice", gettext_lazy("不予批准通知书"), ApplicationStep.NOTIFY,
                 lambda a: a.decision == ApplicationDecision.REFUSED, _refusal_notice),
    DocumentKind("relative_filing", gettext_lazy("近亲属备案表"), ApplicationStep.ACCEPT,
                 lambda a: a.household.relative_filings.exists(), _relative_filing),
)}
_COUNTY_ISSUED = {"approval_form", "refusal_notice"}


def documents_for(app: Application) -> list[DocumentKind]:
    """The documents this application's recorded steps produce, in step order."""
    return [kind for kind in KINDS.values() if kind.available(app)]


def build(app: Application, key: str, *, user) -> Document:
    kind = KINDS.get(key)
    if kind is None or not kind.available(app):
        raise Http404(_("该申请还没有“%(doc)s”") % {"doc": kind.title if kind else key})
    issuer = _county_office(app) if key in _COUNTY_ISSUED else _township_office(app)
    doc = Document(key=key, title=str(kind.title), issuer=str(issuer), tracking_no=app.tracking_no,
                   step=kind.step_label,
                   printed_on=timezone.localdate().strftime("%Y-%m-%d"))
    full_ids = not kind.public and can(user, "household.reveal_id", region_code=app.household.region_id)
    kind.build(_Facts(app, full_ids=full_ids, doc=doc))
    doc.signatures = [str(s) for s in doc.signatures]
    doc.paragraphs = [str(p) for p in doc.paragraphs]
    return doc


def render_docx(doc: Document) -> bytes:
    from docxtpl import DocxTemplate

    template = DocxTemplate(TEMPLATE_DIR / f"{doc.key}.docx")
    template.render(doc.context(), autoescape=True)
    out = io.BytesIO()
    template.save(out)
    return out.getvalue()


@transaction.atomic
def document_download(*, actor, application: Application, key: str) -> tuple[str, bytes]:
    """The .docx of one document, with the file's SHA-256 in the audit trail so a printed or
    forwarded copy can be matched to who took it and when."""
    app = Application.objects.select_related("household__region").get(pk=application.pk)
    require(actor, "application.document", region_code=app.household.region_id)
    doc = build(app, key, user=actor)
    content = render_docx(doc)
    sha256 = hashlib.sha256(content).hexdigest()
    audit_record(actor=actor, action="application.document", object_type="application", object_id=app.pk,
                 region_code=app.household.region_id,
                 after={"document": key, "title": doc.title, "sha256": sha256, "size": len(content)},
                 note=f"{app.tracking_no} {doc.title}")
    return f"{app.tracking_no}-{doc.title}.docx", content


# --- the documents of a change (变更 / 停发 / 退出通知书) ------------------------------------------------
# A change is not an application, but its documents are built by the same `_Facts` (it reads only
# `.household`) and rendered by the same print page and Word templates.

@dataclass(frozen=True)
class ChangeDocumentKind:
    key: str
    title: object
    available: Callable[[HouseholdChange], bool]
    build: Callable[["_Facts"], None]


def _change_facts(f: _Facts) -> None:
    c = f.app
    f.household_fields()
    f.add(_("变更编号"), c.tracking_no)
    f.add(_("变更类型"), c.get_kind_display())
    f.add(_("变更理由"), c.reason)
    f.add(_("生效月份"), c.effective_month.strftime("%Y-%m"))
    f.add(_("提出人 / 日期"), f"{_name(c.proposed_by)} {_day(c.proposed_on)}")
    f.add(_("确认人 / 日期"), f"{_name(c.decided_by)} {_day(c.decided_on)}")


def _change_notice(f: _Facts) -> None:
    c = f.app
    _change_facts(f)
    if c.proposed_amount is not None:
        f.add(_("变更前月保障金额"), _yuan(c.amount_before))
        f.add(_("测算过程"), c.amount_working)
        f.add(_("变更后月保障金额"), _yuan(c.proposed_amount))
        f.add(_("保障人数"), c.covered_persons or "")
    text = _("%(name)s：经审核确认，您（户）的最低生活保障自 %(m)s 起办理%(kind)s。") % {
        "name": f.household.head_name, "m": c.effective_month.strftime("%Y年%m月"), "kind": c.get_kind_display()}
    if c.proposed_amount is not None:
        text += _("月保障金额调整为 %(a)s。") % {"a": _yuan(c.proposed_amount)}
    if c.grace:
        f.add(_("渐退期"), _("至 %(d)s") % {"d": _day(f.household.planned_exit_on)})
        text = _("%(name)s：经审核确认，您（户）家庭收入已超过当地保障标准，给予渐退期，保障金照发至 %(d)s，"
                 "期满后退出最低生活保障。") % {"name": f.household.head_name, "d": _day(f.household.planned_exit_on)}
    f.members_table()
    f.doc.paragraphs = [text, _("如对本决定不服，可自收到本通知书之日起六十日内申请行政复议，或六个月内提起行政诉讼。")]
    f.doc.signatures = [_("经办人"), _("保障对象签收")]


def _stop_notice(f: _Facts) -> None:
    c = f.app
    _change_facts(f)
    f.doc.paragraphs = [
        _("%(name)s：因%(reason)s，经审核确认，自 %(m)s 起暂停发放您（户）的最低生活保障金，待情况核实后依规恢复或办理退出。")
        % {"name": f.household.head_name, "reason": c.reason, "m": c.effective_month.strftime("%Y年%m月")},
        _("如对本决定不服，可自收到本通知书之日起六十日内申请行政复议，或六个月内提起行政诉讼。")]
    f.doc.signatures = [_("经办人"), _("保障对象签收")]


def _exit_notice(f: _Facts) -> None:
    c, h = f.app, f.household
    _change_facts(f)
    f.add(_("退出日期"), _day(h.exited_on))
    f.doc.paragraphs = [
        _("%(name)s：经审核确认，您（户）自 %(d)s 起退出最低生活保障，原因：%(reason)s。")
        % {"name": h.head_name, "d": _day(h.exited_on), "reason": c.reason},
        _("如对本决定不服，可自收到本通知书之日起六十日内申请行政复议，或六个月内提起行政诉讼。")]
    f.doc.signatures = [_("经办人"), _("保障对象签收")]


def _confirmed(change: HouseholdChange) -> bool:
    return change.state == ChangeState.CONFIRMED


CHANGE_KINDS: dict[str, ChangeDocumentKind] = {k.key: k for k in (
    ChangeDocumentKind("change_notice", gettext_lazy("低保变更通知书"),
                       lambda c: _confirmed(c) and (c.kind not in (ChangeKind.SUSPEND, ChangeKind.EXIT) or c.grace),
                       _change_notice),
    ChangeDocumentKind("stop_notice", gettext_lazy("低保停发通知书"),
                       lambda c: _confirmed(c) and c.kind == ChangeKind.SUSPEND, _stop_notice),
    ChangeDocumentKind("exit_notice", gettext_lazy("低保退出通知书"),
                       lambda c: _confirmed(c) and c.kind == ChangeKind.EXIT and c.household.status == Status.EXITED,
                       _exit_notice),
)}


def change_documents_for(change: HouseholdChange) -> list[ChangeDocumentKind]:
    return [kind for kind in CHANGE_KINDS.values() if kind.available(change)]


def build_change(change: HouseholdChange, key: str, *, user) -> Document:
    kind = CHANGE_KINDS.get(key)
    if kind is None or not kind.available(change):
        raise Http404(_("该变更还没有“%(doc)s”") % {"doc": kind.title if kind else key})
    doc = Document(key=key, title=str(kind.title), issuer=str(_county_office(change)), tracking_no=change.tracking_no,
                   step=str(change.get_kind_display()), printed_on=timezone.localdate().strftime("%Y-%m-%d"))
    full_ids = can(user, "household.reveal_id", region_code=change.household.region_id)
    kind.build(_Facts(change, full_ids=full_ids, doc=doc))
    doc.signatures = [str(s) for s in doc.signatures]
    doc.paragraphs = [str(p) for p in doc.paragraphs]
    return doc


@transaction.atomic
def change_document_issue(*, actor, change: HouseholdChange, key: str) -> tuple[str, bytes]:
    """The .docx of a change's document, its SHA-256 in the trail (a download, or the notice the
    渐退 task issues when the exit takes effect)."""
    change = HouseholdChange.objects.select_related("household__region").get(pk=change.pk)
    require(actor, "change.document", region_code=change.household.region_id)
    doc = build_change(change, key, user=actor)
    content = render_docx(doc)
    audit_record(actor=actor, action="change.document", object_type="householdchange", object_id=change.pk,
                 region_code=change.household.region_id,
                 after={"document": key, "title": doc.title, "sha256": hashlib.sha256(content).hexdigest(),
                        "size": len(content)},
                 note=f"{change.tracking_no} {doc.title}")
    return f"{change.tracking_no}-{doc.title}.docx", content

"""Who may do what: the one permission table, and the check every service makes.

`PERMISSIONS` maps each action to the roles that may take it; `require(actor, action,
region_code=...)` combines that role check with the jurisdiction predicate `in_scope`
against the row the service acts on. Services call `require` after re-fetching their
object; views, API permission classes, navigation and templates ask `can(user, action)`
so a button is shown exactly when the service would accept the click. A new action or
endpoint without a row here fails the permission matrix test (tests/test_permission_matrix.py).

Rules that are not about role and region — recusal (回避), maker ≠ checker, "only the
receiving body" — stay with the service that knows the row, and say so in their message.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dibao.models import Role
from dibao.scoping import in_scope

CW, CR, SV, IN, AD = Role.CASEWORKER, Role.COUNTY_REVIEWER, Role.SUPERVISOR, Role.INSPECTOR, Role.ADMIN
STAFF = frozenset({CW, CR, SV, AD})  # the civil-affairs roles; inspectors see only what is referred to them


def _p(roles, label):
    return frozenset(roles), label


# action → (roles that may take it, what it is, said as "您的角色不能{label}")
PERMISSIONS: dict[str, tuple[frozenset, object]] = {
    # registry (cases)
    "household.view": _p(STAFF, gettext_lazy("查看低保家庭档案")),
    "household.create": _p({CW, CR, AD}, gettext_lazy("新增低保家庭")),
    "household.update": _p({CW, CR, AD}, gettext_lazy("修改低保家庭档案")),
    # Full ID numbers on screen (each reveal audited); everybody else sees them masked.
    "household.reveal_id": _p({CW, CR, IN, AD}, gettext_lazy("查看完整身份证号")),
    "staff.view": _p(STAFF, gettext_lazy("查看工作人员名册")),
    "staff.manage": _p({CW, CR, AD}, gettext_lazy("维护工作人员名册")),
    "filing.view": _p(STAFF, gettext_lazy("查看近亲属备案")),
    "filing.manage": _p({CW, CR, AD}, gettext_lazy("登记近亲属备案")),
    # applications (低保申请): the township works the steps, the county confirms
    "application.view": _p(STAFF, gettext_lazy("查看低保申请")),
    "application.accept": _p({CW, AD}, gettext_lazy("受理低保申请")),
    "application.visit": _p({CW, AD}, gettext_lazy("登记入户调查")),
    "application.appraise": _p({CW, AD}, gettext_lazy("登记民主评议")),
    "application.propose": _p({CW, AD}, gettext_lazy("提出乡镇审核意见")),
    "application.notice": _p({CW, AD}, gettext_lazy("登记公示和公示异议")),
    "application.county_visit": _p({CR}, gettext_lazy("登记县级入户核查")),
    "application.confirm": _p({CR, AD}, gettext_lazy("确认或不予批准低保申请")),
    "application.notify": _p({CW, CR, AD}, gettext_lazy("登记通知申请家庭")),
    "application.extend": _p({CW, CR, AD}, gettext_lazy("延长办理时限")),
    "application.document": _p(STAFF, gettext_lazy("查看和下载低保申请文书")),
    # dynamic management (动态管理): the township reviews and proposes changes, the county confirms
    "review.view": _p(STAFF, gettext_lazy("查看定期核查")),
    "review.record": _p({CW, AD}, gettext_lazy("登记定期核查")),
    "change.view": _p(STAFF, gettext_lazy("查看低保变更")),
    "change.propose": _p({CW, AD}, gettext_lazy("提出低保变更")),
    "change.confirm": _p({CR, AD}, gettext_lazy("确认或不予确认低保变更")),
    "change.document": _p(STAFF, gettext_lazy("查看和下载变更文书")),
    # benefit standards (保障标准) and 调标: set by the province/city/county bureau, imported by admin;
    # a re-rating is prepared by one county user and confirmed by another (checked in the service)
    "standard.view": _p(STAFF, gettext_lazy("查看保障标准")),
    "rerate.prepare": _p({CR, AD}, gettext_lazy("编制调标清单")),
    "rerate.confirm": _p({CR, AD}, gettext_lazy("确认调标")),
    # the money (payments.md): the county makes a month's roll, another county user approves it,
    # the county takes the bank's return; supervisors read rolls and reconciliation
    "payroll.view": _p({CR, SV, AD}, gettext_lazy("查看发放名册和对账")),
    "payroll.create": _p({CR, AD}, gettext_lazy("编制发放名册")),
    "payroll.approve": _p({CR, AD}, gettext_lazy("审批发放名册")),
    # payment verification (回访核实): the county or a supervisor draws the sample, the township calls or visits
    "payment_verify.view": _p(STAFF, gettext_lazy("查看回访核实")),
    "payment_verify.draw": _p({CR, SV, AD}, gettext_lazy("抽取回访核实样本")),
    "payment_verify.record": _p({CW, CR, AD}, gettext_lazy("登记回访核实结果")),
    "payments.import": _p({CR, AD}, gettext_lazy("导入发放记录")),
    # imports
    "import.view": _p({CW, CR, AD}, gettext_lazy("查看数据导入记录")),
    "import.registry": _p({CW, CR, AD}, gettext_lazy("导入低保档案数据")),
    "import.reference": _p({AD}, gettext_lazy("导入比对数据")),
    "import.standards": _p({AD}, gettext_lazy("导入保障标准")),
    # a registry file that sets status, decision dates, amounts or exits bypasses the steps
    "import.legacy_migration": _p({AD}, gettext_lazy("导入在保、退出、未通过等审批结果（历史数据迁移）")),
    "export.registry": _p({CW, CR, AD}, gettext_lazy("导出低保档案数据")),
    # rescreening and review (audits)
    "rescreen.view": _p(STAFF, gettext_lazy("查看复核比对批次")),
    "rescreen.start": _p({CR, SV, AD}, gettext_lazy("发起复核比对")),
    "finding.view": _p({CR, SV, AD}, gettext_lazy("查看疑点")),
    "finding.review": _p({CR, AD}, gettext_lazy("复核疑点")),
    "export.findings": _p({CR, SV, AD}, gettext_lazy("导出疑点清单")),
    "task.view": _p({CW, CR, SV, AD}, gettext_lazy("查看五类人群核查任务")),
    "task.complete": _p({CW, CR, AD}, gettext_lazy("办理核查任务")),
    "entry_check.run": _p({CW, CR, AD}, gettext_lazy("进行入口核对")),
    # screening campaigns (专项排查): a county, city or province organises; the township screens and signs off
    "campaign.view": _p(STAFF, gettext_lazy("查看专项排查")),
    "campaign.create": _p({CR, SV, AD}, gettext_lazy("发起专项排查")),
    "campaign.screen": _p({CW}, gettext_lazy("登记排查记录")),
    "campaign.signoff": _p({CW}, gettext_lazy("确认上报乡镇排查结果")),
    "campaign.accept": _p({CR}, gettext_lazy("确认或退回乡镇排查结果")),
    # dispatch (日调度日通报, 约谈, 报送): supervisors watch and summon; the regions below upload what they owe
    "bulletin.view": _p({CR, SV, AD}, gettext_lazy("查看日调度通报")),
    "bulletin.make": _p({SV, AD}, gettext_lazy("生成日调度通报")),
    "summons.record": _p({SV, AD}, gettext_lazy("登记约谈")),
    "report_request.view": _p({CR, SV, AD}, gettext_lazy("查看报送任务")),
    "report_request.create": _p({SV, AD}, gettext_lazy("布置报送任务")),
    "report_submission.upload": _p({CR, SV, AD}, gettext_lazy("上传报送材料")),
    # complaints, clues, discipline
    "complaint.view": _p(STAFF, gettext_lazy("查看投诉举报")),
    "complaint.handle": _p(STAFF, gettext_lazy("办理投诉举报")),
    "hotline.view": _p(STAFF, gettext_lazy("查看投诉举报电话")),
    "hotline.manage": _p({CR, SV, AD}, gettext_lazy("维护投诉举报电话")),
    "dial_test.record": _p({SV, AD}, gettext_lazy("登记拨打督导记录")),
    "clue.view": _p({CR, SV, IN, AD}, gettext_lazy("查看问题线索")),
    "clue.manage": _p({CR, SV, AD}, gettext_lazy("登记和办理问题线索")),
    "clue.refer": _p({CR, SV, AD}, gettext_lazy("移交问题线索")),
    "clue.outcome": _p({IN}, gettext_lazy("登记调查处理结果")),
    "typical_case.mark": _p({CR, SV, IN, AD}, gettext_lazy("标记典型案例")),
    "rectification.view": _p(STAFF, gettext_lazy("查看整改台账")),
    "rectification.create": _p({CR, SV, AD}, gettext_lazy("登记整改事项")),
    "rectification.update": _p(STAFF, gettext_lazy("登记整改进展")),
    "rectification.close": _p({SV}, gettext_lazy("对账销号")),
    "inspection.view": _p(STAFF, gettext_lazy("查看督查抽查")),
    "inspection.manage": _p({SV, AD}, gettext_lazy("登记督查抽查")),
    "export.clues": _p({CR, SV, IN, AD}, gettext_lazy("导出问题线索台账")),
    "export.rectification": _p(STAFF, gettext_lazy("导出整改台账")),
    # reports
    "rollup.view": _p({CR, SV, AD}, gettext_lazy("查看月度汇总")),
    "rollup.compute": _p({CR, SV, AD}, gettext_lazy("计算月度汇总")),
    "dashboard.view": _p({CR, SV, AD}, gettext_lazy("查看统计看板")),
    "export.forms": _p(STAFF, gettext_lazy("导出统计报表")),
    # the long-term public notice (长期公示): villages monthly, townships quarterly, each edition frozen
    "notice.release": _p({CW, CR, AD}, gettext_lazy("发布长期公示")),
    # A file leaves the system: township caseworkers and supervisors get masked numbers in forms and
    # findings lists; the registry export meant for re-import follows household.reveal_id instead.
    "export.full_id": _p({CR, IN, AD}, gettext_lazy("导出完整身份证号")),
    # the trail itself, and administration (users, regions, parameters: the Django admin)
    "audit.view": _p({CR, SV, AD}, gettext_lazy("查看操作日志")),
    "admin.site": _p({AD}, gettext_lazy("进入系统管理")),
}


def _role(actor) -> str | None:
    return getattr(actor, "role", None)


def is_system(actor) -> bool:
    """The command line and scheduled tasks act as "system" (or as no user): they are not
    bound by the table, as their own commands decide what they run."""
    return actor is None or isinstance(actor, str)


def roles_for(action: str) -> frozenset:
    try:
        return PERMISSIONS[action][0]
    except KeyError:
        raise KeyError(f"no permission rule for {action!r}: add it to dibao.permissions.PERMISSIONS") from None


def can(user, action: str, *, region_code: str | None = None) -> bool:
    """Whether the user may take the action (and, given a region code, there)."""
    if is_system(user):
        return True
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if _role(user) not in roles_for(action):
        return False
    return region_code is None or in_scope(user, region_code)


def require(actor, action: str, *, region_code: str | None = None) -> None:
    """Refuse (PermissionDenied, in Chinese) unless the actor may take the action on a row of
    `region_code`. Services pass the region of the row they re-fetched, never one from the request."""
    if is_system(actor):
        return
    if not can(actor, action):
        raise PermissionDenied(_("您的角色（%(role)s）不能%(what)s") % {
            "role": actor.role_label if getattr(actor, "is_authenticated", False) else _("未登录"),
            "what": PERMISSIONS[action][1]})
    if region_code is not None and not in_scope(actor, region_code):
        raise PermissionDenied(_("该记录（区划 %(region)s）不在您的管辖范围内") % {"region": region_name(region_code)})


def region_name(code: str) -> str:
    from dibao.models import Region

    region = Region.objects.filter(code=code).only("name").first() if code else None
    return region.name if region else (code or _("全部"))


def actions_for(user) -> set[str]:
    """The actions a user's role allows: for templates (`perms_of.household_update`)."""
    return {action for action in PERMISSIONS if can(user, action)}


def permission_required(*actions: str):
    """View decorator: a signed-in user whose role may take one of `actions`, else 403 (in Chinese).

    The page-level gate only; the service still checks the row it acts on."""
    from functools import wraps

    from django.contrib.auth.decorators import login_required

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not any(can(request.user, action) for action in actions):
                require(request.user, actions[0])
            return view(request, *args, **kwargs)
        wrapped.required_actions = actions  # read by the permission matrix test
        return wrapped
    return decorator

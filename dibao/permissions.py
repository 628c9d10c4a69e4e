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
    "household.reveal_id": _p({CW, CR, IN, AD}, gettext_lazy("查看完整身份证号")),
    "staff.view": _p(STAFF, gettext_lazy("查看工作人员名册")),
    "staff.manage": _p({CW, CR, AD}, gettext_lazy("维护工作人员名册")),
    "filing.view": _p(STAFF, gettext_lazy("查看近亲属备案")),
    "filing.manage": _p({CW, CR, AD}, gettext_lazy("登记近亲属备案")),
    # imports
    "import.view": _p({CW, CR, AD}, gettext_lazy("查看数据导入记录")),
    "import.registry": _p({CW, CR, AD}, gettext_lazy("导入低保档案数据")),
    "import.reference": _p({AD}, gettext_lazy("导入比对数据")),
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
    "export.full_id": _p({CR, IN, AD}, gettext_lazy("导出完整身份证号")),
    # the trail itself
    "audit.view": _p({CR, SV, IN, AD}, gettext_lazy("查看操作日志")),
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

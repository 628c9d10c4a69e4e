from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from dibao.permissions import actions_for, can

# (label, url name, the permission that shows it); None = every signed-in user.
NAV_ITEMS = [
    (_("工作台"), "home", None),
    (_("低保家庭"), "cases:household_list", "household.view"),
    (_("低保申请"), "cases:application_list", "application.view"),
    (_("工作人员"), "cases:staff_list", "staff.view"),
    (_("近亲属备案"), "cases:filing_list", "filing.view"),
    (_("保障标准"), "cases:standard_list", "standard.view"),
    (_("数据导入"), "imports:index", "import.view"),
    (_("复核比对"), "audits:index", "rescreen.view"),
    (_("专项排查"), "campaigns:list", "campaign.view"),
    (_("投诉与线索"), "complaints:index", ("complaint.view", "clue.view")),
    (_("资金发放"), "payments:roll_list", "payroll.view"),
    (_("统计报表"), "reports:index", "dashboard.view"),
    (_("排查统计表"), "reports:exports", "export.forms"),
]


def _shown(user, needs) -> bool:
    if needs is None:
        return True
    return any(can(user, action) for action in ((needs,) if isinstance(needs, str) else needs))


def navigation(request):
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    items = []
    for label, name, needs in NAV_ITEMS:
        if not _shown(user, needs):
            continue
        url = reverse(name)
        items.append({"label": label, "url": url,
                      "active": request.path == url or (url != "/" and request.path.startswith(url))})
    return {"nav_items": items}


def permissions(request):
    """`can.household_update` etc. in templates: the permission table, dots as underscores."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {"can": {}}
    return {"can": {action.replace(".", "_"): True for action in actions_for(user)}}

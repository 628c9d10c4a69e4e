from django.urls import reverse
from django.utils.translation import gettext_lazy as _

# (label, url name, roles that see it); None = every signed-in role.
NAV_ITEMS = [
    (_("工作台"), "home", None),
    (_("低保家庭"), "cases:household_list", {"caseworker", "county_reviewer", "supervisor", "admin"}),
    (_("工作人员"), "cases:staff_list", {"caseworker", "county_reviewer", "supervisor", "admin"}),
    (_("近亲属备案"), "cases:filing_list", {"caseworker", "county_reviewer", "supervisor", "admin"}),
    (_("数据导入"), "imports:index", {"caseworker", "county_reviewer", "admin"}),
    (_("复核比对"), "audits:index", {"caseworker", "county_reviewer", "supervisor", "admin"}),
    (_("投诉与线索"), "complaints:index", {"caseworker", "county_reviewer", "supervisor", "inspector", "admin"}),
    (_("统计报表"), "reports:index", {"county_reviewer", "supervisor", "admin"}),
    (_("排查统计表"), "reports:exports", {"caseworker"}),
]


def navigation(request):
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    items = []
    for label, name, roles in NAV_ITEMS:
        if roles is not None and user.role not in roles:
            continue
        url = reverse(name)
        items.append({"label": label, "url": url,
                      "active": request.path == url or (url != "/" and request.path.startswith(url))})
    return {"nav_items": items}

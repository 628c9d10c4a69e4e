from django.contrib import messages
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from dibao import selectors
from dibao.forms import LoginForm
from dibao.pagination import paginate
from dibao.permissions import permission_required


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        messages.success(self.request, _("密码已修改"))
        return super().form_valid(form)




@login_required
@require_GET
def region_options(request):
    """Children of a region for the cascading picker, limited to the user's subtree."""
    parent = request.GET.get("parent", "")
    regions = selectors.region_children(request.user, parent)
    return render(request, "dibao/_region_options.html",
                  {"regions": regions, "selected": request.GET.get("selected", "")})


@permission_required("audit.view")
def audit_list(request):
    """The audit trail of the user's region (supervisors and admins)."""
    records = selectors.audit_records(request.user, action=request.GET.get("action", ""),
                                      object_type=request.GET.get("object_type", ""))
    page = paginate(records, request.GET.get("page"), 50)
    return render(request, "dibao/audit_list.html", {"page": page})


def healthz(request):
    """Liveness for load balancers and compose: the database and the cache answer."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # reported, not raised: this page must always answer
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        cache.set("healthz", "1", 5)
        checks["cache"] = "ok" if cache.get("healthz") == "1" else "error: no round trip"
    except Exception as exc:
        checks["cache"] = f"error: {exc.__class__.__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503)

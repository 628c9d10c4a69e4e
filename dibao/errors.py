"""Error answers in Chinese: the page handlers (templates/400–500.html, in the base layout)
and the API's, which keep JSON for /api/ paths.

Django's own 404 and 403 messages ("No Household matches the given query.") are developer
English; only a message of ours (written in Chinese) is shown to the user.
"""
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions
from rest_framework.views import exception_handler


def _ours(exc) -> bool:
    return bool(exc.args) and isinstance(exc.args[0], str) and not exc.args[0].isascii()


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request, exception):
    message = exception.args[0] if _ours(exception) else ""
    if _is_api(request):
        return JsonResponse({"detail": message or _("未找到。")}, status=404)
    return render(request, "404.html", {"exception": message}, status=404)


def permission_denied(request, exception):
    if not _ours(exception):
        exception = PermissionDenied()
    return defaults.permission_denied(request, exception)


def server_error(request):
    """Renders without the request context or the database: the error may be theirs."""
    if _is_api(request):
        return JsonResponse({"detail": _("服务器内部错误，请稍后重试；如反复出现，请联系系统管理员。")}, status=500)
    return defaults.server_error(request)


def api_exception_handler(exc, context):
    if isinstance(exc, Http404) and not _ours(exc):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied) and not _ours(exc):
        exc = exceptions.PermissionDenied()
    return exception_handler(exc, context)

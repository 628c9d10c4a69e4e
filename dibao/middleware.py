import uuid

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from dibao.audit import RequestContext, current_request
from dibao.validators import control_character, without_control_characters


class RequestContextMiddleware:
    """Give every request an id and remember the client address for the audit trail."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        ip = forwarded.split(",")[0].strip() if forwarded else request.META.get("REMOTE_ADDR")
        token = current_request.set(RequestContext(request_id=request_id[:64], ip=ip or None))
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        response["X-Request-ID"] = request_id[:64]
        return response


class QueryTextMiddleware:
    """Refuse a URL whose path or query parameters hold control characters with a 400 that
    names the parameter: every search box and filter feeds them to the database, and
    PostgreSQL answers a NUL byte with an error (a 500) rather than with no rows."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        reason = _bad_query(request)
        if reason:
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": reason}, status=400)
            return render(request, "400.html", {"reason": reason}, status=400)
        return self.get_response(request)


def _bad_query(request) -> str:
    if problem := control_character(request.path):
        return _("网址中含有不允许的字符：%(problem)s") % {"problem": problem}
    for name, values in request.GET.lists():
        for value in [name, *values]:
            if problem := control_character(value):
                return _("查询参数“%(name)s”有误：%(problem)s") % {
                    "name": without_control_characters(name, "?"), "problem": problem}
    return ""

"""Public pages under /public/: file a complaint, follow it with the tracking code, hotlines,
the typical cases published each month.

No login. Writes are rate-limited per client address (django-ratelimit over the default
cache, which must support atomic incr: locmem in development, Redis in production).
"""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_ratelimit.core import is_ratelimited

from dibao.models import Region
from complaints import forms, selectors, services
from complaints.models import ComplaintState


def _limited(request, group: str, rate_setting: str, default: str) -> bool:
    rate = getattr(settings, rate_setting, default)
    return is_ratelimited(request, group=group, key="ip", rate=rate, method="POST", increment=True)


def _too_many(request):
    return render(request, "complaints/public/429.html", status=429)


@never_cache  # the page with the tracking code must not be kept by a shared browser or proxy
def complaint_form(request):
    if request.method == "POST":
        if _limited(request, "complaints.public_submit", "COMPLAINT_PUBLIC_RATE", "5/h"):
            return _too_many(request)
        form = forms.PublicComplaintForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                data = dict(form.cleaned_data)
                files = data.pop("attachments")
                complaint = services.complaint_submit_public(data=data, files=files)
            except ValidationError as exc:
                for field, errors in getattr(exc, "error_dict", {None: exc.error_list}).items():
                    for e in errors:
                        form.add_error(field if field in form.fields else None,
                                       e.message % e.params if e.params else e.message)
            else:
                return render(request, "complaints/public/submitted.html", {"complaint": complaint})
        status = 400
    else:
        form = forms.PublicComplaintForm()
        status = 200
    return render(request, "complaints/public/complaint_form.html", {"form": form}, status=status)


@never_cache
def complaint_status(request):
    complaint = None
    error = ""
    code = ""
    if request.method == "POST":
        if _limited(request, "complaints.public_status", "COMPLAINT_STATUS_RATE", "30/h"):
            return _too_many(request)
        code = request.POST.get("code", "").strip().upper().replace(" ", "")
        digits = request.POST.get("phone_last4", "").strip()
        found = selectors.complaint_status(code) if len(code) == services.TRACKING_LENGTH else None
        # one message for "no such code" and "wrong digits": the page must not confirm a code exists
        if found is None or (found.complainant_phone and found.complainant_phone[-4:] != digits):
            error = _("查询码或手机号后四位不正确，请核对后重试（实名反映需要填写联系电话后四位）")
        else:
            complaint = found
    return render(request, "complaints/public/status.html",
                  {"complaint": complaint, "error": error, "code": code, "states": ComplaintState})


@require_GET
def hotlines(request):
    rows = list(selectors.public_hotlines())
    codes = {h.region_id[:n] for h in rows for n in (2, 4, 6, 9)}
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    groups: dict[str, list] = {}
    for h in rows:
        parts = [names.get(h.region_id[:n], "") for n in (2, 4, 6, 9) if n <= len(h.region_id)]
        path = "".join(p for p in parts if p not in {"市辖区", "县"})
        groups.setdefault(path, []).append(h)
    return render(request, "complaints/public/hotlines.html", {"groups": groups})


@require_GET
def region_options(request):
    """Children of a region for the public picker (region names and codes are public)."""
    parent = request.GET.get("parent", "")
    qs = Region.objects.filter(parent_id=parent) if parent else Region.objects.filter(level=Region.Level.PROVINCE)
    regions = qs.filter(level__lte=Region.Level.VILLAGE).order_by("code")[:500]
    return render(request, "dibao/_region_options.html", {"regions": regions, "selected": ""})


@require_GET
def typical_cases(request):
    """典型案例, by month (/public/typical-cases/?month=YYYY-MM; this month when absent)."""
    import datetime as dt

    from django.utils import timezone

    try:
        month = dt.datetime.strptime(request.GET.get("month", ""), "%Y-%m").date()
    except ValueError:
        month = timezone.localdate().replace(day=1)
    previous = (month - dt.timedelta(days=1)).replace(day=1)
    following = (month + dt.timedelta(days=32)).replace(day=1)
    return render(request, "complaints/public/typical_cases.html", {
        "cases": selectors.public_typical_cases(month), "month": month, "previous": previous,
        "following": following if following <= timezone.localdate() else None})


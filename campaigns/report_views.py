"""Pages of the reports owed upward (报送): set one, see who sent it, upload, download."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns import dispatch, dispatch_selectors, selectors
from campaigns.dispatch_forms import ReportRequestForm, ReportUploadForm
from campaigns.models import ReportSubmission
from dibao.downloads import fetch_for_download, file_download
from dibao.forms import apply_service_errors
from dibao.permissions import can, permission_required


@permission_required("report_request.view")
def report_list(request):
    requests = dispatch_selectors.requests_for(request.user)[:200]
    return render(request, "campaigns/report_list.html", {
        "requests": requests, "today": timezone.localdate(),
        "can_create": can(request.user, "report_request.create")})


@permission_required("report_request.create")
def report_create(request):
    form = ReportRequestForm(request.POST or None, campaigns=selectors.campaigns_for(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            created = dispatch.report_request_create(actor=request.user, region_code=request.user.region_id or "",
                                                     **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            apply_service_errors(error, form)
        else:
            messages.success(request, _("报送任务“%(title)s”已布置") % {"title": created.title})
            return redirect("campaigns:report_detail", pk=created.pk)
    return render(request, "campaigns/report_form.html", {"form": form}, status=400 if form.errors else 200)


def _detail(request, report, upload_form=None, status=200):
    own = request.user.region_id or ""
    rows = dispatch_selectors.report_rows(report, day=timezone.localdate(),
                                          within=own if own.startswith(report.region_id) else "")
    owes = any(row["region"].code == own for row in rows)
    return render(request, "campaigns/report_detail.html", {
        "report": report, "rows": rows,
        "upload_form": (upload_form or ReportUploadForm()) if owes and can(request.user, "report_submission.upload")
        else None}, status=status)


@permission_required("report_request.view")
def report_detail(request, pk):
    return _detail(request, dispatch_selectors.request_or_404(request.user, pk))


@require_POST
@permission_required("report_submission.upload")
def report_upload(request, pk):
    report = dispatch_selectors.request_or_404(request.user, pk)
    form = ReportUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            dispatch.report_submission_upload(actor=request.user, request=report,
                                              region_code=request.user.region_id or "", upload=form.cleaned_data["file"])
        except (ValidationError, PermissionDenied) as error:
            apply_service_errors(error, form, fallback=form)
        else:
            messages.success(request, _("报送材料已上传"))
            return redirect("campaigns:report_detail", pk=report.pk)
    return _detail(request, report, form, status=400)


@permission_required("report_request.view")
def report_file(request, pk):
    submission = fetch_for_download(ReportSubmission.objects.select_related("request"), request.user,
                                    action="report_request.view", pk=pk)
    return file_download(actor=request.user, file=submission.file, name=submission.original_name,
                         object_type="reportsubmission", object_id=submission.pk, region_code=submission.region_code,
                         content_type=submission.content_type)

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from dibao.downloads import fetch_for_download, file_download
from dibao.pagination import paginate
from dibao.permissions import permission_required
from dibao.scoping import get_scoped_or_404
from imports import selectors, services
from imports.exports import template_workbook
from imports.forms import UploadForm
from imports.kinds import REGISTRY_KINDS, all_kinds, get_kind
from imports.models import ImportJob

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _kinds_or_403(user) -> list[str]:
    kinds = services.allowed_kinds(user)
    if not kinds:
        raise PermissionDenied
    return kinds


def _xlsx(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    return response


@login_required
def index(request):
    """Upload form, templates and exports, cross-check data versions, and the import history."""
    kinds = _kinds_or_403(request.user)
    form = UploadForm(request.POST or None, request.FILES or None, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        upload, members = form.cleaned_data["file"], form.cleaned_data.get("members_file")
        try:
            job = services.import_job_create(actor=request.user, kind=form.cleaned_data["kind"],
                                             file_name=upload.name, upload=upload, dry_run=True)
            if members:
                services.import_job_create(actor=request.user, kind="members", file_name=members.name,
                                           upload=members, dry_run=True, batch=job)
        except (PermissionDenied, ValidationError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            services.queue(job)
            return redirect("imports:job", pk=job.pk)
    page = paginate(selectors.import_jobs(request.user, kind=request.GET.get("kind", "")), request.GET.get("page"), 20)
    context = {
        "form": form,
        "page": page,
        "kinds": [get_kind(k) for k in kinds],
        "export_kinds": [get_kind(k) for k in kinds if k in REGISTRY_KINDS],
        "ref_versions": selectors.current_ref_versions(),
        "now": timezone.now(),
    }
    return render(request, "imports/index.html", context)


@permission_required("import.view")
def job_detail(request, pk: int):
    job = get_scoped_or_404(ImportJob, request.user, pk=pk)
    return render(request, "imports/job.html", {"job": job, "batch_jobs": job.batch_jobs.order_by("id")})


@permission_required("import.view")
def job_status(request, pk: int):
    """The fragment htmx polls while the job runs; it stops polling once the job is finished."""
    job = get_scoped_or_404(ImportJob, request.user, pk=pk)
    return render(request, "imports/_job_status.html", {"job": job})


@permission_required("import.view")
def job_file(request, pk: int):
    """The file as it was uploaded (a command-line import read a file in place: nothing to serve)."""
    job = fetch_for_download(ImportJob, request.user, action="import.view", pk=pk)
    return file_download(actor=request.user, file=job.file, name=job.file_name, object_type="import_job",
                         object_id=job.pk, region_code=job.region_code)


@permission_required("import.view")
@require_POST
def job_confirm(request, pk: int):
    job = get_scoped_or_404(ImportJob, request.user, pk=pk)
    try:
        job = services.import_confirm(actor=request.user, job=job)
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        services.queue(job)
    return redirect("imports:job", pk=job.pk)


@login_required
def template_download(request, kind: str):
    if kind not in all_kinds():
        raise Http404
    if kind not in _kinds_or_403(request.user):
        raise PermissionDenied
    return _xlsx(template_workbook(kind), f"{kind}_template.xlsx")


@permission_required("export.registry")
def export_download(request, kind: str):
    if kind not in REGISTRY_KINDS:
        raise Http404
    content = services.registry_export(actor=request.user, kind=kind)
    return _xlsx(content, f"{kind}_{timezone.localdate():%Y%m%d}.xlsx")

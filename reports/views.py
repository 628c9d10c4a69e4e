"""Pages of the reports app: the supervisors' dashboard, export jobs and the public notice."""
from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dibao.models import Role
from reports import metrics, selectors, services, sources
from reports.forms import ComputeForm, ExportForm
from reports.models import METRICS, MONEY_METRICS

DASHBOARD_ROLES = {Role.COUNTY_REVIEWER, Role.SUPERVISOR, Role.ADMIN}
KEY_FIGURES = ["households_active", "persons_active", "amount_total", "households_new", "households_exited",
               "applications", "findings_raised", "complaints_received", "clues_received", "persons_disciplined",
               "funds_recovered", "relatives_filed"]
LABELS = dict(METRICS)


def _require(user, roles) -> None:
    if user.role not in roles:
        raise PermissionDenied(_("您的角色不能查看统计报表"))


def _series(board, keys) -> list[dict]:
    return [{"key": k, "label": str(LABELS[k]),
             "values": [(float(getattr(r, k)) if k in MONEY_METRICS else getattr(r, k)) if r else None
                        for _m, r in board.trend]} for k in keys]


def _bars(row, keys) -> dict:
    return {"labels": [str(LABELS[k]) for k in keys], "values": [getattr(row, k) if row else 0 for k in keys]}


@login_required
def index(request):
    return dashboard(request, code=None)


@login_required
def dashboard(request, code):
    """Key figures of a month, their 12-month trend and the breakdown by child region."""
    _require(request.user, DASHBOARD_ROLES)
    board = selectors.dashboard(request.user, region_code=code, month=request.GET.get("month"))
    chart = {
        "months": [f"{m:%Y-%m}" for m, _r in board.trend],
        "trend": _series(board, ["households_active", "persons_active"]),
        "children": {"names": [r.region_name for r in board.children],
                     "households": [r.households_active for r in board.children],
                     "findings": [r.findings_raised for r in board.children]},
        "review": _bars(board.row, ["findings_raised", "findings_confirmed", "findings_dismissed",
                                    "screening_tasks_done"]),
        "complaints": _bars(board.row, ["complaints_received", "complaints_closed", "complaints_overdue",
                                        "clues_received", "clues_transferred", "clues_concluded",
                                        "persons_disciplined"]),
    }
    key_figures = [{"key": k, "label": LABELS[k], "value": getattr(board.row, k) if board.row else None,
                    "money": k in MONEY_METRICS} for k in KEY_FIGURES]
    context = {
        "board": board, "key_figures": key_figures, "chart": chart,
        "compute_month": f"{board.month or metrics.previous_month(timezone.localdate()):%Y-%m}",
        "can_compute": request.user.role in services.ROLLUP_ROLES,
        "metric_labels": METRICS,
    }
    return render(request, "reports/dashboard.html", context)


@login_required
@require_POST
def compute(request):
    form = ComputeForm(request.POST)
    region = request.POST.get("region", "")
    if form.is_valid():
        try:
            run = services.rollup_compute(actor=request.user, month=form.cleaned_data["month"],
                                          scope=form.cleaned_data["region"] or "")
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        except PermissionDenied as exc:
            raise Http404 from exc
        else:
            messages.success(request, _("已完成 %(month)s 月度汇总：%(n)d 个区划") % {
                "month": f"{run.month:%Y-%m}", "n": run.row_count})
            target = reverse("reports:dashboard", args=[region]) if region else reverse("reports:index")
            return redirect(f"{target}?month={run.month:%Y-%m}")
    else:
        messages.error(request, _("请选择要汇总的月份"))
    return redirect(reverse("reports:dashboard", args=[region]) if region else reverse("reports:index"))


@login_required
def exports(request):
    """Order a workbook; the list shows the user's earlier ones with their state."""
    _require(request.user, services.EXPORT_ROLES)
    default_region = request.user.region_id or ""
    if request.method == "POST":
        form = ExportForm(request.POST)
        if form.is_valid():
            try:
                job = services.export_job_create(actor=request.user, kind=form.cleaned_data["kind"],
                                                 region_code=form.cleaned_data["region"], params=form.params())
            except PermissionDenied as exc:
                raise Http404 from exc
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect("reports:job", pk=job.pk)
    else:
        initial = ExportForm.initial_for(request.GET.get("region") or default_region)
        if request.GET.get("kind"):
            initial["kind"] = request.GET["kind"]
        if request.GET.get("month"):
            initial["month"] = request.GET["month"]
        form = ExportForm(initial=initial)
    jobs = selectors.export_jobs(request.user)[:20]
    return render(request, "reports/exports.html", {"form": form, "jobs": jobs})


@login_required
def job(request, pk):
    job = selectors.export_job(request.user, pk)
    return render(request, "reports/job.html", {"job": job})


@login_required
@require_GET
def job_status(request, pk):
    """The htmx fragment polled while the worker writes the file."""
    job = selectors.export_job(request.user, pk)
    return render(request, "reports/_job_status.html", {"job": job})


@login_required
@require_GET
def job_download(request, pk):
    job = selectors.export_job(request.user, pk)
    if not job.file or job.state != job.State.DONE:
        raise Http404
    services.export_download_record(actor=request.user, job=job)
    return FileResponse(job.file.open("rb"), as_attachment=True,
                        filename=f"{job.get_kind_display()}_{job.region_code}_{job.pk}.xlsx")


# --- public notice (长期公示), no login ---------------------------------------------------

DEFAULT_HOTLINE = getattr(settings, "DIBAO_DEFAULT_HOTLINE", "12345")


@require_GET
def public_notice(request, code):
    region = selectors.notice_region(code)
    today = timezone.localdate()
    context = {
        "region": region, "today": today, "ancestors": region.ancestors()[:-1],
        "hotlines": sources.hotline_numbers(region.code) or [DEFAULT_HOTLINE],
        "households": list(selectors.notice_households(region.code, today)),
    }
    if len(region.code) == 9:
        context["villages"] = selectors.notice_villages(region, today)
        return render(request, "reports/public_township.html", context)
    return render(request, "reports/public_village.html", context)

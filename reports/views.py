"""Pages of the reports app: the supervisors' dashboard, export jobs and the public notice."""
from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases.application_selectors import overdue_by_region
from dibao.jobs import JobState
from dibao.downloads import fetch_for_download
from dibao.models import CODE_LENGTHS, Region
from dibao.permissions import can, permission_required
from dibao.forms import apply_service_errors
from reports import metrics, notices, selectors, services, sources
from reports.forms import ComputeForm, ExportForm
from reports.models import METRICS, MONEY_METRICS

KEY_FIGURES = ["households_active", "persons_active", "amount_total", "households_new", "households_exited",
               "applications", "findings_raised", "complaints_received", "clues_received", "persons_disciplined",
               "funds_recovered", "relatives_filed", "applications_overdue"]
LABELS = dict(METRICS)


def _series(board, keys) -> list[dict]:
    return [{"key": k, "label": str(LABELS[k]),
             "values": [(float(getattr(r, k)) if k in MONEY_METRICS else getattr(r, k)) if r else None
                        for _m, r in board.trend]} for k in keys]


def _bars(row, keys) -> dict:
    return {"labels": [str(LABELS[k]) for k in keys], "values": [getattr(row, k) if row else 0 for k in keys]}


@permission_required("dashboard.view")
def index(request):
    return dashboard(request, code=None)


@permission_required("dashboard.view")
def dashboard(request, code):
    """Key figures of a month (the current one live, a past one from its snapshot), their 12-month
    trend and the breakdown by child region."""
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
        "overdue_applications": _overdue_applications(request.user, board.region),
        # The month to freeze is the one that ended: a live month is still moving.
        "compute_month": f"{metrics.previous_month(timezone.localdate()) if board.live else board.month:%Y-%m}",
        "can_compute": can(request.user, "rollup.compute"),
        "metric_labels": METRICS,
    }
    return render(request, "reports/dashboard.html", context)


def _overdue_applications(user, region) -> dict:
    """Today's overdue applications (live, not the snapshot): the region's total and per child region."""
    child_length = next((n for n in CODE_LENGTHS if n > len(region.code)), len(region.code))
    counts = overdue_by_region(user, length=child_length)
    names = dict(Region.objects.filter(code__in=counts).values_list("code", "name"))
    rows = [(names.get(code, code), n) for code, n in sorted(counts.items()) if code.startswith(region.code)]
    return {"total": sum(n for _name, n in rows), "rows": rows}


@permission_required("rollup.compute")
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


@permission_required("export.forms")
def exports(request):
    """Order a workbook; the list shows the user's earlier ones with their state."""
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


@permission_required("export.forms")
def job(request, pk):
    job = selectors.export_job(request.user, pk)
    return render(request, "reports/job.html", {"job": job})


@permission_required("export.forms")
@require_GET
def job_status(request, pk):
    """The htmx fragment polled while the worker writes the file."""
    job = selectors.export_job(request.user, pk)
    return render(request, "reports/_job_status.html", {"job": job})


@permission_required("export.forms")
@require_GET
def job_download(request, pk):
    job = fetch_for_download(selectors.export_jobs(request.user), request.user, action="export.forms", pk=pk)
    if job.state != JobState.DONE:
        raise Http404
    return services.export_download(actor=request.user, job=job)


# --- public notice (长期公示), no login ---------------------------------------------------

DEFAULT_HOTLINE = getattr(settings, "DIBAO_DEFAULT_HOTLINE", "12345")


@require_GET
def public_notice(request, code, pk=None):
    """The notice as released: the latest edition (or edition `pk`) with links to the earlier
    ones. Staff who may release it see today's rows with `?preview=1`, marked as a preview."""
    county = selectors.notice_county(code)
    if county is not None:
        # A county's code (as printed on its hotline list) opens the list of its townships' notices.
        return render(request, "reports/public_county.html", {
            "region": county, "ancestors": county.ancestors()[:-1], "townships": county.children.order_by("code"),
            "hotlines": sources.hotline_numbers(county.code) or [DEFAULT_HOTLINE], "day": None})
    region = selectors.notice_region(code)
    editions = list(notices.releases_of(region.code).only("pk", "period", "released_on"))
    preview = request.GET.get("preview") == "1" and can(request.user, "notice.release", region_code=region.code)
    edition = None
    if preview:
        day = timezone.localdate()
        rows = notices.live_rows(region, day)
    else:
        if pk is not None:
            edition = next((e for e in editions if e.pk == pk), None)
            if edition is None:
                raise Http404
        elif editions:
            edition = editions[0]
        edition = notices.releases_of(region.code).get(pk=edition.pk) if edition else None
        day = edition.released_on if edition else None
        rows = edition.rows if edition else {"households": [], "villages": []}
    context = {
        "region": region, "day": day, "ancestors": region.ancestors()[:-1], "edition": edition,
        "editions": editions, "preview": preview,
        "can_release": can(request.user, "notice.release", region_code=region.code),
        "hotlines": sources.hotline_numbers(region.code) or [DEFAULT_HOTLINE],
        "households": rows["households"], "villages": rows.get("villages", []),
    }
    template = "reports/public_township.html" if len(region.code) == 9 else "reports/public_village.html"
    return render(request, template, context)


# --- releasing editions (staff) -------------------------------------------------------------

@permission_required("notice.release")
def notice_releases(request):
    """The villages and townships of the user's region with their latest edition; releases this
    period's edition of one of them."""
    if request.method == "POST":
        code = request.POST.get("region", "")
        if not Region.objects.for_user(request.user).filter(code=code).exists():
            raise Http404
        try:
            release = notices.notice_release(actor=request.user, region_code=code)
        except (ValidationError, PermissionDenied) as error:
            apply_service_errors(error, request=request)
        else:
            messages.success(request, _("已发布 %(period)s 期公示") % {"period": release.period})
        return redirect(f"{reverse('reports:notice_releases')}?region={code[:9]}")
    rows = notices.release_overview(request.user, within=request.GET.get("region", ""), day=timezone.localdate())
    return render(request, "reports/notice_releases.html", {"rows": rows})

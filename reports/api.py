"""API of the reports app: stored monthly rollups (read, compute) and the statistics-form export
jobs (order, follow, download), through the same services and forms as the pages."""
from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from dibao.jobs import JobState
from dibao.api import form_or_400, form_schema, service_call
from dibao.spreadsheets import XLSX_CONTENT_TYPE as XLSX
from reports import metrics, selectors, services
from reports.forms import ComputeForm, ExportForm
from reports.models import METRIC_KEYS, ExportJob, RollupRow


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-01"})
class MonthField(serializers.DateField):
    """A month, written YYYY-MM (a rollup is stored on the month's first day)."""

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m", **kwargs)


class RollupRowSerializer(serializers.ModelSerializer):
    month = MonthField()

    class Meta:
        model = RollupRow
        fields = ["month", "region_code", "region_name", "level", *METRIC_KEYS, "findings_by_rule", "own_level"]


class RollupRunSerializer(serializers.Serializer):
    month = MonthField()
    row_count = serializers.IntegerField()


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("month", str, description="月份 YYYY-MM"),
    OpenApiParameter("region", str, description="区划代码（含下级）"),
]))
class RollupRowViewSet(viewsets.ReadOnlyModelViewSet):
    """Stored monthly rollups inside the caller's jurisdiction.

    Filters: `month=YYYY-MM`, `level=township|county|city|province`, `region=CODE` (subtree).
    """

    serializer_class = RollupRowSerializer
    filterset_fields = {"level": ["exact"]}
    required_actions = {"GET": "rollup.view", "compute": "rollup.compute"}

    def get_queryset(self):
        qs = RollupRow.objects.for_user(self.request.user).order_by("month", "region_code")
        month = self.request.query_params.get("month")
        if month:
            try:
                qs = qs.filter(month=metrics.parse_month(month))
            except ValueError as exc:
                raise ValidationError({"month": str(exc)})
        region = self.request.query_params.get("region")
        if region:
            qs = qs.filter(region_code__startswith=region)
        return qs

    @extend_schema(request=form_schema(ComputeForm, "RollupComputeRequest"), responses=RollupRunSerializer, summary=_("计算月度汇总"))
    @action(detail=False, methods=["post"])
    def compute(self, request):
        form = form_or_400(ComputeForm, request)
        run = service_call(services.rollup_compute, actor=request.user, month=form.cleaned_data["month"],
                           scope=form.cleaned_data["region"] or "")
        return Response(RollupRunSerializer(run).data)


class ExportJobSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = ExportJob
        fields = ["id", "kind", "kind_display", "region_code", "params", "full_ids", "state", "progress",
                  "rows_written", "error", "created_at", "finished_at"]


class ExportJobViewSet(viewsets.ReadOnlyModelViewSet):
    """统计报表 export jobs: the caller's own (files carry the requester's ID-number rights)."""

    serializer_class = ExportJobSerializer
    queryset = ExportJob.objects.none()  # the schema's model; requests use get_queryset
    required_actions = {"GET": "export.forms", "create": "export.forms"}

    def get_queryset(self):
        return selectors.export_jobs(self.request.user).order_by("-id")

    @extend_schema(request=form_schema(ExportForm, "ExportJobRequest"), responses={202: ExportJobSerializer},
                   summary=_("生成统计报表"))
    def create(self, request):
        form = form_or_400(ExportForm, request)
        job = service_call(services.export_job_create, actor=request.user, kind=form.cleaned_data["kind"],
                           region_code=form.cleaned_data["region"], params=form.params())
        return Response(ExportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={(200, XLSX): OpenApiTypes.BINARY}, summary=_("下载已生成的报表（记入审计）"))
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        job = self.get_object()
        if job.state != JobState.DONE:
            raise Http404
        return services.export_download(actor=request.user, job=job)

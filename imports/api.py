"""POST a file to import (dry run by default), GET a job's state and report (Chinese and English
reasons), download the registry as an import-ready workbook. Only the roles that may import see
the history: it holds file names, uploaders and the cells of rejected rows."""
from __future__ import annotations

from django.http import Http404, HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from dibao.api import service_call
from dibao.scoping import get_scoped_or_404
from imports import selectors, services
from imports.kinds import REGISTRY_KINDS
from imports.models import ImportJob

IMPORTERS = ("import.registry", "import.reference")  # which kinds one may upload: services.allowed_kinds
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImportJob
        fields = ["id", "kind", "actor_name", "created_at", "finished_at", "file_name", "sha256", "dry_run", "state",
                  "progress", "rows_total", "rows_new", "rows_updated", "rows_unchanged", "rows_invalid",
                  "outcome", "report", "ref_version_id"]


class ImportUploadSerializer(serializers.Serializer):
    kind = serializers.CharField()
    file = serializers.FileField()
    dry_run = serializers.BooleanField(default=True)


class ImportJobListView(APIView):
    """GET: the caller's import history (scoped, latest 100). POST: upload a file (multipart: kind,
    file, dry_run); 202 with the queued job."""

    parser_classes = [MultiPartParser]
    required_actions = {"GET": "import.view", "POST": IMPORTERS}

    @extend_schema(responses=ImportJobSerializer(many=True))
    def get(self, request):
        jobs = selectors.import_jobs(request.user)[:100]
        return Response(ImportJobSerializer(jobs, many=True).data)

    @extend_schema(request=ImportUploadSerializer, responses={202: ImportJobSerializer})
    def post(self, request):
        data = ImportUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        job = service_call(services.import_job_create, actor=request.user, kind=data.validated_data["kind"],
                           file_name=upload.name, upload=upload, dry_run=data.validated_data["dry_run"])
        services.queue(job)
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ImportJobDetailView(APIView):
    required_actions = {"GET": "import.view"}

    @extend_schema(responses=ImportJobSerializer)
    def get(self, request, pk: int):
        job = get_scoped_or_404(ImportJob, request.user, pk=pk)
        return Response(ImportJobSerializer(job).data)


class ImportJobConfirmView(APIView):
    """Write a validated dry run for real (the same file, re-validated by the worker)."""

    required_actions = {"POST": IMPORTERS}

    @extend_schema(request=None, responses={202: ImportJobSerializer})
    def post(self, request, pk: int):
        job = get_scoped_or_404(ImportJob, request.user, pk=pk)
        job = service_call(services.import_confirm, actor=request.user, job=job)
        services.queue(job)
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class RegistryExportView(APIView):
    """The caller's registry rows of one kind as the import template's workbook (audited)."""

    required_actions = {"GET": "export.registry"}

    @extend_schema(parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=list(REGISTRY_KINDS))],
                   responses={(200, XLSX): OpenApiTypes.BINARY}, summary=_("导出低保档案数据"))
    def get(self, request, kind: str):
        if kind not in REGISTRY_KINDS:
            raise Http404
        content = service_call(services.registry_export, actor=request.user, kind=kind)
        response = HttpResponse(content, content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{kind}.xlsx"'
        return response

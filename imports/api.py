"""POST a file to import (dry run by default), GET a job's state and report (Chinese and English reasons)."""
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from dibao.scoping import get_scoped_or_404
from imports import selectors, services
from imports.models import ImportJob


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


def _raise_api(exc):
    if isinstance(exc, PermissionDenied):
        raise ApiPermissionDenied(str(exc))
    raise ApiValidationError(getattr(exc, "messages", [str(exc)]))


class ImportJobListView(APIView):
    """GET: the caller's import history (scoped). POST: upload a file (multipart: kind, file, dry_run)."""

    parser_classes = [MultiPartParser]

    def get(self, request):
        jobs = selectors.import_jobs(request.user)[:100]
        return Response(ImportJobSerializer(jobs, many=True).data)

    def post(self, request):
        data = ImportUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        try:
            job = services.import_job_create(actor=request.user, kind=data.validated_data["kind"],
                                             file_name=upload.name, upload=upload,
                                             dry_run=data.validated_data["dry_run"])
        except (PermissionDenied, ValidationError) as exc:
            _raise_api(exc)
        services.queue(job)
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ImportJobDetailView(APIView):
    def get(self, request, pk: int):
        job = get_scoped_or_404(ImportJob, request.user, pk=pk)
        return Response(ImportJobSerializer(job).data)


class ImportJobConfirmView(APIView):
    def post(self, request, pk: int):
        job = get_scoped_or_404(ImportJob, request.user, pk=pk)
        try:
            job = services.import_confirm(actor=request.user, job=job)
        except (PermissionDenied, ValidationError) as exc:
            _raise_api(exc)
        services.queue(job)
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

"""API of the audits app: rescreening batches (start, resume, findings export), findings (read,
confirm, dismiss), the townships' verification tasks (read, complete) and the entry check.
ID numbers are masked; `reveal-id` shows one in full, audited. Every write is one service call."""
from __future__ import annotations

import io
from decimal import Decimal

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from audits import selectors, services
from audits.models import Finding, RescreenBatch, TaskOutcome, VerificationTask
from dibao.jobs import JobState
from cases.models import Household
from dibao.api import IdRevealMixin, MaskedIdMixin, VersionedMixin, reveal_field, service_call
from dibao.audit import AuditObject
from dibao.permissions import can
from dibao.validators import not_in_future

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class BatchSerializer(serializers.ModelSerializer):
    class Meta:
        model = RescreenBatch
        fields = ["id", "region_code", "as_of", "state", "progress", "counts", "new_count", "open_count",
                  "resolved_count", "params", "created_at", "started_at", "finished_at"]


class BatchStartSerializer(serializers.Serializer):
    region_code = serializers.CharField(required=False, allow_blank=True, max_length=12,
                                        help_text=_("比对区划代码；不填为本人管辖范围"))
    as_of = serializers.DateField(required=False, allow_null=True, help_text=_("比对基准日，默认今天"))


class FindingSerializer(MaskedIdMixin, serializers.ModelSerializer):
    id_fields = ("id_number",)
    household_no = serializers.CharField(source="household.household_no", default="", read_only=True)

    class Meta:
        model = Finding
        fields = ["id", "batch", "rule", "household", "household_no", "id_number", "name", "region_code",
                  "detail", "novelty", "state", "first_raised_on", "decision_reason", "actions", "decided_at",
                  "version"]


class DismissSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text=_("排除理由"))


class ConfirmSerializer(DismissSerializer):
    """属实 and the actions taken on the household, as on the review page."""

    reason = serializers.CharField(max_length=2000, help_text=_("复核意见"))
    stop_payment = serializers.BooleanField(default=False)
    change = serializers.ChoiceField(choices=["", "remove_member", "exit", "review"], required=False, default="",
                                     help_text=_("据以办理的变更：减员、退出或交乡镇核查（须为该疑点适用的变更）；"
                                                 "只填日期时办理适用的变更"))
    exit_on = serializers.DateField(required=False, allow_null=True,
                                    help_text=_("减员或退出的日期（成员死亡、领取财政工资或家庭退出之日）"))
    exit_reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    recover_amount = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True,
                                              min_value=Decimal("0.01"), help_text=_("追回金额（元）；不填则不追回"))
    refer_clue = serializers.BooleanField(default=False, help_text=_("移送问题线索"))
    clue_summary = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    def validate_exit_on(self, value):
        if value and value > timezone.localdate():
            raise ValidationError(_("减员 / 退出日期不能晚于今天"))
        return value


class BulkDecisionSerializer(ConfirmSerializer):
    """One decision and one reason for several findings, all or nothing (the review queue's form)."""

    ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=500)
    decision = serializers.ChoiceField(choices=[("confirm", _("属实")), ("dismiss", _("排除"))])
    versions = serializers.DictField(child=serializers.IntegerField(), required=False,
                                     help_text=_("疑点 id → 列表读取时的 version；不填则不检查"))


class TaskSerializer(MaskedIdMixin, serializers.ModelSerializer):
    id_fields = ("id_number",)
    reasons = serializers.SerializerMethodField()

    class Meta:
        model = VerificationTask
        fields = ["id", "id_number", "name", "region_code", "township_code", "reasons", "created_on", "deadline",
                  "visited_on", "investigator_1", "investigator_2", "outcome", "outcome_reason", "completed_at"]

    def get_reasons(self, obj) -> list[str]:
        return obj.reasons()


class TaskCompleteSerializer(serializers.Serializer):
    visited_on = serializers.DateField(required=False, allow_null=True, validators=[not_in_future])
    investigator_1 = serializers.CharField(max_length=50)
    investigator_2 = serializers.CharField(max_length=50)
    outcome = serializers.ChoiceField(choices=TaskOutcome.choices)  # "" (未办结) is refused by the service
    household_no = serializers.CharField(required=False, allow_blank=True, max_length=32, default="",
                                         help_text=_("核查结果为“已纳入低保”时填写"))
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


def _body(serializer_class, request) -> dict:
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data


class BatchViewSet(viewsets.ReadOnlyModelViewSet):
    """复核比对批次 inside the caller's region (and those over a region containing it)."""

    serializer_class = BatchSerializer
    queryset = RescreenBatch.objects.none()  # the schema's model; requests use get_queryset
    required_actions = {"GET": "rescreen.view", "create": "rescreen.start", "resume": "rescreen.start",
                        "export": "export.findings"}

    def get_queryset(self):
        return selectors.batches_for(self.request.user).order_by("-id")

    @extend_schema(request=BatchStartSerializer, responses={202: BatchSerializer}, summary=_("发起复核比对"))
    def create(self, request):
        data = _body(BatchStartSerializer, request)
        batch = service_call(services.batch_create, actor=request.user, region_code=data.get("region_code", ""),
                             as_of=data.get("as_of"))
        return Response(BatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: BatchSerializer}, summary=_("续跑中断的批次"))
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        batch = service_call(services.batch_resume, actor=request.user, batch=self.get_object())
        return Response(BatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(parameters=[OpenApiParameter("file_type", str, enum=["xlsx", "csv"], description=_("默认 xlsx"))],
                   responses={(200, XLSX): OpenApiTypes.BINARY, (200, "text/csv"): OpenApiTypes.BINARY},
                   summary=_("导出疑点清单（本人管辖范围内）"))
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        batch = self.get_object()
        if batch.state != JobState.DONE:
            raise Http404
        file_type = "csv" if request.query_params.get("file_type") == "csv" else "xlsx"
        buffer = io.StringIO() if file_type == "csv" else io.BytesIO()
        service_call(services.findings_export, actor=request.user, batch=batch, fmt=file_type, target=buffer,
                     findings=selectors.findings_for(request.user).filter(batch=batch),
                     full_ids=can(request.user, "export.full_id"))
        if file_type == "csv":
            response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
        else:
            response = HttpResponse(buffer.getvalue(), content_type=XLSX)
        stamp = timezone.localtime().strftime("%Y%m%d%H%M")
        response["Content-Disposition"] = f'attachment; filename="findings-{batch.pk}-{stamp}.{file_type}"'
        return response


class FindingViewSet(VersionedMixin, IdRevealMixin, viewsets.ReadOnlyModelViewSet):
    """疑点: read, and the county review's decision (属实 / 排除) through the review services."""

    serializer_class = FindingSerializer
    filterset_fields = ["batch", "rule", "state", "novelty"]
    required_actions = {"GET": "finding.view", "confirm": "finding.review", "dismiss": "finding.review",
                        "bulk_decide": "finding.review", "reveal_id": "household.reveal_id"}

    def get_queryset(self):
        return selectors.findings_for(self.request.user).order_by("id")

    def reveal(self, request, obj):
        return reveal_field(request, obj, object_type=AuditObject.FINDING, region_code=obj.region_code,
                            id_number=obj.id_number)

    @extend_schema(request=ConfirmSerializer, responses=FindingSerializer, summary=_("认定疑点属实"))
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        finding = self.get_object()
        data = _body(ConfirmSerializer, request)
        finding = service_call(services.finding_confirm, actor=request.user, finding=finding,
                               expected_version=self.expected_version(), **data)
        return Response(FindingSerializer(finding).data)

    @extend_schema(request=DismissSerializer, responses=FindingSerializer, summary=_("排除疑点"))
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        finding = self.get_object()
        data = _body(DismissSerializer, request)
        finding = service_call(services.finding_dismiss, actor=request.user, finding=finding,
                               expected_version=self.expected_version(), **data)
        return Response(FindingSerializer(finding).data)

    @extend_schema(request=BulkDecisionSerializer, responses=FindingSerializer(many=True), summary=_("批量复核"))
    @action(detail=False, methods=["post"], url_path="bulk-decide")
    def bulk_decide(self, request):
        data = dict(_body(BulkDecisionSerializer, request))
        ids, decision, versions = set(data.pop("ids")), data.pop("decision"), data.pop("versions", {})
        findings = list(self.get_queryset().filter(pk__in=ids))
        if len(findings) != len(ids):
            raise Http404
        if decision == "dismiss":
            data = {"reason": data["reason"]}
        done = service_call(services.findings_bulk_decide, actor=request.user, findings=findings, decision=decision,
                            expected_versions={int(k): v for k, v in versions.items() if str(k).isdigit()}, **data)
        return Response(FindingSerializer(done, many=True).data)


class TaskViewSet(IdRevealMixin, viewsets.ReadOnlyModelViewSet):
    """五类人群核查任务 of the caller's townships; `complete` records the home visit."""

    serializer_class = TaskSerializer
    filterset_fields = ["outcome", "township_code"]
    required_actions = {"GET": "task.view", "complete": "task.complete", "reveal_id": "household.reveal_id"}

    def get_queryset(self):
        return selectors.tasks_for(self.request.user).order_by("deadline", "id")

    def reveal(self, request, obj):
        return reveal_field(request, obj, object_type=AuditObject.VERIFICATION_TASK, region_code=obj.township_code,
                            id_number=obj.id_number)

    @extend_schema(request=TaskCompleteSerializer, responses=TaskSerializer, summary=_("办结核查任务"))
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        task = self.get_object()
        data = _body(TaskCompleteSerializer, request)
        task = service_call(services.task_complete, actor=request.user, task=task, **data)
        return Response(TaskSerializer(task).data)


class EntryCheckRequest(serializers.Serializer):
    id_numbers = serializers.ListField(child=serializers.CharField(max_length=30), max_length=50)
    household_id = serializers.IntegerField(required=False, allow_null=True)


class EntryWarningSerializer(serializers.Serializer):
    rule = serializers.CharField()
    id_number_masked = serializers.CharField()
    name = serializers.CharField()
    message = serializers.CharField()
    level = serializers.CharField()


class EntryCheckResultSerializer(serializers.Serializer):
    warnings = EntryWarningSerializer(many=True)
    clear = serializers.BooleanField(help_text=_("没有须阻止录入的警示"))


class EntryCheckView(APIView):
    """逢进必核: section A person rules and cross-check presence for the IDs of one household."""

    required_actions = {"POST": "entry_check.run"}

    @extend_schema(request=EntryCheckRequest, responses=EntryCheckResultSerializer)
    def post(self, request):
        data = _body(EntryCheckRequest, request)
        household_id = data.get("household_id")
        if household_id and not Household.objects.for_user(request.user).filter(pk=household_id).exists():
            raise Http404
        warnings = selectors.entry_check(id_numbers=data["id_numbers"], household_id=household_id)
        return Response({"warnings": EntryWarningSerializer(warnings, many=True).data,
                         "clear": not any(w.level == "danger" for w in warnings)})



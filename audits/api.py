"""API of the audits app: batches and findings (read, scoped, IDs masked unless the role may
see them) and the entry check."""
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from audits import selectors
from audits.models import Finding, RescreenBatch, VerificationTask
from cases.models import Household
from dibao.idnumber import mask_id
from dibao.models import Role


class BatchSerializer(serializers.ModelSerializer):
    class Meta:
        model = RescreenBatch
        fields = ["id", "region_code", "as_of", "state", "progress", "counts", "new_count", "open_count",
                  "resolved_count", "params", "created_at", "started_at", "finished_at"]


class _MaskedIdMixin:
    def mask(self, value):
        user = self.context["request"].user
        return value if user.can_see_full_id else mask_id(value)


class FindingSerializer(_MaskedIdMixin, serializers.ModelSerializer):
    household_no = serializers.CharField(source="household.household_no", default="", read_only=True)
    id_number = serializers.SerializerMethodField()

    class Meta:
        model = Finding
        fields = ["id", "batch", "rule", "household", "household_no", "id_number", "name", "region_code",
                  "detail", "novelty", "state", "first_raised_on", "decision_reason", "actions", "decided_at"]

    def get_id_number(self, obj) -> str:
        return self.mask(obj.id_number)


class TaskSerializer(_MaskedIdMixin, serializers.ModelSerializer):
    id_number = serializers.SerializerMethodField()
    reasons = serializers.SerializerMethodField()

    class Meta:
        model = VerificationTask
        fields = ["id", "id_number", "name", "region_code", "township_code", "reasons", "created_on", "deadline",
                  "visited_on", "investigator_1", "investigator_2", "outcome", "outcome_reason", "completed_at"]

    def get_id_number(self, obj) -> str:
        return self.mask(obj.id_number)

    def get_reasons(self, obj) -> list[str]:
        return obj.reasons()


class BatchViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = BatchSerializer

    def get_queryset(self):
        if self.request.user.role == Role.INSPECTOR:
            return RescreenBatch.objects.none()
        return selectors.batches_for(self.request.user).order_by("-id")


class FindingViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = FindingSerializer
    filterset_fields = ["batch", "rule", "state", "novelty"]

    def get_queryset(self):
        if self.request.user.role not in (Role.COUNTY_REVIEWER, Role.SUPERVISOR, Role.ADMIN):
            return Finding.objects.none()
        return selectors.findings_for(self.request.user).order_by("id")


class TaskViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TaskSerializer
    filterset_fields = ["outcome", "township_code"]

    def get_queryset(self):
        return selectors.tasks_for(self.request.user).order_by("deadline", "id")


class EntryCheckRequest(serializers.Serializer):
    id_numbers = serializers.ListField(child=serializers.CharField(max_length=30), max_length=50)
    household_id = serializers.IntegerField(required=False, allow_null=True)


class EntryWarningSerializer(serializers.Serializer):
    rule = serializers.CharField()
    id_number_masked = serializers.CharField()
    name = serializers.CharField()
    message = serializers.CharField()
    level = serializers.CharField()


class EntryCheckView(APIView):
    """逢进必核: section A person rules and cross-check presence for the IDs of one household."""

    @extend_schema(request=EntryCheckRequest, responses=EntryWarningSerializer(many=True))
    def post(self, request):
        if request.user.role not in (Role.CASEWORKER, Role.COUNTY_REVIEWER, Role.ADMIN):
            raise PermissionDenied("您的角色不能进行录入核对")
        body = EntryCheckRequest(data=request.data)
        body.is_valid(raise_exception=True)
        household_id = body.validated_data.get("household_id")
        if household_id and not Household.objects.for_user(request.user).filter(pk=household_id).exists():
            raise Http404
        warnings = selectors.entry_check(id_numbers=body.validated_data["id_numbers"], household_id=household_id)
        return Response({"warnings": EntryWarningSerializer(warnings, many=True).data,
                         "clear": not any(w.level == "danger" for w in warnings)})

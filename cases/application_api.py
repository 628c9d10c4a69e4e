"""API of the application (/api/v1/applications/): list and detail, and one operation per step.

Each operation validates its body with the step page's own form (so the page and the API accept
the same input; scans as multipart files) and calls the same service, so permissions, recusal,
deadlines and audit records are those of the pages.
"""
from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from cases import application_forms as f
from cases import application_selectors as sel
from cases import applications as svc
from cases.application_views import STEPS
from cases.models import Application, Household
from dibao.api import form_or_400, form_schema, service_call
from dibao.idnumber import mask_id
from dibao.scoping import get_scoped_or_404


class TimerSerializer(serializers.Serializer):
    label = serializers.CharField()
    start = serializers.DateField(allow_null=True)
    due = serializers.DateField()
    done_on = serializers.DateField(allow_null=True)
    status = serializers.ChoiceField(choices=["done", "late", "overdue", "today", "running"])
    working_days_left = serializers.IntegerField()
    calendar_known = serializers.BooleanField(help_text=_("否：该年节假日安排尚未收录，按周一至周五计算"))


class ApplicationSerializer(serializers.ModelSerializer):
    household_no = serializers.CharField(source="household.household_no", read_only=True)
    head_name = serializers.CharField(source="household.head_name", read_only=True)
    region_code = serializers.CharField(source="household.region_id", read_only=True)
    region_name = serializers.CharField(source="household.region.name", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    stage = serializers.SerializerMethodField(help_text=_("当前待办环节，如“待县级确认”"))
    timers = serializers.SerializerMethodField()

    class Meta:
        model = Application
        exclude = ["created_at"]

    def get_stage(self, app) -> str:
        return str(sel.stage_label(app))

    @extend_schema_field(TimerSerializer(many=True))
    def get_timers(self, app):
        return TimerSerializer(sel.timers(app, timezone.localdate()), many=True).data

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if data.get("single_coverage_id_number"):
            data["single_coverage_id_number"] = mask_id(data["single_coverage_id_number"])
        return data


def _household_form(form_class):
    """An accept / not-accept body: the step's form plus the household it is for."""
    return type(form_class.__name__, (form_class,), {
        "household": forms.IntegerField(label=_("低保家庭 id"), min_value=1)})


AcceptBody, NotAcceptBody = _household_form(f.AcceptForm), _household_form(f.NotAcceptForm)
NOT_ACCEPT_SCHEMA = form_schema(NotAcceptBody, "ApplicationNotAcceptBody")
STEP_ACTIONS = {key: step.action for key, step in STEPS.items()}


def _step_operation(key: str):
    step = STEPS[key]

    body = form_schema(step.form, f"Application{key.title().replace('_', '')}Body")

    def operation(self, request, pk=None):
        app = self.get_object()
        form = form_or_400(step.form, request, files=request.FILES, application=app)
        service_call(step.service, actor=request.user, application=app, **form.service_kwargs())
        return Response(ApplicationSerializer(Application.objects.get(pk=app.pk)).data)

    # DRF names the operation after the function, so it is renamed before being declared
    operation.__name__ = key
    operation = action(detail=True, methods=["post"], url_path=key.replace("_", "-"))(operation)
    return extend_schema(request={"multipart/form-data": body, "application/json": body},
                         responses=ApplicationSerializer, summary=str(step.label))(operation)


@extend_schema(parameters=[
    OpenApiParameter("step", str, enum=list(sel.STEP_FILTERS), description=_("按待办环节筛选")),
    OpenApiParameter("due", str, enum=["today", "overdue"], description=_("今日到期 / 已超期"))])
class ApplicationViewSet(viewsets.ReadOnlyModelViewSet):
    """低保申请 in the caller's jurisdiction. `POST` accepts a new round for a household (受理,
    multipart with the signed authorisation); the detail operations are the steps of workflow.md."""

    serializer_class = ApplicationSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    required_actions = {"GET": "application.view", "create": "application.accept",
                        "not_accept": "application.accept", **STEP_ACTIONS}

    def get_queryset(self):
        return sel.worklist(self.request.user, step=self.request.query_params.get("step", ""),
                            due=self.request.query_params.get("due", ""))

    def _household(self, request) -> Household:
        raw = request.data.get("household") if hasattr(request.data, "get") else None
        if not str(raw or "").isdigit():
            raise ValidationError({"household": [_("请填写低保家庭 id")]})
        return get_scoped_or_404(Household, request.user, pk=int(raw))

    def _accept(self, request, body, service):
        household = self._household(request)
        form = form_or_400(body, request, files=request.FILES)
        kwargs = form.service_kwargs()
        kwargs.pop("household")
        app = service_call(service, actor=request.user, household=household, **kwargs)
        return Response(ApplicationSerializer(app).data, status=201)

    @extend_schema(request={"multipart/form-data": form_schema(AcceptBody, "ApplicationAcceptBody")},
                   responses={201: ApplicationSerializer}, summary=_("受理"))
    def create(self, request):
        return self._accept(request, AcceptBody, svc.application_accept)

    @extend_schema(request={"multipart/form-data": NOT_ACCEPT_SCHEMA, "application/json": NOT_ACCEPT_SCHEMA},
                   responses={201: ApplicationSerializer}, summary=_("不予受理"))
    @action(detail=False, methods=["post"], url_path="not-accept")
    def not_accept(self, request):
        return self._accept(request, NotAcceptBody, svc.application_not_accept)

    visit = _step_operation("visit")
    appraise = _step_operation("appraise")
    propose = _step_operation("propose")
    notice = _step_operation("notice")
    object = _step_operation("object")
    county_visit = _step_operation("county_visit")
    confirm = _step_operation("confirm")
    refuse = _step_operation("refuse")
    notify = _step_operation("notify")
    extend = _step_operation("extend")

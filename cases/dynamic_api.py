"""API of dynamic management (/api/v1/reviews/, /api/v1/changes/): the same forms, services,
permissions and audit records as the pages (cases/dynamic_views.py).

- `GET /reviews/` the households in review (`status=due|overdue`, default overdue) with their last
  review; `GET /reviews/counts/` due / overdue per township; `POST /reviews/` records a review
  (body: `household` id and the review form's fields; a member's income as `income_<member id>`).
- `GET /changes/` (`state=proposed|confirmed|refused`), `GET /changes/<id>/`; `POST /changes/`
  proposes (body: `household` id and the change form's fields); `POST /changes/<id>/confirm/` and
  `/refuse/` are the county's decision.
"""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from cases import changes as svc
from cases import dynamic_forms as f
from cases import reviews
from cases.dynamic_views import changes_for
from cases.models import (
    ChangeState,
    Household,
    HouseholdChange,
    HouseholdReview,
    Status,
)
from dibao.api import form_or_400, form_schema, service_call
from dibao.scoping import get_scoped_or_404


class ReviewDueSerializer(serializers.ModelSerializer):
    last_review = serializers.DateField(help_text=_("最近复核日期，从未复核时为审批日期"))
    review_status = serializers.ChoiceField(choices=["due", "overdue", ""])

    class Meta:
        model = Household
        fields = ["id", "household_no", "head_name", "region", "management_class", "last_reviewed_on",
                  "last_review", "review_status"]


class ReviewSerializer(serializers.ModelSerializer):
    class Meta:
        model = HouseholdReview
        exclude = ["created_at"]


class ChangeSerializer(serializers.ModelSerializer):
    household_no = serializers.CharField(source="household.household_no", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    planned_exit_on = serializers.DateField(source="household.planned_exit_on", read_only=True,
                                            help_text=_("渐退期截止日期"))

    class Meta:
        model = HouseholdChange
        exclude = ["created_at", "payload"]


def _household(request) -> Household:
    raw = request.data.get("household") if hasattr(request.data, "get") else None
    if not str(raw or "").isdigit():
        raise ValidationError({"household": [_("请填写低保家庭 id")]})
    return get_scoped_or_404(Household.objects.filter(status=Status.ACTIVE), request.user, pk=int(raw))


def _body(form_class, name):
    schema = form_schema(form_class, name)
    return {"application/json": schema, "multipart/form-data": schema}


@extend_schema(parameters=[OpenApiParameter("status", str, enum=["due", "overdue"], description=_("本月到期 / 已超期"))])
class ReviewViewSet(viewsets.GenericViewSet):
    """定期核查 of the caller's jurisdiction."""

    serializer_class = ReviewDueSerializer
    required_actions = {"GET": "review.view", "create": "review.record"}

    def get_queryset(self):
        status = self.request.query_params.get("status", "overdue")
        return (reviews.review_worklist(self.request.user)
                .filter(review_status=status if status in ("due", "overdue") else "overdue")
                .order_by("last_review", "household_no"))

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ReviewDueSerializer(page, many=True).data)

    @extend_schema(responses={200: {"type": "array", "items": {"type": "object"}}}, summary=_("各乡镇到期 / 超期户数"))
    @action(detail=False, methods=["get"])
    def counts(self, request):
        return Response(reviews.township_counts(reviews.review_worklist(request.user)))

    @extend_schema(request=_body(f.ReviewForm, "ReviewRecordBody"), responses={201: ReviewSerializer},
                   summary=_("登记定期核查"))
    def create(self, request):
        household = _household(request)
        form = form_or_400(f.ReviewForm, request, household=household)
        requested = reviews.requested_reviews(request.user).filter(household=household).first()
        review = service_call(reviews.review_record, actor=request.user, household=household, review=requested,
                              **form.service_kwargs())
        return Response(ReviewSerializer(review).data, status=201)


@extend_schema(parameters=[OpenApiParameter("state", str, enum=list(ChangeState.values), description=_("状态"))])
class ChangeViewSet(viewsets.ReadOnlyModelViewSet):
    """低保变更 of the caller's jurisdiction: proposed by the township, confirmed by the county."""

    serializer_class = ChangeSerializer
    required_actions = {"GET": "change.view", "create": "change.propose", "confirm": "change.confirm",
                        "refuse": "change.confirm"}

    def get_queryset(self):
        rows = changes_for(self.request.user)
        state = self.request.query_params.get("state", "")
        return rows.filter(state=state) if state in ChangeState.values else rows

    @extend_schema(request=_body(f.ChangeForm, "ChangeProposeBody"), responses={201: ChangeSerializer},
                   summary=_("提出低保变更"))
    def create(self, request):
        household = _household(request)
        form = form_or_400(f.ChangeForm, request, household=household)
        change = service_call(svc.change_propose, actor=request.user, household=household, **form.service_kwargs())
        return Response(ChangeSerializer(change).data, status=201)

    def _decide(self, request, form_class, service):
        change = self.get_object()
        form = form_or_400(form_class, request)
        service_call(service, actor=request.user, change=change, **form.service_kwargs())
        return Response(ChangeSerializer(HouseholdChange.objects.get(pk=change.pk)).data)

    @extend_schema(request=_body(f.ConfirmForm, "ChangeConfirmBody"), responses=ChangeSerializer, summary=_("确认变更"))
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self._decide(request, f.ConfirmForm, svc.change_confirm)

    @extend_schema(request=_body(f.RefuseForm, "ChangeRefuseBody"), responses=ChangeSerializer, summary=_("不予确认"))
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        return self._decide(request, f.RefuseForm, svc.change_refuse)

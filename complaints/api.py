"""REST API (/api/v1/): the same selectors, services and scoping as the pages.

Lists and details are scoped (another region's or body's object is 404). The
complainant's name and phone are never in the API output (masked for everybody); the
page's audited reveal is the one way to see them. Writes: complaint actions, clue
referral and the discipline body's outcome, each one service call.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from dibao.models import Region, Role, natural_code
from complaints import selectors, services
from complaints.models import (
    Clue, Complaint, DialTest, DisciplineKind, Hotline, Outcome, RectificationItem,
)


def _call(func, **kwargs):
    try:
        return func(**kwargs)
    except DjangoValidationError as error:
        if hasattr(error, "error_dict"):
            raise ValidationError({f: [m for e in errs for m in e.messages] for f, errs in error.error_dict.items()})
        raise ValidationError({"non_field_errors": error.messages})


class RolePermission(permissions.BasePermission):
    message = _("您的角色无权访问此接口")

    def has_permission(self, request, view):
        return getattr(request.user, "role", None) in view.roles


class ComplaintSerializer(serializers.ModelSerializer):
    complainant = serializers.SerializerMethodField()
    state_display = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = Complaint
        fields = ["id", "channel", "submitted_online", "anonymous", "complainant", "subject_type", "subject_name",
                  "subject_region", "accuses_staff", "content", "owner_region", "region", "state", "state_display",
                  "received_on", "deadline", "on_spot", "verification", "reply", "replied_on", "closed_on"]

    def get_complainant(self, obj) -> str:
        return obj.masked_name() + (" " + obj.masked_phone() if obj.complainant_phone else "")


class ComplaintViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ComplaintSerializer
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    roles = services.COMPLAINT_HANDLERS

    def get_queryset(self):
        return selectors.complaints(self.request.user, state=self.request.query_params.get("state", ""),
                                    overdue=self.request.query_params.get("overdue") == "1")

    def _text(self):
        return str(self.request.data.get("text", ""))

    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        code = natural_code(str(request.data.get("region", "")))
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise ValidationError({"region": [_("区划代码不存在")]})
        days = request.data.get("working_days")
        c = _call(services.complaint_assign, actor=request.user, complaint=self.get_object(), region=region,
                  working_days=int(days) if days else None)
        return Response(ComplaintSerializer(c).data)

    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        c = _call(services.complaint_verify, actor=request.user, complaint=self.get_object(), verification=self._text())
        return Response(ComplaintSerializer(c).data)

    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        c = _call(services.complaint_reply, actor=request.user, complaint=self.get_object(), reply=self._text())
        return Response(ComplaintSerializer(c).data)

    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        c = _call(services.complaint_close, actor=request.user, complaint=self.get_object())
        return Response(ComplaintSerializer(c).data)


class ClueSerializer(serializers.ModelSerializer):
    referral = serializers.SerializerMethodField()

    class Meta:
        model = Clue
        fields = ["id", "number", "received_on", "source", "channel", "region", "category", "summary",
                  "people_involved", "evidence_links", "deadline", "state", "finding_id", "concluded_on", "referral"]

    def get_referral(self, obj) -> dict | None:
        r = getattr(obj, "referral", None)
        if r is None:
            return None
        return {"body_region": r.body_region_id, "body_name": r.body_name, "referred_on": r.referred_on,
                "investigation": r.investigation, "outcome": r.outcome, "funds_recovered": str(r.funds_recovered),
                "concluded_on": r.concluded_on,
                "disciplines": [{"kind": d.kind, "count": d.count} for d in r.disciplines.all()]}


class OutcomeSerializer(serializers.Serializer):
    investigation = serializers.CharField()
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    funds_recovered = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    disciplines = serializers.ListField(child=serializers.DictField(), required=False)

    def validate_disciplines(self, value):
        out = []
        for d in value:
            if d.get("kind") not in DisciplineKind.values:
                raise serializers.ValidationError(_("处理方式无效：%(k)s") % {"k": d.get("kind")})
            try:
                count = int(d.get("count", 0))
            except (TypeError, ValueError):
                raise serializers.ValidationError(_("人数应为整数"))
            if count < 0:
                raise serializers.ValidationError(_("人数不能为负数"))
            out.append({"kind": d["kind"], "count": count})
        return out


class ClueViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ClueSerializer
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    roles = {Role.COUNTY_REVIEWER, Role.SUPERVISOR, Role.ADMIN, Role.INSPECTOR}

    def get_queryset(self):
        return selectors.clue_detail_queryset(self.request.user).order_by("-received_on", "-id")

    @action(detail=True, methods=["post"])
    def outcome(self, request, pk=None):
        clue = self.get_object()
        s = OutcomeSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        referral = getattr(clue, "referral", None)
        if referral is None:
            raise ValidationError({"non_field_errors": [_("该线索尚未移交纪检监察机关")]})
        _call(services.referral_record, actor=request.user, referral=referral,
              investigation=s.validated_data["investigation"], outcome=s.validated_data["outcome"],
              funds_recovered=s.validated_data["funds_recovered"],
              disciplines=s.validated_data.get("disciplines", []))
        if request.data.get("conclude"):
            _call(services.referral_conclude, actor=request.user, referral=referral)
        return Response(ClueSerializer(self.get_queryset().get(pk=clue.pk)).data)


class RectificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = RectificationItem
        fields = ["id", "number", "region", "source", "finding_id", "clue", "problem", "measures",
                  "responsible_unit", "responsible_person", "deadline", "status", "progress", "evidence",
                  "done_on", "closed_on"]


class RectificationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RectificationSerializer
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    roles = {Role.CASEWORKER, Role.COUNTY_REVIEWER, Role.SUPERVISOR, Role.ADMIN}

    def get_queryset(self):
        return selectors.rectifications(self.request.user, overdue=self.request.query_params.get("overdue") == "1")


class HotlineSerializer(serializers.ModelSerializer):
    class Meta:
        model = Hotline
        fields = ["id", "region", "unit", "numbers", "hours", "online_channel", "postal_address", "active"]


class HotlineViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = HotlineSerializer
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    roles = {Role.CASEWORKER, Role.COUNTY_REVIEWER, Role.SUPERVISOR, Role.ADMIN}

    def get_queryset(self):
        return selectors.hotlines(self.request.user).order_by("region_id", "id")


class DialTestSerializer(serializers.ModelSerializer):
    class Meta:
        model = DialTest
        fields = ["id", "hotline", "number", "called_at", "answered", "handled_properly", "notes"]


class DialTestViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DialTestSerializer
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    roles = {Role.CASEWORKER, Role.COUNTY_REVIEWER, Role.SUPERVISOR, Role.ADMIN}

    def get_queryset(self):
        return selectors.dial_tests(self.request.user)

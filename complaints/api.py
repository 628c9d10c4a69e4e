"""REST API (/api/v1/): the same selectors, services, forms and scoping as the pages.

Lists and details are scoped (another region's or body's object is 404). The complainant's
name and phone are never in the API output (masked for everybody); the page's audited reveal
is the one way to see them. Writes — complaint actions; clue registration, referral, the
discipline body's outcome and typical cases; rectification; spot checks — are each one service
call, their input validated by the page's own form.
"""
from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from complaints import exports, forms, selectors, services
from complaints.models import (
    BodyKind, CheckResult, Clue, Complaint, DialTest, DisciplineKind, HomeSample, HomeVisit, Hotline, Inspection, Outcome,
    RectificationItem, TypicalCase,
)
from dibao.api import VersionedMixin, form_or_400, form_schema, service_call
from dibao.models import Region, natural_code
from dibao.scoping import in_scope
from dibao.validators import MAX_PERSONS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


class ClueSerializer(serializers.ModelSerializer):
    referral = serializers.SerializerMethodField()

    class Meta:
        model = Clue
        fields = ["id", "number", "received_on", "source", "channel", "region", "category", "summary",
                  "people_involved", "evidence_links", "deadline", "state", "finding_id", "concluded_on", "referral",
                  "version"]

    def get_referral(self, obj) -> dict | None:
        r = getattr(obj, "referral", None)
        if r is None:
            return None
        return {"body_region": r.body_region_id, "body_name": r.body_name, "body_kind": r.body_kind,
                "referred_on": r.referred_on,
                "investigation": r.investigation, "outcome": r.outcome, "funds_recovered": str(r.funds_recovered),
                "concluded_on": r.concluded_on,
                "disciplines": [{"kind": d.kind, "count": d.count} for d in r.disciplines.all()]}


class ComplaintReceiptSerializer(serializers.ModelSerializer):
    """What the registering user gets back: the tracking code to give the complainant, and the
    complaint itself only while it stays in their jurisdiction (one about their own staff goes
    one level up and out of their sight)."""

    id = serializers.SerializerMethodField()

    class Meta:
        model = Complaint
        fields = ["id", "tracking_code", "owner_region", "state"]

    def get_id(self, obj) -> int | None:
        return obj.pk if in_scope(self.context["request"].user, obj.region_id) else None


class ComplaintViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ComplaintSerializer
    required_actions = {"GET": "complaint.view", "create": "complaint.handle", "on_spot": "complaint.handle",
                        "assign": "complaint.handle", "verify": "complaint.handle", "reply": "complaint.handle",
                        "close": "complaint.handle", "clue": "clue.manage"}

    def get_queryset(self):
        return selectors.complaints(self.request.user, state=self.request.query_params.get("state", ""),
                                    overdue=self.request.query_params.get("overdue") == "1")

    def _text(self):
        return str(self.request.data.get("text", ""))

    @extend_schema(request=form_schema(forms.ComplaintForm, "ComplaintCreateRequest"),
                   responses={201: ComplaintReceiptSerializer}, summary=_("登记投诉举报"))
    def create(self, request):
        form = form_or_400(forms.ComplaintForm, request, user=request.user)
        complaint = service_call(services.complaint_create, actor=request.user, data=form.cleaned_data)
        return Response(ComplaintReceiptSerializer(complaint, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=form_schema(forms.TextForm, "ComplaintOnSpotRequest"), responses=ComplaintSerializer,
                   summary=_("当场回签并办结"))
    @action(detail=True, methods=["post"], url_path="on-spot")
    def on_spot(self, request, pk=None):
        c = service_call(services.complaint_answer_on_spot, actor=request.user, complaint=self.get_object(),
                         reply=self._text())
        return Response(ComplaintSerializer(c).data)

    @extend_schema(request=form_schema(forms.ClueFromComplaintForm, "ClueFromComplaintRequest"),
                   responses={201: ClueSerializer}, summary=_("转为问题线索"))
    @action(detail=True, methods=["post"])
    def clue(self, request, pk=None):
        complaint = self.get_object()
        form = form_or_400(forms.ClueFromComplaintForm, request)
        clue = service_call(services.clue_create_from_complaint, actor=request.user, complaint=complaint,
                            **form.cleaned_data)
        return Response(ClueSerializer(selectors.clue_detail_queryset(request.user).get(pk=clue.pk)).data,
                        status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        complaint = self.get_object()
        code = natural_code(str(request.data.get("region", "")))
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise ValidationError({"region": [_("区划代码不存在")]})
        days = request.data.get("working_days")
        c = service_call(services.complaint_assign, actor=request.user, complaint=complaint, region=region,
                         working_days=int(days) if days else None)
        return Response(ComplaintSerializer(c).data)

    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        c = service_call(services.complaint_verify, actor=request.user, complaint=self.get_object(),
                         verification=self._text())
        return Response(ComplaintSerializer(c).data)

    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        c = service_call(services.complaint_reply, actor=request.user, complaint=self.get_object(), reply=self._text())
        return Response(ComplaintSerializer(c).data)

    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        c = service_call(services.complaint_close, actor=request.user, complaint=self.get_object())
        return Response(ComplaintSerializer(c).data)


class OutcomeSerializer(serializers.Serializer):
    investigation = serializers.CharField()
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    funds_recovered = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    disciplines = serializers.ListField(child=serializers.DictField(), required=False)
    conclude = serializers.BooleanField(default=False, help_text=_("同时办结该线索"))

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
            if count > MAX_PERSONS:
                raise serializers.ValidationError(_("%(k)s人数 %(n)s 超过上限 %(max)s，请核对")
                                                  % {"k": d["kind"], "n": count, "max": MAX_PERSONS})
            out.append({"kind": d["kind"], "count": count})
        return out


class TypicalCaseSerializer(serializers.ModelSerializer):
    clue_number = serializers.CharField(source="clue.number", read_only=True)

    class Meta:
        model = TypicalCase
        fields = ["id", "clue", "clue_number", "region", "title", "summary", "month", "marked_at"]


class ClueViewSet(VersionedMixin, viewsets.ReadOnlyModelViewSet):
    """问题线索: registration, direct conclusion and referral by the bureau; the discipline body's
    investigation and outcome; marking a concluded clue as a typical case."""

    serializer_class = ClueSerializer
    required_actions = {"GET": "clue.view", "create": "clue.manage", "update": "clue.manage", "conclude": "clue.manage",
                        "refer": "clue.refer", "outcome": "clue.outcome", "typical": "typical_case.mark"}

    def get_queryset(self):
        return selectors.clue_detail_queryset(self.request.user).order_by("-received_on", "-id")

    def _fresh(self, clue):
        return ClueSerializer(self.get_queryset().get(pk=clue.pk)).data

    @extend_schema(request=form_schema(forms.ClueForm, "ClueCreateRequest"), responses={201: ClueSerializer},
                   summary=_("登记问题线索"))
    def create(self, request):
        form = form_or_400(forms.ClueForm, request, user=request.user)
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("staff", "version")}
        clue = service_call(services.clue_create, actor=request.user, data=data, staff=list(form.cleaned_data["staff"]))
        return Response(self._fresh(clue), status=status.HTTP_201_CREATED)

    @extend_schema(request=form_schema(forms.ClueForm, "ClueUpdateRequest"), responses=ClueSerializer,
                   summary=_("修改问题线索"))
    def update(self, request, pk=None):
        clue = self.get_object()
        form = form_or_400(forms.ClueForm, request, user=request.user, instance=Clue.objects.get(pk=clue.pk))
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("staff", "version")}
        clue = service_call(services.clue_update, actor=request.user, clue=clue, data=data,
                            staff=list(form.cleaned_data["staff"]), expected_version=self.expected_version())
        return Response(self._fresh(clue))

    @extend_schema(request=form_schema(forms.TextForm, "ClueConcludeRequest"), responses=ClueSerializer,
                   summary=_("直查快办：本机关办结线索"))
    @action(detail=True, methods=["post"])
    def conclude(self, request, pk=None):
        clue = self.get_object()
        form = form_or_400(forms.TextForm, request)
        clue = service_call(services.clue_conclude_directly, actor=request.user, clue=clue,
                            handling=form.cleaned_data["text"], expected_version=self.expected_version())
        return Response(self._fresh(clue))

    @extend_schema(request=form_schema(forms.ReferForm, "ClueReferRequest"), responses=ClueSerializer,
                   summary=_("移交纪检监察机关"))
    @action(detail=True, methods=["post"])
    def refer(self, request, pk=None):
        clue = self.get_object()
        form = form_or_400(forms.ReferForm, request)
        service_call(services.clue_refer, actor=request.user, clue=clue, body_region=form.cleaned_data["body_region"],
                     body_name=form.cleaned_data["body_name"], note=form.cleaned_data["note"],
                     body_kind=form.cleaned_data["body_kind"] or BodyKind.COMMISSION,
                     expected_version=self.expected_version())
        return Response(self._fresh(clue))

    @extend_schema(request=OutcomeSerializer, responses=ClueSerializer, summary=_("登记调查处理结果"))
    @action(detail=True, methods=["post"])
    def outcome(self, request, pk=None):
        clue = self.get_object()
        s = OutcomeSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        referral = getattr(clue, "referral", None)
        if referral is None:
            raise ValidationError({"non_field_errors": [_("该线索尚未移交纪检监察机关")]})
        service_call(services.referral_record, actor=request.user, referral=referral,
                     investigation=s.validated_data["investigation"], outcome=s.validated_data["outcome"],
                     funds_recovered=s.validated_data["funds_recovered"],
                     disciplines=s.validated_data.get("disciplines", []), expected_version=self.expected_version())
        if s.validated_data["conclude"]:
            # the version was checked by the record just made, in this same request
            service_call(services.referral_conclude, actor=request.user, referral=referral)
        return Response(self._fresh(clue))

    @extend_schema(request=form_schema(forms.TypicalCaseForm, "TypicalCaseRequest"),
                   responses={201: TypicalCaseSerializer}, summary=_("标记为典型案例"))
    @action(detail=True, methods=["post"])
    def typical(self, request, pk=None):
        clue = self.get_object()
        form = form_or_400(forms.TypicalCaseForm, request)
        case = service_call(services.typical_case_mark, actor=request.user, clue=clue, **form.cleaned_data)
        return Response(TypicalCaseSerializer(case).data, status=status.HTTP_201_CREATED)


class TypicalCaseViewSet(viewsets.ReadOnlyModelViewSet):
    """典型案例 inside the caller's jurisdiction (marked through `clues/<id>/typical/`)."""

    serializer_class = TypicalCaseSerializer
    required_actions = {"GET": "clue.view"}

    def get_queryset(self):
        return selectors.typical_cases(self.request.user).select_related("clue")


class RectificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = RectificationItem
        fields = ["id", "number", "region", "source", "finding_id", "clue", "problem", "measures",
                  "responsible_unit", "responsible_person", "deadline", "status", "progress", "evidence",
                  "done_on", "closed_on"]


class RectificationViewSet(viewsets.ReadOnlyModelViewSet):
    """整改台账: registration, the responsible unit's progress, the supervisor's 对账销号."""

    serializer_class = RectificationSerializer
    required_actions = {"GET": "rectification.view", "create": "rectification.create",
                        "progress": "rectification.update", "close": "rectification.close"}

    def get_queryset(self):
        return selectors.rectifications(self.request.user, overdue=self.request.query_params.get("overdue") == "1")

    @extend_schema(request=form_schema(forms.RectificationForm, "RectificationCreateRequest"),
                   responses={201: RectificationSerializer}, summary=_("登记整改事项"))
    def create(self, request):
        form = form_or_400(forms.RectificationForm, request, user=request.user)
        item = service_call(services.rectification_create, actor=request.user, data=form.cleaned_data)
        return Response(RectificationSerializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=form_schema(forms.RectificationProgressForm, "RectificationProgressRequest"),
                   responses=RectificationSerializer, summary=_("登记整改进展"))
    @action(detail=True, methods=["post"])
    def progress(self, request, pk=None):
        item = self.get_object()
        form = form_or_400(forms.RectificationProgressForm, request)
        item = service_call(services.rectification_update, actor=request.user, item=item, **form.cleaned_data)
        return Response(RectificationSerializer(item).data)

    @extend_schema(request=None, responses=RectificationSerializer, summary=_("对账销号"))
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        item = service_call(services.rectification_close, actor=request.user, item=self.get_object())
        return Response(RectificationSerializer(item).data)


class HotlineSerializer(serializers.ModelSerializer):
    class Meta:
        model = Hotline
        fields = ["id", "region", "unit", "numbers", "hours", "online_channel", "postal_address", "active"]


class HotlineViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = HotlineSerializer
    required_actions = {"GET": "hotline.view", "create": "hotline.manage", "update": "hotline.manage"}

    def get_queryset(self):
        return selectors.hotlines(self.request.user).order_by("region_id", "id")

    @extend_schema(request=form_schema(forms.HotlineForm, "HotlineRequest"), responses={201: HotlineSerializer},
                   summary=_("登记投诉举报电话"))
    def create(self, request):
        form = form_or_400(forms.HotlineForm, request)
        hotline = service_call(services.hotline_save, actor=request.user, data=form.cleaned_data)
        return Response(HotlineSerializer(hotline).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=form_schema(forms.HotlineForm, "HotlineRequest"), responses=HotlineSerializer,
                   summary=_("修改投诉举报电话"))
    def update(self, request, pk=None):
        hotline = self.get_object()
        form = form_or_400(forms.HotlineForm, request, instance=Hotline.objects.get(pk=hotline.pk))
        hotline = service_call(services.hotline_save, actor=request.user, data=form.cleaned_data, hotline=hotline)
        return Response(HotlineSerializer(hotline).data)


class DialTestSerializer(serializers.ModelSerializer):
    class Meta:
        model = DialTest
        fields = ["id", "hotline", "number", "called_at", "answered", "handled_properly", "notes"]


class DialTestViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DialTestSerializer
    required_actions = {"GET": "hotline.view", "create": "dial_test.record"}

    def get_queryset(self):
        return selectors.dial_tests(self.request.user)

    @extend_schema(request=form_schema(forms.DialTestForm, "DialTestRequest"), responses={201: DialTestSerializer},
                   summary=_("登记拨打督导"))
    def create(self, request):
        form = form_or_400(forms.DialTestForm, request, user=request.user)
        test = service_call(services.dial_test_record, actor=request.user, **form.cleaned_data)
        return Response(DialTestSerializer(test).data, status=status.HTTP_201_CREATED)


class HomeVisitSerializer(serializers.ModelSerializer):
    household_no = serializers.CharField(source="household.household_no", read_only=True)

    class Meta:
        model = HomeVisit
        fields = ["id", "sample", "household", "household_no", "result", "visited_on", "note"]


class HomeSampleSerializer(serializers.ModelSerializer):
    visits = HomeVisitSerializer(many=True, read_only=True)

    class Meta:
        model = HomeSample
        fields = ["id", "inspection", "region", "seed", "requested_count", "requested_percent", "population",
                  "created_at", "visits"]


class InspectionSerializer(serializers.ModelSerializer):
    results = serializers.SerializerMethodField()

    class Meta:
        model = Inspection
        fields = ["id", "region", "checklist", "inspected_on", "team", "summary", "created_at", "results"]

    def get_results(self, obj) -> list[dict]:
        return [{"item": r.item_id, "result": r.result, "note": r.note} for r in obj.results.all()]


class InspectionResultItem(serializers.Serializer):
    item = serializers.IntegerField(help_text=_("检查清单项目 id"))
    result = serializers.ChoiceField(choices=CheckResult.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class InspectionResultsSerializer(serializers.Serializer):
    results = InspectionResultItem(many=True)
    summary = serializers.CharField(required=False, allow_blank=True, default="")


class InspectionViewSet(viewsets.ReadOnlyModelViewSet):
    """督查抽查: the inspection, its checklist results, and reproducible home-visit samples."""

    serializer_class = InspectionSerializer
    required_actions = {"GET": "inspection.view", "create": "inspection.manage", "results": "inspection.manage",
                        "sample": "inspection.manage"}

    def get_queryset(self):
        return selectors.inspections(self.request.user).prefetch_related("results")

    @extend_schema(request=form_schema(forms.InspectionForm, "InspectionCreateRequest"),
                   responses={201: InspectionSerializer}, summary=_("新建督查"))
    def create(self, request):
        form = form_or_400(forms.InspectionForm, request)
        inspection = service_call(services.inspection_create, actor=request.user, data=form.cleaned_data)
        return Response(InspectionSerializer(inspection).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=InspectionResultsSerializer, responses=InspectionSerializer, summary=_("登记检查结果"))
    @action(detail=True, methods=["post"])
    def results(self, request, pk=None):
        inspection = self.get_object()
        body = InspectionResultsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        results = {r["item"]: (r["result"], r["note"]) for r in body.validated_data["results"]}
        inspection = service_call(services.inspection_record_results, actor=request.user, inspection=inspection,
                                  results=results, summary=body.validated_data["summary"])
        return Response(InspectionSerializer(self.get_queryset().get(pk=inspection.pk)).data)

    @extend_schema(request=form_schema(forms.SampleForm, "SampleDrawRequest"), responses={201: HomeSampleSerializer},
                   summary=_("抽取入户样本"))
    @action(detail=True, methods=["post"])
    def sample(self, request, pk=None):
        inspection = self.get_object()
        form = form_or_400(forms.SampleForm, request)
        sample = service_call(services.sample_draw, actor=request.user, inspection=inspection, **form.cleaned_data)
        return Response(HomeSampleSerializer(selectors.samples(inspection).get(pk=sample.pk)).data,
                        status=status.HTTP_201_CREATED)


class HomeVisitViewSet(viewsets.ReadOnlyModelViewSet):
    """The households drawn for home visits, and recording a visit's result."""

    serializer_class = HomeVisitSerializer
    required_actions = {"GET": "inspection.view", "record": "inspection.manage"}

    def get_queryset(self):
        return HomeVisit.objects.for_user(self.request.user).select_related("household").order_by("sample_id", "id")

    @extend_schema(request=form_schema(forms.VisitForm, "VisitRecordRequest"), responses=HomeVisitSerializer,
                   summary=_("登记走访结果"))
    @action(detail=True, methods=["post"])
    def record(self, request, pk=None):
        visit = self.get_object()
        form = form_or_400(forms.VisitForm, request)
        visit = service_call(services.visit_record, actor=request.user, visit=visit, **form.cleaned_data)
        return Response(HomeVisitSerializer(visit).data)


class LedgerExportView(APIView):
    """One ledger as a workbook (audited); one URL per ledger, each with its own permission."""

    kind = ""
    required_actions: dict = {}  # set per URL by ledger_export_urls

    @extend_schema(responses={(200, XLSX): OpenApiTypes.BINARY}, summary=_("导出台账"))
    def get(self, request):
        return exports.download(request.user, self.kind)


def ledger_export_urls():
    return [path(f"ledger-exports/{kind}/", LedgerExportView.as_view(kind=kind, required_actions={"GET": action}),
                 name=f"api_ledger_export_{kind}")
            for kind, action in exports.EXPORT_ACTIONS.items()]

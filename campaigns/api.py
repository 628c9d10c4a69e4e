"""API of screening campaigns: campaigns (list, detail with per-township progress, create,
recompute), screening records (list, create, update) and township sign-off (submit, return,
accept). Every write is one service call; rows outside the caller's jurisdiction are 404."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from campaigns import selectors, services
from campaigns.models import Campaign, CampaignHousehold, Handling, ProblemType, ScreeningRecord, ScreeningResult, TownshipSignoff
from dibao.api import VersionedMixin, service_call


class CampaignSerializer(serializers.ModelSerializer):
    region_name = serializers.CharField(source="region.name", read_only=True)

    class Meta:
        model = Campaign
        fields = ["id", "name", "region", "region_name", "active_end", "exited_from", "exited_to", "rejected_from",
                  "rejected_to", "screening_deadline", "reporting_deadline", "state", "created_at", "version"]
        read_only_fields = ["state", "created_at", "version"]


class ProgressSerializer(serializers.Serializer):
    households_total = serializers.IntegerField()
    households_screened = serializers.IntegerField()
    townships_total = serializers.IntegerField(help_text=_("排查名单不为空的乡镇数"))
    townships_screened = serializers.IntegerField(help_text=_("已上报或已确认（未被退回）的乡镇数"))
    townships_not_applicable = serializers.IntegerField(help_text=_("无排查对象的乡镇数（不适用）"))
    problems_by_type = serializers.DictField(child=serializers.IntegerField())


class SignoffSerializer(serializers.ModelSerializer):
    class Meta:
        model = TownshipSignoff
        fields = ["id", "township_code", "state", "submitted_at", "returned_at", "return_reason", "accepted_at",
                  "version"]


class TownshipProgressSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    not_applicable = serializers.BooleanField()
    screened = serializers.BooleanField()
    progress = ProgressSerializer()
    signoff = SignoffSerializer(allow_null=True)


class CampaignDetailSerializer(CampaignSerializer):
    progress = serializers.SerializerMethodField()
    townships = serializers.SerializerMethodField()

    class Meta(CampaignSerializer.Meta):
        fields = CampaignSerializer.Meta.fields + ["progress", "townships"]

    @extend_schema(responses=ProgressSerializer)
    def get_progress(self, obj) -> dict:
        user = self.context["request"].user
        return ProgressSerializer(selectors.total_progress(obj, within=selectors.user_within(user, obj))).data

    @extend_schema(responses=TownshipProgressSerializer(many=True))
    def get_townships(self, obj) -> list:
        return TownshipProgressSerializer(selectors.township_rows(self.context["request"].user, obj), many=True).data


class RecordSerializer(serializers.ModelSerializer):
    household_no = serializers.CharField(source="campaign_household.household.household_no", read_only=True)
    campaign = serializers.IntegerField(source="campaign_household.campaign_id", read_only=True)
    population = serializers.CharField(source="campaign_household.population", read_only=True)

    class Meta:
        model = ScreeningRecord
        fields = ["id", "campaign", "campaign_household", "household_no", "population", "screened_on", "screeners",
                  "result", "problem_types", "handling", "application", "clue", "finding", "note", "recorded_at",
                  "version"]
        read_only_fields = fields


class RecordWriteSerializer(serializers.Serializer):
    campaign_household = serializers.IntegerField(help_text=_("排查名单条目编号（见名单/记录列表）"))
    screened_on = serializers.DateField()
    screeners = serializers.CharField(max_length=100, help_text=_("一至两人，用、分隔"))
    result = serializers.ChoiceField(choices=ScreeningResult.choices)
    problem_types = serializers.ListField(child=serializers.ChoiceField(choices=ProblemType.choices), required=False,
                                          default=list)
    handling = serializers.ChoiceField(choices=Handling.choices, required=False, allow_blank=True, default="")
    application = serializers.IntegerField(required=False, allow_null=True, help_text=_("关联的申请/变更编号"))
    clue = serializers.IntegerField(required=False, allow_null=True, help_text=_("关联的线索编号"))
    finding = serializers.IntegerField(required=False, allow_null=True, help_text=_("关联的疑点编号"))
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")
    version = serializers.IntegerField(required=False, allow_null=True, help_text=_("读取时的版本号"))


class ReturnSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text=_("退回原因"))


class CampaignViewSet(VersionedMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    required_actions = {"GET": "campaign.view", "create": "campaign.create", "recompute": "campaign.create",
                        "close": "campaign.create",
                        "submit": "campaign.signoff", "accept": "campaign.accept", "return_signoff": "campaign.accept"}

    def get_queryset(self):
        return selectors.campaigns_for(self.request.user).order_by("-id")

    def get_serializer_class(self):
        return CampaignDetailSerializer if self.action == "retrieve" else CampaignSerializer

    @extend_schema(request=CampaignSerializer, responses={201: CampaignSerializer}, summary=_("发起排查活动"))
    def create(self, request):
        body = CampaignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        region = data.pop("region")
        campaign = service_call(services.campaign_create, actor=request.user, region_code=region.code, **data)
        return Response(CampaignSerializer(campaign).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, summary=_("补充排查名单（只增不减）"), responses={200: inline_serializer(
        "CampaignRecomputed", {"added": serializers.IntegerField(help_text=_("新增列入名单的户数"))})})
    @action(detail=True, methods=["post"])
    def recompute(self, request, pk=None):
        added = service_call(services.campaign_recompute, actor=request.user, campaign=self.get_object())
        return Response({"added": added})

    @extend_schema(request=None, responses=CampaignSerializer, summary=_("结束排查活动（各乡镇结果均已确认）"))
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        campaign = service_call(services.campaign_close, actor=request.user, campaign=self.get_object(),
                                expected_version=self.expected_version())
        return Response(CampaignSerializer(campaign).data)

    def _township(self, township):
        return selectors.township_row(self.request.user, self.get_object(), township)

    @extend_schema(request=None, responses=SignoffSerializer, summary=_("乡镇确认上报"))
    @action(detail=True, methods=["post"], url_path=r"townships/(?P<township>\d{9})/submit")
    def submit(self, request, pk=None, township=None):
        row = self._township(township)
        signoff = service_call(services.signoff_submit, actor=request.user, campaign=self.get_object(),
                               township_code=row.code)
        return Response(SignoffSerializer(signoff).data)

    @extend_schema(request=None, responses=SignoffSerializer, summary=_("县级确认乡镇排查结果"))
    @action(detail=True, methods=["post"], url_path=r"townships/(?P<township>\d{9})/accept")
    def accept(self, request, pk=None, township=None):
        signoff = selectors.signoff_or_404(request.user, self.get_object(), township)
        signoff = service_call(services.signoff_accept, actor=request.user, signoff=signoff,
                               expected_version=self.expected_version())
        return Response(SignoffSerializer(signoff).data)

    @extend_schema(request=ReturnSerializer, responses=SignoffSerializer, summary=_("县级退回乡镇排查结果"))
    @action(detail=True, methods=["post"], url_path=r"townships/(?P<township>\d{9})/return")
    def return_signoff(self, request, pk=None, township=None):
        signoff = selectors.signoff_or_404(request.user, self.get_object(), township)
        body = ReturnSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        signoff = service_call(services.signoff_return, actor=request.user, signoff=signoff,
                               reason=body.validated_data["reason"], expected_version=self.expected_version())
        return Response(SignoffSerializer(signoff).data)


class RecordViewSet(VersionedMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                    viewsets.ReadOnlyModelViewSet):
    """`?campaign=<id>` narrows the list to one campaign."""

    required_actions = {"GET": "campaign.view", "create": "campaign.screen", "update": "campaign.screen",
                        "partial_update": "campaign.screen"}
    serializer_class = RecordSerializer

    def get_queryset(self):
        qs = (ScreeningRecord.objects.for_user(self.request.user)
              .select_related("campaign_household__household").order_by("id"))
        campaign = self.request.query_params.get("campaign", "")
        return qs.filter(campaign_household__campaign_id=campaign) if campaign.isdigit() else qs

    def _save(self, request, *, record=None):
        body = RecordWriteSerializer(data=request.data, partial=False)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        entry_id = record.campaign_household_id if record else data["campaign_household"]
        campaign_id = (record.campaign_household.campaign_id if record else
                       CampaignHousehold.objects.filter(pk=entry_id).values_list("campaign_id", flat=True)
                       .first())
        campaign = selectors.campaign_or_404(request.user, campaign_id or 0)
        entry = selectors.entry_or_404(request.user, campaign, entry_id)
        return service_call(
            services.screening_record_save, actor=request.user, campaign_household=entry,
            screened_on=data["screened_on"], screeners=data["screeners"], result=data["result"],
            problem_types=data["problem_types"], handling=data["handling"], note=data["note"],
            application_id=data.get("application"), clue_id=data.get("clue"), finding_id=data.get("finding"),
            expected_version=self.expected_version() if record else None)

    @extend_schema(request=RecordWriteSerializer, responses={201: RecordSerializer}, summary=_("登记排查记录"))
    def create(self, request):
        record = self._save(request)
        return Response(RecordSerializer(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RecordWriteSerializer, responses=RecordSerializer, summary=_("修改排查记录"))
    def update(self, request, pk=None, partial=False):
        record = self._save(request, record=self.get_object())
        return Response(RecordSerializer(record).data)

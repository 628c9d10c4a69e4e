"""REST API of the registry (/api/v1/): the same selectors, services and scoping as the pages.

ID numbers are always masked; `POST <detail>/reveal-id/` shows one in full to the roles with
`household.reveal_id`, an audited act like the household page's reveal. Writes go through
`cases.services`; a rule a service refuses comes back as a 400 keyed by field, in Chinese.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError

from cases import selectors, services
from cases.models import DECISIVE_FIELDS, Household, KinRelation, Member, RelativeFiling, Staff, Status
from dibao import idnumber
from dibao.api import IdRevealMixin, MaskedIdMixin, VersionedMixin, reveal_field, service_call
from dibao.audit import AuditObject
from dibao.models import Region, natural_code


class RegionCodeField(serializers.SlugRelatedField):
    """A region by its statistical code, natural length or padded to 12 digits."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "code")
        kwargs.setdefault("queryset", Region.objects.all())
        kwargs.setdefault("error_messages", {"does_not_exist": _("区划代码 {value} 不存在")})
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(natural_code(str(data)))


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object chosen by id among those in the caller's jurisdiction."""

    def get_queryset(self):
        return super().get_queryset().for_user(self.context["request"].user)


def _validate_id(value):
    try:
        return idnumber.validate_id(value)
    except DjangoValidationError as error:
        raise ValidationError(error.messages)


class MemberNestedSerializer(MaskedIdMixin, serializers.ModelSerializer):
    id_fields = ("id_number",)
    sex = serializers.CharField(read_only=True)
    birth_date = serializers.DateField(read_only=True)

    class Meta:
        model = Member
        fields = ["id", "name", "id_number", "relation", "sex", "birth_date", "disability_category",
                  "disability_level", "serious_illness", "labour_capacity", "monthly_income", "version"]


class MemberSerializer(MemberNestedSerializer):
    household = ScopedPrimaryKeyRelatedField(queryset=Household.objects.all())
    household_no = serializers.CharField(source="household.household_no", read_only=True)

    class Meta(MemberNestedSerializer.Meta):
        fields = ["id", "household", "household_no", *MemberNestedSerializer.Meta.fields[1:]]
        validators: list = []  # the household's unique ID number is a service rule, with its message

    def validate_id_number(self, value):
        return _validate_id(value)

    def validate_household(self, value):
        if self.instance is not None and value != self.instance.household:
            raise ValidationError(_("成员不能转到其他家庭"))
        return value


class HouseholdSerializer(MaskedIdMixin, serializers.ModelSerializer):
    id_fields = ("head_id_number", "payee_id_number", "single_coverage_id_number")
    region = RegionCodeField(help_text=_("区划代码：9 位乡镇或 12 位村（居），也可补零到 12 位"))
    region_name = serializers.CharField(source="region.name", read_only=True)
    head_id_masked = serializers.CharField(read_only=True)
    members = MemberNestedSerializer(many=True, read_only=True)

    class Meta:
        model = Household
        fields = ["id", "household_no", "region", "region_name", "head_name", "head_id_number", "head_id_masked",
                  "category", "status", "applied_on", "decided_on", "exited_on", "exit_reason",
                  "rejection_reason", "monthly_amount", "poverty_cause", "management_class", "last_reviewed_on",
                  "registered_poor", "phone", "payee_id_number", "account_no", "bank_name", "single_coverage_id_number",
                  "payment_stopped", "planned_exit_on", "legacy_migration", "created_at", "updated_at", "version",
                  "members"]
        read_only_fields = [*DECISIVE_FIELDS, "legacy_migration", "created_at", "updated_at"]

    def validate_head_id_number(self, value):
        return _validate_id(value)

    def validate(self, attrs):
        """Read-only fields are normally dropped in silence; a decisive one sent with a new value is
        refused instead, so a client never believes it set a status or an amount. The value it
        already has (a GET sent back with a phone number changed) passes."""
        current = self.instance or Household(status=Status.PENDING)
        errors = {}
        for name in DECISIVE_FIELDS:
            if name not in self.initial_data:
                continue
            try:
                sent = Household._meta.get_field(name).to_python(self.initial_data[name])
            except DjangoValidationError:
                sent = self.initial_data[name]
            if sent != getattr(current, name):
                errors[name] = [services.decisive_field_message(name)]
        if errors:
            raise ValidationError(errors)
        return attrs

    def validate_household_no(self, value):
        value = idnumber.normalize_text(value)
        if self.instance is not None and value != self.instance.household_no:
            raise ValidationError(_("户编号是导入时的匹配键，不能修改"))
        return value


class StaffSerializer(MaskedIdMixin, serializers.ModelSerializer):
    id_fields = ("id_number",)
    region = RegionCodeField()
    staff_type_display = serializers.CharField(source="get_staff_type_display", read_only=True)

    class Meta:
        model = Staff
        fields = ["id", "name", "id_number", "staff_type", "staff_type_display", "employer", "position",
                  "region", "user"]
        read_only_fields = ["user"]
        validators: list = []

    def validate_id_number(self, value):
        value = _validate_id(value)
        clash = Staff.objects.filter(id_number=value)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError(_("该身份证号已在工作人员名册中"))
        return value


@extend_schema_field({"type": "string", "description": " / ".join(KinRelation.values)})
class KinRelationField(serializers.ChoiceField):
    """Described rather than enumerated in the schema: a second enum named `relation` (the
    members' one) would need an ENUM_NAME_OVERRIDES entry in the project settings."""

    def __init__(self, **kwargs):
        super().__init__(choices=KinRelation.choices, **kwargs)


class FilingSerializer(MaskedIdMixin, serializers.ModelSerializer):
    id_fields = ("relative_id_number",)
    relation = KinRelationField(label=_("关系"))
    staff = ScopedPrimaryKeyRelatedField(queryset=Staff.objects.all())
    household_no = serializers.CharField(required=False, allow_blank=True, allow_null=True,
                                         help_text=_("该亲属所在低保家庭的户编号（可选）"))

    class Meta:
        model = RelativeFiling
        fields = ["id", "staff", "relative_name", "relative_id_number", "relation", "household", "household_no",
                  "filed_on", "created_at"]
        read_only_fields = ["household", "created_at"]
        validators: list = []

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["household_no"] = instance.household.household_no if instance.household_id else None
        return data

    def validate_relative_id_number(self, value):
        return _validate_id(value)

    def validate_household_no(self, value):
        value = idnumber.normalize_text(value)
        if not value:
            return None
        household = Household.objects.for_user(self.context["request"].user).filter(household_no=value).first()
        if household is None:
            raise ValidationError(_("户编号 %(no)s 不存在或不在您的管辖范围内") % {"no": value})
        return household

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        if "household_no" in values:
            values["household"] = values.pop("household_no")
        return values


@extend_schema_view(reveal_id=extend_schema(parameters=[OpenApiParameter(
    "member", int, description=_("成员 id：查看该成员的号码；不填为户主"))]))
class HouseholdViewSet(VersionedMixin, IdRevealMixin, viewsets.ModelViewSet):
    """低保家庭. `q` searches the exact ID number (head or any member), the household number
    or the head's name (prefix); `region` takes a code and includes everything under it."""

    serializer_class = HouseholdSerializer
    required_actions = {"GET": "household.view", "create": "household.create", "update": "household.update",
                        "partial_update": "household.update", "reveal_id": "household.reveal_id"}
    filterset_class = selectors.HouseholdFilter
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        region = self.request.query_params.get("region", "")
        return selectors.households(self.request.user, region=region).prefetch_related("members")

    def reveal(self, request, obj):
        member = None
        member_id = request.query_params.get("member", "")
        if member_id:
            member = obj.members.filter(pk=int(member_id)).first() if member_id.isdigit() else None
            if member is None:
                raise Http404
        return service_call(services.household_reveal_id, actor=request.user, household=obj, member=member)

    def perform_create(self, serializer):
        serializer.instance = service_call(services.household_save, actor=self.request.user,
                                            data=serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = service_call(services.household_save, actor=self.request.user,
                                            household=serializer.instance, data=serializer.validated_data,
                                            expected_version=self.expected_version())


class MemberViewSet(VersionedMixin, IdRevealMixin, viewsets.ModelViewSet):
    """家庭成员. Writes go through the member services; the head (本人) cannot be deleted."""

    serializer_class = MemberSerializer
    required_actions = {"GET": "household.view", "create": "household.update", "update": "household.update",
                        "partial_update": "household.update", "destroy": "household.update",
                        "reveal_id": "household.reveal_id"}
    filterset_class = selectors.MemberFilter

    def get_queryset(self):
        return selectors.members(self.request.user)

    def reveal(self, request, obj):
        return service_call(services.household_reveal_id, actor=request.user, household=obj.household, member=obj)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        household = data.pop("household")
        serializer.instance = service_call(services.member_add, actor=self.request.user, household=household,
                                            data=data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("household", None)
        serializer.instance = service_call(services.member_update, actor=self.request.user,
                                            member=serializer.instance, data=data,
                                            expected_version=self.expected_version())

    def perform_destroy(self, instance):
        service_call(services.member_remove, actor=self.request.user, member=instance,
                     expected_version=self.expected_version())


class StaffViewSet(IdRevealMixin, viewsets.ModelViewSet):
    """工作人员名册 (people whose close relatives must be filed)."""

    serializer_class = StaffSerializer
    required_actions = {"GET": "staff.view", "create": "staff.manage", "update": "staff.manage",
                        "partial_update": "staff.manage", "reveal_id": "household.reveal_id"}
    filterset_class = selectors.StaffFilter
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.staff(self.request.user)

    def reveal(self, request, obj):
        return reveal_field(request, obj, object_type=AuditObject.STAFF, region_code=obj.region_id, id_number=obj.id_number)

    def perform_create(self, serializer):
        serializer.instance = service_call(services.staff_save, actor=self.request.user,
                                            data=serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = service_call(services.staff_save, actor=self.request.user,
                                            staff=serializer.instance, data=serializer.validated_data)


class RelativeFilingViewSet(IdRevealMixin, viewsets.ModelViewSet):
    """近亲属备案."""

    serializer_class = FilingSerializer
    required_actions = {"GET": "filing.view", "create": "filing.manage", "update": "filing.manage",
                        "partial_update": "filing.manage", "reveal_id": "household.reveal_id"}
    filterset_class = selectors.FilingFilter
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.filings(self.request.user)

    def reveal(self, request, obj):
        return reveal_field(request, obj, object_type=AuditObject.RELATIVE_FILING, region_code=obj.staff.region_id,
                            id_number=obj.relative_id_number)

    def perform_create(self, serializer):
        serializer.instance = service_call(services.filing_save, actor=self.request.user,
                                            data=serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = service_call(services.filing_save, actor=self.request.user,
                                            filing=serializer.instance, data=serializer.validated_data)

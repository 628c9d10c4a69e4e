"""REST API of the registry (/api/v1/): the same selectors, services and scoping as the pages.

ID numbers are returned in full only to roles that may see them (`user.can_see_full_id`);
the others get the masked form. Writes go through `cases.services`; a rule a service
refuses comes back as a 400 keyed by field, in Chinese.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import permissions, serializers, viewsets
from rest_framework.exceptions import ValidationError

from cases import selectors, services
from cases.models import Household, KinRelation, Member, RelativeFiling, Staff
from dibao import idnumber
from dibao.models import Region, natural_code


class RegistryPermission(permissions.BasePermission):
    """Readers (caseworker, county reviewer, supervisor, admin) read; editors write; inspectors neither."""

    message = _("您的角色无权访问低保家庭档案")

    def has_permission(self, request, view):
        role = getattr(request.user, "role", None)
        if request.method in permissions.SAFE_METHODS:
            return role in services.REGISTRY_READERS
        return role in services.REGISTRY_EDITORS


def _service_call(func, **kwargs):
    """Run one service; its Django ValidationError becomes DRF's 400 with field keys."""
    try:
        return func(**kwargs)
    except DjangoValidationError as error:
        if hasattr(error, "error_dict"):
            raise ValidationError({field: [m for e in errors for m in e.messages]
                                   for field, errors in error.error_dict.items()})
        raise ValidationError({"non_field_errors": error.messages})


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


class MaskedIdMixin:
    """Show the ID number fields masked to roles that may not see them in full."""

    id_fields: tuple[str, ...] = ()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not request.user.can_see_full_id:
            for name in self.id_fields:
                if data.get(name):
                    data[name] = idnumber.mask_id(data[name])
        return data


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
                  "disability_level", "serious_illness", "labour_capacity", "monthly_income"]


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
    id_fields = ("head_id_number",)
    region = RegionCodeField(help_text=_("区划代码：9 位乡镇或 12 位村（居），也可补零到 12 位"))
    region_name = serializers.CharField(source="region.name", read_only=True)
    head_id_masked = serializers.CharField(read_only=True)
    members = MemberNestedSerializer(many=True, read_only=True)

    class Meta:
        model = Household
        fields = ["id", "household_no", "region", "region_name", "head_name", "head_id_number", "head_id_masked",
                  "category", "status", "applied_on", "decided_on", "exited_on", "exit_reason",
                  "rejection_reason", "monthly_amount", "poverty_cause", "management_class", "last_reviewed_on",
                  "registered_poor", "phone", "payment_stopped", "created_at", "updated_at", "members"]
        read_only_fields = ["payment_stopped", "created_at", "updated_at"]

    def validate_head_id_number(self, value):
        return _validate_id(value)

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


class HouseholdViewSet(viewsets.ModelViewSet):
    """低保家庭. `q` searches the exact ID number (head or any member), the household number
    or the head's name (prefix); `region` takes a code and includes everything under it."""

    serializer_class = HouseholdSerializer
    permission_classes = [permissions.IsAuthenticated, RegistryPermission]
    filterset_class = selectors.HouseholdFilter
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        region = self.request.query_params.get("region", "")
        return selectors.households(self.request.user, region=region).prefetch_related("members")

    def perform_create(self, serializer):
        serializer.instance = _service_call(services.household_save, actor=self.request.user,
                                            data=serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = _service_call(services.household_save, actor=self.request.user,
                                            household=serializer.instance, data=serializer.validated_data)


class MemberViewSet(viewsets.ModelViewSet):
    """家庭成员. Writes go through the member services; the head (本人) cannot be deleted."""

    serializer_class = MemberSerializer
    permission_classes = [permissions.IsAuthenticated, RegistryPermission]
    filterset_class = selectors.MemberFilter

    def get_queryset(self):
        return selectors.members(self.request.user)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        household = data.pop("household")
        serializer.instance = _service_call(services.member_add, actor=self.request.user, household=household,
                                            data=data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("household", None)
        serializer.instance = _service_call(services.member_update, actor=self.request.user,
                                            member=serializer.instance, data=data)

    def perform_destroy(self, instance):
        _service_call(services.member_remove, actor=self.request.user, member=instance)


class StaffViewSet(viewsets.ModelViewSet):
    """工作人员名册 (people whose close relatives must be filed)."""

    serializer_class = StaffSerializer
    permission_classes = [permissions.IsAuthenticated, RegistryPermission]
    filterset_class = selectors.StaffFilter
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.staff(self.request.user)

    def perform_create(self, serializer):
        serializer.instance = _service_call(services.staff_save, actor=self.request.user,
                                            data=serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = _service_call(services.staff_save, actor=self.request.user,
                                            staff=serializer.instance, data=serializer.validated_data)


class RelativeFilingViewSet(viewsets.ModelViewSet):
    """近亲属备案."""

    serializer_class = FilingSerializer
    permission_classes = [permissions.IsAuthenticated, RegistryPermission]
    filterset_class = selectors.FilingFilter
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.filings(self.request.user)

    def perform_create(self, serializer):
        serializer.instance = _service_call(services.filing_save, actor=self.request.user,
                                            data=serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = _service_call(services.filing_save, actor=self.request.user,
                                            filing=serializer.instance, data=serializer.validated_data)

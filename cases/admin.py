"""Read-only views of the registry in Django admin.

Changes go through the registry pages and API, which call `cases.services` and leave an
audit record; an admin form would bypass both, so admin only looks.
"""
from django.contrib import admin

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import AmountHistory, BenefitStandard, Household, Member, RelativeFiling, Rerate, Staff


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MemberInline(admin.TabularInline):
    model = Member
    extra = 0
    fields = ("name", "id_masked", "relation", "disability_category", "disability_level", "serious_illness",
              "labour_capacity", "monthly_income")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AmountHistoryInline(admin.TabularInline):
    model = AmountHistory
    extra = 0
    fields = ("effective_month", "amount", "covered_persons", "source", "note", "decided_by", "created_at")
    readonly_fields = fields
    ordering = ("-effective_month", "-id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Household)
class HouseholdAdmin(ReadOnlyAdmin):
    list_display = ("household_no", "head_name", "head_id_masked", "region", "category", "status",
                    "management_class", "monthly_amount")
    list_filter = ("status", "category", "management_class")
    search_fields = ("=household_no", "=head_id_number", "head_name")
    raw_id_fields = ("region",)
    list_select_related = ("region",)
    exclude = ("head_id_number",)
    readonly_fields = ("head_id_masked",)
    inlines = [MemberInline, AmountHistoryInline]


@admin.register(Staff)
class StaffAdmin(ReadOnlyAdmin):
    list_display = ("name", "id_masked", "staff_type", "employer", "position", "region", "user")
    list_filter = ("staff_type",)
    search_fields = ("=id_number", "name")
    raw_id_fields = ("region", "user")
    list_select_related = ("region", "user")
    exclude = ("id_number",)
    readonly_fields = ("id_masked",)


@admin.register(RelativeFiling)
class RelativeFilingAdmin(ReadOnlyAdmin):
    list_display = ("staff", "relative_name", "relative_id_masked", "relation", "household", "filed_on")
    list_filter = ("relation",)
    search_fields = ("=relative_id_number", "relative_name", "=staff__id_number")
    raw_id_fields = ("staff", "household")
    list_select_related = ("staff", "household")
    exclude = ("relative_id_number",)
    readonly_fields = ("relative_id_masked",)


class RegionLevelFilter(admin.SimpleListFilter):
    title = _("区划级别")
    parameter_name = "level"
    LENGTHS = {"province": 2, "city": 4, "county": 6}

    def lookups(self, request, model_admin):
        return [("province", _("省")), ("city", _("市")), ("county", _("县"))]

    def queryset(self, request, queryset):
        from django.db.models.functions import Length

        if self.value() in self.LENGTHS:
            return queryset.alias(code_length=Length("region_id")).filter(code_length=self.LENGTHS[self.value()])
        return queryset


@admin.register(BenefitStandard)
class BenefitStandardAdmin(ReadOnlyAdmin):
    """The history per region and category, newest first; rows come from the `standards` import
    (数据导入), which validates and audits them."""

    list_display = ("region_code", "region", "category", "monthly_standard", "effective_from", "in_force_today",
                    "created_by", "created_at")
    list_filter = ("category", RegionLevelFilter)
    search_fields = ("=region__code", "region__name")
    ordering = ("region_id", "category", "-effective_from")
    list_select_related = ("region", "created_by")
    date_hierarchy = "effective_from"

    @admin.display(description=_("区划代码"), ordering="region_id")
    def region_code(self, obj):
        return obj.region_id

    @admin.display(description=_("本月执行"), boolean=True)
    def in_force_today(self, obj):
        """Whether this row is the latest of its region and category in force this month."""
        month = timezone.localdate().replace(day=1)
        latest = (BenefitStandard.objects.filter(region_id=obj.region_id, category=obj.category,
                                                 effective_from__lte=month)
                  .order_by("-effective_from").values_list("pk", flat=True).first())
        return latest == obj.pk


@admin.register(Rerate)
class RerateAdmin(ReadOnlyAdmin):
    list_display = ("region", "standard", "effective_month", "state", "prepared_by", "confirmed_by", "confirmed_at")
    list_filter = ("state",)
    list_select_related = ("region", "standard", "prepared_by", "confirmed_by")

"""Read-only views of the registry in Django admin.

Changes go through the registry pages and API, which call `cases.services` and leave an
audit record; an admin form would bypass both, so admin only looks.
"""
from django.contrib import admin

from cases.models import Household, Member, RelativeFiling, Staff


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
    inlines = [MemberInline]


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

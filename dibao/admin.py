from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from dibao.models import AuditRecord, Region, User

admin.site.site_header = _("农村低保专项治理系统 · 管理")
admin.site.site_title = _("系统管理")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + ((_("岗位与辖区"), {"fields": ("full_name", "phone", "region")}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + ((_("岗位与辖区"), {"fields": ("full_name", "region", "groups")}),)
    list_display = ("username", "full_name", "region", "is_active", "last_login")
    list_filter = ("groups", "is_active")
    search_fields = ("username", "full_name", "region__code", "region__name")
    autocomplete_fields = ("region",)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)
    show_full_result_count = False


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    """Read-only: the trail is append-only."""

    list_display = ("id", "created_at", "actor_name", "action", "object_type", "object_id", "region_code")
    list_filter = ("action",)
    search_fields = ("object_id", "actor_name", "action")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

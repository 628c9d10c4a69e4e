from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin, UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from dibao.models import AuditRecord, Region, Role, User

admin.site.site_header = _("农村低保专项治理系统 · 管理")
admin.site.site_title = _("系统管理")
admin.site.index_title = _("用户、区划与参数")


def group_label(group: Group) -> str:
    """A role group by its Chinese name (乡镇经办 …); the stored name stays the role's key."""
    return str(Role(group.name).label) if group.name in Role.values else group.name


class RoleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return group_label(obj)


class RoleFilter(admin.SimpleListFilter):
    title = _("角色")
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return Role.choices

    def queryset(self, request, queryset):
        if self.value() == Role.ADMIN:
            return queryset.filter(is_superuser=True) | queryset.filter(groups__name=Role.ADMIN)
        return queryset.filter(groups__name=self.value()) if self.value() else queryset


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + ((_("岗位与辖区"), {"fields": ("full_name", "phone", "region")}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + ((_("岗位与辖区"), {"fields": ("full_name", "region", "groups")}),)
    list_display = ("username", "full_name", "role", "region", "is_active", "last_login")
    list_filter = (RoleFilter, "is_active")
    search_fields = ("username", "full_name", "region__code", "region__name")
    autocomplete_fields = ("region",)

    @admin.display(description=_("角色"))
    def role(self, obj):
        return obj.role_label

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("region").prefetch_related("groups")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            kwargs.update(form_class=RoleChoiceField, label=_("角色"),
                          help_text=_("一个用户只担任一个角色：乡镇经办、县级审核、督导、纪检监察或系统管理员"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin):
    list_display = ("label",)

    @admin.display(description=_("角色"), ordering="name")
    def label(self, obj):
        return group_label(obj)


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

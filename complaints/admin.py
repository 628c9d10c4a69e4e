"""Admin: the supervision checklist is configured here (categories and items); the
ledgers themselves change only through the pages/API so every step is audited."""
from django.contrib import admin

from complaints.models import Checklist, ChecklistItem


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 1


@admin.register(Checklist)
class ChecklistAdmin(admin.ModelAdmin):
    list_display = ("name", "is_default", "active")
    inlines = [ChecklistItemInline]

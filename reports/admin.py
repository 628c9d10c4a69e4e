from django.contrib import admin

from reports.models import ExportJob, RollupRun


class ReadOnlyAdmin(admin.ModelAdmin):
    """Snapshots and export records are written by services only; the admin just shows them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RollupRun)
class RollupRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "month", "scope_code", "computed_at", "computed_by_name", "row_count", "duration_ms"]
    list_filter = ["month"]


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "region_code", "requested_by", "state", "progress", "rows_written", "created_at"]
    list_filter = ["kind", "state"]

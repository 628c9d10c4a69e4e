from django.contrib import admin

from audits.models import BatchChunk, Finding, RefVersion, RescreenBatch, VerificationTask


@admin.register(RefVersion)
class RefVersionAdmin(admin.ModelAdmin):
    list_display = ["kind", "version_no", "is_current", "row_count", "file_name", "loaded_by", "loaded_at"]
    list_filter = ["kind", "is_current"]
    readonly_fields = ["kind", "version_no", "row_count", "file_name", "sha256", "loaded_by", "loaded_at"]


class ChunkInline(admin.TabularInline):
    model = BatchChunk
    extra = 0
    can_delete = False
    readonly_fields = ["region_code", "state", "counts", "started_at", "finished_at", "error"]


@admin.register(RescreenBatch)
class RescreenBatchAdmin(admin.ModelAdmin):
    list_display = ["id", "region_code", "as_of", "state", "progress", "new_count", "open_count", "resolved_count",
                    "started_by", "finished_at"]
    list_filter = ["state"]
    readonly_fields = [f.name for f in RescreenBatch._meta.fields]
    inlines = [ChunkInline]


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    """Read-only: decisions are made on the review pages, where recusal and the audit trail apply."""

    list_display = ["id", "batch", "rule", "region_code", "name", "state", "novelty", "first_raised_on"]
    list_filter = ["rule", "state", "novelty"]
    search_fields = ["region_code", "household__household_no"]
    raw_id_fields = ["batch", "household", "carried_from", "decided_by"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(VerificationTask)
class VerificationTaskAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "township_code", "deadline", "outcome", "completed_at"]
    list_filter = ["outcome"]
    search_fields = ["township_code", "name"]

    def has_change_permission(self, request, obj=None):
        return False

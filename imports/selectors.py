"""Reads for the import pages, already scoped to the user."""
from django.db.models import Count

from audits.models import RefKind, RefVersion
from imports.models import ImportJob


def import_jobs(user, *, kind: str = ""):
    qs = ImportJob.objects.for_user(user).select_related("created_by").order_by("-id")
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def current_ref_versions() -> list[dict]:
    """Each cross-check kind with its current version (or None) and how many versions exist."""
    current = {v.kind: v for v in RefVersion.objects.filter(is_current=True).select_related("loaded_by")}
    totals = dict(RefVersion.objects.values_list("kind").annotate(n=Count("id")).values_list("kind", "n"))
    return [{"kind": kind, "label": label, "version": current.get(kind), "versions": totals.get(kind, 0)}
            for kind, label in RefKind.choices]

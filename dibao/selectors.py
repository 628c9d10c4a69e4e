from django.db.models import Q

from dibao.models import AuditRecord, Region, User


def region_children(user: User, parent_code: str):
    """Children of `parent_code` inside the user's jurisdiction.

    With no parent: the user's own region (or the provinces for an unrestricted admin).
    A parent above the user's region yields just the user's region, so the picker
    cannot step outside the subtree.
    """
    scoped = Region.objects.for_user(user)
    if not parent_code:
        if user.region_id:
            return scoped.filter(code=user.region_id)
        return scoped.filter(level=Region.Level.PROVINCE)
    return scoped.filter(parent_id=parent_code).order_by("code")


def audit_records(user: User, *, action: str = "", object_type: str = ""):
    qs = AuditRecord.objects.for_user(user).select_related("actor").prefetch_related("actor__groups").order_by("-id")
    if action:
        qs = qs.filter(action=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    return qs


def object_timeline(user: User, *, object_type: str, object_ids: list, extra: Q | None = None):
    """Audit records of one object (and its parts), oldest first, inside the user's scope."""
    condition = Q(object_type=object_type, object_id__in=[str(i) for i in object_ids])
    if extra is not None:
        condition |= extra
    return (AuditRecord.objects.for_user(user).filter(condition).select_related("actor")
            .prefetch_related("actor__groups").order_by("id"))

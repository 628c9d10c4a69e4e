"""Jurisdiction scoping: the one place that limits a query to a user's region subtree.

Every model that belongs to a region declares `region_field` (the path to its
region code, natural length) and uses `ScopedQuerySet`; pages, API views and exports
start from `Model.objects.for_user(user)` and never filter by region themselves.
Objects outside the scope are then simply not found, which the views turn into 404.
"""
from django.db import models


class ScopedQuerySet(models.QuerySet):
    def for_user(self, user, *, within: str = ""):
        """The user's jurisdiction, optionally narrowed to the region code `within`.

        Narrowing here rather than with a second filter keeps it to one code range, which
        PostgreSQL estimates well; two stacked prefixes make it expect a handful of rows
        and pick a slow plan. A `within` outside the jurisdiction yields nothing.
        """
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        prefix = user.scope_prefix
        if within:
            from dibao.models import natural_code

            within = natural_code(within.strip())
            if prefix is None or within.startswith(prefix):
                return self.for_region(within)
            if not prefix.startswith(within):
                return self.none()
        if prefix is None:
            return self
        return self.for_region(prefix)

    def for_region(self, prefix: str):
        """The subtree under `prefix`, as a range of codes rather than `LIKE 'prefix%'`: the plain
        b-tree on the region code then serves both the condition and an ORDER BY on it, so a page
        of a township's list reads that township's rows and stops at the LIMIT. With `LIKE`, which
        only a pattern-ops index serves, PostgreSQL chose to walk the whole region index in order
        and filter every row of the province."""
        field = getattr(self.model, "region_field")
        lower, upper = prefix_range(prefix)
        if lower is None:
            return self.none()
        condition = {f"{field}__gte": lower}
        if upper is not None:
            condition[f"{field}__lt"] = upper
        return self.filter(**condition)


def prefix_range(prefix: str) -> tuple[str | None, str | None]:
    """[lower, upper) holding exactly the region codes that start with `prefix`; upper None
    means no upper bound, lower None that no code can start with it.

    Region codes are digits, and digit strings sort the same in every collation (a shorter
    prefix first), so the bounds stay digits: the last digit that is not 9 is incremented and
    the 9s after it dropped ('220109' → '22011'). Incrementing the last character alone would
    give '22010:', which ICU and glibc collations sort before '220109001' — an empty range.
    """
    if not prefix.isascii() or not prefix.isdigit():
        return None, None
    head = prefix.rstrip("9")
    if not head:
        return prefix, None
    return prefix, head[:-1] + str(int(head[-1]) + 1)


def prefix_sql(column: str, prefix: str) -> tuple[str, list]:
    """Raw SQL for "`column` starts with `prefix`" as the code range of `prefix_range`, with its
    parameters; an empty prefix is no filter."""
    if not prefix:
        return "1 = 1", []
    lower, upper = prefix_range(prefix)
    if lower is None:
        return "1 = 0", []
    if upper is None:
        return f"{column} >= %s", [lower]
    return f"({column} >= %s AND {column} < %s)", [lower, upper]


def in_scope(actor, region_code: str) -> bool:
    """Whether a region code lies inside the actor's jurisdiction.

    The one predicate for writes and permission checks (reads use `for_user`, whose code range
    holds exactly the codes starting with the prefix). An actor that is not a user — the
    system account of commands and scheduled tasks — acts everywhere.
    """
    prefix = getattr(actor, "scope_prefix", None)
    return prefix is None or (region_code or "").startswith(prefix)


def get_scoped_or_404(queryset_or_model, user, **lookup):
    """Fetch one object inside the user's jurisdiction, or raise Http404."""
    from django.shortcuts import get_object_or_404

    qs = queryset_or_model if isinstance(queryset_or_model, models.QuerySet) else queryset_or_model.objects.all()
    return get_object_or_404(qs.for_user(user), **lookup)

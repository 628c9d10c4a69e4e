"""Pagination that never counts the whole table.

A page fetches one row more than it shows to know whether a next page exists; the
total shown to people is an estimate for big tables (PostgreSQL's planner statistics)
and exact only when small. This keeps a list over a million households fast.
"""
from collections import OrderedDict

from django.db import connection
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

EXACT_COUNT_LIMIT = 1000
# Beyond this many rows skipped a page cannot exist (the province has ~3.5M people), and
# a larger OFFSET overflows the database's integer: answer 404 instead of a 500.
MAX_OFFSET = 100_000_000
MAX_PAGE_SIZE = 500


def estimated_count(queryset) -> tuple[int, bool]:
    """(count, exact). Counts exactly up to EXACT_COUNT_LIMIT, estimates beyond on PostgreSQL."""
    probe = queryset.order_by()[: EXACT_COUNT_LIMIT + 1].count()
    if probe <= EXACT_COUNT_LIMIT or connection.vendor != "postgresql":
        return (probe if probe <= EXACT_COUNT_LIMIT else EXACT_COUNT_LIMIT), probe <= EXACT_COUNT_LIMIT
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        import json
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"]), False


class Page:
    def __init__(self, items, number, per_page, has_next, total, total_exact):
        self.object_list = items
        self.number = number
        self.per_page = per_page
        self.has_next_page = has_next
        self.total = total
        self.total_exact = total_exact

    def has_next(self):
        return self.has_next_page

    def has_previous(self):
        return self.number > 1

    def next_page_number(self):
        return self.number + 1

    def previous_page_number(self):
        return self.number - 1

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)


def page_number(page_param, per_page: int) -> int:
    """The page asked for; a missing or malformed number is the first page, a page that
    cannot exist raises Http404 (which the API answers as a 404 with the same detail)."""
    try:
        number = max(1, int(page_param or 1))
    except (TypeError, ValueError):
        return 1
    if (number - 1) * per_page > MAX_OFFSET:
        raise Http404(_("第 %(page)s 页不存在：页码超出范围，请返回第 1 页") % {"page": str(page_param)[:20]})
    return number


def paginate(queryset, page_param, per_page: int = 50) -> Page:
    number = page_number(page_param, per_page)
    offset = (number - 1) * per_page
    rows = list(queryset[offset: offset + per_page + 1])
    total, exact = estimated_count(queryset)
    return Page(rows[:per_page], number, per_page, len(rows) > per_page, total, exact)


class ApiPagination(BasePagination):
    """`?page=N` pages of PAGE_SIZE with `next`/`previous` links and an estimated `count`."""

    page_size = 50

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size = _page_size(request.query_params.get("page_size"), self.page_size)
        self.page = paginate(queryset, request.query_params.get("page"), self.page_size)
        return list(self.page.object_list)

    def _link(self, number):
        return self.request.build_absolute_uri(
            self.request.get_full_path().split("?")[0] + "?" + _with_page(self.request.query_params, number))

    def get_paginated_response(self, data):
        page = self.page
        return Response(OrderedDict([
            ("count", page.total),
            ("count_exact", page.total_exact),
            ("next", self._link(page.number + 1) if page.has_next() else None),
            ("previous", self._link(page.number - 1) if page.has_previous() else None),
            ("results", data),
        ]))

    def get_schema_operation_parameters(self, view):
        return [
            {"name": "page", "required": False, "in": "query", "description": "页码（从 1 开始）",
             "schema": {"type": "integer"}},
            {"name": "page_size", "required": False, "in": "query", "description": f"每页条数（1–{MAX_PAGE_SIZE}）",
             "schema": {"type": "integer"}},
        ]

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "properties": {
                "count": {"type": "integer"},
                "count_exact": {"type": "boolean"},
                "next": {"type": "string", "nullable": True},
                "previous": {"type": "string", "nullable": True},
                "results": schema,
            },
        }


def _page_size(param, default: int) -> int:
    if param in (None, ""):
        return default
    try:
        size = int(param)
    except ValueError:
        size = 0
    if size < 1:
        raise ValidationError({"page_size": [_("每页条数应为 1 到 %(max)s 之间的整数，收到“%(value)s”")
                                             % {"max": MAX_PAGE_SIZE, "value": param[:20]}]})
    return min(size, MAX_PAGE_SIZE)


def _with_page(params, number) -> str:
    query = params.copy()
    query["page"] = str(number)
    return query.urlencode()

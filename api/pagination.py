"""API list pagination (its own module: DRF imports it while its views load).

Two ways through a list, both in one response shape (`count`, `next`, `previous`,
`results`):

- by page number (`page`, `page_size`), for people and small lists: `count` is the total
  up to SILTA_API_COUNT_LIMIT (1,000) rows and null past it (counting a whole caseload
  on every page costs more than the page; the pages and their `next` links go on);
- by keyset (`cursor`), for integrations walking a whole list: send `cursor=` (empty) for
  the first page and follow `next`. Rows come in id order, each page is read from the
  last id of the one before (no offset, no count: `count` is null), so page 1,000 costs
  what page 1 does and a row added meanwhile is neither skipped nor repeated.
"""

from __future__ import annotations

import functools
import math
import sys

from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.utils.functional import cached_property
from rest_framework import pagination


class _Keyset(pagination.CursorPagination):
    ordering = "id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class PageNumbers(pagination.PageNumberPagination):
    """By page number only: lists that are short by nature or built in Python (the
    supervisor's lists, the front desk's queue)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class _PageOfUncounted(Page):
    more = False

    def has_next(self) -> bool:
        return self.more


class BoundedPaginator(Paginator):
    """Django's paginator over a queryset, counting at most `limit` rows: past that
    `count` is None, and a page is read with one row more to know if another follows.
    `counted`: the rows to count, when those shown join more tables (the same rows)."""

    def __init__(self, object_list, per_page, *, limit: int, counted=None) -> None:
        super().__init__(object_list, per_page)
        self.limit = limit
        self.counted = object_list if counted is None else counted

    @cached_property
    def count(self) -> int | None:  # type: ignore[override]
        counted = self.counted.order_by()[: self.limit + 1].count()
        return counted if counted <= self.limit else None

    @cached_property
    def num_pages(self) -> int:
        if self.count is None:
            return sys.maxsize  # not counted: as many as there are (`next` says)
        return max(1, math.ceil(self.count / self.per_page))

    def last_page(self) -> int:
        """`page=last`: past the limit, counted in full."""
        count = self.count if self.count is not None else self.counted.count()
        return max(1, math.ceil(count / self.per_page))

    def validate_number(self, number) -> int:
        if self.count is not None:
            return super().validate_number(number)
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from exc
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number) -> Page:
        number = self.validate_number(number)
        if self.count is not None:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows:
            raise EmptyPage(self.error_messages["no_results"])
        page = _PageOfUncounted(rows[: self.per_page], number, self)
        page.more = len(rows) > self.per_page
        return page


class Pagination(PageNumbers):
    """By page number, or by keyset with `cursor` (lists read from one table's rows).

    A view whose rows join other tables for what it shows may name the same rows without
    them as `counted_rows` (a queryset): the count reads those."""

    cursor_query_param = "cursor"
    template = None  # JSON only: no page controls to draw (they would count every page)

    def paginate_queryset(self, queryset, request, view=None):
        self.keyset = None
        if self.cursor_query_param in request.query_params:
            self.keyset = _Keyset()
            return self.keyset.paginate_queryset(queryset, request, view)
        self.django_paginator_class = functools.partial(
            BoundedPaginator,
            limit=settings.SILTA_API_COUNT_LIMIT,
            counted=getattr(view, "counted_rows", None),
        )
        return super().paginate_queryset(queryset, request, view)

    def get_page_number(self, request, paginator):
        number = request.query_params.get(self.page_query_param) or 1
        if number in self.last_page_strings:
            return paginator.last_page()
        return number

    def get_paginated_response(self, data):
        if self.keyset is None:
            return super().get_paginated_response(data)
        response = self.keyset.get_paginated_response(data)
        response.data = {"count": None, **response.data}
        return response

    def get_schema_operation_parameters(self, view):
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Keyset pagination, for walking a whole list: empty for the "
                "first page, then the `cursor` of `next`. Rows in id order; `count` is null.",
                "schema": {"type": "string"},
            },
        ]

    def get_paginated_response_schema(self, schema):
        described = super().get_paginated_response_schema(schema)
        described["properties"]["count"] = {
            "type": "integer",
            "nullable": True,
            "example": 123,
            "description": "The total by page number, up to SILTA_API_COUNT_LIMIT (1,000 unless "
            "configured) rows; null past it (follow `next`) and by keyset (`cursor`).",
        }
        return described

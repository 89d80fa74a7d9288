"""API list pagination (its own module: DRF imports it while its views load).

Two ways through a list, both in one response shape (`count`, `next`, `previous`,
`results`):

- by page number (`page`, `page_size`), for people and small lists: `count` is the total;
- by keyset (`cursor`), for integrations walking a whole list: send `cursor=` (empty) for
  the first page and follow `next`. Rows come in id order, each page is read from the
  last id of the one before (no offset, no count: `count` is null), so page 1,000 costs
  what page 1 does and a row added meanwhile is neither skipped nor repeated.
"""

from __future__ import annotations

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


class Pagination(PageNumbers):
    """By page number, or by keyset with `cursor` (lists read from one table's rows)."""

    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset, request, view=None):
        self.keyset = None
        if self.cursor_query_param in request.query_params:
            self.keyset = _Keyset()
            return self.keyset.paginate_queryset(queryset, request, view)
        return super().paginate_queryset(queryset, request, view)

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
            "description": "The total by page number; null by keyset (`cursor`).",
        }
        return described

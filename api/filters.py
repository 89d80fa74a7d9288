"""The API's filter backend: django-filter's, with each view's filter set made once per
process (django-filter makes a class per request) and not run for a request that names
no filter (its form would validate nothing)."""

from __future__ import annotations

from typing import Any

from django_filters.rest_framework import DjangoFilterBackend  # type: ignore[import-untyped]


class FilterBackend(DjangoFilterBackend):
    _made: dict[tuple[type, type], Any] = {}

    def get_filterset_class(self, view, queryset=None):
        if getattr(view, "filterset_class", None) or queryset is None:
            return super().get_filterset_class(view, queryset)
        key = (type(view), queryset.model)
        if key not in self._made:
            self._made[key] = super().get_filterset_class(view, queryset)
        return self._made[key]

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        names = tuple(filterset_class.base_filters)
        if not any(key.startswith(names) for key in request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)

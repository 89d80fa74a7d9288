"""What every API view shares: slugs that refuse NUL, the admin-writes permission, and the
access-logged viewset that looks objects up in scope and runs actions through the services."""

from __future__ import annotations

import functools
from typing import Any

from django.http import Http404
from rest_framework import permissions, serializers, viewsets
from rest_framework.response import Response

from api.idempotency import idempotent
from audit.access import (
    Subject,
    log_access,
    log_denied,
    perform_and_log,
    rows_logged_when_read,
)


class SlugField(serializers.SlugRelatedField):
    """A slug that cannot be a NUL-carrying string: PostgreSQL refuses those in a query,
    and the user should get 'not found', not a server error (found by schemathesis)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", ""))
        return super().to_internal_value(data)


def partial_form(form):
    """`form` for a partial change (PATCH): only the fields given are validated."""
    return functools.partial(form, partial=True)


class AdminWritesOthersRead(permissions.BasePermission):
    """Any signed-in user reads; only administrators change the routing table."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_staff and request.user.is_superuser)


class AccessLoggedViewSet(viewsets.ReadOnlyModelViewSet):
    """Lists and details write their access-log rows before the data is returned (fail
    closed: if the rows cannot be written, the request fails with no data). An id outside
    the user's scope answers 404, exactly as an id that does not exist, and is logged as
    denied."""

    def subject_of(self, obj) -> Subject:
        raise NotImplementedError

    def as_rows(self, queryset) -> Any:
        """The list's rows read as values (a values queryset) for `render_row`, or None:
        read as objects for the serializer. The hot lists read values: no model objects."""
        return None

    # The columns of `as_rows` that name a row's client and case (its access-log row).
    row_subject: tuple[str, str | None] = ("client_id", None)

    def render_row(self, row) -> dict[str, Any]:
        """A row as the serializer would answer for its object (tests compare the two)."""
        raise NotImplementedError

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        rows = self.as_rows(queryset)
        if rows is not None and self.paginator is not None:
            # Counted without the joins the rows need for what they show (the same rows).
            self.counted_rows = queryset
            client, case = self.row_subject
            # The page's rows and their access-log rows in one statement (audit.access).
            page = self.paginate_queryset(
                rows_logged_when_read(
                    rows,
                    user=request.user,
                    action="api_list",
                    shown=self.paginator.get_page_size(request),
                    client=client,
                    case=case,
                )
            )
            return self.get_paginated_response([self.render_row(row) for row in page])
        page = self.paginate_queryset(queryset)
        log_access(
            user=request.user, action="api_list", subjects=[self.subject_of(obj) for obj in page]
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        obj = self.get_object()
        log_access(user=request.user, action="api_read", subjects=[self.subject_of(obj)])
        return Response(self.get_serializer(obj).data)

    def write(self, request, form, perform, *, respond, status: int = 200):
        """One write through a service, honouring Idempotency-Key: the input shaped by
        `form` (None: no input), `perform(data)` run (the service and its access-log rows,
        in one transaction) and `respond(result)` returned. A replay returns the stored
        answer without a second write."""

        def run():
            data = {}
            if form is not None:
                given = form(data=request.data, context=self.get_serializer_context())
                given.is_valid(raise_exception=True)
                data = given.validated_data
            return Response(respond(perform(data)), status=status)

        return idempotent(request, run)

    def create_through(self, request, form, service, *, action: str, respond, status: int = 201):
        """`write` for a service that makes its subject (a client, a case, a review): the
        access-log rows are for what it made (`subject_of(result)`), in its transaction."""
        return self.write(
            request,
            form,
            lambda data: perform_and_log(
                service,
                user=request.user,
                action=action,
                subjects_of=lambda made: [self.subject_of(made)],
                **data,
            ),
            respond=respond,
            status=status,
        )

    def act(
        self,
        request,
        form,
        service,
        *,
        target: str,
        respond,
        status: int = 200,
        action: str = "api_transition",
    ):
        """One transition or decision on the object of the URL: looked up in scope (an id
        outside it is a logged 404), then run with `perform_and_log` through `write`. A
        role that may not act answers 403 and leaves a denied row."""
        obj = self.target = self.get_object()
        return self.write(
            request,
            form,
            lambda data: perform_and_log(
                service,
                user=request.user,
                action=action,
                subjects=[self.subject_of(obj)],
                **{target: obj},
                **data,
            ),
            respond=respond,
            status=status,
        )

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            log_denied(
                user=self.request.user,
                model=self.queryset.model,
                pk=self.kwargs.get(self.lookup_url_kwarg or self.lookup_field),
                action="api_read",
                subject_of=self.subject_of,
            )
            raise

"""What every API view shares: slugs that refuse NUL, the admin-writes permission, and the
access-logged viewset that looks objects up in scope and runs actions through the services."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from rest_framework import permissions, serializers, viewsets
from rest_framework.response import Response

from api.idempotency import idempotent
from audit.access import log_access
from audit.models import AccessOutcome
from core.errors import ActorNotAllowed


class SlugField(serializers.SlugRelatedField):
    """A slug that cannot be a NUL-carrying string: PostgreSQL refuses those in a query,
    and the user should get 'not found', not a server error (found by schemathesis)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", ""))
        return super().to_internal_value(data)


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

    def subject_of(self, obj) -> tuple[int | None, int | None]:
        raise NotImplementedError

    def unscoped_queryset(self):
        return self.queryset.model._default_manager.all()

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        log_access(
            user=request.user, action="api_list", subjects=[self.subject_of(obj) for obj in page]
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        obj = self.get_object()
        log_access(user=request.user, action="api_read", subjects=[self.subject_of(obj)])
        return Response(self.get_serializer(obj).data)

    def act(self, request, form, service, *, target: str, respond, status: int = 200):
        """One transition or decision: the object looked up in scope (an id outside it is a
        logged 404), the input shaped by `form`, the service run, the access logged in the
        same transaction, and `respond(result)` returned. Honours Idempotency-Key. A role
        that may not act answers 403 and leaves a denied row."""
        obj = self.get_object()

        def run():
            data = {}
            if form is not None:
                given = form(data=request.data, context=self.get_serializer_context())
                given.is_valid(raise_exception=True)
                data = given.validated_data
            with transaction.atomic():
                result = service(actor=request.user, **{target: obj}, **data)
                log_access(
                    user=request.user, action="api_transition", subjects=[self.subject_of(obj)]
                )
            return Response(respond(result), status=status)

        try:
            return idempotent(request, run)
        except ActorNotAllowed:
            log_access(
                user=request.user,
                action="api_transition",
                outcome=AccessOutcome.DENIED,
                subjects=[self.subject_of(obj)],
            )
            raise

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            lookup = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
            outside = (
                self.unscoped_queryset().filter(pk=lookup).first()
                if str(lookup).isascii() and str(lookup).isdigit()
                else None
            )
            if outside is not None:
                log_access(
                    user=self.request.user,
                    action="api_read",
                    outcome=AccessOutcome.DENIED,
                    subjects=[self.subject_of(outside)],
                )
            raise

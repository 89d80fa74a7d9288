"""API v1: the user's own inbox. A notification carries a case reference, never client
details, so reading it is not a read of client data."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.idempotency import idempotent
from notifications import services
from notifications.channels import message_context
from notifications.models import Notification
from notifications.selectors import inbox_of


class NotificationSerializer(serializers.ModelSerializer):
    headline = serializers.SerializerMethodField()
    reference = serializers.SerializerMethodField()
    case = serializers.IntegerField(source="case_id", read_only=True, allow_null=True)
    transfer = serializers.IntegerField(source="transfer_id", read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "headline",
            "reference",
            "case",
            "transfer",
            "on_date",
            "params",
            "created_at",
            "read_at",
        ]
        read_only_fields = fields

    def get_headline(self, note) -> str:
        return message_context(kind=note.kind, params=note.params)["headline"]

    def get_reference(self, note) -> str:
        return note.reference


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = Notification.objects.none()
    serializer_class = NotificationSerializer
    filterset_fields = {"kind": ["exact"], "read_at": ["isnull"]}
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return inbox_of(self.request.user)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"], url_path="mark-read")
    def mark_read(self, request, pk=None):
        def run():
            note = services.notification_mark_read(
                user=request.user, notification=self.get_object()
            )
            return Response(NotificationSerializer(note).data)

        return idempotent(request, run)

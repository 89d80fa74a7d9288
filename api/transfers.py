"""API v1: transfers and their handover, scoped and access-logged; every transition a POST
action with an Idempotency-Key."""

from __future__ import annotations

from typing import Literal

from django.contrib.auth import get_user_model
from drf_spectacular.utils import (
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.decorators import action

from api.base import AccessLoggedViewSet, SlugField
from cases.roles import team_ids_of
from core.transitions import allowed_actions
from transfers import services
from transfers.enums import BookingStatus, ReturnReason
from transfers.models import Transfer, TransferMessage
from transfers.selectors import RECEIVED_STATES, handover_summary, transfers_visible_to


class TransferMessageSerializer(serializers.ModelSerializer):
    """A question of the receiving team or an answer of the sender (client data: read with
    the transfer, access-logged)."""

    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    team = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = TransferMessage
        fields = ["id", "kind", "author", "team", "text", "created_at"]
        read_only_fields = fields


class TransferSerializer(serializers.ModelSerializer):
    """Full for the sending team and, once it has accepted, the receiving team; before
    acceptance the receiving team gets the minimal summary it needs to decide."""

    reference = serializers.CharField(source="case.reference", read_only=True)
    sending_team = serializers.SlugRelatedField(slug_field="code", read_only=True)
    receiving_team = serializers.SlugRelatedField(slug_field="code", read_only=True)
    routed_team = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    receiving_worker = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    return_reason = serializers.ChoiceField(
        choices=ReturnReason.choices, allow_blank=True, read_only=True
    )
    language = serializers.CharField(source="case.client.language", read_only=True)
    interpreter_needed = serializers.BooleanField(
        source="case.client.interpreter_needed", read_only=True
    )
    ppt_coordinator = serializers.CharField(source="case.ppt_coordinator", read_only=True)
    consent_recorded_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    messages = TransferMessageSerializer(many=True, read_only=True)
    handover_summary = serializers.SerializerMethodField(
        help_text="The sender's handover summary. In the summary disclosure (a receiving team "
        "before it accepts): `ready`, `exceptions` (names), `escorted`, `language`, "
        "`interpreter_needed`, `note_to_team`. In full, also `settled`, `open_items`, "
        "`risks`, `escorted_why`, `ppt_coordinator`, `coordinator_contact`, "
        "`exception_justifications` and `versions` (author and time of each). Null in lists: "
        "read the transfer."
    )
    allowed_actions = serializers.SerializerMethodField()
    disclosure = serializers.SerializerMethodField(
        help_text="`full`: the whole transfer; `summary`: the minimal summary a receiving "
        "team gets until it accepts."
    )

    SUMMARY = (
        "disclosure",
        "id",
        "reference",
        "state",
        "sending_team",
        "receiving_team",
        "escorted",
        "language",
        "interpreter_needed",
        "ppt_coordinator",
        "proposed_at",
        "information_requested_at",
        "paused_working_days",
        "messages",
        "handover_summary",
        "allowed_actions",
    )

    class Meta:
        model = Transfer
        fields = [
            "disclosure",
            "id",
            "reference",
            "case",
            "state",
            "sending_team",
            "receiving_team",
            "routed_team",
            "override_reason",
            "receiving_worker",
            "escorted",
            "sender_availability",
            "language",
            "interpreter_needed",
            "ppt_coordinator",
            "consent_basis",
            "consent_note",
            "consent_recorded_by",
            "consent_recorded_at",
            "return_reason",
            "return_text",
            "cancel_reason",
            "proposed_at",
            "information_requested_at",
            "paused_working_days",
            "messages",
            "handover_summary",
            "accepted_at",
            "booking_requested_at",
            "booked_at",
            "completed_at",
            "cancelled_at",
            "allowed_actions",
        ]
        read_only_fields = fields

    def get_allowed_actions(self, transfer) -> list[str]:
        return allowed_actions(transfer)

    @extend_schema_field({"type": "object", "nullable": True})
    def get_handover_summary(self, transfer):
        if self.context.get("in_list"):
            return None  # read per transfer: a list stays a fixed number of queries
        summary = handover_summary(transfer, full=self._full(transfer))
        # Times as the API writes every time (and JSON-safe for the idempotent replay).
        as_text = serializers.DateTimeField().to_representation
        for version in summary.get("versions", []):
            version["created_at"] = as_text(version["created_at"])
        return summary

    def _full(self, transfer) -> bool:
        teams = self.context.get("team_ids", set())
        return transfer.sending_team_id in teams or transfer.state in RECEIVED_STATES

    def get_disclosure(self, transfer) -> Literal["full"]:
        return "full"

    def to_representation(self, transfer):
        data = super().to_representation(transfer)
        if self._full(transfer):
            return data
        return {**{name: data[name] for name in self.SUMMARY}, "disclosure": "summary"}


class TransferSummarySerializer(TransferSerializer):
    """What the receiving team sees of a transfer before it accepts: the minimal summary
    it needs to decide (least disclosure); the rest after acceptance."""

    class Meta(TransferSerializer.Meta):
        fields = list(TransferSerializer.SUMMARY)
        read_only_fields = fields

    def get_disclosure(self, transfer) -> Literal["summary"]:  # type: ignore[override]
        return "summary"

    def to_representation(self, transfer):
        return serializers.ModelSerializer.to_representation(self, transfer)


# The answer for a transfer: the full transfer, or the summary for a receiving team that
# has not accepted it; `disclosure` says which (the schema's discriminator).
TRANSFER_OR_SUMMARY = PolymorphicProxySerializer(
    component_name="TransferOrSummary",
    serializers={"full": TransferSerializer, "summary": TransferSummarySerializer},
    resource_type_field_name="disclosure",
)


class AcceptSerializer(serializers.Serializer):
    receiving_worker = SlugField(
        slug_field="username", queryset=get_user_model().objects.filter(is_active=True)
    )


class ReturnSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ReturnReason.choices)
    text = serializers.CharField()


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField()


class SummaryEditSerializer(serializers.Serializer):
    settled = serializers.CharField(required=False, allow_blank=True, default="")
    open_items = serializers.CharField(required=False, allow_blank=True, default="")
    risks = serializers.CharField(required=False, allow_blank=True, default="")
    escorted_why = serializers.CharField(required=False, allow_blank=True, default="")
    coordinator_contact = serializers.CharField(required=False, allow_blank=True, default="")
    note_to_team = serializers.CharField(required=False, allow_blank=True, default="")


class QuestionSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="The question or the answer (client data).")


class ConfirmBookingSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(
        help_text="In the future and at most SILTA_HANDOVER_HORIZON_DAYS (default 90) days "
        "ahead; on a Finnish working day within the receiving team's meeting hours, or give "
        "`outside_hours_reason`."
    )
    place = serializers.CharField()
    interpreter = serializers.CharField(required=False, allow_blank=True, default="")
    outside_hours_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Why the handover is booked outside the meeting hours or on a day that is "
        "not a working day; recorded with the booking.",
    )


class RebookSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=[BookingStatus.NO_SHOW.value, BookingStatus.CANCELLED.value]
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="")


@extend_schema_view(
    list=extend_schema(responses=TRANSFER_OR_SUMMARY),
    retrieve=extend_schema(responses=TRANSFER_OR_SUMMARY),
)
class TransferViewSet(AccessLoggedViewSet):
    """Each transition is its own POST action and honours an optional Idempotency-Key."""

    queryset = Transfer.objects.none()
    serializer_class = TransferSerializer
    filterset_fields = {
        "state": ["exact", "in"],
        "receiving_team__code": ["exact"],
        "sending_team__code": ["exact"],
    }
    ordering_fields = ["proposed_at", "id"]

    def get_queryset(self):
        return (
            transfers_visible_to(self.request.user)
            .select_related("review", "consent_recorded_by")
            .prefetch_related("messages__author", "messages__team")
            .order_by("-proposed_at", "-id")
        )

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "team_ids": set(team_ids_of(self.request.user)),
            "in_list": self.action == "list",
        }

    def subject_of(self, obj):
        return obj.case.client_id, obj.case_id

    def _transition(self, request, input_serializer, service):
        return self.act(
            request,
            input_serializer,
            service,
            target="transfer",
            # The services return the transfer or its booking: answer with the transfer.
            respond=lambda _result: (
                self.get_serializer(self.get_queryset().get(pk=self.kwargs["pk"])).data
            ),
        )

    @extend_schema(request=AcceptSerializer, responses=TRANSFER_OR_SUMMARY)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        # Answered from the service's locked copy, not read again in scope: the actor has
        # just read it in scope and accepted it.
        return self.act(
            request,
            AcceptSerializer,
            services.transfer_accept,
            target="transfer",
            respond=lambda accepted: self.get_serializer(self._as_read(accepted)).data,
        )

    def _as_read(self, accepted: Transfer) -> Transfer:
        """The accepted transfer (the service's locked copy: its state, teams, workers and
        case) with what accepting does not change taken from the copy read in scope: the
        client, the review, the routing, the consent and the messages."""
        read = self.target
        accepted.case.client = read.case.client
        for name in ("review", "routed_team", "consent_recorded_by"):
            if getattr(accepted, f"{name}_id") == getattr(read, f"{name}_id"):
                setattr(accepted, name, getattr(read, name))
        # The messages, prefetched with the read.
        accepted._prefetched_objects_cache = read._prefetched_objects_cache  # type: ignore[attr-defined]
        if accepted.review.case_id == accepted.case_id:
            accepted.review.case = accepted.case  # the summary's readiness reads it
        return accepted

    @extend_schema(request=ReturnSerializer, responses=TRANSFER_OR_SUMMARY)
    @action(detail=True, methods=["post"], url_path="return")
    def return_transfer(self, request, pk=None):
        return self._transition(request, ReturnSerializer, services.transfer_return)

    @extend_schema(
        request=QuestionSerializer,
        responses=TRANSFER_OR_SUMMARY,
        description="The receiving team asks the sender a question instead of returning: "
        "`proposed` -> `information_requested`; the awaiting-acceptance clock stops.",
    )
    @action(detail=True, methods=["post"], url_path="request-information")
    def request_information(self, request, pk=None):
        return self._transition(request, QuestionSerializer, services.transfer_request_information)

    @extend_schema(
        request=QuestionSerializer,
        responses=TRANSFER_OR_SUMMARY,
        description="The sender answers: `information_requested` -> `proposed`; the days "
        "the question waited are added to `paused_working_days`.",
    )
    @action(detail=True, methods=["post"], url_path="answer-information")
    def answer_information(self, request, pk=None):
        return self._transition(request, QuestionSerializer, services.transfer_answer_information)

    @extend_schema(
        request=SummaryEditSerializer,
        responses=TRANSFER_OR_SUMMARY,
        description="The sender edits the handover summary of an open transfer: a new "
        "version with its author and time; the earlier versions are kept.",
    )
    @action(detail=True, methods=["post"], url_path="handover-summary")
    def edit_summary(self, request, pk=None):
        return self._transition(request, SummaryEditSerializer, services.transfer_summary_edit)

    @extend_schema(request=CancelSerializer, responses=TRANSFER_OR_SUMMARY)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._transition(request, CancelSerializer, services.transfer_cancel)

    @extend_schema(request=ConfirmBookingSerializer, responses=TRANSFER_OR_SUMMARY)
    @action(detail=True, methods=["post"], url_path="confirm-booking")
    def confirm_booking(self, request, pk=None):
        return self._transition(
            request, ConfirmBookingSerializer, services.transfer_confirm_booking
        )

    @extend_schema(request=RebookSerializer, responses=TRANSFER_OR_SUMMARY)
    @action(detail=True, methods=["post"])
    def rebook(self, request, pk=None):
        return self._transition(request, RebookSerializer, services.transfer_rebook)

    @extend_schema(
        request=None,
        responses=TRANSFER_OR_SUMMARY,
        description="Only once the handover's start time has passed: before it the answer is "
        "409 `handover_not_started`.",
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._transition(request, None, services.transfer_complete)

    @extend_schema(request=None, responses=TRANSFER_OR_SUMMARY)
    @action(detail=True, methods=["post"], url_path="confirm-attendance")
    def confirm_attendance(self, request, pk=None):
        """The escorting sending worker confirms the booked handover time (recorded)."""
        return self._transition(request, None, services.transfer_confirm_attendance)

"""API v1: organisation and routing (reference data), clients and cases (scoped and
access-logged)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from . import reports, services
from .audit import log_access
from .enums import BookingStatus, ClosureReason, HousingSituation, ReturnReason, TeamKind
from .errors import ActorNotAllowed
from .idempotency import idempotent
from .models import (
    AccessLog,
    AccessOutcome,
    BookingHours,
    Case,
    Client,
    Event,
    PostalArea,
    Region,
    Team,
    Transfer,
)
from .selectors import (
    RECEIVED_STATES,
    cases_visible_to,
    clients_visible_to,
    team_ids_of,
    transfers_visible_to,
)
from .workflow import allowed_actions


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


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["id", "code", "name_fi", "name_sv", "name_en"]


class BookingHoursSerializer(serializers.ModelSerializer):
    class Meta:
        model = BookingHours
        fields = ["weekday", "opens_at", "closes_at"]


class TeamSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    booking_hours = BookingHoursSerializer(many=True, read_only=True)

    class Meta:
        model = Team
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "region",
            "max_client_age",
            "front_desk_location",
            "is_active",
            "booking_hours",
        ]


class PostalAreaSerializer(serializers.ModelSerializer):
    region = SlugField(slug_field="code", queryset=Region.objects.all())

    class Meta:
        model = PostalArea
        fields = ["id", "postal_code", "name_fi", "suurpiiri", "region", "confidence"]


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Region.objects.order_by("code")
    serializer_class = RegionSerializer
    filterset_fields = ["code"]
    ordering_fields = ["code"]


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = (
        Team.objects.select_related("region")
        .prefetch_related("booking_hours")
        .order_by("kind", "name")
    )
    serializer_class = TeamSerializer
    filterset_fields = ["kind", "region__code", "is_active"]
    ordering_fields = ["name", "code"]


class PostalAreaViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The routing table. Administrators correct a code's region here or in the admin."""

    queryset = PostalArea.objects.select_related("region").order_by("postal_code")
    serializer_class = PostalAreaSerializer
    permission_classes = [permissions.IsAuthenticated, AdminWritesOthersRead]
    filterset_fields = ["postal_code", "region__code", "confidence"]
    ordering_fields = ["postal_code"]


# Client data: scoped in the queryset, access-logged before it is returned ---------------


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


class ClientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Client
        fields = ["id", *services.CLIENT_FIELDS]


class CaseSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="code", read_only=True)
    responsible_worker = serializers.SlugRelatedField(slug_field="username", read_only=True)
    closure_reason = serializers.ChoiceField(
        choices=ClosureReason.choices, allow_blank=True, read_only=True
    )
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "reference",
            "client",
            "team",
            "responsible_worker",
            "state",
            "integration_started_on",
            "review_due_on",
            "cap_on",
            "ppt_coordinator",
            "closure_reason",
            "closed_at",
            "allowed_actions",
        ]
        read_only_fields = fields

    def get_allowed_actions(self, case) -> list[str]:
        return allowed_actions(case)


class EventSerializer(serializers.ModelSerializer):
    # Read-only model fields lose allow_blank in DRF: declared here so the schema says
    # that an empty choice or a null (a system action) is a valid answer.
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Event
        fields = [
            "id",
            "created_at",
            "subject",
            "action",
            "from_state",
            "to_state",
            "actor",
            "actor_role",
            "reason",
            "params",
            "transfer",
            "review",
        ]
        read_only_fields = fields


class ClientWriteSerializer(serializers.Serializer):
    """Shapes only: the service validates (identity code, language, dates) and names the
    field in its error."""

    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    date_of_birth = serializers.DateField()
    personal_identity_code = serializers.CharField(
        max_length=11, required=False, allow_blank=True, allow_null=True
    )
    language = serializers.CharField(max_length=3)
    interpreter_needed = serializers.BooleanField(required=False)
    street_address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=5, required=False, allow_blank=True)
    post_office = serializers.CharField(max_length=100, required=False, allow_blank=True)
    housing_situation = serializers.ChoiceField(choices=HousingSituation.choices, required=False)
    children_count = serializers.IntegerField(min_value=0, max_value=30, required=False)
    family_reunification_pending = serializers.BooleanField(required=False)
    reunited_family = serializers.BooleanField(required=False)
    sponsor_in_finland_since = serializers.DateField(required=False, allow_null=True)
    family_situation_stable = serializers.BooleanField(required=False)
    is_ppt = serializers.BooleanField(required=False)


class AccessLogSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = AccessLog
        fields = [
            "created_at",
            "actor",
            "actor_role",
            "actor_team",
            "case",
            "action",
            "purpose",
            "outcome",
            "request_id",
        ]
        read_only_fields = fields


class ClientViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, AccessLoggedViewSet):
    """Clients: read within scope; create and change through the services (Immigration
    Unit caseworkers and supervisors)."""

    queryset = Client.objects.none()
    serializer_class = ClientSerializer

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return ClientWriteSerializer
        return ClientSerializer

    @extend_schema(request=ClientWriteSerializer, responses={201: ClientSerializer})
    def create(self, request, *args, **kwargs):
        given = ClientWriteSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        client = services.client_create(actor=request.user, **given.validated_data)
        log_access(user=request.user, action="api_create", subjects=[(client.pk, None)])
        return Response(ClientSerializer(client).data, status=201)

    @extend_schema(request=ClientWriteSerializer, responses=ClientSerializer)
    def update(self, request, *args, partial=False, **kwargs):
        client = self.get_object()
        given = ClientWriteSerializer(data=request.data, partial=partial)
        given.is_valid(raise_exception=True)
        client = services.client_update(actor=request.user, client=client, **given.validated_data)
        log_access(user=request.user, action="api_update", subjects=[(client.pk, None)])
        return Response(ClientSerializer(client).data)

    @extend_schema(request=ClientWriteSerializer, responses=ClientSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    filterset_fields = ["language", "is_ppt", "postal_code"]
    ordering_fields = ["last_name", "id"]

    def get_queryset(self):
        return clients_visible_to(self.request.user).order_by("last_name", "first_name", "id")

    def subject_of(self, obj):
        return obj.pk, None

    @extend_schema(responses=AccessLogSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="access-log")
    def access_log(self, request, pk=None):
        """Who read or changed this client's data, when, and why (käyttöloki). For the
        supervisors of the teams that carry the client, and administrators. Reading the
        report is itself logged."""
        client = self.get_object()
        if not (request.user.is_superuser or reports.supervised_team_ids(request.user)):
            log_access(
                user=request.user,
                action="api_access_report",
                outcome=AccessOutcome.DENIED,
                subjects=[(client.pk, None)],
            )
            raise exceptions.PermissionDenied(
                _("Only a supervisor or an administrator may see the access log.")
            )
        log_access(user=request.user, action="api_access_report", subjects=[(client.pk, None)])
        rows = (
            AccessLog.objects.filter(client=client)
            .select_related("actor")
            .order_by("-created_at", "-id")
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(AccessLogSerializer(page, many=True).data)


class CaseOpenSerializer(serializers.Serializer):
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.none())
    team = SlugField(
        slug_field="code", queryset=Team.objects.filter(kind=TeamKind.IMMIGRATION_UNIT)
    )
    responsible_worker = SlugField(
        slug_field="username", queryset=get_user_model().objects.filter(is_active=True)
    )
    integration_started_on = serializers.DateField()
    ppt_coordinator = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only a client the user may already see: an id from elsewhere is "not found".
        request = self.context.get("request")
        if request is not None:
            self.fields["client"].queryset = clients_visible_to(request.user)


class CoordinatorSerializer(serializers.Serializer):
    ppt_coordinator = serializers.CharField(max_length=200, allow_blank=True)


class CloseSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ClosureReason.choices)
    text = serializers.CharField(required=False, allow_blank=True, default="")
    decision = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="At the 5-year cap: the supervisor's written decision.",
    )


class CaseViewSet(AccessLoggedViewSet):
    """Cases: read within scope, opened through the service; of a case's fields only the
    PPT coordinator is changed here (states change through their actions)."""

    queryset = Case.objects.none()
    serializer_class = CaseSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=CaseOpenSerializer, responses={201: CaseSerializer})
    def create(self, request, *args, **kwargs):
        given = CaseOpenSerializer(data=request.data, context={"request": request})
        given.is_valid(raise_exception=True)
        case = services.case_open(actor=request.user, **given.validated_data)
        log_access(user=request.user, action="api_create", subjects=[self.subject_of(case)])
        return Response(CaseSerializer(case).data, status=201)

    @extend_schema(request=CoordinatorSerializer, responses=CaseSerializer)
    def partial_update(self, request, *args, **kwargs):
        case = self.get_object()
        given = CoordinatorSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        case = services.case_set_coordinator(
            actor=request.user, case=case, coordinator=given.validated_data["ppt_coordinator"]
        )
        log_access(user=request.user, action="api_update", subjects=[self.subject_of(case)])
        return Response(CaseSerializer(case).data)

    filterset_fields = {
        "state": ["exact", "in"],
        "team__code": ["exact"],
        "review_due_on": ["lte", "gte"],
    }
    ordering_fields = ["review_due_on", "id"]

    def get_queryset(self):
        return cases_visible_to(self.request.user).order_by("review_due_on", "id")

    def subject_of(self, obj):
        return obj.client_id, obj.pk

    @extend_schema(request=CloseSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """End the Immigration Unit relationship without a transfer (an open transfer is
        cancelled, an open review ends)."""
        return self.act(
            request,
            CloseSerializer,
            services.case_close,
            target="case",
            respond=lambda case: CaseSerializer(self.get_queryset().get(pk=case.pk)).data,
        )

    @extend_schema(responses=EventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """The case's event log: every transition and decision, oldest first."""
        case = self.get_object()
        log_access(user=request.user, action="api_history", subjects=[self.subject_of(case)])
        events = case.events.select_related("actor").order_by("created_at", "id")
        return Response(EventSerializer(events, many=True).data)


# Transfers: read (a minimal summary until the receiving team accepts) and transitions ----


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
    allowed_actions = serializers.SerializerMethodField()

    SUMMARY = (
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
        "allowed_actions",
    )

    class Meta:
        model = Transfer
        fields = [
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
            "language",
            "interpreter_needed",
            "ppt_coordinator",
            "return_reason",
            "return_text",
            "cancel_reason",
            "proposed_at",
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

    def to_representation(self, transfer):
        data = super().to_representation(transfer)
        teams = self.context.get("team_ids", set())
        if transfer.sending_team_id in teams or transfer.state in RECEIVED_STATES:
            return data
        return {name: data[name] for name in self.SUMMARY}


class AcceptSerializer(serializers.Serializer):
    receiving_worker = SlugField(
        slug_field="username", queryset=get_user_model().objects.filter(is_active=True)
    )


class ReturnSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ReturnReason.choices)
    text = serializers.CharField()


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField()


class ConfirmBookingSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    place = serializers.CharField()
    interpreter = serializers.CharField(required=False, allow_blank=True, default="")


class RebookSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=[BookingStatus.NO_SHOW.value, BookingStatus.CANCELLED.value]
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="")


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
        return transfers_visible_to(self.request.user).order_by("-proposed_at", "-id")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "team_ids": set(team_ids_of(self.request.user))}

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

    @extend_schema(request=AcceptSerializer, responses=TransferSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._transition(request, AcceptSerializer, services.transfer_accept)

    @extend_schema(request=ReturnSerializer, responses=TransferSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_transfer(self, request, pk=None):
        return self._transition(request, ReturnSerializer, services.transfer_return)

    @extend_schema(request=CancelSerializer, responses=TransferSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._transition(request, CancelSerializer, services.transfer_cancel)

    @extend_schema(request=ConfirmBookingSerializer, responses=TransferSerializer)
    @action(detail=True, methods=["post"], url_path="confirm-booking")
    def confirm_booking(self, request, pk=None):
        return self._transition(
            request, ConfirmBookingSerializer, services.transfer_confirm_booking
        )

    @extend_schema(request=RebookSerializer, responses=TransferSerializer)
    @action(detail=True, methods=["post"])
    def rebook(self, request, pk=None):
        return self._transition(request, RebookSerializer, services.transfer_rebook)

    @extend_schema(request=None, responses=TransferSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._transition(request, None, services.transfer_complete)

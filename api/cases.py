"""API v1: organisation and routing (reference data), clients and cases (scoped and
access-logged)."""

from __future__ import annotations

import copy
import datetime as dt
import functools
from collections.abc import Iterator
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.base import (
    AccessLoggedViewSet,
    AdminWritesOthersRead,
    SlugField,
    partial_form,
)
from api.idempotency import idempotent
from audit.access import log_access, read_and_log
from audit.models import AccessLog, AccessOutcome
from cases import services as case_services
from cases.enums import CaseState, ClosureReason, HousingSituation, TeamKind
from cases.models import (
    BookingHours,
    Case,
    Client,
    Event,
    PostalArea,
    Region,
    Team,
    case_reference,
)
from cases.roles import supervised_team_ids
from cases.rules import cap_on
from cases.selectors import case_scope_sql, cases_visible_to, clients_visible_to
from core.transitions import allowed_actions, allowed_actions_in
from criteria import services as criteria_services
from partners import services as partner_services
from partners.enums import SharedField
from partners.models import HomeBase, PartnerOrganisation, Referral
from transfers import services


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
    front_desk_team = serializers.SlugRelatedField(
        slug_field="code",
        read_only=True,
        allow_null=True,
        help_text="The team whose front desk books this team's handovers (its queue, "
        "booking hours, address); null: the team's own.",
    )

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
            "front_desk_team",
        ]


class PostalAreaSerializer(serializers.ModelSerializer):
    region = SlugField(slug_field="code", queryset=Region.objects.all())
    adult_team = SlugField(
        slug_field="code",
        queryset=Team.objects.filter(kind=TeamKind.ADULT),
        required=False,
        allow_null=True,
        help_text="The adult team that receives the area's clients; null: the region's only "
        "active adult team.",
    )
    youth_team = SlugField(
        slug_field="code",
        queryset=Team.objects.filter(kind=TeamKind.YOUTH),
        required=False,
        allow_null=True,
        help_text="The youth team that receives the area's young clients; null: the region's "
        "only active youth team.",
    )

    class Meta:
        model = PostalArea
        fields = [
            "id",
            "postal_code",
            "name_fi",
            "suurpiiri",
            "region",
            "confidence",
            "adult_team",
            "youth_team",
        ]

    def validate(self, attrs):
        """The model's rules for the named teams (kind, region), as the admin applies."""
        current = {
            field: attrs.get(field, getattr(self.instance, field, None))
            for field in ("region", "adult_team", "youth_team")
        }
        area = PostalArea(**current)
        try:
            area.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return attrs


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Region.objects.order_by("code")
    serializer_class = RegionSerializer
    filterset_fields = ["code"]
    ordering_fields = ["code"]


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = (
        Team.objects.select_related("region", "front_desk_team")
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

    queryset = PostalArea.objects.select_related("region", "adult_team", "youth_team").order_by(
        "postal_code"
    )
    serializer_class = PostalAreaSerializer
    permission_classes = [permissions.IsAuthenticated, AdminWritesOthersRead]
    filterset_fields = ["postal_code", "region__code", "confidence"]
    ordering_fields = ["postal_code"]

    def create(self, request, *args, **kwargs):
        return idempotent(request, lambda: super(PostalAreaViewSet, self).create(request))

    def update(self, request, *args, **kwargs):
        return idempotent(request, lambda: super(PostalAreaViewSet, self).update(request, **kwargs))


# Client data: scoped in the queryset, access-logged before it is returned ---------------


class ClientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Client
        fields = ["id", *case_services.CLIENT_FIELDS]


class CaseSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="code", read_only=True)
    responsible_worker = serializers.SlugRelatedField(slug_field="username", read_only=True)
    owner_team = serializers.SlugRelatedField(
        slug_field="code",
        read_only=True,
        help_text="Who carries the case: `team` until the handover is held, then the "
        "receiving team.",
    )
    owner_worker = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        help_text="`responsible_worker` until the handover is held, then the receiving worker.",
    )
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
            "owner_team",
            "owner_worker",
            "transferred_at",
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


CASE_ROW_FIELDS = (
    "id",
    "client_id",
    "state",
    "transferred_at",
    "integration_started_on",
    "review_due_on",
    "ppt_coordinator",
    "closure_reason",
    "closed_at",
    "receiving_team_id",
    "receiving_worker_id",
    "team__code",
    "responsible_worker__username",
    "receiving_team__code",
    "receiving_worker__username",
)
_as_time = serializers.DateTimeField().to_representation


@functools.lru_cache(maxsize=8192)
def _cap_text(started: dt.date) -> str:
    """The cap's date as the API writes it (a page's cases share few start dates)."""
    return cap_on(started).isoformat()


def case_row(row: dict) -> dict:
    """A case read as values (CASE_ROW_FIELDS), as CaseSerializer answers for the case."""
    state = row["state"]
    handed = state == CaseState.TRANSFERRED
    started = row["integration_started_on"]
    transferred_at, closed_at = row["transferred_at"], row["closed_at"]
    return {
        "id": row["id"],
        "reference": case_reference(row["id"]),
        "client": row["client_id"],
        "team": row["team__code"],
        "responsible_worker": row["responsible_worker__username"],
        "owner_team": row["receiving_team__code"]
        if handed and row["receiving_team_id"]
        else row["team__code"],
        "owner_worker": row["receiving_worker__username"]
        if handed and row["receiving_worker_id"]
        else row["responsible_worker__username"],
        "transferred_at": None if transferred_at is None else _as_time(transferred_at),
        "state": state,
        "integration_started_on": started.isoformat(),
        "review_due_on": row["review_due_on"].isoformat(),
        "cap_on": _cap_text(started),
        "ppt_coordinator": row["ppt_coordinator"],
        "closure_reason": row["closure_reason"],
        "closed_at": None if closed_at is None else _as_time(closed_at),
        "allowed_actions": list(allowed_actions_in(Case, state) or ()),
    }


# The page's cases are chosen first (scope, order, offset, limit), then named: the names of
# the case's team and people by scalar subqueries (each by its primary key), not joins, so
# the planner has one table to order, not five (planning took 0.8 ms, as long as running
# the statement; now 0.2 ms), and rows skipped by an offset are never named.
_CASE_ROWS_SQL = """
    SELECT c.id, c.client_id, c.state, c.transferred_at, c.integration_started_on,
        c.review_due_on, c.ppt_coordinator, c.closure_reason, c.closed_at,
        c.receiving_team_id, c.receiving_worker_id,
        (SELECT t.code FROM "cases_team" t WHERE t.id = c.team_id),
        (SELECT w.username FROM "auth_user" w WHERE w.id = c.responsible_worker_id),
        (SELECT t.code FROM "cases_team" t WHERE t.id = c.receiving_team_id),
        (SELECT w.username FROM "auth_user" w WHERE w.id = c.receiving_worker_id){count}
    FROM (
        SELECT c.id, c.client_id, c.state, c.transferred_at, c.integration_started_on,
            c.review_due_on, c.ppt_coordinator, c.closure_reason, c.closed_at, c.team_id,
            c.responsible_worker_id, c.receiving_team_id, c.receiving_worker_id
        FROM "cases_case" c
        WHERE {scope}{after}
        ORDER BY {order} LIMIT %s OFFSET %s
    ) c
"""
_COUNT_SQL = 'SELECT COUNT(*) FROM (SELECT 1 FROM "cases_case" c WHERE {scope}{limit}) s'
# The orders the paginators ask for: by page number (the list's own) and by keyset.
_CASE_ORDERS = {
    ("review_due_on", "id"): ("c.review_due_on, c.id", ['"review_due_on" ASC', '"id" ASC']),
    ("id",): ("c.id", ['"id" ASC']),
    ("-id",): ("c.id DESC", ['"id" DESC']),
}


class CaseRows:
    """The user's cases (cases_visible_to's scope) as CASE_ROW_FIELDS rows, read with
    fixed SQL, each page with its access-log rows in the same statement
    (audit.access.read_and_log). It answers the paginators as the values queryset it
    stands for does: `order_by`, `filter(id__gt=...)` / `filter(id__lt=...)` (a keyset
    position), a slice (a page: read when indexed) and `count()` (the page numbers').

    `ahead` (offset, rows): the page by number the request asks for. When the paginator
    first asks for the bounded count, that page is read with the count in one statement,
    and the page the paginator then slices is that read (no second round trip). An empty
    read (a page past the end) says nothing of the count: it is counted apart."""

    ordered = True
    _LIST_ORDER = ("review_due_on", "id")

    def __init__(
        self, user, *, shown: int, action: str = "api_list", ahead: tuple[int, int] | None = None
    ) -> None:
        self.user, self.shown, self.action = user, shown, action
        self.order: tuple[str, ...] = self._LIST_ORDER
        self.after: tuple[str, int] | None = None
        self.limit: int | None = None
        self.offset = 0
        self.ahead = ahead
        self._rows: list[dict] | None = None
        self._read_ahead: dict[str, Any] = {}  # shared by the copies

    def _with(self, **changes) -> CaseRows:
        rows = copy.copy(self)
        rows.__dict__.update(changes, _rows=None)
        return rows

    def order_by(self, *fields: str) -> CaseRows:
        return self._with(order=tuple(fields) or ("id",))

    def filter(self, **kwargs) -> CaseRows:
        ((name, value),) = kwargs.items()
        if name not in ("id__gt", "id__lt"):
            raise ValueError(name)
        return self._with(after=(">" if name == "id__gt" else "<", int(value)))

    def __getitem__(self, at: slice) -> CaseRows:
        if not isinstance(at, slice) or at.step is not None or self.limit is not None:
            raise TypeError("CaseRows takes one slice, as a page")
        start = at.start or 0
        stop = None if at.stop is None else max(start, at.stop)
        return self._with(offset=start, limit=None if stop is None else stop - start)

    def _scope(self) -> tuple[str, list]:
        return case_scope_sql(self.user, alias="c")

    def count(self) -> int:
        ahead = self._read_ahead
        if self.ahead is not None and self.after is None and self.limit is not None:
            if "rows" not in ahead:
                ahead["rows"], ahead["count"] = self._read(
                    self._LIST_ORDER, *self.ahead, counted=self.limit
                )
                ahead["counted"] = self.limit
            if ahead["count"] is not None and ahead["counted"] == self.limit:
                return int(ahead["count"])
        scope, params = self._scope()
        with connection.cursor() as cursor:
            cursor.execute(
                _COUNT_SQL.format(scope=scope, limit="" if self.limit is None else " LIMIT %s"),
                [*params, *([] if self.limit is None else [self.limit])],
            )
            return cursor.fetchone()[0]

    def __iter__(self) -> Iterator[dict]:
        return iter(self._page())

    def __len__(self) -> int:
        return len(self._page())

    def _page(self) -> list[dict]:
        if self._rows is None:
            ahead = self._read_ahead
            if (
                "rows" in ahead
                and self.ahead is not None
                and (self.order, self.after, self.offset) == (self._LIST_ORDER, None, self.ahead[0])
                and self.limit is not None
                and self.limit <= self.ahead[1]
            ):
                self._rows = ahead["rows"][: self.limit]  # the page read with the count
            elif self.limit == 0:
                self._rows = []
            else:
                self._rows = self._read(self.order, self.offset, self.limit)[0]
        return self._rows

    def _read(
        self,
        order: tuple[str, ...],
        offset: int,
        limit: int | None,
        *,
        counted: int | None = None,
    ) -> tuple[list[dict], int | None]:
        """The rows (and, with `counted`, the count of the scope up to that many rows,
        when any row is read)."""
        order_sql, order_names = _CASE_ORDERS[order]
        scope, params = self._scope()
        count, count_params = "", []
        if counted is not None:
            count = f",\n        ({_COUNT_SQL.format(scope=scope, limit=' LIMIT %s')})"
            count_params = [*params, counted]
        after = ""
        if self.after is not None:
            after = f" AND c.id {self.after[0]} %s"
            params = [*params, self.after[1]]
        read = _CASE_ROWS_SQL.format(count=count, scope=scope, after=after, order=order_sql)
        columns = [*CASE_ROW_FIELDS, *(["silta_count"] if counted is not None else [])]
        rows = read_and_log(
            connection.alias,
            read,
            [*count_params, *params, limit, offset],
            columns=columns,
            order=order_names,
            user=self.user,
            action=self.action,
            shown=self.shown,
            client="client_id",
            case="id",
        )
        width = len(CASE_ROW_FIELDS)
        total = rows[0][width] if rows and counted is not None else None
        return [dict(zip(CASE_ROW_FIELDS, row[:width], strict=True)) for row in rows], total


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


def _naming_the_registered_client(request, write):
    """An identity code already registered to a client the user may see: the 409 names
    that client with its address (outside the scope the answer names no one)."""
    try:
        return write()
    except case_services.ClientExists as exists:
        path = reverse("api-v1:client-detail", args=[exists.extra["client"]])
        exists.extra["link"] = request.build_absolute_uri(path)
        raise


class ClientViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, AccessLoggedViewSet):
    """Clients: read within scope; create and change through the services (Immigration
    Unit caseworkers and supervisors)."""

    queryset = Client.objects.none()
    serializer_class = ClientSerializer

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return ClientWriteSerializer
        return ClientSerializer

    @extend_schema(
        request=ClientWriteSerializer,
        responses={201: ClientSerializer},
    )
    def create(self, request, *args, **kwargs):
        return _naming_the_registered_client(
            request,
            lambda: self.create_through(
                request,
                ClientWriteSerializer,
                case_services.client_create,
                action="api_create",
                respond=lambda client: ClientSerializer(client).data,
            ),
        )

    @extend_schema(request=ClientWriteSerializer, responses=ClientSerializer)
    def update(self, request, *args, partial=False, **kwargs):
        return _naming_the_registered_client(
            request,
            lambda: self.act(
                request,
                partial_form(ClientWriteSerializer) if partial else ClientWriteSerializer,
                criteria_services.client_update,
                target="client",
                action="api_update",
                respond=lambda client: ClientSerializer(client).data,
            ),
        )

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
    @action(detail=True, methods=["get"], url_path="access-log", filter_backends=[])
    def access_log(self, request, pk=None):
        """Who read or changed this client's data, when, and why (käyttöloki). For the
        supervisors of the teams that carry the client, and administrators. Reading the
        report is itself logged."""
        client = self.get_object()
        if not (request.user.is_superuser or supervised_team_ids(request.user)):
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
    ppt_coordinator = serializers.CharField(source="coordinator", max_length=200, allow_blank=True)


class CloseSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ClosureReason.choices)
    text = serializers.CharField(required=False, allow_blank=True, default="")
    decision = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="At the 5-year cap: the supervisor's written decision.",
    )


class HomeBaseRecordSerializer(serializers.Serializer):
    organisation = serializers.PrimaryKeyRelatedField(
        queryset=PartnerOrganisation.objects.filter(is_active=True),
        allow_null=True,
        required=False,
        default=None,
        help_text="A partner organisation of the handbook; null with a reason if none.",
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=partner_services.REASON_MAX,
        help_text="Why the client has no home base (when organisation is null).",
    )


class HomeBaseSerializer(serializers.ModelSerializer):
    organisation_name = serializers.CharField(
        source="organisation.name", allow_null=True, default=None, read_only=True
    )

    class Meta:
        model = HomeBase
        fields = ["organisation", "organisation_name", "reason_none", "recorded_at"]
        read_only_fields = fields


class ReferralSendSerializer(serializers.Serializer):
    """Shapes only: the service (the web form's own) checks the organisation, the purpose,
    what is shared and the consent, and names the field of each problem."""

    organisation = serializers.PrimaryKeyRelatedField(
        queryset=PartnerOrganisation.objects.all(),
        allow_null=True,
        required=False,
        default=None,
        help_text="A partner organisation of the handbook, active and with an e-mail.",
    )
    purpose = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=partner_services.PURPOSE_MAX,
        help_text="What the referral is for (the partner sees it).",
    )
    shared_fields = serializers.ListField(
        child=serializers.ChoiceField(choices=SharedField.choices),
        required=False,
        default=list,
        help_text="What the client agreed to share with the partner; at least one.",
    )
    consent = serializers.BooleanField(
        required=False,
        default=False,
        help_text="The client consented to the referral and to sharing `shared_fields`. "
        "Nothing is sent without it.",
    )


class ReferralSerializer(serializers.ModelSerializer):
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    shared_fields = serializers.ListField(
        source="shared",
        child=serializers.ChoiceField(choices=SharedField.choices),
        read_only=True,
        help_text="What the client agreed to share: the partner's page shows only these.",
    )
    sent_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Referral
        fields = [
            "id",
            "case",
            "organisation",
            "organisation_name",
            "contact_email",
            "purpose",
            "shared_fields",
            "consent_recorded_at",
            "state",
            "partner_note",
            "outcome",
            "sent_by",
            "sent_at",
            "answered_at",
            "done_at",
        ]
        read_only_fields = fields


class CaseViewSet(AccessLoggedViewSet):
    """Cases: read within scope, opened through the service; of a case's fields only the
    PPT coordinator is changed here (states change through their actions)."""

    queryset = Case.objects.none()
    serializer_class = CaseSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=CaseOpenSerializer, responses={201: CaseSerializer})
    def create(self, request, *args, **kwargs):
        return self.create_through(
            request,
            CaseOpenSerializer,
            criteria_services.case_open,
            action="api_create",
            respond=lambda case: CaseSerializer(case).data,
        )

    @extend_schema(request=CoordinatorSerializer, responses=CaseSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.act(
            request,
            CoordinatorSerializer,
            case_services.case_set_coordinator,
            target="case",
            action="api_update",
            respond=lambda case: CaseSerializer(case).data,
        )

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

    def as_rows(self, queryset):
        if allowed_actions_in(Case, CaseState.ACTIVE) is None:
            return None  # transitions with conditions: only the objects can answer
        return queryset.values(*CASE_ROW_FIELDS)

    row_subject = ("client_id", "id")

    def render_row(self, row):
        return case_row(row)

    # Query parameters the list by fixed SQL (CaseRows) answers; any other (a filter, an
    # ordering) goes through the queryset.
    _FIXED_SQL_PARAMS = frozenset({"page", "page_size", "cursor"})

    def list(self, request, *args, **kwargs):
        if (
            connection.vendor != "postgresql"
            or self.paginator is None
            or not request.query_params.keys() <= self._FIXED_SQL_PARAMS
            or allowed_actions_in(Case, CaseState.ACTIVE) is None
        ):
            return super().list(request, *args, **kwargs)
        # The hot list: the same rows, scope, pages and access-log rows as the queryset's
        # path (AccessLoggedViewSet.list), without building and compiling the queryset.
        shown = self.paginator.get_page_size(request)
        ahead = None
        number = request.query_params.get("page") or "1"
        if (
            "cursor" not in request.query_params
            and number.isascii()
            and number.isdigit()
            and int(number) >= 1
        ):
            ahead = ((int(number) - 1) * shown, shown + 1)
        rows = CaseRows(request.user, shown=shown, ahead=ahead)
        self.counted_rows = rows
        page = self.paginate_queryset(rows)
        return self.get_paginated_response([case_row(row) for row in page])

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

    @extend_schema(request=HomeBaseRecordSerializer, responses=HomeBaseSerializer)
    @action(detail=True, methods=["post"], url_path="home-base")
    def home_base(self, request, pk=None):
        """Record the case's home base (kotipesä): a partner organisation, or why there is
        none. Closing a case as "no further need" requires one of the two."""
        return self.act(
            request,
            HomeBaseRecordSerializer,
            partner_services.home_base_record,
            target="case",
            action="api_update",
            respond=lambda home_base: HomeBaseSerializer(home_base).data,
        )

    @extend_schema(
        methods=["GET"],
        request=None,
        responses=ReferralSerializer(many=True),
        description="The case's referrals to partners, newest first: to whom, what was "
        "shared with the client's consent and why, and the partner's answer and outcome.",
    )
    @extend_schema(
        methods=["POST"],
        request=ReferralSendSerializer,
        responses={201: ReferralSerializer},
        description="Refer the client to a partner of the handbook with their consent (the "
        "case stays with the team): what is shared and for what purpose. Writes a "
        "disclosure-log row; the partner's contact gets an e-mail holding only a signed "
        "link. The case's own team's caseworker or supervisor, while the case is the "
        "Immigration Unit's (a closed or transferred case answers 409).",
    )
    @action(
        detail=True,
        methods=["get", "post"],
        pagination_class=None,
        filter_backends=[],
        url_path="referrals",
    )
    def referrals(self, request, pk=None):
        """GET: the case's referrals to partners, newest first. POST: refer the client to
        a partner with their consent (the case stays with the team): what is shared, for
        what purpose; writes a disclosure-log row, and the partner's contact gets an
        e-mail holding only a signed link. The case's own team's caseworker or
        supervisor, while the case is the Immigration Unit's."""
        if request.method == "POST":
            return self.act(
                request,
                ReferralSendSerializer,
                partner_services.referral_send,
                target="case",
                action="api_create",
                status=201,
                respond=lambda referral: (
                    ReferralSerializer(
                        Referral.objects.select_related("organisation", "sent_by").get(
                            pk=referral.pk
                        )
                    ).data
                ),
            )
        case = self.get_object()
        log_access(user=request.user, action="api_referrals", subjects=[self.subject_of(case)])
        referrals = case.referrals.select_related("organisation", "sent_by").order_by(
            "-sent_at", "-pk"
        )
        return Response(ReferralSerializer(referrals, many=True).data)

    @extend_schema(responses=EventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        """The case's event log: every transition and decision, oldest first."""
        case = self.get_object()
        log_access(user=request.user, action="api_history", subjects=[self.subject_of(case)])
        events = case.events.select_related("actor").order_by("created_at", "id")
        return Response(EventSerializer(events, many=True).data)


# Transfers: read (a minimal summary until the receiving team accepts) and transitions ----

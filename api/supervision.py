"""API v1: the supervisor's views (overdue reviews, stalled transfers, exceptions waiting,
cases at the 5-year cap, figures), the reassignment of a worker's cases, and the front
desk's booking queue. Lists that name cases are access-logged; the figures are counts with
no client data."""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.base import SlugField
from api.idempotency import idempotent
from api.pagination import PageNumbers
from audit.access import log_access, perform_and_log
from audit.models import AccessOutcome
from cases import services as case_services
from cases.enums import TeamKind
from cases.models import BookingHours, Case, Team
from cases.roles import desk_team_ids, roles_of
from cases.selectors import booking_hours_of, cases_at_cap, open_cases_of_worker
from core import clock
from criteria.selectors import exceptions_waiting
from transfers import handoff, reports
from transfers.models import HandoverBooking
from transfers.selectors import booking_queue


class IsSupervisor(permissions.BasePermission):
    message = _("Only a supervisor may see this.")

    def has_permission(self, request, view):
        return bool(roles_of(request).supervised_teams)


class OverdueReviewSerializer(serializers.Serializer):
    case = serializers.IntegerField(source="pk")
    reference = serializers.CharField()
    team = serializers.CharField(source="team.code")
    responsible_worker = serializers.CharField(source="responsible_worker.username")
    state = serializers.CharField()
    review_due_on = serializers.DateField()
    days_overdue = serializers.SerializerMethodField()

    def get_days_overdue(self, case) -> int:
        return (self.context["today"] - case.review_due_on).days


class WaitingTransferSerializer(serializers.Serializer):
    transfer = serializers.IntegerField(source="transfer.pk")
    case = serializers.IntegerField(source="transfer.case_id")
    reference = serializers.CharField(source="transfer.case.reference")
    state = serializers.CharField(source="transfer.state")
    stage = serializers.ChoiceField(choices=["acceptance", "booking"])
    sending_team = serializers.CharField(source="transfer.sending_team.code")
    receiving_team = serializers.CharField(source="transfer.receiving_team.code")
    waiting_since = serializers.DateTimeField(source="since")
    working_days_waiting = serializers.IntegerField(source="working_days")
    threshold_working_days = serializers.IntegerField(source="threshold")
    stalled = serializers.BooleanField()


class CriterionNameSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ExceptionWaitingSerializer(serializers.Serializer):
    review = serializers.IntegerField(source="review.pk")
    case = serializers.IntegerField(source="review.case_id")
    reference = serializers.CharField(source="review.case.reference")
    responsible_worker = serializers.CharField(source="review.case.responsible_worker.username")
    team = serializers.CharField(source="review.case.team.code")
    criteria = CriterionNameSerializer(many=True)
    started_at = serializers.DateTimeField(source="review.started_at")


class CaseAtCapSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    reference = serializers.CharField()
    team = serializers.CharField(source="team.code")
    responsible_worker = serializers.CharField(source="responsible_worker.username")
    integration_started_on = serializers.DateField()
    cap_on = serializers.DateField()
    state = serializers.CharField()


class ReassignSerializer(serializers.Serializer):
    team = SlugField(
        slug_field="code", queryset=Team.objects.filter(kind=TeamKind.IMMIGRATION_UNIT)
    )
    from_worker = SlugField(slug_field="username", queryset=get_user_model().objects.all())
    to_worker = SlugField(
        slug_field="username", queryset=get_user_model().objects.filter(is_active=True)
    )
    cases = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        allow_empty=False,
        help_text="Leave out to move all of the worker's open cases.",
    )


class ReassignedCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    reference = serializers.CharField()
    responsible_worker = serializers.CharField(source="responsible_worker.username")


class FiguresQuery(serializers.Serializer):
    since = serializers.DateField(required=False)


class TransfersInMonthSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM, in Helsinki time.")
    region = serializers.CharField(help_text="The receiving team's region (code).")
    transfers = serializers.IntegerField(help_text="Transfers completed.")


class CriterionCountSerializer(serializers.Serializer):
    criterion = serializers.CharField(help_text="The criterion's code.")
    count = serializers.IntegerField(help_text="Times assessed as not met.")


class FiguresSerializer(serializers.Serializer):
    since = serializers.DateField()
    cases_by_state = serializers.DictField(child=serializers.IntegerField())
    transfers_per_month = TransfersInMonthSerializer(many=True)
    median_days_due_to_transferred = serializers.FloatField(allow_null=True)
    criteria_most_often_unmet = CriterionCountSerializer(many=True)


TEAM = OpenApiParameter("team", str, description="One of your teams (code).")


class SupervisorViewSet(viewsets.GenericViewSet):
    """For the teams the user supervises. Anyone else: 403 (from the newer views with a
    denied access-log row)."""

    permission_classes = [permissions.IsAuthenticated, IsSupervisor]
    serializer_class = OverdueReviewSerializer
    queryset = Case.objects.none()
    # Lists in a fixed order, filtered by the parameters each action declares.
    filter_backends: list = []
    pagination_class = PageNumbers
    # The access-log action a refused request of these views is logged under.
    REFUSALS_LOGGED = {
        "exceptions_waiting": "api_list",
        "cases_at_cap": "api_list",
        "reassign": "api_transition",
    }

    def permission_denied(self, request, message=None, code=None):
        logged = self.REFUSALS_LOGGED.get(self.action)
        if logged and request.user.is_authenticated:
            log_access(
                user=request.user,
                action=logged,
                outcome=AccessOutcome.DENIED,
                subjects=[(None, None)],
            )
        super().permission_denied(request, message=message, code=code)

    def _teams(self, request) -> list[int]:
        code = request.query_params.get("team")
        return [
            team.pk for team in roles_of(request).supervised_teams if not code or team.code == code
        ]

    def _page_of_cases(self, request, rows, subject_of, serializer, **context):
        """One page of `rows`, its cases access-logged before they are returned."""
        page = self.paginate_queryset(rows)
        log_access(user=request.user, action="api_list", subjects=[subject_of(r) for r in page])
        return self.get_paginated_response(serializer(page, many=True, context=context).data)

    @extend_schema(
        parameters=[
            TEAM,
            OpenApiParameter("worker", str, description="Responsible worker (username)."),
        ],
        responses=OverdueReviewSerializer(many=True),
    )
    @action(detail=False, methods=["get"], url_path="overdue-reviews")
    def overdue_reviews(self, request):
        """Reviews past their date and not done, by worker and team, longest overdue
        first."""
        today = clock.today()
        cases = reports.overdue_reviews(self._teams(request), today)
        worker = request.query_params.get("worker")
        if worker:
            cases = cases.filter(responsible_worker__username=worker)
        return self._page_of_cases(
            request,
            cases,
            lambda case: (case.client_id, case.pk),
            OverdueReviewSerializer,
            today=today,
        )

    @extend_schema(
        parameters=[
            TEAM,
            OpenApiParameter(
                "all", bool, description="Also transfers waiting less than the threshold."
            ),
        ],
        responses=WaitingTransferSerializer(many=True),
    )
    @action(detail=False, methods=["get"], url_path="stalled-transfers")
    def stalled_transfers(self, request):
        """Transfers awaiting acceptance or a confirmed booking for at least the reminder
        policy's first offset (working days), longest first."""
        teams = self._teams(request)
        show_all = request.query_params.get("all", "").lower() in ("1", "true", "yes")
        rows = (reports.waiting_transfers if show_all else reports.stalled_transfers)(teams)
        return self._page_of_cases(
            request,
            rows,
            lambda row: (row.transfer.case.client_id, row.transfer.case_id),
            WaitingTransferSerializer,
        )

    @extend_schema(parameters=[TEAM], responses=ExceptionWaitingSerializer(many=True))
    @action(detail=False, methods=["get"], url_path="exceptions-waiting")
    def exceptions_waiting(self, request):
        """Open reviews with a criterion not met whose exception a supervisor may approve
        (POST /assessments/{id}/approve-exception/), oldest review first."""
        return self._page_of_cases(
            request,
            exceptions_waiting(self._teams(request)),
            lambda row: (row["review"].case.client_id, row["review"].case_id),
            ExceptionWaitingSerializer,
        )

    @extend_schema(parameters=[TEAM], responses=CaseAtCapSerializer(many=True))
    @action(detail=False, methods=["get"], url_path="cases-at-cap")
    def cases_at_cap(self, request):
        """Open cases at or past the 5-year cap: each needs the supervisor's written
        decision to be transferred or closed. Longest first."""
        return self._page_of_cases(
            request,
            cases_at_cap(self._teams(request), clock.today()),
            lambda case: (case.client_id, case.pk),
            CaseAtCapSerializer,
        )

    @extend_schema(
        request=ReassignSerializer,
        responses=ReassignedCaseSerializer(many=True),
    )
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def reassign(self, request):
        """Move a (leaving) worker's open cases in a team to another caseworker of the
        team: all of them, or those listed in `cases`. Honours Idempotency-Key."""

        def run():
            given = ReassignSerializer(data=request.data)
            given.is_valid(raise_exception=True)
            data = given.validated_data
            team, from_worker = data["team"], data["from_worker"]
            case_ids = data.get("cases")
            chosen = open_cases_of_worker(team, from_worker)
            if case_ids is not None:
                chosen = chosen.filter(pk__in=case_ids)
            moved = perform_and_log(
                case_services.cases_reassign,
                user=request.user,
                action="api_transition",
                # A refusal with no case named is still logged.
                subjects=[(case.client_id, case.pk) for case in chosen] or [(None, None)],
                team=team,
                from_worker=from_worker,
                to_worker=data["to_worker"],
                case_ids=case_ids,
            )
            return Response(ReassignedCaseSerializer(moved, many=True).data)

        return idempotent(request, run)

    @extend_schema(
        parameters=[
            TEAM,
            OpenApiParameter(
                "since", dt.date, description="First day counted (default: a year ago)."
            ),
        ],
        responses=FiguresSerializer,
    )
    @action(detail=False, methods=["get"])
    def figures(self, request):
        """Cases per state now, transfers per month and region, the median days from the
        review date to the handover, and the criteria most often not met."""
        query = FiguresQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        since = query.validated_data.get("since") or clock.today() - relativedelta(years=1)
        return Response(reports.figures(self._teams(request), since=since))


class AttendeeSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=["sending_worker"])
    name = serializers.CharField()
    availability = serializers.CharField(allow_blank=True)


class BookingQueueSerializer(serializers.ModelSerializer):
    transfer = serializers.IntegerField(source="transfer_id", read_only=True)
    reference = serializers.CharField(source="transfer.case.reference", read_only=True)
    receiving_team = serializers.CharField(source="transfer.receiving_team.code", read_only=True)
    escorted = serializers.BooleanField(source="transfer.escorted", read_only=True)
    receiving_worker = serializers.CharField(
        source="transfer.receiving_worker.username", read_only=True, allow_null=True
    )
    attendees = serializers.SerializerMethodField(
        help_text="Who attends besides the client and the receiving side: the escorting "
        "sending worker, with their availability note (as the booking webhook sends)."
    )

    class Meta:
        model = HandoverBooking
        fields = [
            "id",
            "transfer",
            "reference",
            "receiving_team",
            "receiving_worker",
            "escorted",
            "attendees",
            "status",
            "requested_at",
            "interpreter_language",
            "interpreter_status",
            "delivery",
            "delivery_error",
        ]
        read_only_fields = fields

    @extend_schema_field(AttendeeSerializer(many=True))
    def get_attendees(self, booking) -> list[dict[str, str]]:
        return handoff.attendees(booking.transfer)


class BookingHoursOutSerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="team.code")

    class Meta:
        model = BookingHours
        fields = ["team", "weekday", "opens_at", "closes_at"]


class BookingQueueViewSet(viewsets.GenericViewSet):
    """The front desk's queue: requested handover bookings of its teams, oldest first.
    Confirm one with POST /transfers/{id}/confirm-booking/."""

    serializer_class = BookingQueueSerializer
    queryset = HandoverBooking.objects.none()
    filter_backends: list = []  # oldest first, always
    pagination_class = PageNumbers

    def get_queryset(self):
        return booking_queue(desk_team_ids(self.request.user))

    @extend_schema(responses=BookingQueueSerializer(many=True))
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        log_access(
            user=request.user,
            action="api_list",
            subjects=[(b.transfer.case.client_id, b.transfer.case_id) for b in page],
        )
        return self.get_paginated_response(BookingQueueSerializer(page, many=True).data)

    @extend_schema(responses=BookingHoursOutSerializer(many=True))
    @action(
        detail=False,
        methods=["get"],
        url_path="booking-hours",
        pagination_class=None,
        filter_backends=[],
    )
    def booking_hours(self, request):
        """The booking hours of the user's front desks."""
        hours = booking_hours_of(desk_team_ids(request.user))
        return Response(BookingHoursOutSerializer(hours, many=True).data)

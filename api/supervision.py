"""API v1: the supervisor's views (overdue reviews, stalled transfers, figures) and the
front desk's booking queue. Lists that name cases are access-logged; the figures are
counts with no client data."""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from audit.access import log_access
from cases.enums import Role
from cases.models import BookingHours, Case, Membership
from cases.roles import supervised_team_ids
from core import clock
from transfers import reports
from transfers.enums import BookingStatus, TransferState
from transfers.models import HandoverBooking


class IsSupervisor(permissions.BasePermission):
    message = _("Only a supervisor may see this.")

    def has_permission(self, request, view):
        return bool(supervised_team_ids(request.user))


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


class FiguresQuery(serializers.Serializer):
    since = serializers.DateField(required=False)


class FiguresSerializer(serializers.Serializer):
    since = serializers.DateField()
    cases_by_state = serializers.DictField(child=serializers.IntegerField())
    transfers_per_month = serializers.ListField(child=serializers.DictField())
    median_days_due_to_transferred = serializers.FloatField(allow_null=True)
    criteria_most_often_unmet = serializers.ListField(child=serializers.DictField())


class SupervisorViewSet(viewsets.GenericViewSet):
    """For the teams the user supervises. Anyone else: 403."""

    permission_classes = [permissions.IsAuthenticated, IsSupervisor]
    serializer_class = OverdueReviewSerializer
    queryset = Case.objects.none()

    def _teams(self, request) -> list[int]:
        teams = supervised_team_ids(request.user)
        code = request.query_params.get("team")
        if code:
            teams = list(
                Membership.objects.filter(
                    user=request.user, role=Role.SUPERVISOR, team_id__in=teams, team__code=code
                ).values_list("team_id", flat=True)
            )
        return teams

    @extend_schema(
        parameters=[
            OpenApiParameter("team", str, description="One of your teams (code)."),
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
        page = self.paginate_queryset(cases)
        log_access(
            user=request.user,
            action="api_list",
            subjects=[(case.client_id, case.pk) for case in page],
        )
        data = OverdueReviewSerializer(page, many=True, context={"today": today}).data
        return self.get_paginated_response(data)

    @extend_schema(
        parameters=[
            OpenApiParameter("team", str, description="One of your teams (code)."),
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
        page = self.paginate_queryset(rows)
        log_access(
            user=request.user,
            action="api_list",
            subjects=[(row.transfer.case.client_id, row.transfer.case_id) for row in page],
        )
        return self.get_paginated_response(WaitingTransferSerializer(page, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("team", str, description="One of your teams (code)."),
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


class BookingQueueSerializer(serializers.ModelSerializer):
    transfer = serializers.IntegerField(source="transfer_id", read_only=True)
    reference = serializers.CharField(source="transfer.case.reference", read_only=True)
    receiving_team = serializers.CharField(source="transfer.receiving_team.code", read_only=True)
    escorted = serializers.BooleanField(source="transfer.escorted", read_only=True)
    receiving_worker = serializers.CharField(
        source="transfer.receiving_worker.username", read_only=True, allow_null=True
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
            "status",
            "requested_at",
            "interpreter_language",
            "interpreter_status",
            "delivery",
            "delivery_error",
        ]
        read_only_fields = fields


class BookingHoursOutSerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="team.code")

    class Meta:
        model = BookingHours
        fields = ["team", "weekday", "opens_at", "closes_at"]


def _desk_team_ids(user):
    """The teams whose front desk queue this user works (front desk or supervisor)."""
    return Membership.objects.filter(user=user, role__in=[Role.FRONT_DESK, Role.SUPERVISOR]).values(
        "team_id"
    )


class BookingQueueViewSet(viewsets.GenericViewSet):
    """The front desk's queue: requested handover bookings of its teams, oldest first.
    Confirm one with POST /transfers/{id}/confirm-booking/."""

    serializer_class = BookingQueueSerializer
    queryset = HandoverBooking.objects.none()

    def get_queryset(self):
        teams = _desk_team_ids(self.request.user)
        return (
            HandoverBooking.objects.filter(
                transfer__receiving_team_id__in=teams,
                transfer__state=TransferState.BOOKING_REQUESTED,
                status=BookingStatus.REQUESTED,
            )
            .select_related(
                "transfer__case", "transfer__receiving_team", "transfer__receiving_worker"
            )
            .order_by("requested_at", "id")
        )

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
    @action(detail=False, methods=["get"], url_path="booking-hours", pagination_class=None)
    def booking_hours(self, request):
        """The booking hours of the user's front desks."""
        teams = _desk_team_ids(request.user)
        hours = BookingHours.objects.filter(team_id__in=teams).select_related("team")
        return Response(BookingHoursOutSerializer(hours, many=True).data)

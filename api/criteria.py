"""API v1: reviews and their assessments, and the transfer proposal from a ready review.

Scope follows the case: whoever may see the case may see its reviews. Every change goes
through criteria.services (or transfers.services for the proposal)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action

from api.base import AccessLoggedViewSet, SlugField
from api.transfers import TransferSerializer
from audit.access import perform_and_log
from cases.enums import TeamKind
from cases.models import Case, Team
from cases.roles import team_ids_of
from cases.selectors import cases_visible_to
from core.errors import RoutingNeedsManualChoice
from criteria import services as criteria_services
from criteria.models import AssessmentStatus, CriterionAssessment, Review, ReviewOutcome
from criteria.selectors import (
    assessments_visible_to,
    ordered_assessments,
    review_readiness,
    reviews_visible_to,
)
from transfers import services
from transfers.enums import ConsentBasis
from transfers.selectors import transfers_visible_to


class AssessmentSerializer(serializers.ModelSerializer):
    criterion = serializers.CharField(source="criterion.code", read_only=True)
    name = serializers.CharField(source="criterion.name", read_only=True)
    guidance = serializers.CharField(source="criterion.guidance", read_only=True)
    exception_allowed = serializers.BooleanField(
        source="criterion.exception_allowed", read_only=True
    )
    has_multi_problem_marker = serializers.BooleanField(
        source="criterion.has_multi_problem_marker", read_only=True
    )
    exception_approved_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    exception_requested = serializers.BooleanField(read_only=True)
    exception_requested_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    exception_refused_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    plan_owner_user = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="The worker who owns the plan; null means the responsible worker.",
    )

    class Meta:
        model = CriterionAssessment
        fields = [
            "id",
            "review",
            "criterion",
            "name",
            "guidance",
            "exception_allowed",
            "has_multi_problem_marker",
            "status",
            "note",
            "plan_action",
            "plan_owner",
            "plan_owner_user",
            "plan_target_on",
            "multi_problem",
            "exception_justification",
            "exception_approved_by",
            "exception_approved_at",
            "exception_requested",
            "exception_requested_by",
            "exception_requested_at",
            "exception_refused_by",
            "exception_refused_at",
            "exception_refusal_reason",
        ]
        read_only_fields = fields


class ReadinessSerializer(serializers.Serializer):
    ready = serializers.BooleanField()
    unmet = serializers.ListField(child=serializers.CharField())
    blockers = serializers.ListField(child=serializers.CharField())
    exceptions_possible = serializers.ListField(child=serializers.CharField())
    missing_plans = serializers.ListField(child=serializers.CharField())
    escorted = serializers.BooleanField()


class RoutingSerializer(serializers.Serializer):
    routed_team = serializers.CharField(allow_null=True)
    needs_manual_choice = serializers.BooleanField()
    detail = serializers.CharField(allow_blank=True)


class ReviewSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(source="case.reference", read_only=True)
    checklist_version = serializers.IntegerField(source="template.version", read_only=True)
    started_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    is_open = serializers.BooleanField(read_only=True)
    outcome = serializers.ChoiceField(
        choices=ReviewOutcome.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Review
        fields = [
            "id",
            "case",
            "reference",
            "checklist_version",
            "started_at",
            "started_by",
            "completed_at",
            "outcome",
            "next_review_on",
            "is_open",
        ]
        read_only_fields = fields


class ReviewDetailSerializer(ReviewSerializer):
    """The checklist with the live readiness summary and the team routing would choose."""

    cap_on = serializers.DateField(source="case.cap_on", read_only=True)
    is_ppt = serializers.BooleanField(source="case.client.is_ppt", read_only=True)
    ppt_coordinator = serializers.CharField(source="case.ppt_coordinator", read_only=True)
    assessments = serializers.SerializerMethodField()
    readiness = serializers.SerializerMethodField()
    routing = serializers.SerializerMethodField()

    class Meta(ReviewSerializer.Meta):
        fields = [
            *ReviewSerializer.Meta.fields,
            "cap_on",
            "is_ppt",
            "ppt_coordinator",
            "assessments",
            "readiness",
            "routing",
        ]
        read_only_fields = fields

    @extend_schema_field(AssessmentSerializer(many=True))
    def get_assessments(self, review) -> list[dict]:
        return AssessmentSerializer(ordered_assessments(review), many=True).data

    @extend_schema_field(ReadinessSerializer)
    def get_readiness(self, review) -> dict:
        readiness = review_readiness(review, ordered_assessments(review))
        return ReadinessSerializer(readiness).data

    @extend_schema_field(RoutingSerializer)
    def get_routing(self, review) -> dict:
        try:
            team = services.routed_team_for(review.case)
        except RoutingNeedsManualChoice as exc:
            return {"routed_team": None, "needs_manual_choice": True, "detail": exc.detail}
        return {"routed_team": team.code, "needs_manual_choice": False, "detail": ""}


class ReviewStartSerializer(serializers.Serializer):
    case = serializers.PrimaryKeyRelatedField(queryset=Case.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["case"].queryset = cases_visible_to(request.user)


class NotReadySerializer(serializers.Serializer):
    next_review_on = serializers.DateField()


class ProposeSerializer(serializers.Serializer):
    receiving_team = SlugField(
        slug_field="code",
        queryset=Team.objects.filter(kind__in=[TeamKind.ADULT, TeamKind.YOUTH], is_active=True),
        required=False,
        allow_null=True,
        default=None,
        help_text="Leave empty for the routed team; another team needs override_reason.",
    )
    override_reason = serializers.CharField(required=False, allow_blank=True, default="")
    decision = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="At the 5-year cap: the supervisor's written decision.",
    )
    sender_availability = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=1000,
        help_text="For an escorted transfer: when the sending worker can attend the "
        "handover (the front desk sees it when booking).",
    )
    # Optional in the document (an additive change); the service answers 400 with
    # `errors.consent_basis` when it is missing.
    consent_basis = serializers.ChoiceField(
        choices=ConsentBasis.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Needed: whether the client consented to the transfer of their data, or "
        "the legal basis when consent is not needed; recorded with who and when. Without "
        "it the answer is 400 with `errors.consent_basis`.",
    )
    consent_note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="The legal basis, named: needed with `other_legal_basis`.",
    )
    note_to_team = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="The handover summary's note to the receiving team: it sees this (with "
        "readiness, exception names, escorted, language) before it accepts, the rest after.",
    )
    settled = serializers.CharField(required=False, allow_blank=True, default="")
    open_items = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="What is still open: the plans in progress with owners and dates.",
    )
    risks = serializers.CharField(required=False, allow_blank=True, default="")
    escorted_why = serializers.CharField(required=False, allow_blank=True, default="")
    coordinator_contact = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="The PPT coordinator and how to reach them.",
    )


class AssessSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[
            AssessmentStatus.MET.value,
            AssessmentStatus.NOT_MET.value,
            AssessmentStatus.NOT_APPLICABLE.value,
        ]
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")
    plan_action = serializers.CharField(required=False, allow_blank=True, default="")
    plan_owner = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    plan_owner_user = SlugField(
        slug_field="username",
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text=(
            "The username of the worker of the case's team who owns the plan; null for the "
            "responsible worker; left out, the owner stays as it is."
        ),
    )
    plan_target_on = serializers.DateField(required=False, allow_null=True, default=None)
    multi_problem = serializers.BooleanField(required=False, default=False)


class ExceptionSerializer(serializers.Serializer):
    justification = serializers.CharField()


class RefuseExceptionSerializer(serializers.Serializer):
    reason = serializers.CharField()


class ReviewViewSet(AccessLoggedViewSet):
    """Reviews: start one on a due case (POST), read the checklist with its readiness, then
    complete it as not ready or propose the transfer."""

    queryset = Review.objects.none()
    serializer_class = ReviewSerializer
    http_method_names = ["get", "post", "head", "options"]
    filterset_fields = {"case": ["exact"], "outcome": ["exact"], "completed_at": ["isnull"]}
    ordering_fields = ["started_at", "id"]

    def get_queryset(self):
        reviews = reviews_visible_to(self.request.user).select_related("started_by")
        if self.action != "list":
            reviews = reviews.prefetch_related(
                "assessments__criterion", "assessments__plan_owner_user"
            )
        return reviews.order_by("-started_at", "-id")

    def get_serializer_class(self):
        return ReviewSerializer if self.action == "list" else ReviewDetailSerializer

    def subject_of(self, obj):
        return obj.case.client_id, obj.case_id

    def _detail(self, review) -> dict:
        return ReviewDetailSerializer(self.get_queryset().get(pk=review.pk)).data

    @extend_schema(request=ReviewStartSerializer, responses={201: ReviewDetailSerializer})
    def create(self, request, *args, **kwargs):
        """Start the review of a case whose review is due."""
        # The case is known before the review exists: a refusal's row names it.
        return self.write(
            request,
            ReviewStartSerializer,
            lambda data: perform_and_log(
                criteria_services.review_start,
                user=request.user,
                action="api_transition",
                subjects=[(data["case"].client_id, data["case"].pk)],
                **data,
            ),
            respond=self._detail,
            status=201,
        )

    @extend_schema(request=NotReadySerializer, responses=ReviewDetailSerializer)
    @action(detail=True, methods=["post"], url_path="complete-not-ready")
    def complete_not_ready(self, request, pk=None):
        """Not ready: every unmet criterion has a plan; set the next review date."""
        return self.act(
            request,
            NotReadySerializer,
            criteria_services.review_complete_not_ready,
            target="review",
            respond=self._detail,
        )

    @extend_schema(request=ProposeSerializer, responses={201: TransferSerializer})
    @action(detail=True, methods=["post"], url_path="propose-transfer")
    def propose_transfer(self, request, pk=None):
        """Propose the transfer from a ready review. The routed team (see `routing` on the
        review) is used unless another is chosen with a reason; where routing cannot choose
        (code `routing_needs_manual_choice`, 422) a team must be chosen with a reason."""
        return self.act(
            request,
            ProposeSerializer,
            services.transfer_propose,
            target="review",
            respond=lambda transfer: (
                TransferSerializer(
                    transfers_visible_to(request.user).get(pk=transfer.pk),
                    context={"team_ids": set(team_ids_of(request.user))},
                ).data
            ),
            status=201,
        )


class AssessmentViewSet(AccessLoggedViewSet):
    """One criterion of a review: assess it, or (a supervisor) approve an exception."""

    queryset = CriterionAssessment.objects.none()
    serializer_class = AssessmentSerializer
    filterset_fields = ["review", "status"]
    ordering_fields = ["id"]

    def get_queryset(self):
        return (
            assessments_visible_to(self.request.user)
            .select_related(
                "exception_approved_by",
                "exception_requested_by",
                "exception_refused_by",
                "plan_owner_user",
            )
            .order_by("review_id", "criterion__order")
        )

    def subject_of(self, obj):
        return obj.review.case.client_id, obj.review.case_id

    def _fresh(self, assessment) -> dict:
        return AssessmentSerializer(self.get_queryset().get(pk=assessment.pk)).data

    @extend_schema(request=AssessSerializer, responses=AssessmentSerializer)
    @action(detail=True, methods=["post"])
    def assess(self, request, pk=None):
        """Met, not met (with a plan) or not applicable, with a note and the multi-problem
        marker where the criterion has one."""
        return self.act(
            request,
            AssessSerializer,
            criteria_services.assessment_update,
            target="assessment",
            respond=self._fresh,
        )

    @extend_schema(request=ExceptionSerializer, responses=AssessmentSerializer)
    @action(detail=True, methods=["post"], url_path="approve-exception")
    def approve_exception(self, request, pk=None):
        """A supervisor approves an exception to an "as a rule" criterion, in writing."""
        return self.act(
            request,
            ExceptionSerializer,
            criteria_services.assessment_approve_exception,
            target="assessment",
            respond=self._fresh,
        )

    @extend_schema(request=ExceptionSerializer, responses=AssessmentSerializer)
    @action(detail=True, methods=["post"], url_path="request-exception")
    def request_exception(self, request, pk=None):
        """The caseworker asks a supervisor for an exception to a criterion that is not
        met, with the justification; the team's supervisors are told. 409 while a request
        already waits or the exception is approved."""
        return self.act(
            request,
            ExceptionSerializer,
            criteria_services.assessment_request_exception,
            target="assessment",
            respond=self._fresh,
        )

    @extend_schema(request=RefuseExceptionSerializer, responses=AssessmentSerializer)
    @action(detail=True, methods=["post"], url_path="refuse-exception")
    def refuse_exception(self, request, pk=None):
        """A supervisor refuses a requested exception, with the reason; the caseworker is
        told. 409 when no request waits."""
        return self.act(
            request,
            RefuseExceptionSerializer,
            criteria_services.assessment_refuse_exception,
            target="assessment",
            respond=self._fresh,
        )

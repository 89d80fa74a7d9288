"""Checklist versions are edited here without code; reviews change only through services."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from audit.access import perform_and_log
from cases.enums import TeamKind
from cases.models import Team
from cases.selectors import cases_visible_to
from core.admin_actions import ActionForm, service_action
from criteria import services
from criteria.models import ChecklistTemplate, CriterionAssessment, CriterionDefinition, Review
from transfers import services as transfer_services
from transfers.enums import ConsentBasis
from web.admin.base import AccessLoggedAdmin, ReadOnlyAdmin


class CriterionInline(admin.StackedInline):
    model = CriterionDefinition
    extra = 0

    def _published(self, obj) -> bool:
        return obj is not None and obj.is_frozen

    def has_add_permission(self, request, obj=None):
        return not self._published(obj)

    def has_change_permission(self, request, obj=None):
        return not self._published(obj)

    def has_delete_permission(self, request, obj=None):
        return not self._published(obj)


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(admin.ModelAdmin):
    list_display = ["version", "title", "is_current", "published_at"]
    readonly_fields = ["version", "is_current", "published_at", "created_at"]
    inlines = [CriterionInline]
    actions = [
        service_action(
            name="copy_as_new_version",
            label=_("Copy as a new version to edit"),
            run=lambda user, template: services.checklist_copy(template=template),
        ),
        service_action(
            name="publish",
            label=_("Publish: new reviews use this version"),
            run=lambda user, template: services.checklist_publish(template=template),
        ),
    ]

    def has_add_permission(self, request):
        return False  # new versions are copies of an existing one

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_frozen:
            return [f.name for f in ChecklistTemplate._meta.fields]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CriterionDefinition)
class CriterionDefinitionAdmin(admin.ModelAdmin):
    """Criteria are edited inside their (unpublished) checklist version; this list is for
    finding them across versions."""

    list_display = ["code", "name_fi", "template", "order", "exception_allowed"]
    list_filter = ["template", "code"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None or not obj.template.is_frozen

    def has_delete_permission(self, request, obj=None):
        return False


class AssessmentInline(admin.TabularInline):
    model = CriterionAssessment
    extra = 0
    can_delete = False
    fields = [
        "criterion",
        "status",
        "note",
        "plan_action",
        "plan_owner",
        "plan_target_on",
        "multi_problem",
        "exception_approved_by",
        "exception_justification",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class NotReadyForm(ActionForm):
    next_review_on = forms.DateField(label=_("next review"))


class ProposeForm(ActionForm):
    receiving_team = forms.ModelChoiceField(
        label=_("receiving team"),
        queryset=Team.objects.filter(kind__in=[TeamKind.ADULT, TeamKind.YOUTH], is_active=True),
        required=False,
        help_text=_("Leave empty to use the routed team."),
    )
    override_reason = forms.CharField(
        label=_("reason for choosing another team"), widget=forms.Textarea, required=False
    )
    decision = forms.CharField(
        label=_("supervisor's decision (at the 5-year cap)"),
        widget=forms.Textarea,
        required=False,
    )
    consent_basis = forms.ChoiceField(
        label=_("consent or legal basis"), choices=ConsentBasis.choices, required=False
    )
    consent_note = forms.CharField(label=_("legal basis"), widget=forms.Textarea, required=False)


@admin.register(Review)
class ReviewAdmin(AccessLoggedAdmin, ReadOnlyAdmin):
    list_display = ["case", "template", "started_at", "completed_at", "outcome"]
    list_filter = ["outcome", "template"]
    inlines = [AssessmentInline]
    actions = [
        service_action(
            name="complete_not_ready",
            label=_("Not ready: set the next review"),
            form_class=NotReadyForm,
            run=lambda user, review, **d: services.review_complete_not_ready(
                actor=user, review=review, **d
            ),
        ),
        service_action(
            name="propose_transfer",
            label=_("Ready: propose the transfer"),
            form_class=ProposeForm,
            run=lambda user, review, **d: transfer_services.transfer_propose(
                actor=user, review=review, **d
            ),
        ),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("case")
            .filter(case__in=cases_visible_to(request.user))
        )

    def subject_of(self, obj):
        return obj.case.client_id, obj.case_id


class ExceptionForm(ActionForm):
    justification = forms.CharField(label=_("exception justification"), widget=forms.Textarea)


@admin.register(CriterionAssessment)
class CriterionAssessmentAdmin(AccessLoggedAdmin):
    list_display = ["review", "criterion", "status", "multi_problem", "exception_approved_at"]
    list_filter = ["status", "criterion__code"]
    fields = [
        "review",
        "criterion",
        "status",
        "note",
        "plan_action",
        "plan_owner",
        "plan_target_on",
        "multi_problem",
        "exception_justification",
        "exception_approved_by",
        "exception_approved_at",
    ]
    readonly_fields = [
        "review",
        "criterion",
        "exception_justification",
        "exception_approved_by",
        "exception_approved_at",
    ]
    actions = [
        service_action(
            name="approve_exception",
            label=_("Approve an exception (supervisor)"),
            form_class=ExceptionForm,
            run=lambda user, a, **d: services.assessment_approve_exception(
                actor=user, assessment=a, **d
            ),
        ),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("review__case", "criterion")
            .filter(review__case__in=cases_visible_to(request.user))
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def subject_of(self, obj):
        return obj.review.case.client_id, obj.review.case_id

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        perform_and_log(
            services.assessment_update,
            user=request.user,
            action="admin_change",
            subjects=[self.subject_of(obj)],
            assessment=obj,
            status=data["status"],
            note=data["note"],
            plan_action=data["plan_action"],
            plan_owner=data["plan_owner"],
            plan_target_on=data["plan_target_on"],
            multi_problem=data["multi_problem"],
        )

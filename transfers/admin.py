"""Admin for every model. States are read-only; transitions are admin actions that call
the same services as everything else, so the same role checks and event rows apply."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from criteria import services as criteria_services

from . import services
from .admin_actions import ActionForm, service_action
from .audit import log_access
from .enums import BookingStatus, ClosureReason, ReturnReason, Role, TeamKind
from .models import (
    AccessLog,
    AccessOutcome,
    BookingHours,
    Case,
    Client,
    Event,
    HandoverBooking,
    Membership,
    PostalArea,
    Region,
    Team,
    Transfer,
)
from .selectors import cases_visible_to, clients_visible_to, transfers_visible_to

admin.site.site_header = "Silta"
admin.site.site_title = "Silta"
admin.site.index_title = _("From the Immigration Unit to regional social work")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AccessLoggedAdmin(admin.ModelAdmin):
    """Reads of client data write access-log rows before the page is shown (fail closed:
    if the rows cannot be written, the request fails and shows nothing). An attempt on an
    object outside the user's scope is logged as denied."""

    def subject_of(self, obj) -> tuple[int | None, int | None]:
        """(client id, case id) of a listed or shown object."""
        raise NotImplementedError

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            log_access(
                user=request.user,
                action="admin_list",
                subjects=[self.subject_of(obj) for obj in changelist.result_list],
            )
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        shown = getattr(response, "context_data", {}).get("original")
        if shown is not None:
            log_access(
                user=request.user,
                action="admin_change" if request.method == "POST" else "admin_view",
                subjects=[self.subject_of(shown)],
            )
        return response

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            try:
                outside = self.model._default_manager.filter(pk=object_id).first()
            except (ValueError, ValidationError):
                outside = None
            if outside is not None:
                log_access(
                    user=request.user,
                    action="admin_view",
                    outcome=AccessOutcome.DENIED,
                    subjects=[self.subject_of(outside)],
                )
        return obj


# Organisation and routing -----------------------------------------------------------------


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name_fi", "name_sv", "name_en"]


class BookingHoursInline(admin.TabularInline):
    model = BookingHours
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "region", "max_client_age", "is_active"]
    list_filter = ["kind", "region", "is_active"]
    search_fields = ["name", "code"]
    inlines = [BookingHoursInline, MembershipInline]


@admin.register(BookingHours)
class BookingHoursAdmin(admin.ModelAdmin):
    list_display = ["team", "weekday", "opens_at", "closes_at"]
    list_filter = ["team", "weekday"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "role"]
    list_filter = ["role", "team"]
    search_fields = ["user__username", "user__last_name", "team__name"]
    autocomplete_fields = ["user", "team"]


@admin.register(PostalArea)
class PostalAreaAdmin(admin.ModelAdmin):
    list_display = ["postal_code", "name_fi", "suurpiiri", "region", "confidence"]
    list_editable = ["region"]
    list_filter = ["region", "confidence", "suurpiiri"]
    search_fields = ["postal_code", "name_fi"]


# Clients ----------------------------------------------------------------------------------


def _is_unit_member(user) -> bool:
    return Membership.objects.filter(
        user=user,
        team__kind=TeamKind.IMMIGRATION_UNIT,
        role__in=services.SENDING_ROLES,
    ).exists()


@admin.register(Client)
class ClientAdmin(AccessLoggedAdmin):
    list_display = ["__str__", "date_of_birth", "language", "postal_code", "is_ppt"]
    list_filter = ["is_ppt", "housing_situation", "interpreter_needed"]
    search_fields = ["last_name", "first_name", "personal_identity_code"]
    readonly_fields = ["created_at", "updated_at"]

    def get_queryset(self, request):
        return clients_visible_to(request.user)

    def subject_of(self, obj):
        return obj.pk, None

    def has_add_permission(self, request):
        return super().has_add_permission(request) and _is_unit_member(request.user)

    def has_delete_permission(self, request, obj=None):
        return False  # client data is kept by law; cases are closed, not deleted

    # Django's own admin log would keep the client's name as the object's label and show
    # it in "recent actions" without an access-log row. Silta's event log already records
    # who created or changed which client, and which fields (not their values).
    def log_addition(self, request, obj, message):
        return None

    def log_change(self, request, obj, message):
        return None

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in services.CLIENT_FIELDS}
        if change:
            services.client_update(actor=request.user, client=obj, **fields)
        else:
            obj.pk = services.client_create(actor=request.user, **fields).pk


# Cases ------------------------------------------------------------------------------------


class CloseForm(ActionForm):
    reason = forms.ChoiceField(label=_("closure reason"), choices=ClosureReason.choices)
    text = forms.CharField(label=_("closure explanation"), widget=forms.Textarea, required=False)
    decision = forms.CharField(
        label=_("supervisor's decision (at the 5-year cap)"),
        widget=forms.Textarea,
        required=False,
    )


class CaseCreateForm(forms.ModelForm):
    class Meta:
        model = Case
        fields = [
            "client",
            "team",
            "responsible_worker",
            "integration_started_on",
            "ppt_coordinator",
        ]


@admin.register(Case)
class CaseAdmin(AccessLoggedAdmin):
    list_display = [
        "case_reference",
        "client",
        "team",
        "responsible_worker",
        "state",
        "review_due_on",
    ]
    list_filter = ["state", "team"]
    search_fields = ["client__last_name", "client__first_name", "id"]
    date_hierarchy = "review_due_on"
    # Clients are picked by id (the lookup popup is an access-logged list), not by an
    # autocomplete that would show names without a log row.
    raw_id_fields = ["client"]
    autocomplete_fields = ["responsible_worker"]
    actions = [
        service_action(
            name="mark_due",
            label=_("Mark review due now"),
            run=lambda user, case: services.case_mark_due(case=case, actor=user),
        ),
        service_action(
            name="start_review",
            label=_("Start the review"),
            run=lambda user, case: criteria_services.review_start(actor=user, case=case),
        ),
        service_action(
            name="close",
            label=_("Close the case"),
            form_class=CloseForm,
            run=lambda user, case, **data: services.case_close(actor=user, case=case, **data),
        ),
    ]

    @admin.display(description=_("case reference"), ordering="id")
    def case_reference(self, case):
        return case.reference

    def get_queryset(self, request):
        return cases_visible_to(request.user)

    def subject_of(self, obj):
        return obj.client_id, obj.pk

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = CaseCreateForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return CaseCreateForm.Meta.fields
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [f.name for f in Case._meta.fields if f.name not in ("ppt_coordinator",)]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            services.case_set_coordinator(
                actor=request.user, case=obj, coordinator=form.cleaned_data["ppt_coordinator"]
            )
        else:
            obj.pk = services.case_open(actor=request.user, **form.cleaned_data).pk


# Transfers --------------------------------------------------------------------------------

User = get_user_model()


class AcceptForm(ActionForm):
    receiving_worker = forms.ModelChoiceField(label=_("receiving worker"), queryset=User.objects)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        teams = self.queryset.values("receiving_team") if self.queryset is not None else []
        self.fields["receiving_worker"].queryset = User.objects.filter(
            memberships__team__in=teams, memberships__role=Role.RECEIVING_WORKER
        ).distinct()


class ReturnForm(ActionForm):
    reason = forms.ChoiceField(label=_("return reason"), choices=ReturnReason.choices)
    text = forms.CharField(label=_("return explanation"), widget=forms.Textarea)


class ConfirmBookingForm(ActionForm):
    starts_at = forms.DateTimeField(label=_("time"), help_text=_("e.g. 2026-12-03 10:00"))
    place = forms.CharField(label=_("place"))
    interpreter = forms.CharField(label=_("interpreter name or booking"), required=False)


class RebookForm(ActionForm):
    outcome = forms.ChoiceField(
        label=_("what happened"),
        choices=[
            (BookingStatus.NO_SHOW, BookingStatus.NO_SHOW.label),
            (BookingStatus.CANCELLED, BookingStatus.CANCELLED.label),
        ],
    )
    reason = forms.CharField(label=_("reason"), required=False)


class CancelForm(ActionForm):
    reason = forms.CharField(label=_("cancellation reason"), widget=forms.Textarea)


class HandoverBookingInline(admin.TabularInline):
    model = HandoverBooking
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in HandoverBooking._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Transfer)
class TransferAdmin(AccessLoggedAdmin, ReadOnlyAdmin):
    list_display = ["case", "state", "sending_team", "receiving_team", "escorted", "proposed_at"]
    list_filter = ["state", "receiving_team", "sending_team", "escorted"]
    # By case number only: a search by name would tell a receiving team, before it has
    # accepted anything, which transfers concern a person.
    search_fields = ["=case__id"]
    inlines = [HandoverBookingInline]
    actions = [
        service_action(
            name="accept",
            label=_("Accept the transfer"),
            form_class=AcceptForm,
            run=lambda user, t, **d: services.transfer_accept(actor=user, transfer=t, **d),
        ),
        service_action(
            name="return_transfer",
            label=_("Return the transfer"),
            form_class=ReturnForm,
            run=lambda user, t, **d: services.transfer_return(actor=user, transfer=t, **d),
        ),
        service_action(
            name="request_booking",
            label=_("Request the handover booking"),
            run=lambda user, t: services.transfer_request_booking(actor=user, transfer=t),
        ),
        service_action(
            name="confirm_booking",
            label=_("Confirm the handover booking"),
            form_class=ConfirmBookingForm,
            run=lambda user, t, **d: services.transfer_confirm_booking(actor=user, transfer=t, **d),
        ),
        service_action(
            name="rebook",
            label=_("Client did not come or appointment cancelled: book again"),
            form_class=RebookForm,
            run=lambda user, t, **d: services.transfer_rebook(actor=user, transfer=t, **d),
        ),
        service_action(
            name="retry_booking",
            label=_("Send the failed booking request again"),
            run=lambda user, t: services.transfer_retry_booking_request(actor=user, transfer=t),
        ),
        service_action(
            name="complete",
            label=_("Record the handover as held"),
            run=lambda user, t: services.transfer_complete(actor=user, transfer=t),
        ),
        service_action(
            name="cancel",
            label=_("Cancel the transfer"),
            form_class=CancelForm,
            run=lambda user, t, **d: services.transfer_cancel(actor=user, transfer=t, **d),
        ),
    ]

    def get_queryset(self, request):
        return transfers_visible_to(request.user)

    def subject_of(self, obj):
        return obj.case.client_id, obj.case_id


@admin.register(HandoverBooking)
class HandoverBookingAdmin(AccessLoggedAdmin, ReadOnlyAdmin):
    list_display = ["transfer", "status", "starts_at", "place", "interpreter_status"]
    list_filter = ["status", "interpreter_status"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("transfer__case")
            .filter(transfer__in=transfers_visible_to(request.user))
        )

    def subject_of(self, obj):
        return obj.transfer.case.client_id, obj.transfer.case_id


@admin.register(Event)
class EventAdmin(AccessLoggedAdmin, ReadOnlyAdmin):
    list_display = ["created_at", "subject", "action", "case", "from_state", "to_state", "actor"]
    list_filter = ["subject", "action"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        events = super().get_queryset(request).select_related("case", "actor")
        if request.user.is_superuser:
            return events
        return events.filter(case__in=cases_visible_to(request.user))

    def subject_of(self, obj):
        return obj.client_id, obj.case_id


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    """The report: who accessed client X, when, and why (administrators only)."""

    list_display = [
        "created_at",
        "actor",
        "actor_role",
        "actor_team",
        "client",
        "case",
        "action",
        "purpose",
        "outcome",
    ]
    list_filter = ["outcome", "action", "purpose"]
    search_fields = ["=client__id", "client__last_name", "actor__username"]
    date_hierarchy = "created_at"

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_module_permission(self, request):
        return request.user.is_superuser

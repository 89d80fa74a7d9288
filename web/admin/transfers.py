"""Admin for transfers and handover bookings: states read-only, transitions as actions."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from cases.enums import Role
from core.admin_actions import ActionForm, service_action
from transfers import services
from transfers.enums import BookingStatus, ReturnReason
from transfers.models import ClientNoticeTemplate, HandoverBooking, Transfer
from transfers.selectors import transfers_visible_to
from web.admin.base import AccessLoggedAdmin, ReadOnlyAdmin

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
    outside_hours_reason = forms.CharField(label=_("reason for the time"), required=False)


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


@admin.register(ClientNoticeTemplate)
class ClientNoticeTemplateAdmin(admin.ModelAdmin):
    """The wording of the client's notices: data the city keeps, per kind and language.
    No client data here; the placeholders are checked on save (the model's clean)."""

    list_display = ["kind", "language", "plain_language", "needs_translator_review", "updated_at"]
    list_filter = ["kind", "needs_translator_review", "plain_language"]
    search_fields = ["language", "subject", "body"]

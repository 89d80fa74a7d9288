"""Admin for organisation, routing, clients, cases and the event log."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audit.access import LoggedRefusal, perform_and_log, record_refusal
from audit.labels import role_label
from cases import roles
from cases import services as case_services
from cases.enums import ClosureReason, TeamKind
from cases.models import (
    BookingHours,
    Case,
    Client,
    Event,
    MeetingHours,
    Membership,
    PostalArea,
    Region,
    Team,
)
from cases.selectors import cases_visible_to, clients_visible_to
from cases.validators import normalise_personal_identity_code
from core.admin_actions import ActionForm, service_action
from criteria import services as criteria_services
from transfers import services
from web import labels
from web.admin.base import HTTPS_URLS, AccessLoggedAdmin, LargeLogAdmin, ReadOnlyAdmin
from web.admin.widgets import SafeAutocomplete
from web.labels import language_name

# Organisation and routing -----------------------------------------------------------------


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name_fi", "name_sv", "name_en"]


class BookingHoursInline(admin.TabularInline):
    model = BookingHours
    extra = 0


class MeetingHoursInline(admin.TabularInline):
    model = MeetingHours
    extra = 0


class MembershipInline(SafeAutocomplete, admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "kind",
        "region",
        "front_desk_team",
        "max_client_age",
        "is_active",
    ]
    list_filter = ["kind", "region", "is_active"]
    search_fields = ["name", "code"]
    inlines = [BookingHoursInline, MeetingHoursInline, MembershipInline]
    formfield_overrides = HTTPS_URLS


@admin.register(BookingHours)
class BookingHoursAdmin(admin.ModelAdmin):
    list_display = ["team", "weekday", "opens_at", "closes_at"]
    list_filter = ["team", "weekday"]


@admin.register(Membership)
class MembershipAdmin(SafeAutocomplete, admin.ModelAdmin):
    list_display = ["user", "team", "role"]
    list_filter = ["role", "team"]
    search_fields = ["user__username", "user__last_name", "team__name"]
    autocomplete_fields = ["user", "team"]


@admin.register(PostalArea)
class PostalAreaAdmin(admin.ModelAdmin):
    list_display = [
        "postal_code",
        "name_fi",
        "suurpiiri",
        "region",
        "adult_team",
        "youth_team",
        "confidence",
    ]
    list_editable = ["region"]
    list_filter = ["region", "adult_team", "youth_team", "confidence", "suurpiiri"]
    list_select_related = ["region", "adult_team", "youth_team"]
    search_fields = ["postal_code", "name_fi"]


# Clients ----------------------------------------------------------------------------------


def _is_unit_member(user) -> bool:
    return Membership.objects.filter(
        user=user,
        team__kind=TeamKind.IMMIGRATION_UNIT,
        role__in=roles.SENDING_ROLES,
    ).exists()


class ClientForm(forms.ModelForm):
    """The identity code normalised, and checked as the services check it: a code that is
    already a client's is refused with the service's words (within the user's scope that
    client is named, outside it the answer is neutral), and the refusal leaves its trace
    (access-log row, notice) as it does through `perform_and_log`. Django's own
    uniqueness check is skipped: its "already exists" would tell anyone."""

    actor = None  # the signed-in user, set by ClientAdmin.get_form
    action = "admin_create"

    def clean_personal_identity_code(self):
        code = self.cleaned_data.get("personal_identity_code")
        return normalise_personal_identity_code(code) or None if code else None

    def validate_unique(self):
        exclude = self._get_validation_exclusions() | {"personal_identity_code"}
        try:
            self.instance.validate_unique(exclude=exclude)
        except ValidationError as exc:
            self._update_errors(exc)
        code = self.cleaned_data.get("personal_identity_code")
        if code and "personal_identity_code" not in self.errors:
            try:
                case_services.client_identity_code_check(
                    actor=self.actor, code=code, client=self.instance
                )
            except LoggedRefusal as refusal:
                # The admin's page is shown again with the error and its transaction
                # commits, so the trace is kept.
                record_refusal(user=self.actor, action=self.action, refusal=refusal)
                self.add_error("personal_identity_code", refusal.detail)


@admin.register(Client)
class ClientAdmin(AccessLoggedAdmin):
    form = ClientForm
    list_display = ["__str__", "date_of_birth", "language_in_words", "postal_code", "is_ppt"]
    list_filter = ["is_ppt", "housing_situation", "interpreter_needed"]
    search_fields = ["last_name", "first_name", "personal_identity_code"]
    readonly_fields = ["created_at", "updated_at"]

    def get_queryset(self, request):
        return clients_visible_to(request.user)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        action = "admin_change" if obj is not None else "admin_create"
        return type(form.__name__, (form,), {"actor": request.user, "action": action})

    def subject_of(self, obj):
        return obj.pk, None

    @admin.display(description=_("language"), ordering="language")
    def language_in_words(self, obj) -> str:
        """The language named in the admin's language, not as its ISO code."""
        return language_name(obj.language)

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
        fields = {name: form.cleaned_data[name] for name in case_services.CLIENT_FIELDS}
        if change:
            perform_and_log(
                criteria_services.client_update,
                user=request.user,
                action="admin_change",
                subjects=[(obj.pk, None)],
                client=obj,
                **fields,
            )
        else:
            obj.pk = perform_and_log(
                case_services.client_create,
                user=request.user,
                action="admin_create",
                subjects_of=lambda client: [(client.pk, None)],
                **fields,
            ).pk


# Cases ------------------------------------------------------------------------------------


class CloseForm(ActionForm):
    reason = forms.ChoiceField(label=_("closure reason"), choices=ClosureReason.choices)
    text = forms.CharField(label=_("closure explanation"), widget=forms.Textarea, required=False)
    decision = forms.CharField(
        label=_("supervisor's decision (at the 5-year cap)"),
        widget=forms.Textarea,
        required=False,
    )


class ClientIdWidget(ForeignKeyRawIdWidget):
    """The client picked by id, without Django's label beside it: that label looks the id
    up outside the user's scope and shows the name with no access-log row. The lookup
    list (an access-logged changelist) and, once saved, the case show the name."""

    def label_and_url_for_value(self, value):
        return "", ""


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
class CaseAdmin(SafeAutocomplete, AccessLoggedAdmin):
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
            run=lambda user, case: case_services.case_mark_due(case=case, actor=user),
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

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "client":
            # Only a client the user may see: any other id is "not a valid choice".
            kwargs["queryset"] = clients_visible_to(request.user)
            kwargs["widget"] = ClientIdWidget(db_field.remote_field, self.admin_site)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

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
            perform_and_log(
                case_services.case_set_coordinator,
                user=request.user,
                action="admin_change",
                subjects=[self.subject_of(obj)],
                case=obj,
                coordinator=form.cleaned_data["ppt_coordinator"],
            )
        else:
            obj.pk = perform_and_log(
                criteria_services.case_open,
                user=request.user,
                action="admin_create",
                subjects_of=lambda case: [self.subject_of(case)],
                **form.cleaned_data,
            ).pk


@admin.register(Event)
class EventAdmin(LargeLogAdmin, AccessLoggedAdmin, ReadOnlyAdmin):
    """The event log, newest first by its key: the log keeps few indexes (each is paid by
    every write, cases/models.py), none on the time or the actor, so the list is read in
    id order, filtered by subject, and searched for a client through the case."""

    # The codes in words, as the case's timeline shows them.
    list_display = ["created_at", "subject", "action_name", "case", "moved", "who", "role_name"]
    list_filter = ["subject"]
    ordering = ["-id"]
    search_fields = ["=client__id"]  # turns the search box on; LargeLogAdmin searches
    search_help_text = _("A client's number or surname, written in full.")
    search_by_actor = False

    @admin.display(description=_("action"))
    def action_name(self, obj):
        return labels.event_label(obj)

    @admin.display(description=_("state"))
    def moved(self, obj):
        if not (obj.from_state or obj.to_state):
            return ""
        return " → ".join(
            labels.event_state(obj, state) for state in (obj.from_state, obj.to_state) if state
        )

    @admin.display(description=_("actor"))
    def who(self, obj):
        return labels.event_actor(obj)

    @admin.display(description=_("actor's role"))
    def role_name(self, obj):
        return role_label(obj.actor_role)

    def rows_of_clients(self, clients) -> Q:
        # By the case's index, and the partial index on the events of clients without one.
        return Q(case__client_id__in=clients) | Q(case__isnull=True, client_id__in=clients)

    def get_queryset(self, request):
        events = super().get_queryset(request).select_related("case", "actor")
        if request.user.is_superuser:
            return events
        return events.filter(case__in=cases_visible_to(request.user))

    def subject_of(self, obj):
        return obj.client_id, obj.case_id

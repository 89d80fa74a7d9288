"""The web app's forms: they shape input for the services, which validate the rules and
name the field in their errors (shown beside it, in the user's language)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from cases.enums import (
    ClosureReason,
    ContactRequestCloseReason,
    HouseholdRelation,
    Role,
    TeamKind,
)
from cases.models import Case, Client, Team
from cases.roles import SENDING_ROLES
from cases.services import CLIENT_FIELDS
from cases.validators import validate_language_code
from core import untrusted
from core.errors import InvalidInput
from core.languages import every_language_choice
from criteria.models import AssessmentStatus
from notifications.models import EmailDelivery
from transfers.enums import BookingStatus, ConsentBasis, ReturnReason

User = get_user_model()

# Helsinki Design System classes by widget kind.
_INPUT_CLASS = {
    "radioselect": "hds-radio-button__input",
    "checkboxinput": "hds-checkbox__input",
    "checkboxselectmultiple": "hds-checkbox__input",
    "select": "hds-text-input__input",
    "textarea": "hds-text-input__input",
}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _choose_first(choices) -> list:
    """A select's choices with an empty first one: nothing is chosen for the user."""
    return [("", _("Choose")), *choices]


class WorkerChoiceField(forms.ModelChoiceField):
    """A worker by name; the empty choice comes first, so no worker is preselected."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("empty_label", _("Choose"))
        super().__init__(*args, **kwargs)

    def label_from_instance(self, user):
        return user.get_full_name() or user.get_username()


NUL_REMOVED = _(
    "The text had a character that Silta cannot store (the NUL character, U+0000). It "
    "has been removed: check the text and send the form again."
)


def _lists(data) -> Iterable[tuple[str, list]]:
    """(key, values) of a form's data: a QueryDict, or a plain dict as tests pass it."""
    if hasattr(data, "lists"):
        return data.lists()
    return ((key, value if isinstance(value, list) else [value]) for key, value in data.items())


def _has_nul(value: Any) -> bool:
    return isinstance(value, str) and "\x00" in value


class SiltaForm(forms.Form):
    """HDS classes on every widget; after validation, each field in error carries
    aria-invalid and points at its message (WCAG 3.3.1)."""

    template_name = "web/form.html"

    def __init__(self, *args, target: str | None = None, **kwargs):
        """`target`: the id of the <form> element the fields belong to, when they are shown
        inside another form (HTML's form attribute: forms may not nest)."""
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.target = target
        # A NUL reaches a form only on a page that lets web.middleware.RefuseNul pass it
        # (names_nul_beside_the_field): it is taken out of what was typed, and the field
        # that carried it is in error, so the page shows the rest kept and writes nothing.
        self.nul_fields: list[str] = []
        if self.is_bound:
            self.data, self.nul_fields = self._without_nul(self.data)
        for field in self.fields.values():
            kind = type(field.widget).__name__.lower()
            field.widget.attrs.setdefault("class", _INPUT_CLASS.get(kind, "hds-text-input__input"))
            if target:
                field.widget.attrs["form"] = target

    def _without_nul(self, data) -> tuple[Any, list[str]]:
        """`data` with every NUL taken out of its values (a key carrying one is no field's
        name: dropped), and the fields whose value carried one (NON_FIELD_ERRORS for a NUL
        in any other key or value)."""
        keys = {key for key, values in _lists(data) if any(map(_has_nul, [key, *values]))}
        if not keys:
            return data, []
        found = [name for name in self.fields if keys & self._keys_of(name)]
        if keys - {key for name in found for key in self._keys_of(name)}:
            found.append(NON_FIELD_ERRORS)  # a NUL elsewhere: the form is not sent either
        clean = QueryDict(mutable=True)
        for key, values in _lists(data):
            if not _has_nul(key):
                clean.setlist(key, [untrusted.without_nul(value) for value in values])
        return clean, found

    def _keys_of(self, name: str) -> set[str]:
        """The keys a field's value is posted under (a split widget posts several)."""
        html_name = self.add_prefix(name)
        widget = self.fields[name].widget
        if isinstance(widget, forms.MultiWidget):
            return {html_name, *(html_name + suffix for suffix in widget.widgets_names)}
        return {html_name}

    def full_clean(self):
        super().full_clean()
        if self.is_bound:
            for name in self.nul_fields:
                if name == NON_FIELD_ERRORS:
                    self.add_error(None, NUL_REMOVED)
                else:
                    self._errors.pop(name, None)  # the NUL is the reason to name
                    self.add_error(name, NUL_REMOVED)
        for name in self.errors:
            if name in self.fields:
                self._mark_invalid(name)

    def _mark_invalid(self, name: str) -> None:
        attrs = self.fields[name].widget.attrs
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = f"{self[name].auto_id}_error"

    def add_service_errors(self, error: InvalidInput) -> None:
        """A service's field errors beside the field they name (or above the form)."""
        for name, message in error.errors.items():
            self.add_error(name if name in self.fields else None, message)
            if name in self.fields:
                self._mark_invalid(name)


class AssessmentForm(SiltaForm):
    """One criterion of the review's checklist; the page shows every criterion's form in one
    form with one Save. A criterion left without an answer stays not assessed."""

    status = forms.ChoiceField(
        label=_("Assessment"),
        choices=[
            (AssessmentStatus.MET, _("Met")),
            (AssessmentStatus.NOT_MET, _("Not met")),
            (AssessmentStatus.NOT_APPLICABLE, _("Not applicable")),
        ],
        widget=forms.RadioSelect,
        required=False,
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    plan_action = forms.CharField(
        label=_("Plan: what is done about it"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed when the criterion is not met; closed when it is met."),
    )
    plan_owner = forms.CharField(label=_("Who does it"), required=False, max_length=200)
    plan_owner_user = WorkerChoiceField(
        label=_("Plan's owner"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("The responsible worker"),
        help_text=_("The worker who follows the plan up and is reminded of its date."),
    )
    plan_target_on = forms.DateField(label=_("By when"), required=False, widget=DateInput())
    multi_problem = forms.BooleanField(
        label=_("Multiple problems (e.g. cannot read or write): the transfer is escorted"),
        required=False,
    )

    def __init__(self, *args, criterion, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan_owner_user"].queryset = (
            User.objects.filter(
                is_active=True, memberships__team=team, memberships__role__in=SENDING_ROLES
            )
            .distinct()
            .order_by("last_name", "first_name")
            if team is not None
            else User.objects.none()
        )
        if not criterion.has_multi_problem_marker:
            del self.fields["multi_problem"]
        if not criterion.requires_children:
            # Only a criterion about children can fail to apply (DOMAIN.md).
            status = self.fields["status"]
            status.choices = [c for c in status.choices if c[0] != AssessmentStatus.NOT_APPLICABLE]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("status") and "status" not in self.errors:
            if self.initial.get("status"):
                cleaned["status"] = self.initial["status"]  # no answer sent: kept as it was
            elif self._changed_besides_status():
                if len(self.fields["status"].choices) > 2:
                    self.add_error("status", _("Choose met, not met or not applicable."))
                else:
                    self.add_error("status", _("Choose met or not met."))
        return cleaned

    def _changed_besides_status(self) -> set[str]:
        return set(self.changed_data) - {"status"}

    @property
    def answered(self) -> bool:
        """Whether there is something to save: an answer that differs from what is stored."""
        status = self.cleaned_data.get("status")
        if not status:
            return False
        return status != self.initial.get("status") or bool(self._changed_besides_status())


class ExceptionForm(SiltaForm):
    justification = forms.CharField(
        label=_("Justification for the exception"), widget=forms.Textarea(attrs={"rows": 2})
    )


class ExceptionRequestForm(SiltaForm):
    """The caseworker asks a supervisor for an exception to an "as a rule" criterion."""

    justification = forms.CharField(
        label=_("Why an exception is justified"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Write the justification for the exception.")},
    )


class NotReadyForm(SiltaForm):
    next_review_on = forms.DateField(label=_("Next review"), widget=DateInput())


class ExtensionRequestForm(SiltaForm):
    """Ask a supervisor to approve a next review past the city's threshold."""

    next_review_on = forms.DateField(label=_("Next review"), widget=DateInput())
    reason = forms.CharField(
        label=_("Why the integration period is extended"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Write why the integration period is extended.")},
    )


class ExtensionDecisionForm(SiltaForm):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve the extension")), ("refuse", _("Refuse the extension"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose to approve or to refuse.")},
    )
    reason = forms.CharField(
        label=_("Reason for the decision"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Write the reason for the decision.")},
    )


class BringForwardForm(SiltaForm):
    review_on = forms.DateField(
        label=_("New review date"),
        widget=DateInput(),
        help_text=_("Today's date makes the review due at once."),
        error_messages={"required": _("Give the date of the review.")},
    )
    reason = forms.CharField(
        label=_("Why the review is brought forward"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Write why the review is brought forward.")},
    )


class CapDecisionForm(SiltaForm):
    """At the 5-year cap a supervisor decides, in writing; before it there is no such field."""

    decision = forms.CharField(
        label=_("Supervisor's decision at the 5-year cap"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, at_cap: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not at_cap:
            del self.fields["decision"]


def _summary_fields() -> dict[str, forms.Field]:
    """The handover summary's fields: the sender writes them when proposing and edits
    them on the transfer page (each edit a new version)."""

    def text(label, help_text=""):
        return forms.CharField(
            label=label,
            required=False,
            help_text=help_text,
            widget=forms.Textarea(attrs={"rows": 2}),
        )

    return {
        "note_to_team": text(
            _("Note to the receiving team"),
            _("The receiving team sees this before it accepts; the rest after."),
        ),
        "settled": text(_("What is settled")),
        "open_items": text(
            _("What is still open"), _("The plans in progress: what, who, by when.")
        ),
        "risks": text(_("Risks")),
        "escorted_why": text(_("Escorted or not, and why")),
        "coordinator_contact": text(
            _("PPT coordinator and how to reach them"), _("Only for a PPT client.")
        ),
    }


class SummaryForm(SiltaForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in _summary_fields().items():
            self.fields[name] = field
            field.widget.attrs.setdefault("class", _INPUT_CLASS["textarea"])


class ProposeForm(CapDecisionForm):
    field_order = [
        "receiving_team",
        "override_reason",
        "sender_availability",
        "consent_basis",
        "consent_note",
        "note_to_team",
        "settled",
        "open_items",
        "risks",
        "escorted_why",
        "coordinator_contact",
        "decision",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in _summary_fields().items():
            field.widget.attrs.setdefault("class", _INPUT_CLASS["textarea"])
            self.fields[name] = field
        self.order_fields(self.field_order)

    receiving_team = forms.ModelChoiceField(
        label=_("Receiving team"),
        queryset=Team.objects.filter(
            kind__in=[TeamKind.ADULT, TeamKind.YOUTH], is_active=True
        ).order_by("name"),
        required=False,
        empty_label=_("The routed team"),
    )
    override_reason = forms.CharField(
        label=_("Reason for choosing another team"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed when you choose a team other than the routed one."),
    )
    sender_availability = forms.CharField(
        label=_("When can you attend the handover?"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "For an escorted transfer: you take part in the handover. The front desk sees "
            "this when it books the time."
        ),
    )
    # Not required here: the service names the missing choice beside the field.
    consent_basis = forms.ChoiceField(
        label=_("Consent or legal basis"),
        choices=ConsentBasis.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    consent_note = forms.CharField(
        label=_("Legal basis"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed when the legal basis is another one: name it."),
    )


class AcceptForm(SiltaForm):
    receiving_worker = WorkerChoiceField(
        label=_("Receiving worker"),
        queryset=User.objects.none(),
        error_messages={"required": _("Choose the receiving worker.")},
    )

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["receiving_worker"].queryset = User.objects.filter(
            is_active=True, memberships__team=team, memberships__role=Role.RECEIVING_WORKER
        ).order_by("last_name", "first_name")


class ReturnForm(SiltaForm):
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=_choose_first(ReturnReason.choices),
        error_messages={"required": _("Choose one of the return reasons.")},
    )
    text = forms.CharField(label=_("Explanation"), widget=forms.Textarea(attrs={"rows": 2}))


class AskForm(SiltaForm):
    text = forms.CharField(
        label=_("Question to the sender"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The transfer waits for the answer; the waiting days are not counted."),
    )


class AnswerForm(SiltaForm):
    text = forms.CharField(
        label=_("Answer to the receiving team"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ConfirmBookingForm(SiltaForm):
    starts_at = forms.DateTimeField(
        label=_("Time"),
        widget=DateTimeInput(),
        help_text=_("A working day within the team's meeting hours, at most %(days)s days ahead."),
    )
    place = forms.CharField(label=_("Place"), max_length=200)
    interpreter = forms.CharField(
        label=_("Interpreter"),
        required=False,
        max_length=200,
        help_text=_("The interpreter booked (name or booking number), if one is needed."),
    )
    outside_hours_reason = forms.CharField(
        label=_("Reason for a time outside the meeting hours"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed only when the time is not on a working day within the meeting hours."),
    )

    def __init__(self, *args, horizon_days: int, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["starts_at"]
        field.help_text = field.help_text % {"days": horizon_days}


class RebookForm(SiltaForm):
    outcome = forms.ChoiceField(
        label=_("What happened"),
        choices=[
            (BookingStatus.NO_SHOW, BookingStatus.NO_SHOW.label),
            (BookingStatus.CANCELLED, BookingStatus.CANCELLED.label),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Note"), required=False)


class ReassignForm(SiltaForm):
    from_worker = WorkerChoiceField(label=_("Leaving worker"), queryset=User.objects.none())
    to_worker = WorkerChoiceField(label=_("New responsible worker"), queryset=User.objects.none())

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        workers = User.objects.filter(
            memberships__team=team, memberships__role=Role.CASEWORKER
        ).order_by("last_name", "first_name")
        self.fields["from_worker"].queryset = workers
        self.fields["to_worker"].queryset = workers.filter(is_active=True)


class CoordinatorForm(SiltaForm):
    coordinator = forms.CharField(
        label=_("PPT coordinator"),
        max_length=200,
        required=False,
        help_text=_("The party that coordinates the services of a client with high service needs."),
    )


class CloseForm(CapDecisionForm):
    field_order = ["reason", "text", "decision"]
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=_choose_first(ClosureReason.choices),
        error_messages={"required": _("Choose one of the closure reasons.")},
    )
    text = forms.CharField(
        label=_("Explanation"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed when the reason is “other”."),
    )


class CancelForm(SiltaForm):
    reason = forms.CharField(
        label=_("Reason for cancelling"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the reason for cancelling the transfer.")},
    )


class NotificationPreferenceForm(SiltaForm):
    """A user's own choice: the language of their notices and how e-mail reaches them."""

    language = forms.ChoiceField(
        label=_("Language of notices"),
        choices=[("fi", "Suomi"), ("sv", "Svenska"), ("en", "English")],
        widget=forms.RadioSelect,
    )
    email_choice = forms.ChoiceField(
        label=_("E-mail"),
        choices=EmailDelivery.choices,
        widget=forms.RadioSelect,
        help_text=_("Every notice is always in your notifications here."),
    )


class ExceptionDecisionForm(SiltaForm):
    """A supervisor's decision on a requested exception: approve (the request's
    justification stands unless another is written) or refuse with the reason."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve the exception")), ("refuse", _("Refuse the exception"))],
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label=_("Justification or reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Refusing needs the reason; approving keeps the caseworker's justification."),
    )

    def add_service_errors(self, error: InvalidInput) -> None:
        """The services name the text "justification" or "reason": it is this form's text."""
        renamed = {
            ("text" if name in ("justification", "reason") else name): message
            for name, message in error.errors.items()
        }
        super().add_service_errors(InvalidInput(renamed))


# Clients, cases and households ------------------------------------------------------------


def language_select(*, keep: str | None = None) -> forms.Select:
    """The select for a client's language: every language by its name in the page's
    language, stored as its ISO 639-3 code (`keep`: a stored code to keep offering)."""
    return forms.Select(choices=_choose_first(every_language_choice(keep=keep)))


class ClientForm(SiltaForm):
    """A client's facts, each field as the model defines it (label, choices, and the
    validators: a date of birth not in the future nor before 1900, a valid identity code),
    so the form refuses what the service would, beside the field."""

    def __init__(self, *args, **kwargs):
        self.base_fields = forms.fields_for_model(
            Client,
            fields=CLIENT_FIELDS,
            widgets={"date_of_birth": DateInput(), "sponsor_in_finland_since": DateInput()},
        )
        # The model's own validators (the ranges of dates, the identity code, the postal
        # code, the language) run here too, so each error is beside its field at once.
        for name, field in self.base_fields.items():
            field.validators = [
                *field.validators,
                *(
                    v
                    for v in Client._meta.get_field(name).validators
                    if not hasattr(v, "limit_value") and v not in field.validators
                ),
            ]
        # Typed with spaces or in lower case it is still one code: the service normalises.
        code = self.base_fields["personal_identity_code"]
        code.max_length = 20
        code.validators = [v for v in code.validators if not hasattr(v, "limit_value")]
        code.widget.attrs["maxlength"] = "20"
        code.help_text = _("Optional. E.g. 010594Y123W.")
        # The language by its name in the page's language, stored as its ISO 639-3 code.
        kept = (kwargs.get("initial") or {}).get("language") or None
        language = self.base_fields["language"]
        language.widget = language_select(keep=kept)
        language.help_text = _("The language the client speaks best.")
        super().__init__(*args, **kwargs)


class HouseholdRelationField(forms.ChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Relation in the household"))
        super().__init__(choices=[("", "---------"), *HouseholdRelation.choices], **kwargs)


class ClientRegisterForm(ClientForm):
    """Registering a client; as a member of another client's household, with the relation."""

    def __init__(
        self, *args, household_of: Client | None = None, anchor_in_household=True, **kwargs
    ):
        super().__init__(*args, **kwargs)
        if household_of is not None:
            self.fields["relation"] = HouseholdRelationField()
            if not anchor_in_household:
                self.fields["client_relation"] = HouseholdRelationField(
                    label=_("Relation in the household of %(name)s")
                    % {"name": f"{household_of.first_name} {household_of.last_name}"}
                )


class CaseOpenForm(SiltaForm):
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none())
    responsible_worker = WorkerChoiceField(
        label=_("Responsible worker"), queryset=User.objects.none()
    )
    integration_started_on = forms.DateField(
        label=_("Integration period started"),
        widget=DateInput(),
        validators=Case._meta.get_field("integration_started_on").validators,
    )
    ppt_coordinator = forms.CharField(
        label=_("PPT coordinator"),
        max_length=200,
        required=False,
        help_text=_("Needed before a PPT client's transfer; may be named later."),
    )

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        team_field = self.fields["team"]
        team_field.queryset = Team.objects.filter(pk__in=[t.pk for t in teams]).order_by("name")
        if len(teams) == 1:
            team_field.empty_label = None
        self.fields["responsible_worker"].queryset = (
            User.objects.filter(
                is_active=True,
                memberships__team__in=[t.pk for t in teams],
                memberships__role=Role.CASEWORKER,
            )
            .distinct()
            .order_by("last_name", "first_name")
        )


class HouseholdLinkForm(SiltaForm):
    member = forms.CharField(
        label=_("Household member"),
        max_length=40,
        help_text=_("The member's case reference (SILTA-000123) or personal identity code."),
    )
    relation = HouseholdRelationField()
    client_relation = HouseholdRelationField(label=_("This client's relation in the household"))

    def __init__(self, *args, has_household: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if has_household:
            del self.fields["client_relation"]


# Contact requests (the public form and the intake queue) ----------------------------------


class ContactRequestForm(SiltaForm):
    """The public form: an organisation or an advice point asks the Immigration Unit to
    contact a client, with the client's consent. Lengths and the date as the model has
    them; the consent and a way to reach the sender are the service's to insist on."""

    organisation = forms.CharField(label=_("Organisation or advice point"), max_length=200)
    sender_name = forms.CharField(label=_("Your name"), max_length=200)
    sender_phone = forms.CharField(label=_("Your phone number"), max_length=40, required=False)
    sender_email = forms.EmailField(label=_("Your e-mail address"), max_length=254, required=False)
    client_name = forms.CharField(label=_("Client's name"), max_length=200)
    client_date_of_birth = forms.DateField(
        label=_("Client's date of birth"), required=False, widget=DateInput()
    )
    client_phone = forms.CharField(label=_("Client's phone number"), max_length=40, required=False)
    # The same select as a client's language (ClientForm), stored as its ISO 639-3 code.
    client_language = forms.CharField(
        label=_("Language the client speaks"),
        max_length=100,
        required=False,
        validators=[validate_language_code],
    )
    message = forms.CharField(
        label=_("What the contact is about"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Write only what the Immigration Unit needs to contact the client."),
    )
    consent = forms.BooleanField(
        label=_("The client has agreed that this request and its details are sent."),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per request: the names are in the page's language.
        self.fields["client_language"].widget = language_select()
        self.fields["client_language"].widget.attrs["class"] = "hds-text-input__input"


class ContactRouteForm(SiltaForm):
    worker = WorkerChoiceField(label=_("Worker"), queryset=User.objects.none())

    def __init__(self, *args, workers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if workers is not None:
            self.fields["worker"].queryset = workers


class ContactLinkForm(SiltaForm):
    client = forms.CharField(
        label=_("Client"),
        max_length=40,
        help_text=_("The client's case reference (SILTA-000123) or personal identity code."),
    )


class ContactCloseForm(SiltaForm):
    reason = forms.ChoiceField(label=_("Reason"), choices=[])
    text = forms.CharField(
        label=_("Explanation"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = _choose_first(ContactRequestCloseReason.choices)


class SmsConsentForm(SiltaForm):
    """The client's number and consent to text messages (the handover notice and its
    reminder), recorded through cases.services.client_set_sms_consent."""

    phone_number = forms.CharField(
        label=_("Phone number for text messages"),
        max_length=40,
        required=False,
        help_text=_("E.g. 040 123 4567 or +358 40 123 4567."),
    )
    sms_consent = forms.BooleanField(
        label=_("The client consents to text messages about the handover meeting."),
        required=False,
    )

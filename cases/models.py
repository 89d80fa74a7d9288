"""Organisation (regions, teams, memberships, booking hours), the postal routing table,
clients, cases and the event log: the first step of the flow and what every later app
builds on.

States are changed only by the services (`cases.services` for a case's own transitions;
`criteria` and `transfers` call those): the FSM fields are protected, so code that assigns
a state directly fails loudly.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Now
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.fi import hetu as stdnum_hetu

from audit.models import AppendOnlyModel
from core import clock
from core.languages import language_name

from . import rules
from .enums import (
    CaseState,
    ClosureReason,
    ContactRequestCloseReason,
    ContactRequestState,
    EventSubject,
    HouseholdRelation,
    HousingSituation,
    Role,
    TeamKind,
)
from .validators import (
    birth_date_of,
    postal_code_validator,
    validate_birth_date,
    validate_integration_start,
    validate_language_code,
    validate_personal_identity_code,
    validate_phone_number,
    validate_sponsor_arrival,
)


class Region(models.Model):
    code = models.SlugField(_("code"), max_length=20, unique=True)
    name_fi = models.CharField(_("name (Finnish)"), max_length=100)
    name_sv = models.CharField(_("name (Swedish)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_fi


class Team(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=TeamKind.choices)
    # For an Immigration Unit team, the region it is paired with (Koto 2 - Pohjoinen);
    # for a regional team, its region. Data, editable in the admin.
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="teams",
        null=True,
        blank=True,
        verbose_name=_("region"),
    )
    max_client_age = models.PositiveSmallIntegerField(
        _("clients under this age"),
        null=True,
        blank=True,
        help_text=_(
            "Youth teams only: a client younger than this on the day of the proposal "
            "is routed to the youth team (30 in Helsinki)."
        ),
    )
    front_desk_location = models.CharField(_("front desk address"), max_length=200, blank=True)
    booking_webhook_url = models.URLField(
        _("external booking system URL"),
        max_length=500,
        blank=True,
        help_text=_(
            "Empty: booking requests go to the front desk's queue in Silta. Set: they "
            "are sent to this address as signed JSON."
        ),
    )
    # A front desk may serve several teams (Malmi's serves the North's teams): one queue,
    # one set of booking hours, one address and booking system, those of the team named
    # here. Empty: the team has its own front desk. One level only (cases.models.Team.desk).
    front_desk_team = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="served_teams",
        null=True,
        blank=True,
        verbose_name=_("front desk"),
        help_text=_(
            "Another team whose front desk books this team's handovers (its queue, booking "
            "hours, address and booking system). Empty: the team's own front desk."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["kind", "name"]
        # A region may have several teams of a kind (two adult teams in the North, youth
        # teams in Kontula and Vuosaari): the routing table names a postal code's team.
        constraints = [
            models.CheckConstraint(
                condition=~Q(front_desk_team=models.F("pk")),
                name="team_front_desk_not_itself",
            ),
            models.CheckConstraint(
                condition=Q(kind="youth", max_client_age__isnull=False)
                | (~Q(kind="youth") & Q(max_client_age__isnull=True)),
                name="youth_team_has_age_limit",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_immigration_unit(self) -> bool:
        return self.kind == TeamKind.IMMIGRATION_UNIT

    @property
    def desk(self) -> Team:
        """The team whose front desk books this team's handovers: its queue, booking hours,
        address and booking system."""
        return self.front_desk_team if self.front_desk_team_id else self  # type: ignore[return-value]

    def clean(self) -> None:
        desk = self.front_desk_team
        if desk is None:
            return
        if desk.pk == self.pk:
            raise ValidationError({"front_desk_team": _("A team's own desk is the default.")})
        if desk.is_immigration_unit or self.is_immigration_unit:
            raise ValidationError({"front_desk_team": _("Only regional teams share a front desk.")})
        if desk.front_desk_team_id:
            raise ValidationError(
                {"front_desk_team": _("Choose the team that keeps the front desk itself.")}
            )
        if self.pk and self.served_teams.exists():
            raise ValidationError({"front_desk_team": _("Other teams use this team's front desk.")})


class WeeklyHours(models.Model):
    """Hours by weekday (Monday to Friday, Helsinki time): a team's booking or meeting hours."""

    weekday = models.PositiveSmallIntegerField(
        _("weekday"),
        choices=[
            (0, _("Monday")),
            (1, _("Tuesday")),
            (2, _("Wednesday")),
            (3, _("Thursday")),
            (4, _("Friday")),
        ],
    )

    class Meta:
        abstract = True
        ordering = ["team", "weekday", "opens_at"]

    def __str__(self) -> str:
        hours = f"{self.opens_at:%H:%M}-{self.closes_at:%H:%M}"  # type: ignore[attr-defined]
        return f"{self.team}: {self.get_weekday_display()} {hours}"  # type: ignore[attr-defined]


class BookingHours(WeeklyHours):
    """The front desk's client booking hours, by weekday (Helsinki time)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="booking_hours")
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))

    class Meta(WeeklyHours.Meta):
        verbose_name = _("booking hours")
        verbose_name_plural = _("booking hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(opens_at__lt=models.F("closes_at")),
                name="booking_hours_open_before_close",
            )
        ]


class MeetingHours(WeeklyHours):
    """When the team holds handover meetings, by weekday (Helsinki time): beside the front
    desk's booking hours (when it answers requests). A handover booked outside them, or on
    a day that is not a Finnish working day, needs the front desk's written reason.

    A team without meeting hours has only the working-day rule."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="meeting_hours")
    opens_at = models.TimeField(_("from"))
    closes_at = models.TimeField(_("until"))

    class Meta(WeeklyHours.Meta):
        verbose_name = _("meeting hours")
        verbose_name_plural = _("meeting hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(opens_at__lt=models.F("closes_at")),
                name="meeting_hours_start_before_end",
            )
        ]


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "team", "role"], name="unique_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.team} ({self.get_role_display()})"


class DirectoryGroupMapping(models.Model):
    """What a group in the city's directory gives its members in Silta: a role in a team,
    or admin permissions (a Django group, with staff status). Data an administrator keeps;
    every sign-in through the city's identity service makes the user's memberships follow
    their groups (cases.directory). A team and role that no mapping names is left alone:
    an administrator may still add such memberships by hand."""

    directory_group = models.CharField(
        _("directory group"),
        max_length=200,
        help_text=_(
            "The group as the identity service sends it in the groups claim (a name, or an "
            "object id in Azure AD); letter case does not matter."
        ),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        related_name="directory_groups",
        null=True,
        blank=True,
        verbose_name=_("team"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)
    admin_group = models.ForeignKey(
        "auth.Group",
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("admin permissions"),
        help_text=_(
            "Instead of a team: the members may use the admin with this group's permissions."
        ),
    )

    class Meta:
        verbose_name = _("directory group mapping")
        verbose_name_plural = _("directory group mappings")
        ordering = ["directory_group", "team", "role"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(team__isnull=False, admin_group__isnull=True) & ~Q(role="")
                    | Q(team__isnull=True, role="", admin_group__isnull=False)
                ),
                name="directory_group_gives_a_membership_or_admin",
                violation_error_message=_(
                    "Choose a team and a role, or admin permissions, not both."
                ),
            ),
            models.CheckConstraint(
                condition=Q(directory_group=Lower("directory_group")) & ~Q(directory_group=""),
                name="directory_group_lower_case",
            ),
            models.UniqueConstraint(
                fields=["directory_group", "team", "role"],
                condition=Q(team__isnull=False),
                name="unique_directory_group_membership",
                violation_error_message=_("This group already gives this role in this team."),
            ),
            models.UniqueConstraint(
                fields=["directory_group", "admin_group"],
                condition=Q(admin_group__isnull=False),
                name="unique_directory_group_admin",
                violation_error_message=_("This group already gives these admin permissions."),
            ),
        ]

    def __str__(self) -> str:
        if self.admin_group_id:
            return f"{self.directory_group} → {self.admin_group}"
        return f"{self.directory_group} → {self.team} ({self.get_role_display()})"

    def save(self, *args, **kwargs):
        self.directory_group = self.directory_group.strip().lower()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self.directory_group = (self.directory_group or "").strip().lower()
        errors = {}
        if self.admin_group_id is None:
            if self.team_id is None:
                errors["team"] = _("Choose a team and a role, or admin permissions.")
            if not self.role:
                errors["role"] = _("Choose the role the group gives in the team.")
        elif self.team_id is not None or self.role:
            errors["admin_group"] = _("Choose a team and a role, or admin permissions, not both.")
        if errors:
            raise ValidationError(errors)


class PostalArea(models.Model):
    """The routing table: postal code to region, and to the adult and the youth team that
    receive its clients. Loaded from the city's default table; an administrator corrects
    it here, never in code. An empty team means the region's only active team of that
    kind; where the region has several, the table must name one (cases.routing)."""

    postal_code = models.CharField(
        _("postal code"), max_length=5, unique=True, validators=[postal_code_validator]
    )
    name_fi = models.CharField(_("name"), max_length=100)
    suurpiiri = models.CharField(_("major district"), max_length=50, blank=True)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="postal_areas", verbose_name=_("region")
    )
    confidence = models.CharField(_("confidence"), max_length=10, blank=True)
    adult_team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="adult_postal_areas",
        null=True,
        blank=True,
        limit_choices_to={"kind": TeamKind.ADULT},
        verbose_name=_("adult team"),
        help_text=_("Empty: the region's only active adult team."),
    )
    youth_team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="youth_postal_areas",
        null=True,
        blank=True,
        limit_choices_to={"kind": TeamKind.YOUTH},
        verbose_name=_("youth team"),
        help_text=_("Empty: the region's only active youth team."),
    )

    class Meta:
        verbose_name = _("postal area")
        verbose_name_plural = _("postal areas")
        ordering = ["postal_code"]

    def __str__(self) -> str:
        return f"{self.postal_code} {self.name_fi}"

    def clean(self) -> None:
        errors = {}
        for field, kind in (("adult_team", TeamKind.ADULT), ("youth_team", TeamKind.YOUTH)):
            team = getattr(self, field)
            if team is None:
                continue
            if team.kind != kind:
                errors[field] = _("Choose a team of this kind.")
            elif self.region_id is not None and team.region_id != self.region_id:
                errors[field] = _("Choose a team of the postal area's region.")
        if errors:
            raise ValidationError(errors)


# Letters a name search treats as their plain forms, so "Mäkinen" is found by "makinen"
# (Finnish keyboards abroad, a typing caseworker in a hurry). The same table runs in the
# database (the generated search column) and in Python (the query, `search_form`).
SEARCH_FOLD_FROM = "äöåüéèáàâêëïíìîóòôõúùûçñšžøæ"
SEARCH_FOLD_TO = "aoaueeaaaeeiiiioooouuucnszoa"
_SEARCH_FOLD = str.maketrans(SEARCH_FOLD_FROM, SEARCH_FOLD_TO)


def search_form(text: str) -> str:
    """A name as the search column holds it: lower case, the letters above folded."""
    return " ".join(text.lower().translate(_SEARCH_FOLD).split())


# A personal identity code as stored: DDMMYY, a century sign, three digits and a control
# character, upper case, nothing else.
IDENTITY_CODE_STORED_FORM = r"^[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-FHJ-NPR-Y]$"


class Client(models.Model):
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"), validators=[validate_birth_date])
    # Stored in one form (cases.validators.normalise_personal_identity_code: upper case, no
    # spaces, the century sign kept), which the database holds it to, so the uniqueness
    # below is the uniqueness of the person.
    personal_identity_code = models.CharField(
        _("personal identity code"),
        max_length=11,
        null=True,
        blank=True,
        unique=True,
        validators=[validate_personal_identity_code],
    )
    language = models.CharField(
        _("language"),
        max_length=3,
        validators=[validate_language_code],
        help_text=_("ISO 639-3 code of the language the client speaks, e.g. prs (Dari)."),
    )
    interpreter_needed = models.BooleanField(_("needs an interpreter"), default=False)
    street_address = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(
        _("postal code"), max_length=5, blank=True, validators=[postal_code_validator]
    )
    post_office = models.CharField(_("post office"), max_length=100, blank=True)
    housing_situation = models.CharField(
        _("housing situation"),
        max_length=30,
        choices=HousingSituation.choices,
        default=HousingSituation.SETTLED,
    )
    children_count = models.PositiveSmallIntegerField(_("number of children"), default=0)
    family_reunification_pending = models.BooleanField(
        _("family reunification pending"), default=False
    )
    reunited_family = models.BooleanField(_("reunited family"), default=False)
    sponsor_in_finland_since = models.DateField(
        _("sponsor has lived in Finland since"),
        null=True,
        blank=True,
        validators=[validate_sponsor_arrival],
        help_text=_(
            "For a reunited family: when the family member who brought the family "
            "(perheenkokoaja) came to Finland."
        ),
    )
    family_situation_stable = models.BooleanField(_("family situation stable"), default=False)
    # Text messages to the client (the handover notice and its reminder): only with the
    # client's consent, recorded through cases.services.client_set_sms_consent.
    phone_number = models.CharField(
        _("phone number"),
        max_length=16,
        blank=True,
        db_default="",  # rows written outside the ORM (imports, benches) have none
        validators=[validate_phone_number],
        help_text=_("Stored in the international form, e.g. +358401234567."),
    )
    sms_consent = models.BooleanField(
        _("consents to text messages"), default=False, db_default=False
    )
    sms_consent_at = models.DateTimeField(
        _("consent to text messages recorded"), null=True, blank=True
    )
    is_ppt = models.BooleanField(
        _("high service needs (PPT)"),
        default=False,
        help_text=_("Paljon palveluja tarvitseva: needs a named coordinating party."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # "first last" as `search_form` gives it, kept by `save` (every writer saves through
    # the services; a bulk insert sets it itself). On PostgreSQL a trigram index serves
    # the name search (migration 0017).
    search_name = models.CharField(
        max_length=201, blank=True, editable=False, default="", db_default=""
    )

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["last_name", "first_name", "id"]
        indexes = [models.Index(fields=["date_of_birth"], name="client_date_of_birth_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(personal_identity_code__isnull=True)
                | Q(personal_identity_code__regex=IDENTITY_CODE_STORED_FORM),
                name="client_identity_code_normalised",
                violation_error_message=_("Store the personal identity code normalised."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_name = search_form(f"{self.first_name} {self.last_name}")
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"first_name", "last_name"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "search_name"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors = {}
        code = self.personal_identity_code
        if code and self.date_of_birth and len(code) == 11:
            try:
                born = stdnum_hetu.compact(code)
                if stdnum_hetu.validate(born, allow_temporary=True) and (
                    birth_date_of(born) != self.date_of_birth
                ):
                    errors["personal_identity_code"] = _(
                        "The date in the personal identity code does not match the date of birth."
                    )
            except StdnumValidationError:
                pass  # the field validator reports it
        if self.reunited_family and self.sponsor_in_finland_since is None:
            errors["sponsor_in_finland_since"] = _(
                "For a reunited family, give the date the sponsor came to Finland."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def has_children(self) -> bool:
        return self.children_count > 0

    @property
    def language_name(self) -> str:
        """The language named in the current page's language (core.languages)."""
        return language_name(self.language)


class Household(models.Model):
    """A family whose members are clients: reviewed together and handed over together
    (one transfer per member's case, one handover meeting)."""

    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return f"{_('household')} {self.pk}"


class HouseholdMember(models.Model):
    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="members", verbose_name=_("household")
    )
    # A client belongs to one household at most.
    client = models.OneToOneField(
        Client,
        on_delete=models.PROTECT,
        related_name="household_membership",
        verbose_name=_("client"),
    )
    relation = models.CharField(_("relation"), max_length=20, choices=HouseholdRelation.choices)
    joined_at = models.DateTimeField(_("joined"), auto_now_add=True)

    class Meta:
        verbose_name = _("household member")
        verbose_name_plural = _("household members")
        ordering = ["household", "joined_at", "id"]

    def __str__(self) -> str:
        return f"{self.household_id}: {self.client_id} ({self.relation})"

    @property
    def is_child(self) -> bool:
        return self.relation == HouseholdRelation.CHILD


def case_reference(case_id: int) -> str:
    return f"SILTA-{case_id:06d}"


# The same reference as an SQL expression over an id column (the sweeps' bulk inserts).
REFERENCE_SQL = (
    "'SILTA-' || CASE WHEN {id} < 1000000 THEN lpad({id}::text, 6, '0') ELSE {id}::text END"
)


# A case the Immigration Unit still carries.
OPEN_STATES = [
    CaseState.ACTIVE,
    CaseState.REVIEW_DUE,
    CaseState.IN_REVIEW,
    CaseState.TRANSFER_PENDING,
]


class Case(ConcurrentTransitionMixin, models.Model):
    """A client relationship (asiakkuus) in the Immigration Unit."""

    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="cases", verbose_name=_("client")
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("team"),
        limit_choices_to={"kind": TeamKind.IMMIGRATION_UNIT},
    )
    responsible_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="responsible_cases",
        verbose_name=_("responsible worker"),
    )
    receiving_team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        related_name="received_cases",
        null=True,
        blank=True,
        # Indexed only where set (a partial index below): most cases are still with the
        # Immigration Unit, and the due sweep's UPDATE of every falling-due case would
        # otherwise pay an entry for a NULL it never reads.
        db_index=False,
        verbose_name=_("receiving team"),
        help_text=_("The regional team that accepted the case's transfer and carries it on."),
    )
    receiving_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="carried_cases",
        null=True,
        blank=True,
        db_index=False,
        verbose_name=_("receiving worker"),
        help_text=_("The receiving team's worker named at acceptance, who carries the case on."),
    )
    transferred_at = models.DateTimeField(
        _("transferred"),
        null=True,
        blank=True,
        help_text=_("When the handover was held and the receiving team took the case over."),
    )
    state = FSMField(
        _("state"),
        default=CaseState.ACTIVE,
        choices=CaseState.choices,
        protected=True,
        db_index=True,
    )
    integration_started_on = models.DateField(
        _("integration period started"), validators=[validate_integration_start]
    )
    review_due_on = models.DateField(_("review due"), db_index=True)
    ppt_coordinator = models.CharField(
        _("PPT coordinator"),
        max_length=200,
        blank=True,
        help_text=_("The named coordinating party; required before a PPT client's transfer."),
    )
    closure_reason = models.CharField(
        _("closure reason"), max_length=20, choices=ClosureReason.choices, blank=True
    )
    closure_text = models.TextField(_("closure explanation"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["review_due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=~Q(state__in=[CaseState.TRANSFERRED, CaseState.CLOSED]),
                name="one_open_case_per_client",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "review_due_on"], name="case_state_due_idx"),
            models.Index(
                fields=["receiving_team"],
                condition=Q(receiving_team__isnull=False),
                name="case_receiving_team_idx",
            ),
            # The supervisor's lists, each a page read in index order and counted from the
            # index alone: the open cases at the cap (oldest start first) and the overdue
            # reviews (longest overdue first, with each one's worker for the count per worker).
            models.Index(
                fields=["team", "integration_started_on", "id"],
                condition=Q(state__in=OPEN_STATES),
                name="case_open_started_idx",
            ),
            models.Index(
                fields=["team", "review_due_on", "id"],
                include=["responsible_worker"],
                condition=Q(state__in=[CaseState.REVIEW_DUE, CaseState.IN_REVIEW]),
                name="case_overdue_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        """The case reference: the only thing about a case that may leave by e-mail or chat."""
        return case_reference(self.pk) if self.pk else "SILTA-new"

    @property
    def is_transferred(self) -> bool:
        return self.state == CaseState.TRANSFERRED

    @property
    def owner_team(self) -> Team:
        """Who carries the case: the Immigration Unit team until the handover is held, the
        receiving team from then on."""
        if self.is_transferred and self.receiving_team_id:
            return self.receiving_team  # type: ignore[return-value]
        return self.team

    @property
    def owner_worker(self) -> User:
        """The responsible worker until the handover, then the receiving worker."""
        if self.is_transferred and self.receiving_worker_id:
            return self.receiving_worker  # type: ignore[return-value]
        return self.responsible_worker

    @property
    def cap_on(self) -> dt.date:
        """The end of the longest possible integration period (5 years)."""
        return rules.cap_on(self.integration_started_on)

    # Transitions change only the model; the services lock, check the actor, write the event.
    @transition(field=state, source=CaseState.ACTIVE, target=CaseState.REVIEW_DUE)
    def mark_due(self) -> None:
        pass

    @transition(field=state, source=CaseState.REVIEW_DUE, target=CaseState.IN_REVIEW)
    def start_review(self) -> None:
        pass

    @transition(field=state, source=CaseState.IN_REVIEW, target=CaseState.ACTIVE)
    def complete_not_ready(self, *, next_review_on: dt.date) -> None:
        self.review_due_on = next_review_on

    @transition(field=state, source=CaseState.IN_REVIEW, target=CaseState.TRANSFER_PENDING)
    def propose_transfer(self) -> None:
        pass

    @transition(field=state, source=CaseState.TRANSFER_PENDING, target=CaseState.IN_REVIEW)
    def reopen_review(self) -> None:
        pass

    @transition(field=state, source=CaseState.TRANSFER_PENDING, target=CaseState.TRANSFERRED)
    def complete_transfer(self, *, at: dt.datetime) -> None:
        self.transferred_at = at

    @transition(
        field=state,
        source=[
            CaseState.ACTIVE,
            CaseState.REVIEW_DUE,
            CaseState.IN_REVIEW,
            CaseState.TRANSFER_PENDING,
        ],
        target=CaseState.CLOSED,
    )
    def close(self, *, closure_reason: str, text: str, at: dt.datetime) -> None:
        self.closure_reason = closure_reason
        self.closure_text = text
        self.closed_at = at


class TeamStateCount(models.Model):
    """How many cases of a team each responsible worker has in each state, kept by the
    database itself (statement triggers on cases_case, migrations 0021 and 0023): the
    supervisor's figures (cases per state, each worker's caseload) read a few rows per
    worker, not the team's whole caseload and its history. Never written by the app; a
    team's count in a state is the sum over its workers."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", db_index=False)
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    state = models.CharField(max_length=50, choices=CaseState.choices)
    n = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["team", "worker", "state"], name="one_count_per_team_worker_state"
            )
        ]

    def __str__(self) -> str:
        return f"{self.team_id} {self.worker_id} {self.state}: {self.n}"


class Event(AppendOnlyModel):
    """Append-only: one row per transition and per decision, written in the same
    transaction as the change. PostgreSQL refuses UPDATE and DELETE (a trigger)."""

    subject = models.CharField(_("subject"), max_length=20, choices=EventSubject.choices)
    action = models.CharField(_("action"), max_length=50)
    # The due sweep writes an event per case, so every index and constraint here is paid
    # per row (bench/due_sweep.py): indexes are few and partial, and the client and case
    # references are checked by their writers, not by per-row foreign-key triggers (which
    # doubled the sweep's cost). Writers take the ids from rows they hold locked in the same
    # transaction, and clients and cases are never deleted (PROTECT; no delete anywhere).
    client = models.ForeignKey(
        Client,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
        db_constraint=False,
        # Empty only for a staff member's membership event (no client: a constraint below).
        null=True,
        blank=True,
    )
    case = models.ForeignKey(
        Case,
        on_delete=models.PROTECT,
        related_name="events",
        null=True,
        blank=True,
        db_constraint=False,
    )
    transfer = models.ForeignKey(
        "transfers.Transfer",
        on_delete=models.PROTECT,
        related_name="events",
        null=True,
        blank=True,
        db_index=False,
    )
    review = models.ForeignKey(
        "criteria.Review",
        on_delete=models.PROTECT,
        related_name="events",
        null=True,
        blank=True,
        db_index=False,
    )
    from_state = models.CharField(_("from"), max_length=30, blank=True)
    to_state = models.CharField(_("to"), max_length=30, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
        db_index=False,
        help_text=_("Empty when Silta acted by itself (the daily due sweep)."),
    )
    actor_role = models.CharField(_("actor's role"), max_length=20, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    # Set by the database's clock, never by the app: PostgreSQL refuses an INSERT that names
    # any other time (a trigger, migration 0008), so no row can be back-dated.
    created_at = models.DateTimeField(_("time"), db_default=Now())

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(client__isnull=False)
                | Q(subject__in=[EventSubject.MEMBERSHIP, EventSubject.CONTACT_REQUEST]),
                name="event_about_a_client_unless_membership",
            ),
        ]
        indexes = [
            models.Index(
                fields=["client"],
                condition=Q(case__isnull=True),
                name="event_client_without_case_idx",
            ),
            models.Index(
                fields=["transfer"], condition=Q(transfer__isnull=False), name="event_transfer_idx"
            ),
            models.Index(
                fields=["review"], condition=Q(review__isnull=False), name="event_review_idx"
            ),
        ]

    def __str__(self) -> str:
        """As the admin's heading names the entry: when (local time, as the reader's
        language writes it) and its subject."""
        return f"{clock.written(self.created_at)} {self.get_subject_display()}".strip()


def contact_request_reference(pk: int) -> str:
    return f"YP-{pk:06d}"


class ContactRequest(ConcurrentTransitionMixin, models.Model):
    """A contact request (yhteydenottopyyntö) that an organisation or an advice point sent
    for a client, with the client's consent, through the public form. It waits in the
    Immigration Unit's intake queue until a supervisor routes it to a worker, who links it
    to a client (and their open case) or closes it with a reason (cases.intake).

    Its content is client data: shown only to the Immigration Unit's supervisors and the
    worker it is routed to, every read access-logged; a notice carries its reference only."""

    organisation = models.CharField(_("organisation or advice point"), max_length=200)
    sender_name = models.CharField(_("sender's name"), max_length=200)
    sender_phone = models.CharField(_("sender's phone number"), max_length=40, blank=True)
    sender_email = models.EmailField(_("sender's e-mail address"), max_length=254, blank=True)
    client_name = models.CharField(_("client's name"), max_length=200)
    client_date_of_birth = models.DateField(
        _("client's date of birth"), null=True, blank=True, validators=[validate_birth_date]
    )
    client_phone = models.CharField(_("client's phone number"), max_length=40, blank=True)
    # An ISO 639-3 code chosen from the same select as a client's language; requests sent
    # before the select may hold a language's name as typed.
    client_language = models.CharField(_("client's language"), max_length=100, blank=True)
    message = models.TextField(_("what the contact is about"), max_length=4000)
    consent = models.BooleanField(_("the client has consented"), default=False)
    state = FSMField(
        _("state"),
        default=ContactRequestState.NEW,
        choices=ContactRequestState.choices,
        protected=True,
        db_index=True,
    )
    received_at = models.DateTimeField(_("received"))
    assigned_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="contact_requests",
        null=True,
        blank=True,
        verbose_name=_("worker"),
    )
    routed_at = models.DateTimeField(_("routed"), null=True, blank=True)
    client = models.ForeignKey(
        Client,
        on_delete=models.PROTECT,
        related_name="contact_requests",
        null=True,
        blank=True,
        verbose_name=_("client"),
    )
    case = models.ForeignKey(
        Case,
        on_delete=models.PROTECT,
        related_name="contact_requests",
        null=True,
        blank=True,
        verbose_name=_("case"),
    )
    close_reason = models.CharField(
        _("closure reason"), max_length=20, choices=ContactRequestCloseReason.choices, blank=True
    )
    close_text = models.TextField(_("closure explanation"), blank=True)
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact request")
        verbose_name_plural = _("contact requests")
        ordering = ["received_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(consent=True), name="contact_request_with_consent"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def client_language_name(self) -> str:
        """The client's language named in the page's language (as typed, for a request
        sent before the select)."""
        return language_name(self.client_language)

    @property
    def reference(self) -> str:
        """What a notice about the request shows: never the client's name."""
        return contact_request_reference(self.pk) if self.pk else "YP-new"

    @transition(
        field=state,
        source=[ContactRequestState.NEW, ContactRequestState.ROUTED],
        target=ContactRequestState.ROUTED,
    )
    def route(self, *, worker: Any, at: dt.datetime) -> None:
        self.assigned_worker = worker
        self.routed_at = at

    @transition(field=state, source=ContactRequestState.ROUTED, target=ContactRequestState.LINKED)
    def link(self, *, client: Client, case: Case | None, at: dt.datetime) -> None:
        self.client = client
        self.case = case
        self.handled_at = at

    @transition(
        field=state,
        source=[ContactRequestState.NEW, ContactRequestState.ROUTED],
        target=ContactRequestState.CLOSED,
    )
    def close(self, *, reason: str, text: str, at: dt.datetime) -> None:
        self.close_reason = reason
        self.close_text = text
        self.handled_at = at

"""Every write to clients and cases: registering and changing a client, naming the PPT
coordinator, reassigning, the due date arriving, and the case's own transitions when the
criteria or transfers services decide them (`case_move`).

Each service runs in one transaction, locks what it changes, checks the actor's role in the
right team and writes one event row per change. If anything fails, nothing is written.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _

from audit.access import LoggedRefusal
from audit.models import AccessOutcome
from core import clock
from core.errors import CapReached, Conflict, InvalidInput
from core.transitions import full_clean_or_raise, lock, require_text, run_transition
from notifications.models import NotificationKind
from notifications.services import notify

from . import rules
from .enums import CaseAction, CaseState, ClientAction, HouseholdRelation, Role, TeamKind
from .events import case_event, client_event
from .models import Case, Client, Household, HouseholdMember, Team
from .roles import SENDING_ROLES, is_member, require_immigration_unit_role, require_role
from .selectors import client_facts, clients_visible_to, open_case_of
from .validators import (
    normalise_personal_identity_code,
    normalise_phone_number,
    validate_phone_number,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

CLIENT_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "personal_identity_code",
    "language",
    "interpreter_needed",
    "street_address",
    "postal_code",
    "post_office",
    "housing_situation",
    "children_count",
    "family_reunification_pending",
    "reunited_family",
    "sponsor_in_finland_since",
    "family_situation_stable",
    "is_ppt",
)

ENDED = (CaseState.TRANSFERRED, CaseState.CLOSED)


class ClientExists(LoggedRefusal):
    """The identity code is already a client's whom the user may see: that client is
    offered (its id), and the user's learning of it is logged as a read."""

    code = "client_exists"

    def __init__(self, client: Client) -> None:
        super().__init__(
            _("A client with this personal identity code is already registered (client %(id)s).")
            % {"id": client.pk},
            subjects=[(client.pk, None)],
            outcome=AccessOutcome.ALLOWED,
            client=client.pk,
        )


class ContactSupervisor(LoggedRefusal):
    """The identity code is already a client's outside the user's scope. The answer is the
    same whoever holds the client and says nothing about them; the attempt is logged as
    denied and the supervisors of the team that holds the client are told."""

    code = "contact_supervisor"

    def __init__(self, *, actor: AbstractBaseUser, client: Client) -> None:
        case = _latest_case(client)
        super().__init__(
            _("This client cannot be registered here. Contact your supervisor."),
            subjects=[(client.pk, case.pk if case else None)],
            aftermath=lambda: _tell_holders(actor=actor, client=client, case=case),
        )


def _latest_case(client: Client) -> Case | None:
    return client.cases.order_by("-created_at", "-id").first()


def _tell_holders(*, actor: AbstractBaseUser, client: Client, case: Case | None) -> None:
    """A notice to the supervisors of the team that holds `client` (the team of its latest
    case and the regional team that received it; for a client with no case yet, the
    Immigration Unit teams of whoever registered it): the case reference and a link,
    never the client's name or identity code."""
    if case is not None:
        teams = [case.team_id, *([case.receiving_team_id] if case.receiving_team_id else [])]
        reference, link = case.reference, reverse("web:case", args=[case.pk])
    else:
        creators = client.events.filter(action=ClientAction.CREATE).values("actor_id")
        teams = list(
            Team.objects.filter(
                kind=TeamKind.IMMIGRATION_UNIT, memberships__user__in=creators
            ).values_list("pk", flat=True)
        )
        reference, link = "", reverse("web:notifications")
    supervisors = (
        get_user_model()
        .objects.filter(
            is_active=True, memberships__team__in=teams, memberships__role=Role.SUPERVISOR
        )
        .exclude(pk=actor.pk)
        .distinct()
    )
    notify(
        recipients=supervisors,
        kind=NotificationKind.IDENTITY_CODE_ATTEMPT,
        subject_key=f"identity-code:{client.pk}:{actor.pk}",
        on_date=clock.today(),
        reference=reference,
        link=link,
        case_id=case.pk if case is not None else None,
    )


def _identity_code_check(
    actor: AbstractBaseUser, code: str | None, *, client_pk: int | None = None
) -> None:
    """Refuse an identity code (normalised) that is already another client's: ClientExists
    when the user may see that client, otherwise ContactSupervisor. Either way the refusal
    carries its access-log row (and, outside the scope, the notice); see LoggedRefusal."""
    if not code:
        return
    others = Client.objects.filter(personal_identity_code=code)
    holder = (others.exclude(pk=client_pk) if client_pk is not None else others).first()
    if holder is None:
        return
    if clients_visible_to(actor).filter(pk=holder.pk).exists():
        raise ClientExists(holder)
    raise ContactSupervisor(actor=actor, client=holder)


def client_identity_code_check(
    *, actor: AbstractBaseUser, code: str | None, client: Client | None = None
) -> None:
    """The identity-code check of `client_create` and `client_update`, for a form that
    checks before it saves (the admin's): raises ClientExists or ContactSupervisor for a
    code (normalised here) that is already another client's than `client`. Writes
    nothing: the caller records the refusal (audit.access.record_refusal)."""
    _identity_code_check(
        actor,
        normalise_personal_identity_code(code) if code else None,
        client_pk=client.pk if client is not None else None,
    )


def _normalised(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields with the identity code in its one stored form (None when empty)."""
    code = fields.get("personal_identity_code")
    if "personal_identity_code" in fields:
        fields["personal_identity_code"] = (
            normalise_personal_identity_code(code) or None if isinstance(code, str) else code
        )
    return fields


def _save_client(actor: AbstractBaseUser, client: Client) -> None:
    """Validate and save; the identity code's uniqueness is checked by
    `_identity_code_check` (whose answer does not reveal a client outside the scope), and
    a registration that slipped in between is answered the same way."""
    full_clean_or_raise(client, validate_unique=False)
    try:
        with transaction.atomic():
            client.save()
    except IntegrityError:
        _identity_code_check(actor, client.personal_identity_code, client_pk=client.pk)
        raise


@transaction.atomic
def client_create(*, actor: AbstractBaseUser, **fields: Any) -> Client:
    """Create a client. Bad input raises InvalidInput naming each field; nothing is saved.

    The identity code is stored normalised. If it is already a client's, nothing is
    saved: within the user's scope that client is offered (ClientExists); outside it the
    answer is neutral (ContactSupervisor), the attempt is logged as denied and the holding
    team's supervisors are told. Those two are LoggedRefusals: run this through
    `audit.access.perform_and_log` (every surface does), which writes their trace once
    the refused work is rolled back."""
    role = require_immigration_unit_role(actor, action="client_create")
    unknown = set(fields) - set(CLIENT_FIELDS)
    if unknown:
        raise InvalidInput({name: _("Unknown field.") for name in sorted(unknown)})
    client = Client(**_normalised(fields))
    _identity_code_check(actor, client.personal_identity_code)
    _save_client(actor, client)
    client_event(
        client, ClientAction.CREATE, actor=actor, role=role, params={"fields": sorted(fields)}
    )
    return client


@transaction.atomic
def client_update(
    *,
    actor: AbstractBaseUser,
    client: Client,
    threshold_years: int | None = None,
    **fields: Any,
) -> Client:
    """Change a client's facts. The event row lists which fields changed (not their values:
    the log must not become a second copy of the client data). A new identity code is
    stored normalised and refused as in `client_create` if it is another client's.

    Given `threshold_years` (the current checklist version's, which
    `criteria.services.client_update` passes), the open case's review date follows the
    new facts: see `_review_date_follow`."""
    client = lock(Client, client.pk)
    latest = client.cases.select_related("team").order_by("-created_at").first()
    if latest is None:
        role = require_immigration_unit_role(actor, action="client_update")
    else:
        role = require_role(actor, team=latest.team, roles=SENDING_ROLES, action="client_update")
        if latest.state == CaseState.TRANSFERRED:
            # The receiving team owns the case now; the sending team only reads it.
            raise Conflict(_("The case has been transferred: the receiving team carries it now."))
    unknown = set(fields) - set(CLIENT_FIELDS)
    if unknown:
        raise InvalidInput({name: _("Unknown field.") for name in sorted(unknown)})
    fields = _normalised(fields)
    changed = sorted(name for name, value in fields.items() if getattr(client, name) != value)
    for name in changed:
        setattr(client, name, fields[name])
    if "personal_identity_code" in changed:
        _identity_code_check(actor, client.personal_identity_code, client_pk=client.pk)
    _save_client(actor, client)
    if changed:
        client_event(
            client, ClientAction.UPDATE, actor=actor, role=role, params={"fields": changed}
        )
        if threshold_years is not None:
            _review_date_follow(
                client, actor=actor, role=role, fields=changed, threshold_years=threshold_years
            )
    return client


@transaction.atomic
def client_set_sms_consent(
    *, actor: AbstractBaseUser, client: Client, phone_number: str, sms_consent: bool
) -> Client:
    """Record the client's phone number and whether they consent to text messages (the
    handover notice and its reminder). Consent needs a number; the number is stored in
    its international form. The event says what changed (the consent, and whether the
    number did), never the number itself."""
    client = lock(Client, client.pk)
    latest = client.cases.select_related("team").order_by("-created_at").first()
    if latest is None:
        role = require_immigration_unit_role(actor, action="client_sms_consent")
    else:
        role = require_role(
            actor, team=latest.team, roles=SENDING_ROLES, action="client_sms_consent"
        )
    number = normalise_phone_number(phone_number)
    if sms_consent and not number:
        raise InvalidInput({"phone_number": _("Give the number the text messages go to.")})
    try:
        validate_phone_number(number)
    except ValidationError as exc:
        raise InvalidInput({"phone_number": " ".join(exc.messages)}) from exc
    consent = bool(sms_consent)
    number_changed = number != client.phone_number
    if not number_changed and consent == client.sms_consent:
        return client
    client.phone_number = number
    if consent != client.sms_consent:
        client.sms_consent = consent
        client.sms_consent_at = clock.now() if consent else None
    client.save(update_fields=["phone_number", "sms_consent", "sms_consent_at", "updated_at"])
    client_event(
        client,
        ClientAction.SMS_CONSENT,
        actor=actor,
        role=role,
        params={"consent": consent, "number_changed": number_changed},
    )
    return client


def _review_date_follow(
    client: Client, *, actor: AbstractBaseUser, role: str, fields: list[str], threshold_years: int
) -> None:
    """The first review's date follows the client's facts (a reunited family whose
    situation stabilises is reviewed after one year, not two): recomputed by the rules
    for an active case whose date no review has set yet, never past the 5-year cap. A
    change is an event with the old and new date; a date that has already come makes the
    review due at once."""
    case = open_case_of(client)
    if case is None or case.state != CaseState.ACTIVE:
        return
    case = lock(Case, case.pk)
    if (
        case.state != CaseState.ACTIVE
        or case.events.filter(action=CaseAction.COMPLETE_NOT_READY).exists()
    ):
        return  # a review has set the next date: the worker's, not the rules'
    old = case.review_due_on
    new = min(
        rules.review_due_on(
            integration_started_on=case.integration_started_on,
            client=client_facts(client),
            threshold_years=threshold_years,
        ),
        case.cap_on,
    )
    if new == old:
        return
    case.review_due_on = new
    case.save(update_fields=["review_due_on"])
    case_event(
        case,
        CaseAction.REVIEW_DATE_CHANGED,
        actor=actor,
        role=role,
        source=case.state,
        params={"from": old.isoformat(), "to": new.isoformat(), "fields": fields},
    )
    if new <= clock.today():
        source, _target = run_transition(case, CaseAction.MARK_DUE)
        case_event(
            case,
            CaseAction.MARK_DUE,
            actor=actor,
            role=role,
            source=source,
            params={"review_due_on": new.isoformat()},
        )


# Households ---------------------------------------------------------------------------


def _require_household_role(actor: AbstractBaseUser, client: Client) -> str:
    latest = _latest_case(client)
    if latest is None:
        return require_immigration_unit_role(actor, action="household_link")
    return require_role(actor, team=latest.team, roles=SENDING_ROLES, action="household_link")


@transaction.atomic
def household_link(
    *,
    actor: AbstractBaseUser,
    client: Client,
    member: Client,
    relation: str,
    client_relation: str = HouseholdRelation.PARENT,
) -> Household:
    """Link `member` to `client`'s household with its relation (a household is created,
    `client` in it as `client_relation`, when `client` has none). Both clients must be in
    the actor's scope and their team's; a member already in another household is refused.
    One event per client who joins."""
    if client.pk == member.pk:
        raise InvalidInput({"member": _("Choose another client than this one.")})
    # Locked in id order (two workers linking the same two clients wait, not deadlock).
    first, second = sorted([client.pk, member.pk])
    locked = {pk: lock(Client, pk) for pk in (first, second)}
    client, member = locked[client.pk], locked[member.pk]
    visible = clients_visible_to(actor)
    if visible.filter(pk__in=[client.pk, member.pk]).count() != 2:
        raise InvalidInput({"member": _("No such client in your caseload.")})
    role = _require_household_role(actor, client)
    _require_household_role(actor, member)
    for value in (relation, client_relation):
        if value not in HouseholdRelation.values:
            raise InvalidInput({"relation": _("Choose the relation.")})
    if HouseholdMember.objects.filter(client=member).exists():
        raise Conflict(_("This client already belongs to a household."))
    membership = HouseholdMember.objects.filter(client=client).select_related("household")
    found = membership.first()
    if found is None:
        household = Household.objects.create()
        HouseholdMember.objects.create(household=household, client=client, relation=client_relation)
        client_event(
            client,
            ClientAction.HOUSEHOLD_JOIN,
            actor=actor,
            role=role,
            params={"household": household.pk, "relation": client_relation},
        )
    else:
        household = found.household
    HouseholdMember.objects.create(household=household, client=member, relation=relation)
    client_event(
        member,
        ClientAction.HOUSEHOLD_JOIN,
        actor=actor,
        role=role,
        params={"household": household.pk, "relation": relation},
    )
    return household


@transaction.atomic
def client_create_in_household(
    *,
    actor: AbstractBaseUser,
    household_of: Client,
    relation: str,
    client_relation: str = HouseholdRelation.PARENT,
    **fields: Any,
) -> Client:
    """Register a client as a member of `household_of`'s household: both or nothing."""
    client = client_create(actor=actor, **fields)
    household_link(
        actor=actor,
        client=household_of,
        member=client,
        relation=relation,
        client_relation=client_relation,
    )
    return client


@transaction.atomic
def household_leave(*, actor: AbstractBaseUser, client: Client) -> Client:
    """Take a client out of their household (a household left with one member ends)."""
    client = lock(Client, client.pk)
    if not clients_visible_to(actor).filter(pk=client.pk).exists():
        raise InvalidInput({"member": _("No such client in your caseload.")})
    role = _require_household_role(actor, client)
    membership = HouseholdMember.objects.filter(client=client).first()
    if membership is None:
        raise Conflict(_("This client is not in a household."))
    household_id = membership.household_id
    membership.delete()
    client_event(
        client,
        ClientAction.HOUSEHOLD_LEAVE,
        actor=actor,
        role=role,
        params={"household": household_id},
    )
    # The household row stays (its transfers may name it); one left alone leaves too.
    remaining = list(HouseholdMember.objects.filter(household_id=household_id))
    if len(remaining) == 1:
        last = remaining[0]
        last.delete()
        client_event(
            Client(pk=last.client_id),
            ClientAction.HOUSEHOLD_LEAVE,
            actor=actor,
            role=role,
            params={"household": household_id},
        )
    return client


@transaction.atomic
def case_set_coordinator(*, actor: AbstractBaseUser, case: Case, coordinator: str) -> Case:
    """Name the PPT coordinating party (the sending worker names it)."""
    case = lock(Case, case.pk)
    role = require_role(actor, team=case.team, roles=SENDING_ROLES, action="set_coordinator")
    if case.state in ENDED:
        raise Conflict(_("The case has ended; it can no longer be changed."))
    case.ppt_coordinator = coordinator.strip()
    case.save(update_fields=["ppt_coordinator"])
    case_event(
        case,
        CaseAction.SET_COORDINATOR,
        actor=actor,
        role=role,
        source=case.state,
        params={"named": bool(case.ppt_coordinator)},
    )
    return case


@transaction.atomic
def cases_reassign(
    *,
    actor: AbstractBaseUser,
    team: Team,
    from_worker: AbstractBaseUser,
    to_worker: AbstractBaseUser,
    case_ids: list[int] | None = None,
) -> list[Case]:
    """A supervisor moves a (leaving) worker's open cases to another caseworker of the same
    team: all of them, or those chosen. One event per case records who moved it where."""
    role = require_role(actor, team=team, roles=[Role.SUPERVISOR], action="reassign")
    if to_worker == from_worker:
        raise InvalidInput({"to_worker": _("Choose a worker other than the one leaving.")})
    if not is_member(to_worker, team=team, roles=[Role.CASEWORKER]):
        raise InvalidInput(
            {
                "to_worker": _("The new worker must be an active caseworker of %(team)s.")
                % {"team": team.name}
            }
        )
    cases = (
        Case.objects.select_for_update()
        .filter(team=team, responsible_worker=cast("User", from_worker))
        .exclude(state__in=ENDED)
        .order_by("pk")
    )
    if case_ids is not None:
        cases = cases.filter(pk__in=case_ids)
    moved = list(cases)
    if not moved:
        raise InvalidInput({"cases": _("Choose at least one open case of this worker.")})
    Case.objects.filter(pk__in=[case.pk for case in moved]).update(responsible_worker=to_worker)
    for case in moved:
        case.responsible_worker = cast("User", to_worker)
        event = case_event(
            case,
            CaseAction.REASSIGN,
            actor=actor,
            role=role,
            source=case.state,
            params={"from": from_worker.get_username(), "to": to_worker.get_username()},
        )
        _notice_reassigned(case, to_worker=to_worker, event_id=event.pk)
    return moved


def _notice_reassigned(case: Case, *, to_worker: AbstractBaseUser, event_id: int) -> None:
    """The new responsible worker acts next: one notice per case (reference and link)."""
    notify(
        recipients=[to_worker],
        kind=NotificationKind.CASE_REASSIGNED,
        subject_key=f"case:{case.pk}:event:{event_id}",
        on_date=clock.today(),
        reference=case.reference,
        link=reverse("web:case", args=[case.pk]),
        case_id=case.pk,
    )


@transaction.atomic
def case_mark_due(*, case: Case, actor: AbstractBaseUser | None = None) -> Case:
    """active -> review_due. Silta does this itself when the review date arrives (actor None);
    a caseworker or supervisor may bring a review forward."""
    case = lock(Case, case.pk)
    role = require_role(
        actor, team=case.team, roles=SENDING_ROLES, action="mark_due", system_allowed=True
    )
    source, _target = run_transition(case, CaseAction.MARK_DUE)
    event = case_event(
        case,
        CaseAction.MARK_DUE,
        actor=actor,
        role=role,
        source=source,
        params={"review_due_on": case.review_due_on.isoformat()},
    )
    if actor is not None:  # brought forward by a person (the sweep sends its own notice)
        notice_review_brought_forward(case, actor=actor, event_id=event.pk)
    return case


def notice_review_brought_forward(case: Case, *, actor: Any, event_id: int) -> None:
    """The responsible caseworker reviews next: told when someone else brought the review
    forward (never of their own action). Call it in the transaction of the change, with
    the id of the event that records it (the notice's once-only key)."""
    if case.responsible_worker_id == getattr(actor, "pk", None):
        return
    notify(
        recipients=[case.responsible_worker],
        kind=NotificationKind.REVIEW_BROUGHT_FORWARD,
        subject_key=f"case:{case.pk}:event:{event_id}",
        on_date=clock.today(),
        reference=case.reference,
        link=reverse("web:case", args=[case.pk]),
        case_id=case.pk,
    )


@transaction.atomic
def case_open(
    *,
    actor: AbstractBaseUser,
    client: Client,
    team: Team,
    responsible_worker: AbstractBaseUser,
    integration_started_on: dt.date,
    ppt_coordinator: str = "",
    threshold_years: int,
) -> Case:
    """Open a client relationship in an Immigration Unit team. The review date follows the
    rules: 24 months, or 12 for a reunited family whose sponsor has lived at least
    `threshold_years` in Finland and whose situation is stable. The threshold is the current
    checklist version's: open a case with `criteria.services.case_open`, which passes it."""
    if team.kind != TeamKind.IMMIGRATION_UNIT:
        raise InvalidInput({"team": _("A case is opened in an Immigration Unit team.")})
    role = require_role(actor, team=team, roles=SENDING_ROLES, action="case_open")
    if not is_member(responsible_worker, team=team, roles=[Role.CASEWORKER]):
        raise InvalidInput(
            {
                "responsible_worker": _(
                    "The responsible worker must be an active caseworker of %(team)s."
                )
                % {"team": team}
            }
        )
    case = Case(
        client=client,
        team=team,
        responsible_worker=cast("User", responsible_worker),
        integration_started_on=integration_started_on,
        ppt_coordinator=ppt_coordinator,
    )
    # The start date is checked before any date is computed from it.
    full_clean_or_raise(case, exclude=["state", "review_due_on"])
    case.review_due_on = rules.review_due_on(
        integration_started_on=integration_started_on,
        client=client_facts(client),
        threshold_years=threshold_years,
    )
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError as exc:
        raise Conflict(_("This client already has an open case.")) from exc
    case_event(
        case,
        CaseAction.OPEN,
        actor=actor,
        role=role,
        source="",
        params={"review_due_on": case.review_due_on.isoformat()},
    )
    return case


def case_hand_to(case: Case, *, team: Team | None, worker: Any = None) -> Case:
    """Record which regional team and worker carry the case: the team that accepted its
    transfer and the worker it named (they see the case from then on, and own it once the
    handover is held), or None again when that transfer is cancelled. The transfers
    services call this in their transaction, on a case they hold locked; the transfer's own
    event records the decision."""
    case.receiving_team = team
    case.receiving_worker = worker if team is not None else None
    case.save(update_fields=["receiving_team", "receiving_worker"])
    return case


def case_move(
    case: Case,
    action: CaseAction,
    *,
    actor: Any,
    role: str,
    transfer_id: int | None = None,
    review_id: int | None = None,
    reason: str = "",
    params: dict[str, Any] | None = None,
    **arguments: Any,
) -> Case:
    """Run one of the case's own transitions (`action` names it) on a case the caller holds
    locked, and write its event. The criteria and transfers services call this when they
    decide a case moves on; it runs in their transaction."""
    source, _target = run_transition(case, str(action), **arguments)
    case_event(
        case,
        action,
        actor=actor,
        role=role,
        source=source,
        transfer_id=transfer_id,
        review_id=review_id,
        reason=reason,
        params=params,
    )
    return case


def require_cap_decision(case: Case, *, role: str, decision: str) -> bool:
    """At the cap, the only outcomes are a transfer or a closure, decided by a supervisor
    with a written decision."""
    if not rules.is_at_cap(today=clock.today(), cap=case.cap_on):
        return False
    if role != Role.SUPERVISOR:
        raise CapReached(
            _(
                "The case has reached the 5-year cap on %(cap)s: a supervisor decides on the "
                "transfer or the closure."
            )
            % {"cap": formats.date_format(case.cap_on, "SHORT_DATE_FORMAT")}
        )
    require_text(decision, "decision", _("Write the supervisor's decision at the cap."))
    return True

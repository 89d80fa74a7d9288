"""Codes the cases app stores or compares: team kinds, roles, client and case facts, and
the actions its events record (each with the words a person reads)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TeamKind(models.TextChoices):
    IMMIGRATION_UNIT = "immigration_unit", _("Immigration Unit team")
    ADULT = "adult", _("Adult social work team")
    YOUTH = "youth", _("Youth team")


class Role(models.TextChoices):
    CASEWORKER = "caseworker", _("Caseworker")
    RECEIVING_WORKER = "receiving_worker", _("Receiving worker")
    FRONT_DESK = "front_desk", _("Front desk")
    SUPERVISOR = "supervisor", _("Supervisor")


class HousingSituation(models.TextChoices):
    SETTLED = "settled", _("Settled housing")
    TEMPORARY = "temporary", _("Temporary housing")
    CRISIS_ACCOMMODATION = "crisis_accommodation", _("Crisis accommodation")
    HOMELESS = "homeless", _("Homeless")


class CaseState(models.TextChoices):
    ACTIVE = "active", _("Active")
    REVIEW_DUE = "review_due", _("Review due")
    IN_REVIEW = "in_review", _("In review")
    TRANSFER_PENDING = "transfer_pending", _("Transfer pending")
    TRANSFERRED = "transferred", _("Transferred")
    CLOSED = "closed", _("Closed")


class ClosureReason(models.TextChoices):
    NO_FURTHER_NEED = "no_further_need", _("No further need of social services")
    MOVED_AWAY = "moved_away", _("Moved away")
    DECEASED = "deceased", _("Deceased")
    OTHER = "other", _("Other")


class EventSubject(models.TextChoices):
    CLIENT = "client", _("client")
    CASE = "case", _("case")
    REVIEW = "review", _("review")
    TRANSFER = "transfer", _("transfer")
    BOOKING = "booking", _("handover booking")
    # A staff member's team membership or admin permissions, as the city's directory
    # gives them at sign-in (cases.directory); no client.
    MEMBERSHIP = "membership", _("team membership")
    # A contact request from an organisation (cases.intake); a client only once linked.
    CONTACT_REQUEST = "contact_request", _("contact request")


class ClientAction(models.TextChoices):
    CREATE = "create", _("Client added")
    UPDATE = "update", _("Client details changed")
    HOUSEHOLD_JOIN = "household_join", _("Linked to a household")
    HOUSEHOLD_LEAVE = "household_leave", _("Removed from the household")
    SMS_CONSENT = "sms_consent", _("Consent to text messages changed")


class HouseholdRelation(models.TextChoices):
    """A member's place in the family; a child is any member marked as one."""

    PARENT = "parent", _("Parent")
    SPOUSE = "spouse", _("Spouse or partner")
    CHILD = "child", _("Child")
    OTHER_ADULT = "other_adult", _("Other adult relative")


class CaseAction(models.TextChoices):
    """A case's own transitions and decisions, whichever app's service caused them."""

    OPEN = "open", _("Case opened")
    MARK_DUE = "mark_due", _("Review became due")
    START_REVIEW = "start_review", _("Review started")
    COMPLETE_NOT_READY = "complete_not_ready", _("Review completed: not ready")
    PROPOSE_TRANSFER = "propose_transfer", _("Transfer proposed")
    REOPEN_REVIEW = "reopen_review", _("Review reopened")
    COMPLETE_TRANSFER = "complete_transfer", _("Case transferred")
    CLOSE = "close", _("Case closed")
    SET_COORDINATOR = "set_coordinator", _("PPT coordinator named")
    REASSIGN = "reassign", _("Responsible worker changed")
    REVIEW_DATE_CHANGED = "review_date_changed", _("Review date recomputed")


class MembershipAction(models.TextChoices):
    """What a sign-in through the city's identity service changed: the user's directory
    groups are mapped to teams and roles (and admin permissions) by an administrator."""

    JOIN = "join", _("Joined a team")
    CHANGE_ROLE = "change_role", _("Role in a team changed")
    LEAVE = "leave", _("Left a team")
    GRANT_ADMIN = "grant_admin", _("Admin permissions granted")
    REVOKE_ADMIN = "revoke_admin", _("Admin permissions removed")


class ContactRequestState(models.TextChoices):
    NEW = "new", _("Waiting to be routed")
    ROUTED = "routed", _("Routed to a worker")
    LINKED = "linked", _("Linked to a client")
    CLOSED = "closed", _("Closed")


class ContactRequestCloseReason(models.TextChoices):
    HANDLED = "handled", _("Handled: no case needed")
    NOT_OUR_CLIENT = "not_our_client", _("Not a client of the Immigration Unit")
    DUPLICATE = "duplicate", _("Duplicate request")
    NO_CONSENT = "no_consent", _("The client's consent could not be confirmed")
    OTHER = "other", _("Other")


class ContactRequestAction(models.TextChoices):
    RECEIVE = "receive", _("Contact request received")
    ROUTE = "route", _("Contact request routed to a worker")
    LINK = "link", _("Contact request linked to a client")
    CLOSE = "close", _("Contact request closed")

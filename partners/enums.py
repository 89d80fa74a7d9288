"""The kinds of service a partner organisation offers, and the partners app's event
actions."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ServiceKind(models.TextChoices):
    """What a partner does for a client. Seven kinds are the readiness criteria's own
    areas (same codes), so a criterion not met names the kind of help to look for."""

    RESIDENTS_HOUSE = "residents_house", _("Residents' house or meeting place")
    LANGUAGE = "language", _("Finnish or Swedish language")
    HOUSING = "housing", _("Settled housing")
    AUTHORITIES = "authorities", _("Dealing with authorities")
    FINANCES = "finances", _("Financial situation")
    HEALTH = "health", _("Health")
    FAMILY = "family", _("Family")
    STUDY_WORK = "study_work", _("Study/work")
    CHILDREN = "children", _("Children")
    LEISURE = "leisure", _("Leisure and community")


class PartnerAction(models.TextChoices):
    """Event actions on a case written by the partners app (subject: case)."""

    HOME_BASE_RECORD = "home_base_record", _("Home base recorded")
    HOME_BASE_NONE = "home_base_none", _("No home base: reason recorded")
    REFERRAL_SEND = "referral_send", _("Referral sent to a partner with the client's consent")
    REFERRAL_ACCEPT = "referral_accept", _("Referral accepted by the partner")
    REFERRAL_DECLINE = "referral_decline", _("Referral declined by the partner")
    REFERRAL_DONE = "referral_done", _("Referral done: the partner recorded the outcome")


class ReferralState(models.TextChoices):
    SENT = "sent", _("Sent: waiting for the partner's answer")
    ACCEPTED = "accepted", _("Accepted by the partner")
    DECLINED = "declined", _("Declined by the partner")
    DONE = "done", _("Done")


class SharedField(models.TextChoices):
    """What a referral may disclose to the partner: the client chooses, the consent
    records it, and the partner's page shows only these."""

    NAME = "name", _("Name")
    DATE_OF_BIRTH = "date_of_birth", _("Date of birth")
    LANGUAGE = "language", _("Language and interpreter need")
    ADDRESS = "address", _("Address")
    HOUSEHOLD = "household", _("Number of children")
    CASEWORKER = "caseworker", _("The caseworker's name and e-mail")


class DisclosureBasis(models.TextChoices):
    CONSENT = "consent", _("The client's consent")

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

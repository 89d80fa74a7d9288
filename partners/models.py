"""The partnership handbook (Kumppanuuskäsikirja) as data: organisations that support
integration, by region and district, with the languages they serve and the kinds of
service they offer; and each case's home base (kotipesä)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models import PostalArea, Region
from cases.validators import postal_code_validator, validate_language_code
from core.languages import language_name

from .enums import ReferralState, ServiceKind, SharedField


def split_codes(value: str) -> list[str]:
    """A comma- (or space-, semicolon-) separated list of codes, lower case, in order,
    without repeats."""
    parts = value.replace(";", ",").replace(" ", ",").split(",")
    return list(dict.fromkeys(part.strip().lower() for part in parts if part.strip()))


def validate_language_codes(value: str) -> None:
    for code in split_codes(value):
        validate_language_code(code)


def validate_service_kinds(value: str) -> None:
    wrong = [code for code in split_codes(value) if code not in ServiceKind.values]
    if wrong:
        raise ValidationError(
            _("Unknown kind of service: %(codes)s. Use: %(allowed)s.")
            % {"codes": ", ".join(wrong), "allowed": ", ".join(ServiceKind.values)},
            code="invalid",
        )


def code_pattern(code: str) -> str:
    """A regular expression that finds one code in a stored list (PostgreSQL and SQLite)."""
    return rf"(^|,){code}(,|$)"


class PartnerOrganisation(models.Model):
    """An organisation in the handbook. `languages` and `service_kinds` hold codes
    separated by commas (stored sorted, lower case): ISO 639-3 codes as a client's
    language is stored, and ServiceKind codes. An empty district serves the whole
    region; otherwise it is one of the region's major districts (suurpiiri) in the
    postal routing table, so a client's address finds it."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="partners", verbose_name=_("region")
    )
    district = models.CharField(
        _("district"),
        max_length=50,
        blank=True,
        help_text=_("A major district of the region (e.g. Koillinen); empty: the whole region."),
    )
    service_kinds = models.CharField(
        _("kinds of service"),
        max_length=300,
        validators=[validate_service_kinds],
        help_text=_("Codes separated by commas, e.g. residents_house, language."),
    )
    services = models.TextField(_("services"), blank=True)
    languages = models.CharField(
        _("languages served"),
        max_length=300,
        validators=[validate_language_codes],
        help_text=_("ISO 639-3 codes separated by commas, e.g. fin, ara, som."),
    )
    opening_hours = models.CharField(_("opening hours"), max_length=300, blank=True)
    street_address = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(
        _("postal code"), max_length=5, blank=True, validators=[postal_code_validator]
    )
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    website = models.URLField(_("website"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("partner organisation")
        verbose_name_plural = _("partner organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.languages = ",".join(sorted(split_codes(self.languages)))
        self.service_kinds = ",".join(sorted(split_codes(self.service_kinds)))
        errors: dict[str, Any] = {}
        if not self.languages:
            errors["languages"] = _("Name at least one language (ISO 639-3 code).")
        if not self.service_kinds:
            errors["service_kinds"] = _("Name at least one kind of service.")
        if self.district and self.region_id is not None:
            districts = set(
                PostalArea.objects.filter(region_id=self.region_id).values_list(
                    "suurpiiri", flat=True
                )
            )
            if self.district not in districts:
                errors["district"] = _(
                    "“%(district)s” is not a major district of this region (%(allowed)s)."
                ) % {"district": self.district, "allowed": ", ".join(sorted(districts))}
        if errors:
            raise ValidationError(errors)

    @property
    def language_codes(self) -> list[str]:
        return split_codes(self.languages)

    @property
    def language_names(self) -> list[str]:
        return sorted(language_name(code) for code in self.language_codes)

    @property
    def kind_codes(self) -> list[str]:
        return split_codes(self.service_kinds)

    @property
    def kind_labels(self) -> list[str]:
        labels = dict(ServiceKind.choices)
        return [str(labels.get(code, code)) for code in self.kind_codes]


class HomeBase(models.Model):
    """A case's home base (kotipesä): a nearby place (a residents' house, an organisation)
    where the client can turn once they are no longer a social work client; or the reason
    why none was found. One per case, recorded by the caseworker (partners.services)."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, related_name="home_base", verbose_name=_("case")
    )
    organisation = models.ForeignKey(
        PartnerOrganisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="home_bases",
        verbose_name=_("home base"),
    )
    reason_none = models.TextField(_("why no home base"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded"))

    class Meta:
        verbose_name = _("home base")
        verbose_name_plural = _("home bases")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(organisation__isnull=False) | ~models.Q(reason_none=""),
                name="home_base_organisation_or_reason",
            )
        ]

    def __str__(self) -> str:
        return self.organisation.name if self.organisation else str(_("No home base"))


class Referral(models.Model):
    """A referral to a partner organisation without handing over the case: sent with the
    client's consent (what is shared, for what purpose, recorded), answered by the
    partner's contact through a signed link that expires (no account), and done with an
    outcome. Every referral writes a disclosure-log row (audit.DisclosureLog)."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="referrals", verbose_name=_("case")
    )
    organisation = models.ForeignKey(
        PartnerOrganisation,
        on_delete=models.PROTECT,
        related_name="referrals",
        verbose_name=_("partner organisation"),
    )
    contact_email = models.EmailField(_("partner contact's e-mail"))
    purpose = models.TextField(_("purpose"))
    shared_fields = models.CharField(_("data shared"), max_length=200)
    consent_recorded_at = models.DateTimeField(_("consent recorded"))
    state = models.CharField(
        _("state"), max_length=20, choices=ReferralState.choices, default=ReferralState.SENT
    )
    partner_note = models.TextField(_("partner's note"), blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("sent by"),
    )
    sent_at = models.DateTimeField(_("sent"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-sent_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.organisation_id}"

    @property
    def shared(self) -> list[str]:
        return split_codes(self.shared_fields)

    @property
    def shared_labels(self) -> list[str]:
        labels = dict(SharedField.choices)
        return [str(labels.get(code, code)) for code in self.shared]

"""Writes of the partners app: a case's home base (kotipesä), and referrals to partners
with the client's consent (answered through a signed link)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.signing import BadSignature, SignatureExpired, TimestampSigner, b62_encode
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from audit.access import ROLE_PARTNER_CONTACT, log_disclosure, partner_link_actor
from cases.enums import CaseState, EventSubject
from cases.events import record_event
from cases.models import Case
from cases.roles import SENDING_ROLES, require_role
from core import clock
from core.errors import InvalidInput, TransitionNotAllowed

from .channel import queue_referral_mail
from .enums import DisclosureBasis, PartnerAction, ReferralState, SharedField
from .models import HomeBase, PartnerOrganisation, Referral

REASON_MAX = 2000


@transaction.atomic
def home_base_record(
    *,
    actor: Any,
    case: Case,
    organisation: PartnerOrganisation | None = None,
    reason: str = "",
) -> HomeBase:
    """Record the case's home base: an active partner organisation, or the reason why
    there is none. A later record replaces the earlier one; each writes an event row.
    Only the case's own team's caseworker or supervisor records it, while the case is
    still the Immigration Unit's (not closed, not transferred)."""
    case = Case.objects.select_for_update(no_key=True).get(pk=case.pk)
    role = require_role(actor, team=case.team, roles=SENDING_ROLES, action="record_home_base")
    if case.state in (CaseState.CLOSED, CaseState.TRANSFERRED):
        raise TransitionNotAllowed(action="record_home_base", state=case.state, allowed=[])
    reason = (reason or "").strip()
    if organisation is None and not reason:
        raise InvalidInput(
            {"organisation": _("Choose a home base, or write why the client has none.")}
        )
    if organisation is not None and not organisation.is_active:
        raise InvalidInput({"organisation": _("This organisation is no longer in the handbook.")})
    if len(reason) > REASON_MAX:
        raise InvalidInput({"reason": _("Write at most %(max)s characters.") % {"max": REASON_MAX}})
    if organisation is not None:
        reason = ""
    home_base, _created = HomeBase.objects.update_or_create(
        case=case,
        defaults={
            "organisation": organisation,
            "reason_none": reason,
            "recorded_by": actor,
            "recorded_at": clock.now(),
        },
    )
    record_event(
        subject=EventSubject.CASE,
        action=PartnerAction.HOME_BASE_RECORD if organisation else PartnerAction.HOME_BASE_NONE,
        client_id=case.client_id,
        case_id=case.pk,
        actor=actor,
        actor_role=role,
        reason=reason,
        params={"organisation": organisation.pk if organisation else None},
    )
    return home_base


# Referrals to partners ----------------------------------------------------------------------

REFERRAL_LINK_SALT = "silta.partners.referral"
PURPOSE_MAX = 2000


class ReferralLinkProblem(Exception):
    """A referral link that cannot be opened. Not a DomainError: only the partner's page
    (web) answers it, never the API, so it is not in the API's error contract."""

    http_status = 404


class ReferralLinkInvalid(ReferralLinkProblem):
    """A referral link that Silta did not sign (altered, cut short) or whose referral is gone."""

    http_status = 404


class ReferralLinkExpired(ReferralLinkProblem):
    """A referral link older than SILTA_REFERRAL_LINK_DAYS."""

    http_status = 410


class _SentAtSigner(TimestampSigner):
    """Signs with a given time instead of the present one: a referral's link is signed
    at the referral's sending time, so it is the same whenever it is made (a retried
    e-mail carries the same link) and its age counts from the sending."""

    def __init__(self, *, at: dt.datetime | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._at = at

    def timestamp(self) -> str:
        if self._at is None:
            return super().timestamp()
        return b62_encode(int(self._at.timestamp()))


def _signer(at: dt.datetime | None = None) -> TimestampSigner:
    return _SentAtSigner(salt=REFERRAL_LINK_SALT, at=at)


def referral_link_days() -> int:
    return int(settings.SILTA_REFERRAL_LINK_DAYS)


def referral_token(referral: Referral) -> str:
    """The signed part of the partner's link: the referral's id and its sending time."""
    return _signer(referral.sent_at).sign(str(referral.pk))


def referral_link(referral: Referral) -> str:
    base = str(settings.SILTA_BASE_URL).rstrip("/")
    return base + reverse("web:partner-referral", args=[referral_token(referral)])


def referral_from_token(token: str) -> Referral:
    """The referral a link opens, or ReferralLinkExpired / ReferralLinkInvalid."""
    try:
        pk = _signer().unsign(token, max_age=dt.timedelta(days=referral_link_days()))
    except SignatureExpired as exc:
        raise ReferralLinkExpired(_("This link has expired.")) from exc
    except BadSignature as exc:
        raise ReferralLinkInvalid(_("This link is not valid.")) from exc
    referral = (
        Referral.objects.select_related("case__client", "case__responsible_worker", "organisation")
        .filter(pk=int(pk))
        .first()
        if pk.isdigit()
        else None
    )
    if referral is None:
        raise ReferralLinkInvalid(_("This link is not valid."))
    return referral


@transaction.atomic
def referral_send(
    *,
    actor: Any,
    case: Case,
    organisation: PartnerOrganisation | None,
    purpose: str,
    shared_fields: Iterable[str],
    consent: bool,
) -> Referral:
    """Refer the client to a partner without handing over the case, with the client's
    consent to share exactly `shared_fields` for `purpose`. Writes the referral, an event
    and a disclosure-log row in one transaction, with an outbox row for the partner
    contact's e-mail holding only the signed link (partners.channel: sent by the relay
    after the commit, retried on failure, never on a rollback)."""
    case = Case.objects.select_for_update(no_key=True).select_related("client").get(pk=case.pk)
    role = require_role(actor, team=case.team, roles=SENDING_ROLES, action="refer")
    if case.state in (CaseState.CLOSED, CaseState.TRANSFERRED):
        raise TransitionNotAllowed(action="refer", state=case.state, allowed=[])
    shared = [code for code in SharedField.values if code in set(shared_fields)]
    purpose = (purpose or "").strip()
    errors: dict[str, str] = {}
    if organisation is None or not organisation.is_active:
        errors["organisation"] = _("Choose a partner organisation from the handbook.")
    elif not organisation.email:
        errors["organisation"] = _(
            "The handbook has no e-mail for this organisation: add it in the admin first."
        )
    if not purpose:
        errors["purpose"] = _("Write what the referral is for.")
    elif len(purpose) > PURPOSE_MAX:
        errors["purpose"] = _("Write at most %(max)s characters.") % {"max": PURPOSE_MAX}
    if not shared or set(shared_fields) - set(SharedField.values):
        errors["shared_fields"] = _("Choose what the client agreed to share.")
    if not consent:
        errors["consent"] = _("Nothing is sent without the client's consent: record it first.")
    if errors:
        raise InvalidInput(errors)
    assert organisation is not None
    now = clock.now()
    referral = Referral.objects.create(
        case=case,
        organisation=organisation,
        contact_email=organisation.email,
        purpose=purpose,
        shared_fields=",".join(shared),
        consent_recorded_at=now,
        sent_by=actor,
        sent_at=now,
    )
    record_event(
        subject=EventSubject.CASE,
        action=PartnerAction.REFERRAL_SEND,
        client_id=case.client_id,
        case_id=case.pk,
        actor=actor,
        actor_role=role,
        reason=purpose,
        params={"referral": referral.pk, "organisation": organisation.pk, "shared": shared},
    )
    log_disclosure(
        user=actor,
        client_id=case.client_id,
        case_id=case.pk,
        recipient=f"{organisation.name} <{organisation.email}>",
        disclosed=shared,
        basis=DisclosureBasis.CONSENT,
        purpose=purpose,
        reference=f"referral:{referral.pk}",
    )
    queue_referral_mail(referral)
    return referral


def _partner_event(referral: Referral, action: PartnerAction, *, reason: str = "") -> None:
    record_event(
        subject=EventSubject.CASE,
        action=action,
        client_id=referral.case.client_id,
        case_id=referral.case_id,
        actor=partner_link_actor(),
        actor_role=ROLE_PARTNER_CONTACT,
        reason=reason,
        params={"referral": referral.pk, "organisation": referral.organisation_id},
    )


@transaction.atomic
def referral_answer(*, referral: Referral, accept: bool, note: str = "") -> Referral:
    """The partner's contact accepts or declines (through the signed link): only a
    referral still waiting for the answer; a second answer changes nothing."""
    referral = Referral.objects.select_for_update().select_related("case").get(pk=referral.pk)
    if referral.state != ReferralState.SENT:
        raise TransitionNotAllowed(
            action="accept" if accept else "decline", state=referral.state, allowed=[]
        )
    note = (note or "").strip()
    if len(note) > PURPOSE_MAX:
        raise InvalidInput({"note": _("Write at most %(max)s characters.") % {"max": PURPOSE_MAX}})
    referral.state = ReferralState.ACCEPTED if accept else ReferralState.DECLINED
    referral.partner_note = note
    referral.answered_at = clock.now()
    referral.save(update_fields=["state", "partner_note", "answered_at"])
    _partner_event(
        referral,
        PartnerAction.REFERRAL_ACCEPT if accept else PartnerAction.REFERRAL_DECLINE,
        reason=note,
    )
    return referral


@transaction.atomic
def referral_done(*, referral: Referral, outcome: str) -> Referral:
    """The partner's contact records the referral done, with its outcome (accepted ones
    only)."""
    referral = Referral.objects.select_for_update().select_related("case").get(pk=referral.pk)
    if referral.state != ReferralState.ACCEPTED:
        raise TransitionNotAllowed(action="done", state=referral.state, allowed=[])
    outcome = (outcome or "").strip()
    if not outcome:
        raise InvalidInput({"outcome": _("Write the outcome: what was done with the client.")})
    if len(outcome) > PURPOSE_MAX:
        raise InvalidInput(
            {"outcome": _("Write at most %(max)s characters.") % {"max": PURPOSE_MAX}}
        )
    referral.state = ReferralState.DONE
    referral.outcome = outcome
    referral.done_at = clock.now()
    referral.save(update_fields=["state", "outcome", "done_at"])
    _partner_event(referral, PartnerAction.REFERRAL_DONE, reason=outcome)
    return referral

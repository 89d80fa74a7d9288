"""Validators of client and case facts: Finnish personal identity codes, postal codes, ISO
639-3 language codes, and the dates that have a sensible range (a date of birth, the start
of the integration period, the sponsor's arrival in Finland).

The date validators sit on the model fields, so the services' `full_clean` refuses a date
out of range with the field named, whichever surface (web, API, admin) it came from.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

import pycountry
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.fi import hetu as stdnum_hetu

from core import clock

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

postal_code_validator = RegexValidator(
    r"^\d{5}$", _("A Finnish postal code has exactly five digits, e.g. 00700.")
)


def normalise_personal_identity_code(value: str) -> str:
    """The one stored form of a personal identity code: python-stdnum's compact form
    (upper case, a typographic dash as the hyphen) with no white space anywhere, so
    `010594y123w` and ` 010594Y123W` are one person. The century sign is kept: `-` and
    `Y` with the same digits are two people (the signs of 2023 widen the number range)."""
    return "".join(stdnum_hetu.compact(value).split())


def validate_personal_identity_code(value: str) -> None:
    """Accept a Finnish personal identity code (11 characters once normalised; the
    services store it normalised, see `normalise_personal_identity_code`).

    python-stdnum knows the century signs of 2023 (A-F for the 2000s, U-Y and - for the
    1900s), checks the date and the control character.
    """
    value = normalise_personal_identity_code(value)
    if len(value) != 11:
        raise ValidationError(
            _("A personal identity code has 11 characters; this one has %(n)d.")
            % {"n": len(value)},
            code="length",
        )
    try:
        stdnum_hetu.validate(value, allow_temporary=True)
    except StdnumValidationError as exc:
        messages = {
            "InvalidChecksum": _("The control character does not match: check for a typo."),
            "InvalidComponent": _("The date of birth in the code is not a real date."),
            "InvalidFormat": _(
                "The format is not DDMMYY, a century sign, three digits and a control character."
            ),
            "InvalidLength": _("A personal identity code has 11 characters."),
        }
        raise ValidationError(
            messages.get(type(exc).__name__, _("Not a valid personal identity code.")),
            code="invalid",
        ) from exc


def validate_language_code(value: str) -> None:
    if pycountry.languages.get(alpha_3=value) is None:
        raise ValidationError(
            _("“%(value)s” is not an ISO 639-3 language code (e.g. fin, ara, prs, som, tir).")
            % {"value": value},
            code="invalid",
        )


def birth_date_of(code: str) -> dt.date:
    century = {
        "+": 1800,
        "-": 1900,
        "Y": 1900,
        "X": 1900,
        "W": 1900,
        "V": 1900,
        "U": 1900,
        "A": 2000,
        "B": 2000,
        "C": 2000,
        "D": 2000,
        "E": 2000,
        "F": 2000,
    }
    return dt.date(century[code[6]] + int(code[4:6]), int(code[2:4]), int(code[0:2]))


# The sensible ranges. Nobody in Silta's care was born before 1900; the Immigration Unit's
# integration periods began after 2000 (the Integration Act of 1999); none of these lies
# ahead of today.
EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)
EARLIEST_INTEGRATION_START = dt.date(2000, 1, 1)
EARLIEST_SPONSOR_ARRIVAL = dt.date(1900, 1, 1)


def _in_past_range(
    value: dt.date, earliest: dt.date, *, too_early: StrOrPromise, in_future: StrOrPromise
) -> None:
    if value < earliest:
        raise ValidationError(too_early, code="too_early", params={"year": earliest.year})
    if value > clock.today():
        raise ValidationError(in_future, code="in_future")


def validate_birth_date(value: dt.date) -> None:
    """A date of birth is not in the future nor before 1900."""
    _in_past_range(
        value,
        EARLIEST_BIRTH_DATE,
        too_early=_("A date of birth cannot be before %(year)s."),
        in_future=_("A date of birth cannot be in the future."),
    )


def validate_integration_start(value: dt.date) -> None:
    """An integration period starts neither in the future nor before 2000."""
    _in_past_range(
        value,
        EARLIEST_INTEGRATION_START,
        too_early=_("The integration period cannot start before %(year)s."),
        in_future=_("The integration period cannot start in the future."),
    )


def validate_sponsor_arrival(value: dt.date) -> None:
    """The sponsor came to Finland neither in the future nor before 1900."""
    _in_past_range(
        value,
        EARLIEST_SPONSOR_ARRIVAL,
        too_early=_("The sponsor's arrival in Finland cannot be before %(year)s."),
        in_future=_("The sponsor's arrival in Finland cannot be in the future."),
    )


PHONE_NUMBER_FORM = r"^\+[1-9][0-9]{6,14}$"


def normalise_phone_number(value: str) -> str:
    """A phone number as stored (international, digits only after the plus): spaces,
    dashes and brackets dropped, 00 read as +, a Finnish number's leading 0 as +358."""
    text = "".join(ch for ch in (value or "") if ch not in " -()/.")
    if text.startswith("00"):
        text = "+" + text[2:]
    elif text.startswith("0"):
        text = "+358" + text[1:]
    return text


def validate_phone_number(value: str) -> None:
    if value and not re.match(PHONE_NUMBER_FORM, value):
        raise ValidationError(
            _("Give a phone number, e.g. 040 123 4567 or +358 40 123 4567."), code="phone"
        )

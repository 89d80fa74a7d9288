"""Validators of client facts: Finnish personal identity codes, postal codes and ISO 639-3
language codes."""

from __future__ import annotations

import datetime as dt

import pycountry
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.fi import hetu as stdnum_hetu

postal_code_validator = RegexValidator(
    r"^\d{5}$", _("A Finnish postal code has exactly five digits, e.g. 00700.")
)


def validate_personal_identity_code(value: str) -> None:
    """Accept a Finnish personal identity code exactly as given (11 characters).

    python-stdnum knows the century signs of 2023 (A-F for the 2000s, U-Y and - for the
    1900s), checks the date and the control character.
    """
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

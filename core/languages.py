"""Languages named in the page's language: a client's language is stored as its ISO 639-3
code and shown by its name in Finnish, Swedish or English from CLDR (Babel), never as the
code or in English on a Finnish page."""

from __future__ import annotations

import functools
from collections.abc import Iterable

import pycountry
from babel import Locale
from django.conf import settings
from django.utils.translation import get_language

# Where CLDR names an ISO 639-3 language under another code than ISO 639-1's (Dari is
# Persian as spoken in Afghanistan in CLDR).
_CLDR_CODE = {"prs": "fa_AF"}


@functools.cache
def _names(page_language: str) -> dict[str, str]:
    return dict(Locale.parse(page_language).languages)


def language_name(code: str | None, page_language: str | None = None) -> str:
    """A client's language (ISO 639-3, as stored) named in the page's language from CLDR
    (Babel): "arabia" on a Finnish page, "arabiska" on a Swedish one, "Arabic" in English.
    The stored code is shown only for a language CLDR does not name."""
    if not code:
        return ""
    page = (page_language or get_language() or settings.LANGUAGE_CODE).split("-")[0]
    names = _names(page)
    found = pycountry.languages.get(alpha_3=code.lower())
    for candidate in (
        _CLDR_CODE.get(code.lower()),
        getattr(found, "alpha_2", None),
        code.lower(),
    ):
        if candidate and candidate in names:
            return names[candidate]
    return code


def language_choices(
    codes: Iterable[str], page_language: str | None = None
) -> list[tuple[str, str]]:
    """(code, name) pairs for a select, sorted by the name in the page's language."""
    return sorted(
        ((code, language_name(code, page_language)) for code in codes),
        key=lambda pair: pair[1].casefold(),
    )


@functools.cache
def _all_codes(page_language: str) -> tuple[str, ...]:
    """The ISO 639-3 codes of every language CLDR names in `page_language`."""
    codes = set(_CLDR_CODE)
    for key in _names(page_language):
        if "_" in key:
            continue
        found = (
            pycountry.languages.get(alpha_2=key)
            if len(key) == 2
            else pycountry.languages.get(alpha_3=key)
        )
        if found is not None:
            codes.add(found.alpha_3)
    return tuple(codes)


def every_language_choice(
    page_language: str | None = None, *, keep: str | None = None
) -> list[tuple[str, str]]:
    """A select's choices for a client's language: every language CLDR names, by its name
    in the page's language, stored as its ISO 639-3 code (and `keep`, a stored code CLDR
    does not name, so editing a client never drops it)."""
    page = (page_language or get_language() or settings.LANGUAGE_CODE).split("-")[0]
    codes = set(_all_codes(page))
    if keep:
        codes.add(keep)
    return language_choices(codes, page)

"""The one clock of Silta.

Everything that asks "what time is it" asks here, so tests can freeze time and dates that
matter to people (due dates, caps, ages) are computed in Europe/Helsinki, not UTC.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def now() -> dt.datetime:
    """An aware datetime (UTC internally, as Django stores it)."""
    return timezone.now()


def today() -> dt.date:
    """Today's date in Helsinki."""
    return timezone.localtime(timezone.now(), tz()).date()


def written(moment: dt.datetime | None, format_name: str = "SHORT_DATETIME_FORMAT") -> str:
    """A moment in local time as the reader's language writes it (fi: 1.12.2026 klo
    10.00); empty for none (a row the database has not yet timed)."""
    from django.utils.formats import date_format

    return date_format(timezone.localtime(moment), format_name) if moment else ""

"""The request id: a proxy's `X-Request-ID` is taken only when it is well formed.

django-guid reads the header and sets the request's id before any view or later
middleware runs, then calls its integrations' `run` with that id. This integration (listed
first in DJANGO_GUID["INTEGRATIONS"]) replaces an id that is not well formed (too long,
empty after all, a NUL, letters outside ASCII, spaces) by a new one, so that every
access-log row, every log line of the request and the response's X-Request-ID carry an id
that fits the access log's column and cannot forge a log line. The id that was given is
kept, cut and escaped, in one warning line (marked untrusted), where it can still be
matched with the proxy's own log; it never reaches the access log.

django-guid's own VALIDATE_GUID is not used: it accepts anything `uuid.UUID` parses, which
has no length bound (hyphens and "urn:" prefixes are dropped before the check).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django_guid.api import set_guid
from django_guid.integrations import Integration

logger = logging.getLogger("silta.request_id")

# A UUID (with or without hyphens) or any other short token of letters, digits and . _ -
# as proxies and load balancers make them. 64 is the access log's column.
MAX_LENGTH = 64
WELL_FORMED = re.compile(rf"[A-Za-z0-9._-]{{1,{MAX_LENGTH}}}")


def is_well_formed(request_id: str | None) -> bool:
    return request_id is not None and WELL_FORMED.fullmatch(request_id) is not None


class WellFormedRequestId(Integration):
    """Runs in django-guid's middleware right after the id is set from the header."""

    identifier = "SiltaWellFormedRequestId"

    def run(self, guid: str, **kwargs: Any) -> None:
        if is_well_formed(guid):
            return
        # Imported here: django_guid.utils reads Django's settings, and this module is
        # imported by the settings module itself.
        from django_guid.utils import generate_guid

        given = "" if guid is None else str(guid)
        new = set_guid(generate_guid())
        # Logged after the new id is set: the line's own request id is the new one.
        logger.warning(
            "X-Request-ID not accepted (%d characters, not [A-Za-z0-9._-]{1,%d}); this "
            "request's id is %s; the given id, untrusted, first %d characters: %s",
            len(given),
            MAX_LENGTH,
            new,
            MAX_LENGTH,
            ascii(given[:MAX_LENGTH]),
        )

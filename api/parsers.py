"""Request parsers: DRF's JSON parser with two refusals before anything is stored, each a
400 problem+json instead of a server error.

- A body nested more than `core.untrusted.MAX_JSON_DEPTH` (32) arrays and objects deep
  is refused before it is parsed (`parse_error`), so the parser never recurses toward
  Python's limit.
- A NUL character or an unpaired surrogate in any key or string, however deeply nested,
  is refused with each place named (`invalid`, `errors: {"params.note": [...]}`).
"""

from __future__ import annotations

import io
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

from core.untrusted import MAX_JSON_DEPTH, json_nests_deeper_than, where_not_text


def not_text_message() -> str:
    return _("Text may not contain the NUL character (U+0000) or an unpaired surrogate.")


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        raw = stream.read() if stream is not None else b""
        if json_nests_deeper_than(raw, MAX_JSON_DEPTH):
            raise ParseError(
                _("The JSON body is nested more than %(limit)d levels deep.")
                % {"limit": MAX_JSON_DEPTH}
            )
        data = super().parse(io.BytesIO(raw), media_type, parser_context)
        places = where_not_text(data)
        if places:
            raise ValidationError(
                {place or "non_field_errors": [not_text_message()] for place in places}
            )
        return data

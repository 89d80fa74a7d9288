"""Request parsers: DRF's, with a body nested too deeply for Python to read answered as a
malformed request (400, problem+json) instead of a server error."""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:  # thousands of nested [ or {: not a real request
            raise ParseError() from exc

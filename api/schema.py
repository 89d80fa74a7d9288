"""The OpenAPI contract of /api/v1/: what an integrator generates a client from.

- One document whatever the fetcher's language: it is built in English (the contract
  language) and every lazily translated text is resolved while that language is active, so
  `Accept-Language: fi`, `sv` and `en` get byte-identical documents.
- Every operation declares its error responses (application/problem+json) from
  `api.errors.error_table()`, the same table the exception handler answers from.
- Every write that honours an `Idempotency-Key` declares the header.
"""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from drf_spectacular import generators, openapi
from drf_spectacular.utils import OpenApiParameter

from api.errors import PROBLEM, ErrorKind, ProblemSerializer, error_table

CONTRACT_LANGUAGE = "en"

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Optional, at most 200 printable characters, unique per user. A repeat "
    "with the same key and the same body returns the first answer without a second "
    "change; the same key with another body answers 422 `idempotency_key_reused`.",
)

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _resolved(value: Any) -> Any:
    """The document with every lazy translation turned into text (in the active language)."""
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, dict):
        return {_resolved(key): _resolved(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_resolved(item) for item in value]
    return value


class SchemaGenerator(generators.SchemaGenerator):
    def get_schema(self, request=None, public=False):
        with translation.override(CONTRACT_LANGUAGE):
            return _resolved(super().get_schema(request=request, public=public))


def _statuses_for(method: str, path: str, has_query: bool) -> set[int]:
    """Which error statuses an operation can answer with, by its shape: every operation
    needs a signed-in user who may use it (an address that keeps sending refused tokens
    is refused for a while), a database to answer from, and may meet an error in Silta
    itself; an id in the path may be outside the user's scope; a query may carry a bad
    filter or page; a write may be invalid, conflict with the object's state or be refused
    by a rule."""
    statuses = {401, 403, 429, 500, 503}
    if "{" in path:
        statuses.add(404)
    if has_query:
        statuses |= {400, 404}
    if method in WRITE_METHODS:
        statuses |= {400, 409, 413, 415, 422}
    return statuses


def _description(kinds: list[ErrorKind]) -> str:
    lines = []
    for kind in kinds:
        members = f" (with {', '.join(f'`{m}`' for m in kind.members)})" if kind.members else ""
        lines.append(f"- `{kind.code}`{members}: {kind.meaning}")
    return "\n".join(lines)


class AutoSchema(openapi.AutoSchema):
    def get_override_parameters(self):
        """Every write honours an Idempotency-Key (api.idempotency, through
        AccessLoggedViewSet.write or `idempotent` directly; tests/api/test_contract.py
        sends one to each)."""
        parameters = list(super().get_override_parameters())
        if self.method in WRITE_METHODS and not any(
            isinstance(p, OpenApiParameter) and p.name == IDEMPOTENCY_KEY.name for p in parameters
        ):
            parameters.append(IDEMPOTENCY_KEY)
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        has_query = any(param.get("in") == "query" for param in self._get_parameters())
        wanted = _statuses_for(self.method, self.path, has_query)
        by_status: dict[int, list[ErrorKind]] = {}
        for kind in error_table():
            if kind.status in wanted:
                by_status.setdefault(kind.status, []).append(kind)
        for status, kinds in sorted(by_status.items()):
            response = self._get_response_for_code(
                ProblemSerializer, str(status), media_types=[PROBLEM]
            )
            response["description"] = _description(kinds)
            responses.setdefault(str(status), response)
        return responses

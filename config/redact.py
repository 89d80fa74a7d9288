"""What of an error may leave Silta, in an error report (config/sentry.py) or a log line
(config/logs.py): never client data.

An exception's message is where data slips out (a database error's DETAIL quotes the row,
`ValueError` quotes the value it refused, code may put a name in an f-string). So it is
an allow-list by type: Silta's domain errors are reported by their stable code; a short
list of errors about code and infrastructure (a missing attribute, the database or the
broker unreachable, a time limit) keep their message, cleaned of anything that looks like
an identity code, an e-mail address or a phone number and of a database error's DETAIL,
CONTEXT and LINE parts; every other exception is reported by its type and its stack (file,
function, line) only. The stack and the request id find the place and the request.
"""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Iterator
from types import TracebackType

FILTERED = "[Filtered]"

# Errors whose message is about code or infrastructure, never about a row: by the
# qualified name of the class or of one of its bases.
MESSAGE_KEPT = frozenset(
    {
        "builtins.AttributeError",
        "builtins.NameError",
        "builtins.ImportError",
        "builtins.NotImplementedError",
        "builtins.RecursionError",
        "builtins.MemoryError",
        "builtins.TimeoutError",
        "builtins.ConnectionError",
        "builtins.TypeError",
        "django.core.exceptions.ImproperlyConfigured",
        "django.db.utils.OperationalError",
        "django.db.utils.InterfaceError",
        "psycopg.OperationalError",
        "psycopg.InterfaceError",
        "redis.exceptions.ConnectionError",
        "redis.exceptions.TimeoutError",
        "kombu.exceptions.OperationalError",
        "celery.exceptions.TimeoutError",
        "billiard.exceptions.SoftTimeLimitExceeded",
        "billiard.exceptions.TimeLimitExceeded",
        "billiard.exceptions.WorkerLostError",
        "httpx.TransportError",
    }
)

# A Finnish identity code (any century sign, temporary ones too), an e-mail address, a
# phone number or any long run of digits.
_IDENTITY_CODE = re.compile(r"\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DIGITS = re.compile(r"\+?\d[\d ()-]{5,}\d")
# The parts of a PostgreSQL error that quote rows or statements.
_DATABASE_DETAIL = re.compile(r"^\s*(DETAIL|CONTEXT|LINE \d+|HINT|QUERY):.*$", re.MULTILINE)
MAX_MESSAGE = 500


def redact_text(text: str) -> str:
    text = _DATABASE_DETAIL.sub("", text)
    text = _IDENTITY_CODE.sub(FILTERED, text)
    text = _EMAIL.sub(FILTERED, text)
    text = _DIGITS.sub(FILTERED, text)
    return text.strip()[:MAX_MESSAGE]


def qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _domain_error_code(cls: type) -> str | None:
    from core.errors import DomainError

    if issubclass(cls, DomainError):
        return f"[{cls.code}]"
    return None


def safe_message(cls: type | None, message: str) -> str:
    """The message of an exception of this class as it may be reported."""
    if cls is None:
        return FILTERED
    code = _domain_error_code(cls)
    if code is not None:
        return code
    if any(qualified_name(base) in MESSAGE_KEPT for base in cls.__mro__):
        return redact_text(message)
    return FILTERED


def resolve(module: str | None, name: str | None) -> type | None:
    """The class named by an error report's `module` and `type`, if it is loaded."""
    if not module or not name:
        return None
    found: object = sys.modules.get(module)
    for part in name.split("."):
        found = getattr(found, part, None)
    return found if isinstance(found, type) else None


def safe_exception(exc: BaseException) -> str:
    """`module.Type: message` with the message as it may be reported."""
    return f"{qualified_name(type(exc))}: {safe_message(type(exc), str(exc))}"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and those it was raised from or during, outermost cause first."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        if current.__cause__ is not None:
            current = current.__cause__
        elif not current.__suppress_context__:
            current = current.__context__
        else:
            current = None
    return reversed(chain)


def format_exception(
    exc_info: tuple[type[BaseException], BaseException, TracebackType | None]
    | tuple[None, None, None],
) -> str:
    """A traceback as Python prints it, each exception's message as it may be reported."""
    _cls, exc, _tb = exc_info
    if exc is None:
        return ""
    parts = []
    for index, item in enumerate(_chain(exc)):
        if index:
            parts.append("\nThe above exception led to the following one:\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(item.__traceback__))
        parts.append(safe_exception(item))
    return "".join(parts)

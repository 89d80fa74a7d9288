"""A service's transaction, tried again when the database broke a lock cycle.

Services lock their rows in one order (case, transfer, booking), so two of them should
never deadlock. Should PostgreSQL still pick one as a deadlock victim (or refuse a
serializable transaction), `atomic_with_retry` runs the service again, a bounded number of
times, and then gives up with ConcurrentUpdate (409 `concurrent_update` in the API, "someone
else changed this first" in the web app): never a 500.

Inside a caller's transaction (the surfaces' access-log wrapper, an idempotent API call,
the relay), the service runs in a savepoint: rolling back to it releases every lock the
service took, so a deadlock victim can run again without the caller's work being lost. A
serialization failure cannot be cured that way (the snapshot is the caller's), so there
it gives up at once.

The surfaces' access-log wrapper (audit.access.perform_and_log) is itself the retried
unit (`in_one_retried_transaction`): the service it calls joins its transaction without a
savepoint (two statements fewer), and a deadlock runs the service and its access-log row
again together. A service that service calls has its savepoint as before.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

from django.db import DatabaseError, transaction

from .errors import ConcurrentUpdate

P = ParamSpec("P")
R = TypeVar("R")

logger = logging.getLogger("silta.retry")

ATTEMPTS = 3  # the first try and two more
DEADLOCK = "40P01"  # deadlock_detected
SERIALIZATION = "40001"  # serialization_failure
RETRYABLE = frozenset({DEADLOCK, SERIALIZATION})


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error (Django wraps the driver's error as __cause__)."""
    seen: BaseException | None = exc
    while seen is not None:
        state = getattr(seen, "sqlstate", None) or getattr(seen, "pgcode", None)
        if state:
            return str(state)
        seen = seen.__cause__
    return None


def _pause(attempt: int) -> None:
    """A short, random wait, so the two sides of a broken cycle do not meet again."""
    time.sleep(random.uniform(0.005, 0.025) * attempt)


# Inside `in_one_retried_transaction`: the services called there join its transaction
# (no savepoint of their own); a deadlock goes up to it and it runs everything again.
_joined: ContextVar[bool] = ContextVar("silta_retry_joined", default=False)


def _retried(
    func: Callable[..., R], args: Any, kwargs: Any, *, unit: bool, name: str | None = None
) -> R:
    name = name or func.__qualname__
    nested = transaction.get_connection().in_atomic_block
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction.atomic():
                token = _joined.set(unit)
                try:
                    return func(*args, **kwargs)
                finally:
                    _joined.reset(token)
        except DatabaseError as exc:
            state = sqlstate(exc)
            if state not in RETRYABLE:
                raise
            last = attempt == ATTEMPTS or (nested and state == SERIALIZATION)
            if last:
                logger.warning("giving up %s after %d attempts (%s)", name, attempt, state)
                raise ConcurrentUpdate() from exc
            logger.warning(
                "retrying %s after %s (attempt %d of %d)",
                name,
                state,
                attempt,
                ATTEMPTS,
            )
            _pause(attempt)
    raise AssertionError("unreachable")  # the loop returns or raises


def atomic_with_retry(func: Callable[P, R]) -> Callable[P, R]:
    """`transaction.atomic` for a service, retried after a deadlock or a serialization
    failure (ATTEMPTS in all), then ConcurrentUpdate. Other errors pass unchanged.
    Called inside `in_one_retried_transaction`, it joins that transaction instead."""

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        if _joined.get() and transaction.get_connection().in_atomic_block:
            # Only the service called directly joins: one it calls in turn has its own
            # savepoint again (a caller may catch its error and go on).
            token = _joined.set(False)
            try:
                with transaction.atomic(savepoint=False):
                    return func(*args, **kwargs)
            finally:
                _joined.reset(token)
        return _retried(func, args, kwargs, unit=False)

    return run


def in_one_retried_transaction(func: Callable[[], R], *, name: str | None = None) -> R:
    """`func()` in one transaction retried as `atomic_with_retry` retries a service; the
    services it calls join it without a savepoint each (two statements fewer per
    service), and a deadlock in one of them runs the whole of `func` again."""
    return _retried(func, (), {}, unit=True, name=name)

"""What one request reads once: a memo that lives for a request (config.middleware's
`ReadOnce` opens it) and is empty everywhere else (tasks, shells, services called
directly), where every read goes to the database as before.

The actor's memberships are the one thing kept here (audit.access.memberships_of): every
scope, access-log row and role check of a request asks for them, and within a request
they do not change (a change, e.g. at sign-in, forgets them: cases.signals)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_memo: ContextVar[dict[Hashable, Any] | None] = ContextVar("silta_request_memo", default=None)


@contextmanager
def read_once() -> Iterator[None]:
    """Reads inside are remembered until the block ends."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def remembered(key: Hashable, load: Callable[[], T]) -> T:
    """`load()`, once per key inside `read_once`; outside it, every time."""
    memo = _memo.get()
    if memo is None:
        return load()
    if key not in memo:
        memo[key] = load()
    return memo[key]  # type: ignore[no-any-return]


def remember(key: Hashable, value: object) -> None:
    """Keep `value` for `key` inside `read_once` (read with something else already)."""
    memo = _memo.get()
    if memo is not None:
        memo[key] = value


def forget(key: Hashable) -> None:
    memo = _memo.get()
    if memo is not None:
        memo.pop(key, None)


def forget_matching(test: Callable[[Hashable], bool]) -> None:
    memo = _memo.get()
    if memo is not None:
        for key in [key for key in memo if test(key)]:
            del memo[key]

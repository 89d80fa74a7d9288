"""Checks on raw request input that run before anything reads it deeply. The web's
middleware and the API's JSON parser share them.

- Text never carries the NUL character: no one types it, and PostgreSQL cannot hold it in
  text nor take it in a query (it was a server error). An unpaired surrogate, which only a
  JSON escape such as \\ud800 can make, is not text either (it cannot be stored as UTF-8).
- A JSON body nests at most MAX_JSON_DEPTH arrays and objects. Python's JSON parser
  recurses once per level, so the depth is counted before parsing, without recursion.

Pure functions: no Django, no database.
"""

from __future__ import annotations

import re
from typing import Any

# Silta's deepest real body is 2 levels; 32 leaves room and stays far below Python's
# recursion limit (1000).
MAX_JSON_DEPTH = 32

_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")
# A NUL in JSON text: a raw 0x00 byte, or the escape \u0000 whose backslash is not itself
# escaped (an even run of backslashes before it is text: "\\u0000" is six characters).
_JSON_NUL = re.compile(rb"\x00|(?<!\\)(?:\\\\)*\\u0000")
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def is_text(value: str) -> bool:
    """No NUL character and no unpaired surrogate."""
    return _NOT_TEXT.search(value) is None


def without_nul(value: Any) -> Any:
    """`value` with every NUL character taken out, when it is a string; else `value`."""
    return value.replace("\x00", "") if isinstance(value, str) else value


def printable_name(value: str) -> str:
    """`value` with what is not text replaced by U+FFFD, to name a field in an error."""
    return _NOT_TEXT.sub("\ufffd", value)


def json_has_nul(raw: bytes) -> bool:
    """Whether a JSON text (UTF-8) carries a NUL anywhere, found without parsing it."""
    return _JSON_NUL.search(raw) is not None


def json_nests_deeper_than(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects nest more than `limit` deep in a JSON text (UTF-8),
    found without parsing it: brackets inside strings do not count. Linear in the text's
    length, and it stops at the first level too deep."""
    depth = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', raw)):
        if bracket[0] in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def where_not_text(data: Any, limit: int = 20) -> list[str]:
    """Where the keys and strings that are not text are in parsed JSON, in document order
    (at most `limit` of them): "first_name", "cases[2]", "params.note" ("" for a bare
    string); empty when everything is text. Walks with a stack, not recursion."""
    found: list[str] = []
    # (path, value, the key it sits under in an object: checked when it is reached)
    stack: list[tuple[str, Any, str]] = [("", data, "")]
    while stack and len(found) < limit:
        path, value, key = stack.pop()
        if not is_text(key) or (isinstance(value, str) and not is_text(value)):
            found.append(path)
            continue
        if isinstance(value, dict):
            stack.extend(
                (f"{path}.{printable_name(k)}" if path else printable_name(k), item, k)
                for k, item in reversed(value.items())
            )
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", value[i], "") for i in range(len(value) - 1, -1, -1))
    return found

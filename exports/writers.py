"""Writing a table as CSV or XLSX in chunks, so memory does not grow with the rows.

Before a chunk of rows is written, `log` is called with the (client id, case id) of its
rows: the access-log rows of what a file holds are written before the file holds it.

CSV: UTF-8 with a byte order mark (spreadsheets then read the letters right), separated by
semicolons in Finnish and Swedish (their numbers have a decimal comma) and by commas in
English; dates, numbers and months as the language writes them. Several sheets (the
figures) follow one another, each with its title on a line of its own.

XLSX: openpyxl's write-only workbook, which writes each row to a temporary file as it
comes; dates are dates with the language's number format, numbers are numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
from collections.abc import Callable, Iterator
from typing import IO, Any

from django.utils import formats
from django.utils.translation import get_language
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from audit.access import Subject

from .tables import Month, Table

Log = Callable[[list[Subject]], object]

# Excel's number formats for the languages' own dates (config/formats).
DATE_FORMATS = {"fi": "d.m.yyyy", "sv": "d.m.yyyy", "en": "d mmmm yyyy"}
DATETIME_FORMATS = {"fi": "d.m.yyyy h.mm", "sv": "d.m.yyyy h.mm", "en": "d mmmm yyyy, hh:mm"}
MONTH_FORMATS = {"fi": "m/yyyy", "sv": "m/yyyy", "en": "mmmm yyyy"}

# A spreadsheet runs a cell that begins with one of these as a formula: free text (a plan,
# a reason) is written so that it stays text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _language() -> str:
    return (get_language() or "fi")[:2]


def delimiter() -> str:
    return "," if _language() == "en" else ";"


# Values written the same way again and again in one export (a due date, a number of days
# late): each is formatted once per export, as Django's localisation is most of a CSV's time.
_REPEATED = (dt.date, int, Month)
_SEEN_MAX = 4096


def text(value: Any, seen: dict[tuple[type, Any], str] | None = None) -> str:
    """A value as the active language writes it in a CSV cell. `seen`: what this export
    has formatted so far (the language does not change within one export)."""
    if seen is not None and type(value) in _REPEATED:
        key = (type(value), value)
        found = seen.get(key)
        if found is None:
            if len(seen) >= _SEEN_MAX:
                seen.clear()  # memory must not grow with the rows (a column of ids)
            found = seen[key] = text(value)
        return found
    if value is None:
        return ""
    if isinstance(value, Month):
        return formats.date_format(value.first_day, "YEAR_MONTH_FORMAT")
    if isinstance(value, dt.datetime):
        return formats.date_format(value, "SHORT_DATETIME_FORMAT")
    if isinstance(value, dt.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | decimal.Decimal):
        return formats.number_format(value, use_l10n=True)
    value = str(value)
    return "'" + value if value.startswith(FORMULA_START) else value


class _Line:
    """The file-like object csv.writer writes one line into."""

    def write(self, value: str) -> str:
        return value


def csv_chunks(table: Table, log: Log) -> Iterator[bytes]:
    """The table as CSV, a chunk of rows at a time (for a streaming response or a file)."""
    writer = csv.writer(_Line(), delimiter=delimiter())
    seen: dict[tuple[type, Any], str] = {}
    yield "\ufeff".encode()
    several = len(table.sheets) > 1
    for number, sheet in enumerate(table.sheets):
        head = []
        if several:
            head = ([writer.writerow([])] if number else []) + [writer.writerow([str(sheet.title)])]
        head.append(writer.writerow([str(h) for h in sheet.headers]))
        yield "".join(head).encode()
        for chunk in sheet.chunks():
            subjects = [subject for _values, subject in chunk if subject is not None]
            if subjects:
                log(subjects)
            yield "".join(
                writer.writerow([text(value, seen) for value in values]) for values, _s in chunk
            ).encode()


def write_csv(table: Table, out: IO[bytes], log: Log) -> None:
    for part in csv_chunks(table, log):
        out.write(part)


def _sheet_title(title: Any, used: set[str]) -> str:
    name = "".join(c for c in str(title) if c not in "[]:*?/\\")[:31] or "Sheet"
    base, n = name, 2
    while name in used:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name)
    return name


def write_xlsx(table: Table, out: IO[bytes], log: Log) -> None:
    """The table as an XLSX workbook, a sheet per sheet of the table, into `out`."""
    language = _language()
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    for sheet in table.sheets:
        worksheet = workbook.create_sheet(_sheet_title(sheet.title, used))
        worksheet.append([str(h) for h in sheet.headers])

        def cell(value: Any, worksheet: Any = worksheet) -> Any:
            if isinstance(value, Month):
                found = WriteOnlyCell(worksheet, value=value.first_day)
                found.number_format = MONTH_FORMATS.get(language, "yyyy-mm")
                return found
            if isinstance(value, dt.datetime):
                # Excel has no time zones: the Helsinki time the page shows.
                found = WriteOnlyCell(worksheet, value=value.replace(tzinfo=None))
                found.number_format = DATETIME_FORMATS.get(language, "yyyy-mm-dd hh:mm")
                return found
            if isinstance(value, dt.date):
                found = WriteOnlyCell(worksheet, value=value)
                found.number_format = DATE_FORMATS.get(language, "yyyy-mm-dd")
                return found
            if isinstance(value, str):
                # Control characters a worker typed (XML cannot hold them) are left out,
                # rather than the whole file failing for every supervisor.
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            if isinstance(value, str) and value.startswith("="):
                found = WriteOnlyCell(worksheet, value=value)
                found.data_type = "s"  # text, never a formula
                return found
            if value is not None and not isinstance(value, int | float | decimal.Decimal):
                return str(value)
            return value

        for chunk in sheet.chunks():
            subjects = [subject for _values, subject in chunk if subject is not None]
            if subjects:
                log(subjects)
            for values, _subject in chunk:
                worksheet.append([cell(value) for value in values])
    workbook.save(out)

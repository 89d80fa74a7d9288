"""A CSV export formats each repeated date, number and month once: the cells are the same
as formatted one by one, in the language of the export, and what is remembered is
bounded (memory does not grow with the rows)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from exports import writers
from exports.tables import Month


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_csv_text__remembered_values_written_as_one_by_one(language):
    values = [
        dt.date(2027, 1, 4),
        1234567,
        Month(dt.date(2026, 11, 1)),
        True,  # a bool is not the int 1
        1,
        dt.datetime(2027, 1, 4, 10, 30),
        2.5,
        "=1+1",
        None,
    ]
    with translation.override(language):
        seen: dict = {}
        twice = [writers.text(v, seen) for v in values + values]
        assert twice == [writers.text(v) for v in values + values]
    assert twice[3] == "True" and twice[4] == "1"


def test_csv_text__what_is_remembered_is_bounded():
    seen: dict = {}
    with translation.override("fi"):
        for number in range(writers._SEEN_MAX * 3):
            writers.text(number, seen)
    assert len(seen) <= writers._SEEN_MAX

"""HTTP dates: formatting and the three formats a recipient must read."""

from __future__ import annotations

import calendar

import pytest

from satchel.httpdate import format_http_date, parse_http_date

EXPECTED = calendar.timegm((1994, 11, 6, 8, 49, 37))


@pytest.mark.parametrize(
    "text",
    ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"],
)
def test_the_three_formats(text: str) -> None:
    assert parse_http_date(text) == EXPECTED


def test_round_trip() -> None:
    assert parse_http_date(format_http_date(EXPECTED)) == EXPECTED


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "Sun, 06 Nov 1994 08:49:37 +0100",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun, 06 Nov 1994 08:49 GMT",
        "Sun, ٠٦ Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sun, 06 Nov 99999999999999999999 08:49:37 GMT",
        "x" * 10_000,
    ],
)
def test_malformed_dates_are_none(text: str) -> None:
    assert parse_http_date(text) is None

"""HTTP dates (RFC 9110 section 5.6.7), without importing the email package."""

from __future__ import annotations

import calendar
import time

__all__ = ["format_http_date", "parse_http_date"]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUMBER = {name: number for number, name in enumerate(_MONTHS, start=1)}


def format_http_date(timestamp: float) -> str:
    """Format a POSIX timestamp as an IMF-fixdate, independent of the locale.

    >>> format_http_date(0)
    'Thu, 01 Jan 1970 00:00:00 GMT'
    """
    t = time.gmtime(timestamp)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )


def parse_http_date(value: str) -> int | None:
    """Parse an HTTP date to a POSIX timestamp; None if malformed.

    Accepts the three formats RFC 9110 asks recipients to read: IMF-fixdate,
    the obsolete RFC 850 form and asctime. Linear and bounded in length.

    >>> parse_http_date("Thu, 01 Jan 1970 00:00:10 GMT")
    10
    >>> parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT")  # a two-digit year: 1994
    784111777
    >>> parse_http_date("Thu Jan  1 00:00:10 1970")
    10
    >>> parse_http_date("yesterday") is None
    True
    """
    if len(value) > 64:
        return None
    parts = value.split()
    if len(parts) == 6 and parts[5] == "GMT":  # IMF-fixdate
        _, day, month, year, clock, _ = parts
    elif len(parts) == 4 and parts[3] == "GMT" and parts[1].count("-") == 2:  # RFC 850
        day, month, short_year = parts[1].split("-")
        clock = parts[2]
        year = _full_year(short_year)
    elif len(parts) == 5:  # asctime
        _, month, day, clock, year = parts
    else:
        return None
    return _timestamp(year, month, day, clock)


def _full_year(short: str) -> str:
    # RFC 9110: a two-digit year more than 50 years in the future is in the past.
    if len(short) != 2 or not short.isdigit():
        return ""
    this_year = time.gmtime().tm_year
    year = this_year - this_year % 100 + int(short)
    return str(year - 100 if year > this_year + 50 else year)


def _timestamp(year: str, month_name: str, day: str, clock: str) -> int | None:
    month = _MONTH_NUMBER.get(month_name)
    hms = clock.split(":")
    numbers = [day, year, *hms]
    if month is None or len(hms) != 3 or not all(n.isascii() and n.isdigit() for n in numbers):
        return None
    try:
        fields = (int(year), month, int(day), int(hms[0]), int(hms[1]), int(hms[2]))
        if not (1 <= fields[2] <= 31 and fields[3] < 24 and fields[4] < 60 and fields[5] < 61):
            return None
        return calendar.timegm(fields)
    except (ValueError, OverflowError):
        return None

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
    """Parse an IMF-fixdate (the only format senders may generate) to a timestamp.

    Returns None for anything else, so a malformed conditional header is ignored.

    >>> parse_http_date("Thu, 01 Jan 1970 00:00:10 GMT")
    10
    >>> parse_http_date("yesterday") is None
    True
    """
    parts = value.strip().split(" ")
    if len(parts) != 6 or parts[5] != "GMT" or len(value) > 40:
        return None
    _, day, month_name, year, clock, _ = parts
    month = _MONTH_NUMBER.get(month_name)
    hms = clock.split(":")
    numbers = [day, year, *hms]
    if month is None or len(hms) != 3 or not all(n.isascii() and n.isdigit() for n in numbers):
        return None
    try:
        return calendar.timegm((int(year), month, int(day), int(hms[0]), int(hms[1]), int(hms[2])))
    except (ValueError, OverflowError):
        return None

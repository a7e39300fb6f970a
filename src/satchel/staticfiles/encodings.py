"""Choosing a precompressed variant from ``Accept-Encoding`` (RFC 9110 section 12.5.3)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

__all__ = ["PRECOMPRESSED", "accepted_codings", "preferred_coding"]

#: The precompressed siblings looked for, best first: ``(content-coding, file suffix)``.
PRECOMPRESSED: tuple[tuple[str, str], ...] = (("br", ".br"), ("gzip", ".gz"))

_OWS = " \t"
# RFC 9110 qvalue: 0, 0.5, 0.125, 1, 1.000; nothing else.
_QVALUE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")
# Old spellings a client may still send (RFC 9110 section 8.4.1.3).
_ALIASES = {"x-gzip": "gzip"}


def accepted_codings(header: str) -> dict[str, float]:
    """Map each content-coding (``*`` and ``identity`` included) named in ``header`` to its q.

    A malformed q counts as 0 (not acceptable): refusing a coding is always safe,
    since the plain file remains. The work is linear in the header's length.

    >>> accepted_codings("gzip, br;q=0.5, *;q=0, x-gzip;q=bad")
    {'gzip': 0.0, 'br': 0.5, '*': 0.0}
    """
    codings: dict[str, float] = {}
    for element in header.split(","):
        coding, _, params = element.partition(";")
        coding = coding.strip(_OWS).lower()
        if not coding:
            continue
        coding = _ALIASES.get(coding, coding)
        codings[coding] = _weight(params)
    return codings


def _weight(params: str) -> float:
    if not params:
        return 1.0
    for param in params.split(";"):
        name, equals, value = param.partition("=")
        if equals and name.strip(_OWS).lower() == "q":
            value = value.strip(_OWS)
            return float(value) if _QVALUE.fullmatch(value) else 0.0
    return 1.0


def preferred_coding(headers: Sequence[str], available: Iterable[str]) -> str | None:
    """The coding of ``available`` the client prefers, or None for the plain file.

    ``headers`` are the request's ``Accept-Encoding`` values. No header means the
    plain file. A coding the header does not name takes the q of ``*``, if any.
    The plain file wins when ``identity`` is named with a higher q than every
    acceptable coding; on equal q the order of ``available`` decides.

    >>> preferred_coding(["gzip, deflate, br"], ["br", "gzip"])
    'br'
    >>> preferred_coding(["br;q=0, gzip"], ["br", "gzip"])
    'gzip'
    >>> preferred_coding(["gzip;q=0.5, identity"], ["gzip"]) is None
    True
    """
    if not headers:
        return None
    codings = accepted_codings(",".join(headers))
    anything = codings.get("*", 0.0)
    best, best_q = None, 0.0
    for coding in available:
        q = codings.get(coding, anything)
        if q > best_q:
            best, best_q = coding, q
    return best if best_q >= codings.get("identity", 0.0) else None

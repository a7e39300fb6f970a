"""A sans-IO, incremental ``multipart/form-data`` parser (RFC 7578, RFC 2046).

``MultipartParser.feed`` takes bytes as they arrive and returns events: a part
started (with its headers), a piece of the part's body, a part ended, the
message ended. It never does I/O, so it can be driven by any transport and
tested with plain bytes.

The parser runs in time linear in the input whatever the chunking: delimiters
are searched with ``bytes.find`` and only a tail of about ``len(boundary)``
bytes is kept between calls while in a part's body, the preamble or the
epilogue. Part headers are buffered up to ``max_part_header_size`` bytes;
a larger header block is answered with 431 (``RequestHeaderFieldsTooLarge``),
the status for "a header field is too large", which here covers part headers.
Every other malformation is a 400 (``BadRequest``).

>>> parser = MultipartParser("xyz")
>>> events = parser.feed(
...     b"--xyz\\r\\nContent-Disposition: form-data; name=a\\r\\n\\r\\n1\\r\\n--xyz--\\r\\n"
... )
>>> [type(event).__name__ for event in events]
['PartStart', 'PartData', 'PartEnd', 'MessageEnd']
>>> events[0].headers["content-disposition"], events[1].data
('form-data; name=a', b'1')
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from satchel.datastructures import Headers, parse_options_header
from satchel.defaults import MAX_PART_HEADER_SIZE as DEFAULT_MAX_PART_HEADER_SIZE
from satchel.errors import BadRequest, RequestHeaderFieldsTooLarge

__all__ = [
    "DEFAULT_MAX_PART_HEADER_SIZE",
    "Event",
    "MessageEnd",
    "MultipartParser",
    "PartData",
    "PartEnd",
    "PartStart",
    "parse_content_disposition",
    "validate_boundary",
]


# RFC 2046 section 5.1.1: bcharsnospace, plus space (never as the last char).
_BOUNDARY_CHARS = frozenset(
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? "
)
_MAX_BOUNDARY_LENGTH = 70
# Transport padding (spaces and tabs) allowed between a delimiter and its CRLF.
# Real clients send none; a bound keeps the bytes we hold after a delimiter small.
_MAX_TRANSPORT_PADDING = 32
_TOKEN_EXCLUDED = frozenset('()<>@,;:\\"/[]?={} \t')


@dataclass(frozen=True, slots=True)
class PartStart:
    """A part begins; ``headers`` are its (lower-cased) part headers."""

    headers: Headers


@dataclass(frozen=True, slots=True)
class PartData:
    """A piece of the current part's body (never empty)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class PartEnd:
    """The current part's body is complete."""


@dataclass(frozen=True, slots=True)
class MessageEnd:
    """The closing delimiter was read; anything after it is ignored epilogue."""


Event = PartStart | PartData | PartEnd | MessageEnd


class _State(enum.Enum):
    PREAMBLE = enum.auto()
    HEADERS = enum.auto()
    BODY = enum.auto()
    EPILOGUE = enum.auto()


class _Match(enum.Enum):
    NEED_MORE = enum.auto()  # cannot tell yet: wait for more bytes
    NOT_DELIMITER = enum.auto()  # boundary-like bytes that belong to the data
    NEXT_PART = enum.auto()  # a delimiter line: another part follows
    CLOSE = enum.auto()  # the close delimiter: the message ends


def validate_boundary(boundary: str | bytes) -> bytes:
    """Check a multipart boundary against RFC 2046 and return it as bytes.

    A boundary has 1 to 70 characters from the RFC's set (digits, letters and
    ``'()+_,-./:=?`` and space) and does not end with a space.

    Raises:
        BadRequest: The boundary is missing, too long or has invalid characters.
    """
    if isinstance(boundary, str):
        try:
            boundary = boundary.encode("ascii")
        except UnicodeEncodeError:
            raise BadRequest("Invalid multipart boundary") from None
    if not boundary:
        raise BadRequest("Missing multipart boundary")
    if (
        len(boundary) > _MAX_BOUNDARY_LENGTH
        or boundary.endswith(b" ")
        or not _BOUNDARY_CHARS.issuperset(boundary)
    ):
        raise BadRequest("Invalid multipart boundary")
    return boundary


class MultipartParser:
    """Incremental parser for one ``multipart/form-data`` body.

    Feed it the body in chunks of any size, then call ``close`` once the body
    has ended to check that it was complete.

    Args:
        boundary: The ``boundary`` parameter of the request's Content-Type.
        max_part_header_size: Most bytes a part's header block may take; more
            raises 431.

    Raises:
        BadRequest: The boundary is missing or invalid.
    """

    __slots__ = ("_buffer", "_delimiter", "_max_header_size", "_scanned", "_state")

    def __init__(
        self,
        boundary: str | bytes,
        *,
        max_part_header_size: int = DEFAULT_MAX_PART_HEADER_SIZE,
    ) -> None:
        self._delimiter = b"\r\n--" + validate_boundary(boundary)
        self._max_header_size = max_part_header_size
        # The body may open with the delimiter without a CRLF before it;
        # a virtual CRLF lets one search handle both the first and later ones.
        self._buffer = bytearray(b"\r\n")
        self._scanned = 0  # bytes of a pending header block already searched
        self._state = _State.PREAMBLE

    @property
    def complete(self) -> bool:
        """Whether the closing delimiter has been read."""
        return self._state is _State.EPILOGUE

    def feed(self, chunk: bytes) -> list[Event]:
        """Parse ``chunk`` and return the events it completes, in order.

        Raises:
            BadRequest: The body is malformed.
            RequestHeaderFieldsTooLarge: A part's header block is too large.
        """
        buffer = self._buffer
        buffer += chunk
        events: list[Event] = []
        pos, progressed = 0, True
        while progressed:
            if self._state is _State.EPILOGUE:
                buffer.clear()  # the epilogue is ignored, never kept
                return events
            if self._state is _State.HEADERS:
                pos, progressed = self._parse_headers(buffer, pos, events)
            else:
                pos, progressed = self._parse_body(buffer, pos, events)
        # Deleting a bytearray's head is O(1) in CPython: no copy of the rest.
        del buffer[:pos]
        return events

    def close(self) -> None:
        """Declare the end of the body.

        Raises:
            BadRequest: The body ended before the closing delimiter.
        """
        if self._state is not _State.EPILOGUE:
            raise BadRequest("Multipart body is truncated (no closing boundary)")

    def _parse_body(self, buffer: bytearray, pos: int, events: list[Event]) -> tuple[int, bool]:
        """Consume a part's body (or the preamble) from ``pos`` up to the next delimiter.

        Returns the position reached and whether the state changed.
        """
        delimiter = self._delimiter
        in_part = self._state is _State.BODY
        search_from = pos
        while True:
            index = buffer.find(delimiter, search_from)
            if index == -1:
                keep = self._partial_delimiter_start(buffer, pos)
                break
            match, end = _match_delimiter(buffer, index + len(delimiter))
            if match is _Match.NOT_DELIMITER:
                search_from = index + 1
                continue
            if match is _Match.NEED_MORE:
                keep = index
                break
            if in_part:
                if index > pos:
                    events.append(PartData(_take(buffer, pos, index)))
                events.append(PartEnd())
            if match is _Match.CLOSE:
                events.append(MessageEnd())
                self._state = _State.EPILOGUE
            else:
                self._state = _State.HEADERS
            return end, True
        if in_part and keep > pos:
            events.append(PartData(_take(buffer, pos, keep)))
        return keep, False

    def _partial_delimiter_start(self, buffer: bytearray, pos: int) -> int:
        """Return where a delimiter may begin at the end of ``buffer``, else its length.

        The delimiter holds a single CR (its first byte; boundaries cannot hold
        one), so only the last CR near the end can start a partial match.
        """
        start = max(pos, len(buffer) - len(self._delimiter) + 1)
        cr = buffer.rfind(b"\r", start)
        if cr != -1 and self._delimiter.startswith(buffer[cr:]):
            return cr
        return len(buffer)

    def _parse_headers(self, buffer: bytearray, pos: int, events: list[Event]) -> tuple[int, bool]:
        """Read a part's header block at ``pos`` once it is complete.

        Returns the position reached and whether the block was complete.
        """
        if buffer.startswith(b"\r\n", pos):  # a part without headers
            block_end, end = pos, pos + 2
        else:
            # Resume where the last call stopped, and look no further than a
            # block of the largest allowed size could end.
            limit = pos + self._max_header_size + 4
            block_end = buffer.find(b"\r\n\r\n", pos + max(0, self._scanned - 3), limit)
            if block_end == -1:
                if len(buffer) >= limit:
                    raise RequestHeaderFieldsTooLarge("Multipart part headers are too large")
                self._scanned = len(buffer) - pos
                return pos, False
            end = block_end + 4
        events.append(PartStart(_parse_header_block(_take(buffer, pos, block_end))))
        self._scanned = 0
        self._state = _State.BODY
        return end, True


def _take(buffer: bytearray, start: int, stop: int) -> bytes:
    """Copy ``buffer[start:stop]`` once, as bytes."""
    with memoryview(buffer) as view:
        return view[start:stop].tobytes()


def _match_delimiter(buffer: bytearray, after: int) -> tuple[_Match, int]:
    """Classify what follows a delimiter that ends just before ``after``.

    Returns the verdict and, for a real delimiter, where the next state's bytes
    begin. A delimiter is followed by ``--`` (the close delimiter) or by
    optional transport padding and CRLF; anything else means the bytes were
    data that merely looked like a delimiter.
    """
    rest = bytes(buffer[after : after + _MAX_TRANSPORT_PADDING + 2])
    if rest.startswith(b"--"):
        return _Match.CLOSE, after + 2
    if rest in (b"", b"-"):
        return _Match.NEED_MORE, after
    padding = len(rest) - len(rest.lstrip(b" \t"))
    if padding > _MAX_TRANSPORT_PADDING:
        return _Match.NOT_DELIMITER, after
    tail = rest[padding:]
    if tail.startswith(b"\r\n"):
        return _Match.NEXT_PART, after + padding + 2
    if tail in (b"", b"\r"):
        return _Match.NEED_MORE, after
    return _Match.NOT_DELIMITER, after


def _parse_header_block(block: bytes) -> Headers:
    """Parse CRLF-separated ``Name: value`` lines into lower-cased ``Headers``."""
    if not block:
        return Headers.from_lowercase([])
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        # Old clients send Latin-1 file names; latin-1 decodes any byte.
        text = block.decode("latin-1")
    items: list[tuple[str, str]] = []
    for line in text.split("\r\n"):
        name, colon, value = line.partition(":")
        if not colon:
            raise BadRequest("Malformed multipart part header (no colon)")
        if not name or not _TOKEN_EXCLUDED.isdisjoint(name) or not name.isprintable():
            raise BadRequest("Malformed multipart part header name")
        if "\r" in value or "\n" in value or "\x00" in value:
            raise BadRequest("Malformed multipart part header value")
        items.append((name.lower(), value.strip(" \t")))
    return Headers.from_lowercase(items)


def parse_content_disposition(value: str) -> tuple[str, dict[str, str]]:
    """Split a part's Content-Disposition into its lower-cased type and parameters.

    :func:`~satchel.datastructures.parse_options_header` with the form-data rules:
    parameter names are lower-cased and the first occurrence wins; in quoted values
    only ``\\"`` and ``\\\\`` are escapes and any other backslash is kept, so a Windows
    path sent as a file name (``"C:\\dir\\a.txt"``) keeps its separators; only spaces
    and tabs (RFC 9110 OWS) are trimmed. One linear pass.

    >>> parse_content_disposition('form-data; name="a\\\\"b"; filename="C:\\\\x\\\\y.txt"')
    ('form-data', {'name': 'a"b', 'filename': 'C:\\\\x\\\\y.txt'})
    """
    return parse_options_header(value, keep_unknown_escapes=True, strip_chars=" \t")

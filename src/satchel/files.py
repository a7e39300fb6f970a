"""Sending files: conditional and range requests, safe downloads, safe paths.

:class:`FileResponse` sends a file the developer names, answering validators
(ETag, Last-Modified) with 304 or 412 and single byte ranges with 206.
:func:`safe_join` turns a path that came from the user into a file under a root
directory, or ``None`` when it would escape it. FileResponse itself trusts its
path: pass user input through ``safe_join`` first.
"""

from __future__ import annotations

import mimetypes
import os
import re
import stat
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote

from satchel.errorpages import http_error_response
from satchel.errors import NotFound
from satchel.httpdate import format_http_date, parse_http_date
from satchel.responses import FileResponseBase, HeadersInput
from satchel.threads import run_in_thread

if TYPE_CHECKING:
    from satchel.datastructures import Headers
    from satchel.requests import Request

__all__ = [
    "MAX_RANGE_HEADER",
    "FileResponse",
    "content_disposition_value",
    "guess_media_type",
    "safe_join",
]

#: A Range header longer than this is ignored (the whole file is sent): no real
#: client needs it, and it bounds the parsing work a hostile header can cause.
MAX_RANGE_HEADER = 1024

_OWS = " \t"
# RFC 9110 entity-tag; [^"]* cannot backtrack, so matching stays linear.
_ENTITY_TAG = re.compile(r'(W/)?"([^"]*)"')
# Content types for files that mimetypes sees as "compressed X": the bytes on
# disk are the archive, so that is what the client receives.
_ARCHIVE_TYPES = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "br": "application/x-brotli",
    "compress": "application/x-compress",
}
# Headers that describe a body; a 304, 412 or 416 answer has none to describe.
_BODY_HEADERS = frozenset(
    {"content-type", "content-disposition", "content-encoding", "content-language", "content-range"}
)
# FIFOs would block open() until a writer appears; with O_NONBLOCK open returns
# and fstat shows they are not regular files.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
# Windows opens these devices whatever the directory or extension ("nul.txt").
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {prefix + digit for prefix in ("COM", "LPT") for digit in "123456789\u00b9\u00b2\u00b3"}
)
# The attr-char set of RFC 5987 beyond what quote() always keeps.
_ATTR_CHARS = "!#$&+^`|"


class _RangeNotSatisfiable(Exception):
    """The Range header asks only for bytes the file does not have."""


class FileResponse(FileResponseBase):
    """A file sent from disk, with validators, conditional and range requests.

    The file is checked when the response is sent, off the event loop: if it is
    missing, not a regular file or unreadable, the answer is the app's default
    404. With ``status_code`` 200 the response answers ``If-None-Match``,
    ``If-Modified-Since`` (304), ``If-Match``, ``If-Unmodified-Since`` (412),
    and a single byte range in ``Range`` (206 or 416; ``If-Range`` honoured).
    Several ranges get the whole file (multipart/byteranges is not supported).

    The path is trusted as given: build it from user input only with
    :func:`safe_join`.

    Args:
        path: The file to send.
        status_code: The status; conditional and range handling apply to 200 only.
        headers: Extra headers; an ``ETag`` or ``Last-Modified`` given here replaces
            the computed one.
        media_type: The Content-Type; guessed from ``filename`` or ``path`` when
            None; ``charset=utf-8`` is added to ``text/*`` types.
        filename: The name the browser saves the file as (Content-Disposition).
        content_disposition: ``"attachment"`` (download) or ``"inline"`` (show);
            defaults to ``"attachment"`` when ``filename`` is given.
        stat_result: The file's ``os.stat`` result, if already known; the file
            is then not checked again.

    >>> r = FileResponse("report.pdf", filename="Report 2024.pdf")
    >>> r.headers["content-type"], r.headers["content-disposition"]
    ('application/pdf', 'attachment; filename="Report 2024.pdf"')
    """

    __slots__ = ("path", "stat_result")

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        status_code: int = 200,
        headers: HeadersInput = None,
        media_type: str | None = None,
        filename: str | None = None,
        content_disposition: Literal["attachment", "inline"] | None = None,
        stat_result: os.stat_result | None = None,
    ) -> None:
        self.path = os.fspath(path)
        if media_type is None:
            media_type = guess_media_type(filename or self.path)
        super().__init__(b"", status_code, headers, media_type)
        if (filename is not None or content_disposition is not None) and not self._has(
            "content-disposition"
        ):
            header = content_disposition_value(content_disposition or "attachment", filename)
            self._headers.append(("content-disposition", header))
        self.stat_result = stat_result

    def _has(self, name: str) -> bool:
        return any(n == name for n, _ in self._headers)

    def _get(self, name: str) -> str | None:
        return next((v for n, v in self._headers if n == name), None)

    async def prepare(self, request: Request) -> tuple[str, int, int] | None:
        """Settle status and headers for ``request``; return the byte range to send.

        Returns:
            ``(path, start, end)`` with ``end`` exclusive, or None when the body
            is ``self.body`` instead (304, 412, 416, 404, an empty file).
        """
        result = self.stat_result
        if result is None:
            try:
                result = await run_in_thread(_stat_opened, self.path)
            except (OSError, ValueError):
                result = None
        if result is None or not stat.S_ISREG(result.st_mode):
            self._become_not_found(request)
            return None
        size = result.st_size
        etag, mtime = self._add_validators(result)
        if self.status_code != 200:
            return self._whole_file(size)
        headers = request.headers
        status = _precondition_status(headers, request.method, etag, mtime)
        if status is not None:
            self._become_empty(status)
            return None
        try:
            byte_range = _requested_range(headers, request.method, size, etag, mtime)
        except _RangeNotSatisfiable:
            self._become_empty(416)
            self._headers.append(("content-range", f"bytes */{size}"))
            return None
        if byte_range is None:
            return self._whole_file(size)
        start, end = byte_range
        self.status_code = 206
        self._headers.append(("content-range", f"bytes {start}-{end - 1}/{size}"))
        return self.path, start, end

    def _add_validators(self, result: os.stat_result) -> tuple[str, int]:
        etag = self._get("etag")
        if etag is None:
            etag = f'"{result.st_mtime_ns:x}-{result.st_size:x}"'
            self._headers.append(("etag", etag))
        last_modified = self._get("last-modified")
        mtime = parse_http_date(last_modified) if last_modified is not None else None
        if mtime is None:
            mtime = int(result.st_mtime)
        if last_modified is None:
            self._headers.append(("last-modified", format_http_date(mtime)))
        if not self._has("accept-ranges"):
            self._headers.append(("accept-ranges", "bytes"))
        return etag, mtime

    def _whole_file(self, size: int) -> tuple[str, int, int] | None:
        # Granian refuses an empty range, so an empty file goes out as an empty body.
        if size == 0:
            return None
        return self.path, 0, size

    def _become_empty(self, status: int) -> None:
        self.status_code = status
        self.body = b""
        self._headers[:] = [(n, v) for n, v in self._headers if n not in _BODY_HEADERS]

    def _become_not_found(self, request: Request) -> None:
        # The developer's headers (a long Cache-Control, say) must not ride on a 404.
        error = http_error_response(request, NotFound())
        self.status_code = error.status_code
        self.body = error.body
        self._headers[:] = error.header_list


def _stat_opened(path: str) -> os.stat_result:
    # Opening (not just stat-ing) proves the file is readable before any header is sent.
    fd = os.open(path, _OPEN_FLAGS)
    try:
        return os.fstat(fd)
    finally:
        os.close(fd)


# -- conditional requests (RFC 9110 section 13) ----------------------------------------------


def _precondition_status(headers: Headers, method: str, etag: str, mtime: int) -> int | None:
    """Return 412 or 304 when a precondition decides the answer, else None."""
    if _precondition_failed(headers, etag, mtime):
        return 412
    safe = method in ("GET", "HEAD")
    if_none_match = _joined(headers, "if-none-match")
    if if_none_match is not None:
        if _etag_matches(if_none_match, etag, weak=True):
            return 304 if safe else 412
        return None
    since = headers.get("if-modified-since")
    if safe and since is not None:
        date = parse_http_date(since)
        if date is not None and mtime <= date:
            return 304
    return None


def _precondition_failed(headers: Headers, etag: str, mtime: int) -> bool:
    if_match = _joined(headers, "if-match")
    if if_match is not None:
        return not _etag_matches(if_match, etag, weak=False)
    since = headers.get("if-unmodified-since")
    if since is None:
        return False
    date = parse_http_date(since)
    return date is not None and mtime > date


def _joined(headers: Headers, name: str) -> str | None:
    values = headers.getall(name)
    return ",".join(values) if values else None


def _etag_matches(header: str, etag: str, *, weak: bool) -> bool:
    """Whether the list in ``header`` matches ``etag`` (weak or strong comparison)."""
    if header.strip(_OWS) == "*":
        return True
    ours_weak = etag.startswith("W/")
    if ours_weak and not weak:
        return False
    opaque = etag[2:] if ours_weak else etag
    for match in _ENTITY_TAG.finditer(header):
        if f'"{match[2]}"' == opaque and (weak or not match[1]):
            return True
    return False


# -- range requests (RFC 9110 section 14) ---------------------------------------------------


def _requested_range(
    headers: Headers, method: str, size: int, etag: str, mtime: int
) -> tuple[int, int] | None:
    """The single byte range to send, or None for the whole file.

    Raises:
        _RangeNotSatisfiable: the range starts beyond the end of the file.
    """
    if method not in ("GET", "HEAD"):
        return None
    values = headers.getall("range")
    if len(values) != 1:
        return None
    if_range = headers.get("if-range")
    if if_range is not None and not _if_range_matches(if_range, etag, mtime):
        return None
    return _parse_range(values[0], size)


def _if_range_matches(value: str, etag: str, mtime: int) -> bool:
    value = value.strip(_OWS)
    if value.startswith(("W/", '"')):
        # If-Range needs a strong match: a weak tag never allows a range.
        return not value.startswith("W/") and not etag.startswith("W/") and value == etag
    return parse_http_date(value) == mtime


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """Parse a Range header holding one byte range of a ``size``-byte file.

    Returns ``(start, end)`` with ``end`` exclusive, or None to ignore the header
    (another unit, several ranges, bad syntax, or longer than MAX_RANGE_HEADER).
    The work is linear in the header's length.

    Raises:
        _RangeNotSatisfiable: no byte of the range exists.
    """
    if len(header) > MAX_RANGE_HEADER:
        return None
    unit, equals, ranges = header.partition("=")
    if not equals or unit.strip(_OWS).lower() != "bytes":
        return None
    specs = [spec for spec in (part.strip(_OWS) for part in ranges.split(",")) if spec]
    if len(specs) != 1:
        return None
    first, dash, last = specs[0].partition("-")
    if not dash or not _is_digits(last, empty_ok=bool(first)):
        return None
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise _RangeNotSatisfiable()
        return max(size - suffix, 0), size
    if not _is_digits(first, empty_ok=False):
        return None
    start = int(first)
    end = int(last) + 1 if last else size
    if last and end <= start:
        return None
    if start >= size:
        raise _RangeNotSatisfiable()
    return start, min(end, size)


def _is_digits(text: str, *, empty_ok: bool) -> bool:
    if not text:
        return empty_ok
    return text.isascii() and text.isdigit()


# -- headers --------------------------------------------------------------------------------


def guess_media_type(name: str) -> str:
    """Guess a file's media type from its name (``application/octet-stream`` if unknown)."""
    media_type, encoding = mimetypes.guess_type(os.path.basename(name))
    if encoding is not None:
        return _ARCHIVE_TYPES.get(encoding, "application/octet-stream")
    return media_type or "application/octet-stream"


def content_disposition_value(
    disposition: Literal["attachment", "inline"], filename: str | None
) -> str:
    """Build a Content-Disposition value that is safe for any ``filename``.

    The ``filename`` parameter holds an ASCII fallback without quotes,
    backslashes, semicolons, slashes, percent signs or control characters;
    ``filename*`` (RFC 5987) carries the exact name when the fallback differs.

    >>> content_disposition_value("attachment", 'caf\u00e9 "menu".pdf')
    'attachment; filename="cafe _menu_.pdf"; filename*=UTF-8\\'\\'caf%C3%A9%20%22menu%22.pdf'
    """
    if disposition not in ("attachment", "inline"):
        raise ValueError("content_disposition must be 'attachment' or 'inline'")
    if filename is None:
        return disposition
    fallback = _ascii_filename(filename)
    value = f'{disposition}; filename="{fallback}"'
    if fallback != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe=_ATTR_CHARS)}"
    return value


def _ascii_filename(filename: str) -> str:
    chars = []
    for char in unicodedata.normalize("NFKD", filename):
        if unicodedata.combining(char) or unicodedata.category(char) in ("Cc", "Cf"):
            continue
        if char.isascii() and char.isprintable() and char not in '"\\;/%':
            chars.append(char)
        else:
            chars.append("_")
    return "".join(chars).strip() or "download"


# -- paths ----------------------------------------------------------------------------------


def safe_join(root: str | os.PathLike[str], untrusted: str) -> Path | None:
    """Join a user-supplied relative path to ``root``; None if it could escape it.

    ``untrusted`` must already be percent-decoded (route parameters are), and
    is refused when it is absolute, holds ``..`` segments, backslashes, colons
    (drive letters, NTFS streams), control characters or NUL, names a Windows
    device (``CON``, ``NUL``, ``COM1``, ...), has a segment ending in a dot or
    space, or resolves, through symlinks, outside ``root``. The result is the
    resolved path; whether it exists is not checked. Resolving touches the
    file system (it follows symlinks).

    >>> safe_join("/srv/files", "docs/a.txt") is not None
    True
    >>> safe_join("/srv/files", "../etc/passwd") is None
    True
    """
    if untrusted.startswith("/"):
        return None
    segments = [segment for segment in untrusted.split("/") if segment not in ("", ".")]
    if not all(_is_safe_segment(segment) for segment in segments):
        return None
    try:
        base = Path(root).resolve()
        target = base.joinpath(*segments).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    return target if target.is_relative_to(base) else None


def _is_safe_segment(segment: str) -> bool:
    if segment == ".." or any(c in segment for c in "\\:") or not segment.isprintable():
        return False
    if segment.rstrip(". ") != segment:
        return False
    stem = segment.split(".", 1)[0].rstrip(" ").upper()
    return stem not in _WINDOWS_DEVICES

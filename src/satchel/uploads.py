"""Uploaded files: ``UploadFile`` and the file-name rules for multipart parts.

An ``UploadFile`` keeps its content in a ``tempfile.SpooledTemporaryFile``:
in memory up to ``spool_max_size`` bytes, on disk beyond. Its async methods
run disk work in a worker thread, and in-memory work inline (a thread hop
would cost more than the copy).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from urllib.parse import unquote_to_bytes

from satchel.datastructures import Headers
from satchel.defaults import SPOOL_MAX_SIZE as DEFAULT_SPOOL_MAX_SIZE
from satchel.threads import run_in_thread_shielded

__all__ = [
    "DEFAULT_SPOOL_MAX_SIZE",
    "UploadFile",
    "filename_from_params",
    "sanitize_filename",
]


# C0 controls, DEL and C1 controls never belong in a file name.
_CONTROL_CHARS = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0)])
_RFC5987_CHARSETS = {"utf-8": "utf-8", "iso-8859-1": "latin-1"}


def sanitize_filename(name: str) -> str:
    """Reduce a client-sent file name to a bare name safe to show or log.

    Directory components are stripped (both ``/`` and ``\\``), control
    characters removed, surrounding whitespace trimmed; ``.`` and ``..``
    become the empty string. The result is still client data: never use it
    as a path without your own checks.

    >>> sanitize_filename("../../etc/passwd"), sanitize_filename("C:\\\\x\\\\y.txt")
    ('passwd', 'y.txt')
    """
    name = name.translate(_CONTROL_CHARS)
    name = name.rpartition("/")[2].rpartition("\\")[2].strip()
    return "" if name in (".", "..") else name


def filename_from_params(params: Mapping[str, str]) -> str | None:
    """Return the sanitized file name from Content-Disposition parameters.

    ``filename*`` (RFC 5987, ``UTF-8''...`` or ``ISO-8859-1''...``) takes
    precedence over ``filename`` when it decodes; ``None`` if there is neither.

    >>> filename_from_params({"filename": "a.txt", "filename*": "UTF-8''%E2%82%AC.txt"})
    '€.txt'
    """
    extended = params.get("filename*")
    if extended is not None:
        decoded = _decode_rfc5987(extended)
        if decoded is not None:
            return sanitize_filename(decoded)
    plain = params.get("filename")
    return None if plain is None else sanitize_filename(plain)


def _decode_rfc5987(value: str) -> str | None:
    """Decode ``charset'language'percent-encoded``; ``None`` if it is malformed."""
    charset, sep, rest = value.partition("'")
    _language, sep2, encoded = rest.partition("'")
    codec = _RFC5987_CHARSETS.get(charset.strip().lower())
    if not sep or not sep2 or codec is None:
        return None
    try:
        return unquote_to_bytes(encoded).decode(codec)
    except UnicodeDecodeError:
        return None


class UploadFile:
    """A file uploaded in a multipart form.

    Args:
        filename: The sanitized client file name (``None`` if the part had none).
        content_type: The part's Content-Type.
        headers: All of the part's headers.
        spool_max_size: Bytes kept in memory before the content moves to disk.

    Attributes:
        filename: The sanitized client file name, or ``None``.
        content_type: The part's Content-Type (``application/octet-stream`` if absent).
        headers: The part's headers.
        size: Bytes written so far.
        file: The underlying ``SpooledTemporaryFile``; prefer the async methods.
    """

    __slots__ = ("content_type", "file", "filename", "headers", "size", "spool_max_size")

    def __init__(
        self,
        *,
        filename: str | None,
        content_type: str = "application/octet-stream",
        headers: Headers | None = None,
        spool_max_size: int = DEFAULT_SPOOL_MAX_SIZE,
    ) -> None:
        self.filename = filename
        self.content_type = content_type
        self.headers = headers if headers is not None else Headers()
        self.size = 0
        self.spool_max_size = spool_max_size
        # The upload owns the file for its whole life, closed by close(): no `with`.
        self.file: tempfile.SpooledTemporaryFile[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=spool_max_size, mode="w+b"
        )
        if spool_max_size == 0:
            # SpooledTemporaryFile treats 0 as "never roll over"; 0 here means "always on disk".
            self.file.rollover()

    @property
    def in_memory(self) -> bool:
        """Whether the content is still held in memory (not rolled over to disk)."""
        # `_rolled` is the stdlib's own flag; if it ever disappears, assume disk
        # so that blocking work stays off the event loop.
        return not getattr(self.file, "_rolled", True)

    @property
    def closed(self) -> bool:
        """Whether ``close`` has been called."""
        return self.file.closed

    def _will_touch_disk(self, added: int = 0) -> bool:
        # A write that crosses spool_max_size rolls the whole buffer to disk.
        return not self.in_memory or self.file.tell() + added > self.spool_max_size

    async def write(self, data: bytes) -> int:
        """Append ``data`` at the current position; return the bytes written."""
        if self._will_touch_disk(len(data)):
            written = await run_in_thread_shielded(self.file.write, data)
        else:
            written = self.file.write(data)
        self.size += written
        return written

    async def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all that remain if negative)."""
        if self.in_memory:
            return self.file.read(size)
        return await run_in_thread_shielded(self.file.read, size)

    async def seek(self, offset: int, whence: int = 0) -> int:
        """Move to ``offset`` (relative to ``whence``, as ``io`` does); return the position."""
        if self.in_memory:
            return self.file.seek(offset, whence)
        return await run_in_thread_shielded(self.file.seek, offset, whence)

    async def close(self) -> None:
        """Close the file and delete its temporary file; safe to call more than once."""
        if self.file.closed:
            return
        if self.in_memory:
            self.file.close()
        else:
            await run_in_thread_shielded(self.file.close)

    def close_now(self) -> None:
        """Close synchronously, for cleanup paths that must not await.

        Cheap even on disk: the temporary file is already unlinked, so this only
        releases its descriptor.
        """
        self.file.close()

    def __repr__(self) -> str:
        return (
            f"UploadFile(filename={self.filename!r}, content_type={self.content_type!r}, "
            f"size={self.size})"
        )

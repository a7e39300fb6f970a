"""Form bodies: ``application/x-www-form-urlencoded`` and streamed ``multipart/form-data``.

Both parsers enforce ``FormLimits`` while they read, so an oversized or
hostile form is refused (413, or 400 when malformed) before it costs much:
the multipart parser stops pulling the stream as soon as a limit is crossed,
and closes every upload it created when anything goes wrong.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from urllib.parse import unquote_plus

from satchel.charsets import resolve_charset
from satchel.datastructures import Headers, MultiDict, parse_options_header
from satchel.errors import BadRequest, PayloadTooLarge
from satchel.limits import FormLimits
from satchel.multipart import (
    Event,
    MultipartParser,
    PartData,
    PartEnd,
    PartStart,
    parse_content_disposition,
)
from satchel.uploads import UploadFile, filename_from_params

__all__ = ["FormData", "FormLimits", "parse_multipart", "parse_urlencoded", "resolve_charset"]


class FormData(MultiDict[str | UploadFile]):
    """A parsed form: text fields as ``str``, file parts as ``UploadFile``.

    Close it (``await form.close()`` or ``async with form:``) to delete the
    uploads' temporary files.
    """

    __slots__ = ()

    def fields(self) -> list[tuple[str, str]]:
        """Return the text fields as ``(name, value)`` pairs, in order."""
        return [(k, v) for k, v in self.multi_items() if isinstance(v, str)]

    def files(self) -> list[tuple[str, UploadFile]]:
        """Return the uploaded files as ``(name, file)`` pairs, in order."""
        return [(k, v) for k, v in self.multi_items() if isinstance(v, UploadFile)]

    async def close(self) -> None:
        """Close every upload; safe to call more than once."""
        for _, upload in self.files():
            await upload.close()

    async def __aenter__(self) -> FormData:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


def parse_urlencoded(body: bytes, *, limits: FormLimits, charset: str = "utf-8") -> FormData:
    """Parse an ``application/x-www-form-urlencoded`` body.

    Pairs without ``=`` get an empty value; empty pairs are skipped.

    Raises:
        PayloadTooLarge: The body is larger than ``max_body_size`` or has more
            than ``max_fields`` pairs.
        BadRequest: The body does not decode with ``charset``, or the charset is unknown.
    """
    if len(body) > limits.max_body_size:
        raise PayloadTooLarge(f"Form body larger than {limits.max_body_size} bytes")
    charset = resolve_charset(charset)
    try:
        text = body.decode(charset)
        items = [
            (unquote_plus(name, charset, "strict"), unquote_plus(value, charset, "strict"))
            for name, _, value in _split_pairs(text, limits.max_fields)
        ]
    except UnicodeDecodeError:
        raise BadRequest(f"Form body is not valid {charset}") from None
    return FormData(items)


def _split_pairs(text: str, max_fields: int) -> Iterator[tuple[str, str, str]]:
    """Yield ``name``, ``=``, ``value`` for each non-empty ``&``-separated pair.

    Raises:
        PayloadTooLarge: There are more than ``max_fields`` pairs (checked
            before any is decoded).
    """
    pairs = [pair for pair in text.split("&") if pair]
    if len(pairs) > max_fields:
        raise PayloadTooLarge(f"Too many form fields (limit {max_fields})")
    for pair in pairs:
        yield pair.partition("=")


async def parse_multipart(
    chunks: AsyncIterator[bytes],
    *,
    boundary: str,
    limits: FormLimits,
    charset: str = "utf-8",
) -> FormData:
    """Parse a streamed ``multipart/form-data`` body.

    Text parts become ``str`` (decoded with the part's Content-Type charset,
    else the form's ``_charset_`` field, else ``charset``); parts with a file
    name become ``UploadFile`` objects spooled to disk beyond
    ``limits.spool_max_size``. Reading stops at the closing delimiter; the
    epilogue is not read.

    Raises:
        PayloadTooLarge: A limit of ``limits`` was crossed; the rest of
            ``chunks`` is not read.
        RequestHeaderFieldsTooLarge: A part's header block is larger than
            ``limits.max_part_header_size``.
        BadRequest: The body or a part is malformed, truncated or badly encoded.
    """
    parser = MultipartParser(boundary, max_part_header_size=limits.max_part_header_size)
    builder = _FormBuilder(limits, resolve_charset(charset))
    consumed = 0
    try:
        async for chunk in chunks:
            consumed += len(chunk)
            if consumed > limits.max_upload_size:
                raise PayloadTooLarge(f"Upload larger than {limits.max_upload_size} bytes")
            for event in parser.feed(chunk):
                await builder.handle(event)
            if parser.complete:
                break
        parser.close()
    except BaseException:
        # Synchronous on purpose: this also runs on cancellation, where an
        # await could be interrupted and leave a temporary file open.
        builder.discard()
        raise
    return FormData(builder.items)


class _FormBuilder:
    """Turns parser events into form items, enforcing the limits."""

    __slots__ = (
        "_charset",
        "_field_bytes",
        "_field_count",
        "_file_count",
        "_limits",
        "_name",
        "_part_charset",
        "_text",
        "_upload",
        "items",
    )

    def __init__(self, limits: FormLimits, charset: str) -> None:
        self._limits = limits
        self._charset = charset
        self._field_bytes = 0
        self._field_count = 0
        self._file_count = 0
        self._name = ""
        self._part_charset: str | None = None  # the current text part's own charset
        self._text: bytearray | None = None  # the current text part's bytes
        self._upload: UploadFile | None = None  # the current file part
        self.items: list[tuple[str, str | UploadFile]] = []

    async def handle(self, event: Event) -> None:
        """Apply one parser event."""
        if isinstance(event, PartData):
            await self._add_data(event.data)
        elif isinstance(event, PartStart):
            self._start_part(event.headers)
        elif isinstance(event, PartEnd):
            await self._end_part()

    def discard(self) -> None:
        """Close every upload created so far."""
        for _, value in self.items:
            if isinstance(value, UploadFile):
                value.close_now()

    def _start_part(self, headers: Headers) -> None:
        disposition, params = parse_content_disposition(headers.get("content-disposition", ""))
        if disposition != "form-data":
            raise BadRequest("Multipart part without Content-Disposition: form-data")
        name = params.get("name")
        if name is None:
            raise BadRequest("Multipart part without a name")
        self._name = name
        filename = filename_from_params(params)
        if filename is None:
            self._field_count += 1
            if self._field_count > self._limits.max_fields:
                raise PayloadTooLarge(f"Too many form fields (limit {self._limits.max_fields})")
            content_type = headers.get("content-type")
            charset = parse_options_header(content_type)[1].get("charset") if content_type else None
            self._part_charset = resolve_charset(charset) if charset else None
            self._text = bytearray()
            return
        self._file_count += 1
        if self._file_count > self._limits.max_files:
            raise PayloadTooLarge(f"Too many uploaded files (limit {self._limits.max_files})")
        self._upload = UploadFile(
            filename=filename,
            content_type=headers.get("content-type", "application/octet-stream"),
            headers=headers,
            spool_max_size=self._limits.spool_max_size,
        )
        # Listed at once, so that cleanup on error finds it.
        self.items.append((name, self._upload))

    async def _add_data(self, data: bytes) -> None:
        if self._upload is not None:
            await self._upload.write(data)
            return
        if self._text is not None:
            self._field_bytes += len(data)
            if self._field_bytes > self._limits.max_body_size:
                raise PayloadTooLarge(
                    f"Form fields larger than {self._limits.max_body_size} bytes in total"
                )
            self._text += data

    async def _end_part(self) -> None:
        if self._upload is not None:
            await self._upload.seek(0)
            self._upload = None
            return
        if self._text is not None:
            value = self._decode(bytes(self._text))
            self._text = None
            if self._name == "_charset_":
                # HTML's hidden `_charset_` field names the encoding of the other fields.
                self._charset = resolve_charset(value)
            self.items.append((self._name, value))

    def _decode(self, data: bytes) -> str:
        charset = self._part_charset or self._charset
        try:
            return data.decode(charset)
        except UnicodeDecodeError:
            raise BadRequest(f"Form field {self._name!r} is not valid {charset}") from None

"""Limits on what a request body may hold, shared by the request and the form parsers."""

from __future__ import annotations

from dataclasses import dataclass, fields

from satchel.errors import ConfigurationError

__all__ = ["FormLimits"]


@dataclass(frozen=True, slots=True)
class FormLimits:
    """Limits applied while parsing a form body.

    Attributes:
        max_body_size: Bytes of non-file data kept in memory: a whole urlencoded
            body, or the sum of a multipart form's text fields.
        max_upload_size: Bytes of a whole multipart body.
        max_fields: Text fields (multipart text parts, urlencoded pairs).
        max_files: File parts of a multipart form.
        max_part_header_size: Bytes of one multipart part's header block (more gives 431).
        spool_max_size: Bytes of an upload kept in memory before it moves to disk.
    """

    max_body_size: int = 2_621_440
    max_upload_size: int = 104_857_600
    max_fields: int = 1000
    max_files: int = 100
    max_part_header_size: int = 16_384
    spool_max_size: int = 1_048_576

    def __post_init__(self) -> None:
        for limit in fields(self):
            if getattr(self, limit.name) < 0:
                raise ConfigurationError(f"FormLimits.{limit.name} must not be negative")

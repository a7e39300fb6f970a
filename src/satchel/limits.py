"""Limits on what a request body may hold, shared by the request and the form parsers."""

from __future__ import annotations

from dataclasses import dataclass, fields

from satchel import defaults
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

    max_body_size: int = defaults.MAX_BODY_SIZE
    max_upload_size: int = defaults.MAX_UPLOAD_SIZE
    max_fields: int = defaults.MAX_FORM_FIELDS
    max_files: int = defaults.MAX_FORM_FILES
    max_part_header_size: int = defaults.MAX_PART_HEADER_SIZE
    spool_max_size: int = defaults.SPOOL_MAX_SIZE

    def __post_init__(self) -> None:
        for limit in fields(self):
            if getattr(self, limit.name) < 0:
                raise ConfigurationError(f"FormLimits.{limit.name} must not be negative")

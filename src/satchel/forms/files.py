"""``FileField``: an uploaded file, checked for size and declared type."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Unpack

from satchel.forms.fields import Field, InputOptions
from satchel.forms.validators import ContentType, FileSize, Validator
from satchel.uploads import UploadFile

if TYPE_CHECKING:
    from satchel.forms.bound import BoundField

__all__ = ["FileField"]


class FileField(Field[UploadFile]):
    """An uploaded file (``<input type="file">``); the value is the request's ``UploadFile``.

    The form must be sent as ``multipart/form-data`` (``enctype="{{ form.enctype }}"``).
    The upload is closed with the request: read or store it in the handler.

    Args:
        max_size: The most bytes accepted (the app's upload limit applies first).
        content_types: The declared types accepted, like ``("image/png", "image/*")``;
            they also fill the input's ``accept``. The type is the client's claim:
            check the content before trusting it.
    """

    input_type: ClassVar[str] = "file"
    rerender: ClassVar[bool] = False
    default_messages: ClassVar[Mapping[str, str]] = {
        "invalid": "Upload a file (the form must be sent as multipart/form-data).",
        "single": "Upload a single file.",
    }

    def __init__(
        self,
        label: str | None = None,
        *,
        max_size: int | None = None,
        content_types: Iterable[str] | None = None,
        **options: Unpack[InputOptions[UploadFile]],
    ) -> None:
        self.max_size = max_size
        self.content_types = tuple(content_types) if content_types is not None else None
        builtin: list[Validator] = []
        if max_size is not None:
            builtin.append(FileSize(max_size))
        if self.content_types is not None:
            builtin.append(ContentType(self.content_types))
        options["validators"] = [*builtin, *options.get("validators", ())]
        super().__init__(label, **options)

    def clean(self, bound: BoundField[UploadFile]) -> UploadFile | None:
        uploads: list[UploadFile] = []
        for value in bound.raw:
            if isinstance(value, str):
                if value.strip():  # a file name sent as text: the form was not multipart
                    raise self.error("invalid")
            elif not isinstance(value, UploadFile):  # bound by code: a number, None...
                raise self.error("invalid")
            elif value.filename or value.size:  # browsers send an empty part for "no file"
                uploads.append(value)
        if not uploads:
            if self.required:
                raise self.error("required")
            return None
        if len(uploads) > 1:
            raise self.error("single")
        return uploads[0]

    def constraints(self) -> dict[str, Any]:
        accept = ",".join(self.content_types) if self.content_types else None
        return {**super().constraints(), "accept": accept}

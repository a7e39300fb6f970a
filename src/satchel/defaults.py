"""Default request limits, defined once.

:class:`~satchel.settings.Settings`, :class:`~satchel.limits.FormLimits`, the request's
config and the low-level parsers all take their defaults from here, so a default
changes in one place. Nothing here imports from satchel: every layer may use it.
"""

from __future__ import annotations

__all__ = [
    "MAX_BODY_SIZE",
    "MAX_FORM_FIELDS",
    "MAX_FORM_FILES",
    "MAX_JSON_DEPTH",
    "MAX_PART_HEADER_SIZE",
    "MAX_UPLOAD_SIZE",
    "SPOOL_MAX_SIZE",
]

# Bytes of a body read into memory (raw, JSON, urlencoded, a form's text fields):
# 2.5 MiB, Django's DATA_UPLOAD_MAX_MEMORY_SIZE, ample for any non-file payload.
MAX_BODY_SIZE = 2_621_440
# Bytes of a whole multipart body: 100 MiB lets photos and documents through while
# one request still cannot fill a disk with spooled files.
MAX_UPLOAD_SIZE = 104_857_600
# Fields of one form, and parameters of one query string: 1000, Django's
# DATA_UPLOAD_MAX_NUMBER_FIELDS and PHP's max_input_vars: parsing cost stays bounded.
MAX_FORM_FIELDS = 1000
# File parts of one multipart body: 100, Django's DATA_UPLOAD_MAX_NUMBER_FILES, so a
# body of tiny parts cannot open thousands of temporary files.
MAX_FORM_FILES = 100
# Bytes of one multipart part's header block: 16 KiB, what h11 (uvicorn) allows for a
# whole request's headers, far more than Content-Disposition and Content-Type need.
MAX_PART_HEADER_SIZE = 16_384
# Nesting of arrays and objects in a JSON body: 64 is deeper than real payloads go and
# refuses nesting bombs long before a recursive decoder could run out of stack.
MAX_JSON_DEPTH = 64
# Bytes of an upload held in memory before it is spooled to a temporary file: 1 MiB,
# Starlette's UploadFile threshold, so a few large uploads cannot exhaust memory.
SPOOL_MAX_SIZE = 1_048_576

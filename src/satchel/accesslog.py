"""The access log: one INFO line per request on the ``satchel.access`` logger.

Switch it off with ``Settings(access_log=False)`` or by raising that
logger's level; a disabled logger costs one cached level check per request.
"""

from __future__ import annotations

import logging

from satchel.requests import Request

__all__ = ["access_logger", "log_access"]

access_logger = logging.getLogger("satchel.access")


def log_access(request: Request, status: int) -> None:
    """Log ``request`` answered with ``status`` if the access logger is enabled."""
    if access_logger.isEnabledFor(logging.INFO):
        access_logger.info(
            '%s "%s %s HTTP/%s" %d',
            request.client,
            request.method,
            request.path,
            request.http_version,
            status,
        )

"""HTTP status codes and their reason phrases (RFC 9110)."""

from http import HTTPStatus

__all__ = ["HTTPStatus", "reason_phrase"]


def reason_phrase(status_code: int) -> str:
    """Return the standard reason phrase for ``status_code``, or ``""`` if unknown.

    >>> reason_phrase(404)
    'Not Found'
    """
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return ""

"""Safe redirects: send users only to this site's paths or to hosts you allow.

A ``?next=`` parameter is attacker-controlled text. :func:`is_safe_url` accepts it only
when every browser would read it as a path on this site or as an ``http(s)`` URL on an
allowed host, following the WHATWG URL Standard that browsers implement rather than
:func:`urllib.parse.urlsplit`, which reads several attack strings differently (``\\``
as a slash, tabs and newlines removed, extra slashes after the scheme ignored). Anything
ambiguous is refused: a false refusal sends the user to the fallback page, a false
acceptance sends them to the attacker.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import unquote

from satchel.hosts import AllowedHosts
from satchel.responses import RedirectResponse

__all__ = ["MAX_REDIRECT_URL_LENGTH", "is_safe_url", "safe_redirect"]

#: Longer targets are refused: no legitimate redirect needs more, and it bounds the work.
MAX_REDIRECT_URL_LENGTH = 2048

_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-._")
_SINGLE_DOT = frozenset({".", "%2e"})
_DOUBLE_DOT = frozenset({"..", ".%2e", "%2e.", "%2e%2e"})
_QUERY_OR_FRAGMENT = re.compile(r"[?#]")
# After one decoding, an escape that still stands for a separator, a dot, a percent sign
# or a control character was encoded twice on purpose: no honest link needs that.
_STILL_ENCODED = re.compile(r"%(?:2[5ef]|5c|[01][0-9a-f]|7f)", re.IGNORECASE)


def is_safe_url(
    url: str, *, allowed_hosts: Iterable[str] = (), require_https: bool = False
) -> bool:
    """Whether redirecting a browser to ``url`` keeps it on this site or an allowed host.

    Accepted: a path starting with a single ``/`` (``/account?tab=2#top``), or an
    absolute ``http``/``https`` URL whose host is in ``allowed_hosts``. Hosts match as in
    ``Settings.allowed_hosts`` (exact names, or ``.example.com`` for the domain and its
    subdomains), with the port ignored; ``*`` is ignored here, since a redirect
    allowed anywhere is an open redirect.

    Refused: scheme-relative (``//evil``) and backslash tricks (``/\\evil``), other
    schemes (``javascript:``, ``data:``), missing or extra slashes after the scheme
    (``https:evil``, ``https:///evil``), user info (``https://good@evil``), IPv6 and
    non-ASCII hosts, whitespace at either end, control and invisible characters
    anywhere, paths that start with ``//`` once decoded or once ``.``/``..``
    segments are removed, escapes encoded twice, and URLs over
    :data:`MAX_REDIRECT_URL_LENGTH` characters.

    Args:
        url: The target, as received (not yet decoded).
        allowed_hosts: Hosts that absolute URLs may point to; none by default, so only
            paths on this site pass.
        require_https: Refuse absolute ``http://`` URLs.

    >>> [is_safe_url(u) for u in ("/orders?page=2", "//evil.example", "/\\\\evil.example")]
    [True, False, False]
    >>> is_safe_url("https://shop.example.com/", allowed_hosts=[".example.com"])
    True
    """
    if not isinstance(url, str) or not url or len(url) > MAX_REDIRECT_URL_LENGTH:
        return False
    if url != url.strip() or _has_control(url):
        return False
    # The query and the fragment are data to the target page: only what comes before
    # them decides where the browser goes.
    target = _QUERY_OR_FRAGMENT.split(url, maxsplit=1)[0]
    if "\\" in target:
        # Browsers read a backslash there as "/", Python's parsers (and RedirectResponse's
        # percent-encoding) do not: the two readings can name different hosts.
        return False
    if target.startswith("/"):
        return _path_is_safe(target)
    scheme, colon, rest = target.partition(":")
    scheme = scheme.lower() if scheme.isascii() else ""
    if not colon or scheme not in ("http", "https") or (require_https and scheme == "http"):
        return False
    # Browsers skip any number of slashes (even none) after "http:": only exactly two,
    # followed by a host, reads the same everywhere.
    if not rest.startswith("//") or rest.startswith("///"):
        return False
    authority, slash, path = rest[2:].partition("/")
    return _host_is_allowed(authority, allowed_hosts) and _path_is_safe(slash + path)


def safe_redirect(
    url: str | None,
    *,
    fallback: str = "/",
    allowed_hosts: Iterable[str] = (),
    require_https: bool = False,
    status_code: int = 303,
) -> RedirectResponse:
    """Redirect to ``url`` if :func:`is_safe_url` accepts it, otherwise to ``fallback``.

    The usual place is after a login or a form post, with a target taken from the
    request: ``safe_redirect(request.query_params.get("next"), fallback="/account")``.

    Args:
        url: The requested target; None or an unsafe value means ``fallback``.
        fallback: Where to go instead; it must be safe itself.
        allowed_hosts: Hosts that absolute URLs may point to (see :func:`is_safe_url`).
        require_https: Refuse absolute ``http://`` URLs.
        status_code: 303 (See Other, the browser follows with a GET) by default.

    Raises:
        ValueError: ``fallback`` is not a safe target, or ``status_code`` is not a
            redirect status.

    >>> safe_redirect("//evil.example/login", fallback="/account").headers["location"]
    '/account'
    """
    hosts = tuple(allowed_hosts)
    if not is_safe_url(fallback, allowed_hosts=hosts, require_https=require_https):
        raise ValueError(f"The redirect fallback {fallback!r} is not a safe target")
    target = fallback
    if url is not None and is_safe_url(url, allowed_hosts=hosts, require_https=require_https):
        target = url
    return RedirectResponse(target, status_code=status_code)


def _has_control(text: str) -> bool:
    """Control, format (zero-width, bidi), private-use or unassigned characters.

    Browsers delete tabs and newlines anywhere in a URL and ignore other C0 controls
    at its ends, so ``/\\t/evil`` means ``//evil`` to them; the rest can hide text.
    """
    if text.isascii():
        return any(c < " " or c == "\x7f" for c in text)
    return any(unicodedata.category(c).startswith("C") for c in text)


def _host_is_allowed(authority: str, allowed_hosts: Iterable[str]) -> bool:
    if "@" in authority or authority.startswith("["):
        # User info hides the real host after the "@"; IPv6 literals have zone ids,
        # embedded IPv4 forms and other spellings that an allow-list cannot follow.
        return False
    name, colon, port = authority.partition(":")
    name = name.lower()
    if colon and not (port.isascii() and port.isdigit() and int(port) <= 65535):
        return False
    # Browsers percent-decode and IDNA-map host names: only plain ASCII names (punycode
    # included) are compared as written.
    if not name or not all(c in _HOST_CHARS for c in name):
        return False
    hosts = AllowedHosts(host for host in allowed_hosts if host.strip() != "*")
    return hosts.allows(name)


def _path_is_safe(path: str) -> bool:
    """Whether ``path`` stays a path on the same host, for a browser and for the server.

    The browser reads ``path`` as it is. The server that receives it decodes it once,
    and code there may redirect to the decoded path (trailing-slash redirects do): so
    the decoded form must not be scheme-relative either.
    """
    if _starts_with_two_slashes(path):
        return False
    decoded = unquote(path)
    if decoded == path:
        return True
    return not (
        _has_control(decoded)
        or "\\" in decoded
        or _starts_with_two_slashes(decoded)
        or _STILL_ENCODED.search(decoded)
    )


def _starts_with_two_slashes(path: str) -> bool:
    """Whether ``path`` starts with ``//`` as written or once dot segments are removed.

    Browsers remove them (``%2e`` counts as a dot): ``/a/..//evil`` becomes ``//evil``.
    """
    if path.startswith("//"):
        return True
    kept: list[str] = []
    for segment in path.split("/")[1:]:
        lowered = segment.lower()
        if lowered in _DOUBLE_DOT:
            if kept:
                kept.pop()
        elif lowered not in _SINGLE_DOT:
            kept.append(segment)
    return len(kept) > 1 and kept[0] == ""

"""Pointing the relative ``url(...)`` and ``@import`` references of a stylesheet at hashed names."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from urllib.parse import quote, unquote

from satchel.staticfiles.fingerprints import split_reference

__all__ = ["rewrite_css_references"]

# url(...) unquoted or quoted, and @import "..." without url(); the quoted forms
# cannot backtrack past their closing quote, so matching stays linear.
_REFERENCE = re.compile(
    r"""url\(\s*(?:"([^"\n]*)"|'([^'\n]*)'|([^"'()\s]*))\s*\)"""
    r"""|@import\s+(?:"([^"\n]*)"|'([^'\n]*)')""",
    re.IGNORECASE,
)
# A scheme (data:, https:) or a protocol-relative //host: not a file of ours.
_EXTERNAL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:|//")


def rewrite_css_references(
    css: str, css_name: str, hashed_name_of: Callable[[str], str | None]
) -> str:
    """Replace each relative reference in ``css`` with the hashed name of its target.

    ``css_name`` is the stylesheet's own name (``css/site.css``); targets are
    resolved against its folder and looked up with ``hashed_name_of(name)``,
    which returns None for files it does not know. Absolute paths, URLs with a
    scheme, ``//host`` and ``#fragment`` references, and references leaving the
    static folders stay as written; query strings and fragments are kept.

    >>> rewrite_css_references(
    ...     "a { background: url('../img/a.png?v=1#x') }",
    ...     "css/site.css",
    ...     {"img/a.png": "img/a.0123456789ab.png"}.get,
    ... )
    "a { background: url('../img/a.0123456789ab.png?v=1#x') }"
    """
    folder = posixpath.dirname(css_name)

    def replace(match: re.Match[str]) -> str:
        group = next(i for i in range(1, 6) if match[i] is not None)
        new = _rewritten(match[group], folder, hashed_name_of)
        if new is None:
            return match[0]
        start, end = match.start(group) - match.start(), match.end(group) - match.start()
        return match[0][:start] + new + match[0][end:]

    return _REFERENCE.sub(replace, css)


def _rewritten(
    reference: str, folder: str, hashed_name_of: Callable[[str], str | None]
) -> str | None:
    path, rest = split_reference(reference)
    if not path or path.startswith("/") or _EXTERNAL.match(path):
        return None
    target = posixpath.normpath(posixpath.join(folder, unquote(path)))
    if target == ".." or target.startswith("../"):
        return None
    hashed = hashed_name_of(target)
    if hashed is None:
        return None
    kept = path[: path.rfind("/") + 1]
    return kept + quote(posixpath.basename(hashed)) + rest

"""Debug-mode error pages: an HTML traceback page and its plain-text companion.

Imported only when an unhandled exception happens in debug mode. Pages are built by plain string
joins, every dynamic value passing through :func:`html.escape`. Frames are only *read*: nothing
here evaluates code, unpickles data or offers a console. The only user code ever called is
``repr()`` on local variables and ``str()`` on exceptions, both guarded and size-capped.
"""

from __future__ import annotations

import functools
import html
import itertools
import linecache
import os
import platform
import sys
import sysconfig
import traceback
import types
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

from satchel.secret_names import DEBUG_PAGE_SECRET_WORDS, looks_secret

__all__ = ["REDACTED", "render_debug_page", "render_debug_text"]

REDACTED = "*" * 20
"""Shown instead of the value of anything whose name looks sensitive."""

_CONTEXT_LINES = 5
_MAX_FRAMES = 100  # per exception; the outermost and innermost halves are kept
_MAX_TOTAL_FRAMES = 300  # over the whole page, chained and grouped exceptions included
_MAX_EXCEPTIONS = 30  # chained plus grouped exceptions over the whole page
_MAX_GROUP_MEMBERS = 10
_MAX_LOCALS = 50
_MAX_ITEMS = 30  # elements shown per container in a local's repr
_MAX_DEPTH = 3  # nesting levels shown per container in a local's repr
_MAX_MESSAGE = 10_000
_MAX_SOURCE_LINE = 500
_MAX_HEADERS = 100
_HTML_REPR_LIMIT = 1_000
_TEXT_REPR_LIMIT = 200
_CAUSE = "The above exception was the direct cause of the following exception:"
_CONTEXT = "During handling of the above exception, another exception occurred:"
_BRACKETS: dict[type, tuple[str, str]] = {
    list: ("[", "]"),
    tuple: ("(", ")"),
    set: ("{", "}"),
    frozenset: ("frozenset({", "})"),
}
_EMPTY: dict[type, str] = {set: "set()", frozenset: "frozenset()"}
_NO_KEY = object()
# Jinja2 sets this global in the frames it rewrites to point into a template's source.
_TEMPLATE_MARK = "__jinja_exception__"
# Jinja2's template context, whose own repr shows every variable, secrets included.
_TEMPLATE_CONTEXT = ("jinja2.runtime", "Context")


@dataclass(frozen=True)
class _Frame:
    filename: str
    lineno: int
    function: str
    source: list[tuple[int, str]]
    local_vars: list[tuple[str, str]]
    locals_omitted: int
    is_library: bool


@dataclass(frozen=True)
class _ExceptionReport:
    type_name: str
    message: str
    notes: list[str]
    head: list[_Frame]
    tail: list[_Frame]
    frames_omitted: int
    link: str  # sentence shown after this exception, before the one it led to
    members: list[list[_ExceptionReport]]  # chains of an ExceptionGroup's sub-exceptions
    members_omitted: int


@dataclass
class _Budget:
    repr_limit: int
    frames: int = _MAX_TOTAL_FRAMES
    exceptions: int = _MAX_EXCEPTIONS
    seen: set[int] = field(default_factory=set)


def render_debug_page(
    exc: BaseException,
    *,
    method: str,
    url: str,
    headers: Sequence[tuple[str, str]],
    request_id: str,
    nonce: str,
) -> str:
    """Render the debug-mode HTML page for an unhandled exception.

    Args:
        exc: The exception that escaped the application.
        method: The request method.
        url: The request URL; values of sensitive query parameters are redacted.
        headers: The request headers; values of sensitive ones are redacted.
        request_id: The id that also appears in the logs for this request.
        nonce: The Content-Security-Policy nonce the response allows for its one ``<style>``.

    Returns:
        A complete HTML5 document, with no scripts and no external assets.
    """
    chain = _collect_chain(exc, _Budget(_HTML_REPR_LIMIT))
    safe_url = _redact_url(url)
    return "".join(
        (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
            '<meta name="robots" content="noindex, nofollow">\n',
            f"<title>{_esc(_type_name(exc))} at {_esc(safe_url)}</title>\n",
            f'<style nonce="{_esc(nonce)}">{_CSS}</style>\n</head>\n<body>\n',
            _html_summary(chain[-1], method, safe_url, request_id),
            '<main>\n<section aria-labelledby="traceback">\n<h2 id="traceback">Traceback ',
            '<span class="muted">(most recent call last)</span></h2>\n',
            _html_chain(chain, 3),
            "</section>\n",
            _html_headers(headers),
            "</main>\n<footer>You see this page because debug mode is on. ",
            "Never turn debug mode on in production.</footer>\n</body>\n</html>\n",
        )
    )


def render_debug_text(exc: BaseException, *, method: str, url: str, request_id: str) -> str:
    """Render the plain-text companion of :func:`render_debug_page`.

    Args:
        exc: The exception that escaped the application.
        method: The request method.
        url: The request URL; values of sensitive query parameters are redacted.
        request_id: The id that also appears in the logs for this request.

    Returns:
        The same report as text, laid out like a Python traceback, with shorter local values.
    """
    chain = _collect_chain(exc, _Budget(_TEXT_REPR_LIMIT))
    meta = [f"{label}: {value}" for label, value in _meta(method, _redact_url(url), request_id)]
    summary = f"{chain[-1].type_name}: {chain[-1].message}"
    return "\n".join([summary, *meta, "", *_text_chain(chain, ""), ""])


# Collecting: turn exceptions and frames into plain data, calling user code only through guards.


def _collect_chain(exc: BaseException, budget: _Budget) -> list[_ExceptionReport]:
    """Return exc and what led to it, earliest first, as Python prints them."""
    found: list[tuple[BaseException, str]] = []
    current: BaseException | None = exc
    link = ""
    while current is not None and id(current) not in budget.seen and budget.exceptions > 0:
        budget.seen.add(id(current))
        budget.exceptions -= 1
        found.append((current, link))
        current, link = _previous_in_chain(current)
    return [_report(item, item_link, budget) for item, item_link in reversed(found)]


def _previous_in_chain(exc: BaseException) -> tuple[BaseException | None, str]:
    if exc.__cause__ is not None:
        return exc.__cause__, _CAUSE
    if exc.__context__ is not None and not exc.__suppress_context__:
        return exc.__context__, _CONTEXT
    return None, ""


def _report(exc: BaseException, link: str, budget: _Budget) -> _ExceptionReport:
    tracebacks = list(traceback.walk_tb(exc.__traceback__))
    shown = min(_MAX_FRAMES, budget.frames, len(tracebacks))
    budget.frames -= shown
    head_count = (shown + 1) // 2 if shown < len(tracebacks) else shown
    tail_count = shown - head_count
    members: list[list[_ExceptionReport]] = []
    sub_exceptions = exc.exceptions if isinstance(exc, BaseExceptionGroup) else ()
    for sub in sub_exceptions[:_MAX_GROUP_MEMBERS]:
        if sub_chain := _collect_chain(sub, budget):
            members.append(sub_chain)
    return _ExceptionReport(
        type_name=_type_name(exc),
        message=_message(exc),
        notes=_notes(exc, budget.repr_limit),
        head=[_frame(*item, budget.repr_limit) for item in tracebacks[:head_count]],
        tail=[
            _frame(*item, budget.repr_limit) for item in tracebacks[len(tracebacks) - tail_count :]
        ],
        frames_omitted=len(tracebacks) - shown,
        link=link,
        members=members,
        members_omitted=len(sub_exceptions) - len(members),
    )


def _type_name(exc: BaseException) -> str:
    cls = type(exc)
    module = getattr(cls, "__module__", None)
    if not isinstance(module, str) or module in {"builtins", "__main__"}:
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


def _message(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception as error:  # a user __str__ may raise anything; the page must still render
        text = f"<str() raised {type(error).__qualname__}>"
    return _truncate(text, _MAX_MESSAGE)


def _notes(exc: BaseException, limit: int) -> list[str]:
    try:
        notes = getattr(exc, "__notes__", None)
    except Exception:
        return []
    if not isinstance(notes, list | tuple):
        return []
    return [_truncate(n, _MAX_MESSAGE) if isinstance(n, str) else _repr(n, limit) for n in notes]


def _frame(frame: types.FrameType, lineno: int, limit: int) -> _Frame:
    filename = frame.f_code.co_filename
    local_vars, omitted = _locals(frame, limit)
    return _Frame(
        filename=filename,
        lineno=lineno,
        function=_function_name(frame.f_code),
        source=_source(filename, lineno),
        local_vars=local_vars,
        locals_omitted=omitted,
        is_library=_is_library(filename),
    )


def _function_name(code: types.CodeType) -> str:
    # A code object renamed after compiling keeps its old qualified name: Jinja2 names the
    # frames it points into templates "top-level template code" or "block 'content'" so.
    qualname = code.co_qualname
    return qualname if qualname.rpartition(".")[2] == code.co_name else code.co_name


def _source(filename: str, lineno: int) -> list[tuple[int, str]]:
    # A template reloaded in debug mode may have changed since linecache last read it.
    linecache.checkcache(filename)
    # No module globals: a loader's get_source() could run arbitrary code; read files only.
    lines = linecache.getlines(filename)
    if not 1 <= lineno <= len(lines):
        return []
    numbers = range(max(lineno - _CONTEXT_LINES, 1), min(lineno + _CONTEXT_LINES, len(lines)) + 1)
    texts = [lines[n - 1].rstrip("\r\n").expandtabs(4) for n in numbers]
    indent = min((len(t) - len(t.lstrip(" ")) for t in texts if t.strip()), default=0)
    return [
        (n, _truncate(t[indent:], _MAX_SOURCE_LINE)) for n, t in zip(numbers, texts, strict=True)
    ]


def _locals(frame: types.FrameType, limit: int) -> tuple[list[tuple[str, str]], int]:
    names = [(k, v) for k, v in frame.f_locals.items() if not (k[:2] == "__" == k[-2:])]
    if _TEMPLATE_MARK in frame.f_globals:
        # A template's locals are its whole context, the environment's helpers first
        # (range, url_for, ...): leave callables out so the template's own data shows.
        names = _template_data(names)
    shown = [(k, REDACTED if _is_sensitive(k) else _repr(v, limit)) for k, v in names[:_MAX_LOCALS]]
    return shown, len(names) - len(shown)


@functools.cache
def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    roots.add(os.path.dirname(os.path.abspath(__file__)))
    return tuple(os.path.join(os.path.normcase(os.path.abspath(root)), "") for root in roots)


def _is_library(filename: str) -> bool:
    if filename.startswith("<frozen "):
        return True
    path = os.path.normcase(os.path.abspath(filename))
    parts = path.split(os.sep)
    return "site-packages" in parts or "dist-packages" in parts or path.startswith(_library_roots())


# Safe representations: only repr() is called on user objects, and never unguarded.


def _is_sensitive(name: str) -> bool:
    return looks_secret(name, DEBUG_PAGE_SECRET_WORDS)


def _repr(value: object, limit: int, depth: int = 0) -> str:
    """Repr value in at most about limit characters; builtin containers are walked here."""
    if isinstance(value, dict) or type(value) in _BRACKETS:
        return _repr_container(value, limit, depth)
    if _is_template_context(value):
        return _repr_template_context(value, limit, depth)
    if type(value) in {str, bytes} and isinstance(value, str | bytes) and len(value) > limit:
        # Never build the repr of a huge string in full.
        return f"{repr(value[:limit])[: limit + 2]}... (length {len(value):,})"
    try:
        text = repr(value)
    except Exception as error:  # a user __repr__ may raise anything; the page must still render
        text = f"<{type(value).__qualname__} object; repr() raised {type(error).__qualname__}>"
    return _truncate(text, limit)


def _template_data(items: Iterable[tuple[str, object]]) -> list[tuple[str, object]]:
    return [(name, value) for name, value in items if not callable(value)]


def _is_template_context(value: object) -> bool:
    # Looked up, never imported: the page must not load Jinja2 into apps that lack it.
    module_name, class_name = _TEMPLATE_CONTEXT
    context_class = getattr(sys.modules.get(module_name), class_name, None)
    return isinstance(context_class, type) and isinstance(value, context_class)


def _repr_template_context(value: Any, limit: int, depth: int) -> str:
    """A Jinja2 context as its template's name and data, walked (so redacted) like a dict."""
    kind = type(value).__qualname__
    try:
        name, variables = value.name, dict(_template_data(value.get_all().items()))
    except Exception as error:  # the page must still render
        return f"<{kind} object; reading it raised {type(error).__qualname__}>"
    return f"<{kind} {_repr(name, limit)}: {_repr_container(variables, limit, depth)}>"


def _repr_container(value: object, limit: int, depth: int) -> str:
    opening, closing, size, items = _container_items(value)
    if size == 0:
        return _EMPTY.get(type(value), f"{opening}{closing}")
    if depth >= _MAX_DEPTH:
        return f"{opening}...{closing}"
    shown: list[str] = []
    used = 0
    for key, item in itertools.islice(items, _MAX_ITEMS):
        if shown and used >= limit:
            break
        shown.append(_repr_item(key, item, max(limit - used, 20), depth + 1))
        used += len(shown[-1]) + 2
    if len(shown) < size:
        shown.append(f"... {size - len(shown)} more")
    comma = "," if type(value) is tuple and size == 1 else ""
    return f"{opening}{', '.join(shown)}{comma}{closing}"


def _container_items(value: object) -> tuple[str, str, int, Iterator[tuple[object, object]]]:
    # Builtin iteration only (dict.items, not value.items()): a subclass runs none of its code.
    if isinstance(value, dict):
        name = type(value).__qualname__
        opening, closing = ("{", "}") if type(value) is dict else (f"{name}({{", "})")
        return opening, closing, dict.__len__(value), iter(dict.items(value))
    opening, closing = _BRACKETS[type(value)]
    sequence = value if isinstance(value, list | tuple | set | frozenset) else ()
    return opening, closing, len(sequence), ((_NO_KEY, item) for item in sequence)


def _repr_item(key: object, value: object, limit: int, depth: int) -> str:
    if key is _NO_KEY:
        return _repr(value, limit, depth)
    # Redaction applies at every level shown, so {"db": {"password": ...}} is hidden too.
    shown = REDACTED if isinstance(key, str) and _is_sensitive(key) else _repr(value, limit, depth)
    return f"{_repr(key, limit, depth)}: {shown}"


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters)"


def _redact_url(url: str) -> str:
    base, question, rest = url.partition("?")
    query, hash_mark, fragment = rest.partition("#")
    if not question or not query:
        return url
    pairs = []
    for pair in query.split("&"):
        name, equals, _ = pair.partition("=")
        pairs.append(f"{name}={REDACTED}" if equals and _is_sensitive(unquote_plus(name)) else pair)
    return f"{base}?{'&'.join(pairs)}{hash_mark}{fragment}"


def _meta(method: str, url: str, request_id: str) -> list[tuple[str, str]]:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    python = f"{platform.python_implementation()} {platform.python_version()}"
    return [
        ("Request", f"{method} {url}"),
        ("Request ID", request_id),
        ("Python", python),
        ("Time", now),
    ]


# HTML: plain string building; every dynamic value goes through _esc.


def _esc(value: str) -> str:
    return html.escape(value, quote=True)


def _html_summary(last: _ExceptionReport, method: str, url: str, request_id: str) -> str:
    rows = "".join(
        f"<div><dt>{_esc(label)}</dt><dd>{_esc(value)}</dd></div>"
        for label, value in _meta(method, url, request_id)
    )
    message = f'<p class="message">{_esc(last.message)}</p>\n' if last.message else ""
    return (
        '<header class="summary">\n<div class="wrap">\n'
        '<p class="badge">500 Internal Server Error &middot; debug mode</p>\n'
        f"<h1>{_esc(last.type_name)}</h1>\n{message}"
        f'<dl class="meta">{rows}</dl>\n</div>\n</header>\n'
    )


def _html_chain(chain: list[_ExceptionReport], level: int) -> str:
    parts = []
    for report in chain:
        parts.append(_html_exception(report, level))
        if report.link:
            parts.append(f'<p class="link">{_esc(report.link)}</p>\n')
    return "".join(parts)


def _html_exception(report: _ExceptionReport, level: int) -> str:
    tag = f"h{min(level, 6)}"
    separator = ": " if report.message else ""
    notes = "".join(f'<p class="note">{_esc(note)}</p>\n' for note in report.notes)
    return (
        f'<article class="exception">\n<{tag}><span class="type">{_esc(report.type_name)}</span>'
        f"{separator}{_esc(report.message)}</{tag}>\n{notes}"
        f"{_html_frames(report)}{_html_members(report, level)}</article>\n"
    )


def _html_frames(report: _ExceptionReport) -> str:
    frames = [*report.head, *report.tail]
    if not frames:
        return '<p class="muted">No traceback.</p>\n'
    parts, previous = [], ("", 0)
    for index, frame in enumerate(frames):
        if index == len(report.head) and report.frames_omitted:
            parts.append(
                f'<p class="omitted">&hellip; {report.frames_omitted:,} frames omitted '
                f"(deep recursion?); the outermost {len(report.head)} and innermost "
                f"{len(report.tail)} are shown &hellip;</p>\n"
            )
        # Repeats of the same line (recursion) and library frames start collapsed.
        here = (frame.filename, frame.lineno)
        is_open = frame is frames[-1] or (not frame.is_library and here != previous)
        parts.append(_html_frame(frame, is_open=is_open))
        previous = here
    return f'<div class="frames">\n{"".join(parts)}</div>\n'


def _html_frame(frame: _Frame, *, is_open: bool) -> str:
    kind, tag = (
        ("library", ' <span class="tag">library</span>') if frame.is_library else ("app", "")
    )
    return (
        f'<details class="frame {kind}"{" open" if is_open else ""}>\n<summary>'
        f'<code class="function">{_esc(frame.function)}</code> '
        f'<span class="where">{_esc(frame.filename)}, line {frame.lineno}</span>{tag}</summary>\n'
        f"{_html_source(frame)}{_html_locals(frame)}</details>\n"
    )


def _html_source(frame: _Frame) -> str:
    if not frame.source:
        return '<p class="muted">Source not available.</p>\n'
    lines = []
    for number, text in frame.source:
        current = ' class="current" aria-current="true"' if number == frame.lineno else ""
        lines.append(f'<li{current}><span class="ln">{number}</span><code>{_esc(text)}</code></li>')
    return f'<ol class="source" aria-label="Source code">{"".join(lines)}</ol>\n'


def _html_locals(frame: _Frame) -> str:
    if not frame.local_vars:
        return ""
    rows = "".join(
        f'<tr><th scope="row"><code>{_esc(name)}</code></th><td><pre>{_esc(value)}</pre></td></tr>'
        for name, value in frame.local_vars
    )
    more = (
        f'<p class="muted">{frame.locals_omitted} more not shown.</p>'
        if frame.locals_omitted
        else ""
    )
    return (
        '<table class="locals"><caption>Local variables</caption><thead><tr>'
        f'<th scope="col">Name</th><th scope="col">Value</th></tr></thead><tbody>{rows}</tbody>'
        f"</table>\n{more}"
    )


def _html_members(report: _ExceptionReport, level: int) -> str:
    total = len(report.members) + report.members_omitted
    items = "".join(
        f'<li><p class="member">Sub-exception {index} of {total}</p>\n'
        f"{_html_chain(chain, level + 1)}</li>\n"
        for index, chain in enumerate(report.members, 1)
    )
    if report.members_omitted:
        items += f'<li><p class="omitted">{report.members_omitted} more not shown.</p></li>\n'
    return f'<ol class="members">\n{items}</ol>\n' if items else ""


def _html_headers(headers: Sequence[tuple[str, str]]) -> str:
    rows = "".join(
        f'<tr><th scope="row">{_esc(name)}</th><td>{_esc(_header_value(name, value))}</td></tr>'
        for name, value in headers[:_MAX_HEADERS]
    )
    more = len(headers) - _MAX_HEADERS
    note = f'<p class="muted">{more} more not shown.</p>\n' if more > 0 else ""
    body = f'<table class="headers"><tbody>{rows}</tbody></table>\n' if rows else "<p>None.</p>\n"
    return (
        '<section aria-labelledby="headers">\n<h2 id="headers">Request headers</h2>\n'
        f"{body}{note}</section>\n"
    )


def _header_value(name: str, value: str) -> str:
    return REDACTED if _is_sensitive(name) else _truncate(value, _HTML_REPR_LIMIT)


# Text: laid out like Python's own traceback, sub-exceptions indented with "| ".


def _text_chain(chain: list[_ExceptionReport], indent: str) -> list[str]:
    lines: list[str] = []
    for report in chain:
        lines += _text_exception(report, indent)
        if report.link:
            lines += ["", f"{indent}{report.link}", ""]
    return lines


def _text_exception(report: _ExceptionReport, indent: str) -> list[str]:
    lines = [f"{indent}Traceback (most recent call last):"] if report.head else []
    for frame in report.head:
        lines += _text_frame(frame, f"{indent}  ")
    if report.frames_omitted:
        lines.append(f"{indent}  ... {report.frames_omitted:,} frames omitted ...")
    for frame in report.tail:
        lines += _text_frame(frame, f"{indent}  ")
    separator = ": " if report.message else ""
    lines.append(f"{indent}{report.type_name}{separator}{report.message}")
    lines += [f"{indent}{note}" for note in report.notes]
    total = len(report.members) + report.members_omitted
    for index, chain in enumerate(report.members, 1):
        lines.append(f"{indent}+---- sub-exception {index} of {total} ----")
        lines += _text_chain(chain, f"{indent}| ")
    if report.members_omitted:
        lines.append(f"{indent}+---- {report.members_omitted} more not shown ----")
    return lines


def _text_frame(frame: _Frame, indent: str) -> list[str]:
    tag = " [library]" if frame.is_library else ""
    lines = [f'{indent}File "{frame.filename}", line {frame.lineno}, in {frame.function}{tag}']
    width = len(str(frame.source[-1][0])) if frame.source else 0
    for number, text in frame.source:
        marker = ">" if number == frame.lineno else " "
        lines.append(f"{indent}  {marker} {number:>{width}} | {text}".rstrip())
    if frame.local_vars:
        lines.append(f"{indent}  Locals:")
    lines += [f"{indent}    {name} = {value}" for name, value in frame.local_vars]
    if frame.locals_omitted:
        lines.append(f"{indent}    ... {frame.locals_omitted} more not shown")
    return lines


_CSS = """
:root{--fg:#1c1d21;--muted:#50535a;--line:#d4d7dd;--bg:#f5f6f8;--card:#fff;--accent:#9f1620;
--mark:#fff0a6;--lib:#eef0f3;--mono:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace}
*{box-sizing:border-box}
body{margin:0;color:var(--fg);background:var(--bg);font:15px/1.5 system-ui,sans-serif}
code,pre{font:13px/1.45 var(--mono)} pre{margin:0;white-space:pre-wrap;overflow-wrap:anywhere}
.wrap,main,footer{max-width:1100px;margin:0 auto;padding:0 1rem}
.summary{background:var(--accent);color:#fff;padding:1.25rem 0 1rem}
.badge{margin:0;font-size:.8rem;letter-spacing:.04em;text-transform:uppercase}
h1{margin:.2rem 0;font-size:1.6rem} h2{font-size:1.2rem;margin:1.5rem 0 .6rem}
h3,h4,h5,h6{font-size:1rem;margin:0 0 .6rem;white-space:pre-wrap}
h1,h3,h4,h5,h6,summary,.message,.meta dd,th[scope=row],.headers td{overflow-wrap:anywhere}
.message{margin:0 0 .8rem;font-size:1.1rem;white-space:pre-wrap}
.meta{display:flex;flex-wrap:wrap;gap:.25rem 1.5rem;margin:0;font-size:.85rem}
.meta dt{display:inline;font-weight:600} .meta dt::after{content:": "}
.meta dd{display:inline;margin:0} .type{color:var(--accent)}
.muted{color:var(--muted);font-weight:400}
.exception{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.8rem}
.link,.omitted{margin:.8rem 0;color:var(--muted);font-style:italic} .note{margin:0 0 .6rem}
.frame{border:1px solid var(--line);border-radius:4px;margin:.4rem 0;background:var(--card)}
.frame.library{background:var(--lib)} summary{cursor:pointer;padding:.35rem .6rem}
summary:focus-visible{outline:2px solid var(--accent);outline-offset:1px}
.function{font-weight:700} .where{color:var(--muted);font-size:.85rem}
.tag{font-size:.7rem;border:1px solid var(--muted);border-radius:3px;padding:0 .3rem}
.source{list-style:none;margin:0;padding:.3rem 0;overflow-x:auto;background:#fafbfc;
border-top:1px solid var(--line)} .source code{white-space:pre;padding-right:1rem}
.source li{display:flex;width:max-content;min-width:100%}
.source li.current{background:var(--mark);font-weight:600}
.ln{flex:0 0 3.5rem;padding-right:.8rem;text-align:right;color:var(--muted);user-select:none;
font:12px/1.6 var(--mono)} table{border-collapse:collapse;width:100%;font-size:.9rem}
caption{text-align:left;font-weight:600;padding:.4rem .6rem 0}
th,td{text-align:left;vertical-align:top;padding:.2rem .6rem;border-top:1px solid var(--line)}
.locals,.headers{table-layout:fixed} .locals th code{display:block}
th[scope=row],.locals thead th:first-child{width:13rem}
.locals th[scope=row]{font-weight:400} .locals thead th{font-size:.8rem;color:var(--muted)}
.headers{background:var(--card);border:1px solid var(--line)}
.headers td{font:13px/1.45 var(--mono)}
.members{list-style:none;padding-left:1rem;border-left:3px solid var(--line);margin:.8rem 0 0}
.member{margin:.6rem 0 .3rem;font-weight:600;color:var(--muted)}
footer{margin:1.5rem auto;color:var(--muted);font-size:.85rem}
@media (max-width:600px){.exception{padding:.5rem} .members{padding-left:.5rem}
th[scope=row],.locals thead th:first-child{width:7rem}}
"""

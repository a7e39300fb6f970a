"""Tests for the debug-mode traceback page and its plain-text companion."""

from __future__ import annotations

import json
import platform
import re
from collections.abc import Callable, Sequence

import pytest

from satchel.debug_page import REDACTED, render_debug_page, render_debug_text

HOSTILE = '<script>alert(1)</script> "onmouseover=alert(2)'
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _page(
    exc: BaseException,
    *,
    headers: Sequence[tuple[str, str]] = (),
    url: str = "http://testserver/items?page=2",
    nonce: str = "n0nce",
) -> str:
    return render_debug_page(
        exc, method="POST", url=url, headers=headers, request_id="req-42", nonce=nonce
    )


def _text(exc: BaseException, *, url: str = "http://testserver/items?page=2") -> str:
    return render_debug_text(exc, method="POST", url=url, request_id="req-42")


def _divide(numerator: int) -> float:
    denominator = numerator - numerator
    shopping_list = ["apples", "pears"]
    return numerator / denominator + len(shopping_list)


def _capture(func: Callable[[], object]) -> BaseException:
    # Raised here rather than in the test, so that the test's own source (which names the
    # secrets and markup it looks for) is not part of the traceback being rendered.
    try:
        func()
    except BaseException as error:
        return error
    pytest.fail("expected an exception")


def _zero_division() -> BaseException:
    return _capture(lambda: _divide(7))


def _joined(*parts: str) -> str:
    # Secrets are assembled at run time so that they never appear in source context lines.
    return "-".join(parts)


# HTML page: content


def test_page_shows_exception_request_and_environment() -> None:
    page = _page(_zero_division())

    assert "<h1>ZeroDivisionError</h1>" in page
    assert "division by zero" in page
    assert "POST http://testserver/items?page=2" in page
    assert "req-42" in page
    assert platform.python_version() in page
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", page)


def test_page_shows_failing_line_highlighted_and_locals() -> None:
    page = _page(_zero_division())

    current = re.findall(r'<li class="current"[^>]*>(.*?)</li>', page)
    assert "return numerator / denominator + len(shopping_list)" in current[-1]
    assert "shopping_list = [&quot;apples&quot;, &quot;pears&quot;]" in page  # context line
    assert "<code>denominator</code></th><td><pre>0</pre>" in page
    assert "[&#x27;apples&#x27;, &#x27;pears&#x27;]" in page
    assert "_divide" in page
    assert "test_debug_page.py" in page


def test_page_is_a_self_contained_html5_document() -> None:
    page = _page(_zero_division(), nonce="abc123")

    assert page.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert page.count("<style") == 1
    assert '<style nonce="abc123">' in page
    assert "<main>" in page
    assert "</html>" in page
    assert "<script" not in page
    assert " style=" not in page  # a strict CSP blocks style attributes
    assert "http://" not in page.replace("http://testserver/", "")  # no external assets


def test_source_unavailable_is_reported() -> None:
    namespace: dict[str, object] = {}
    with pytest.raises(KeyError) as info:
        exec(compile("{}['missing']", "<generated>", "exec"), namespace)

    assert "Source not available." in _page(info.value)


def test_notes_are_shown() -> None:
    error = ValueError("bad value")
    error.add_note("while loading <settings>")

    assert "while loading &lt;settings&gt;" in _page(error)


# HTML page: escaping and hostile objects


def _hostile() -> None:
    payload = HOSTILE
    raise ValueError(payload)


def test_hostile_message_locals_headers_and_url_are_escaped() -> None:
    page = _page(
        _capture(_hostile),
        headers=[("X-Note", HOSTILE), (HOSTILE, "value")],
        url=f"http://testserver/?q={HOSTILE}",
        nonce='"><script>alert(3)</script>',
    )

    assert "<script" not in page
    assert '"onmouseover=' not in page
    assert ESCAPED_SCRIPT in page
    assert "&quot;onmouseover=alert(2)" in page
    assert '<style nonce="&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;">' in page


class _RaisingRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr exploded")


class _HugeRepr:
    def __repr__(self) -> str:
        return "H" * 200_000


def _hostile_objects() -> None:
    broken = _RaisingRepr()
    huge = _HugeRepr()
    long_text = "t" * 500_000
    many = list(range(100_000))
    nested: list[object] = []
    nested.append(nested)
    raise LookupError(broken, huge, long_text, many, nested)


def test_raising_and_huge_reprs_do_not_break_rendering() -> None:
    page = _page(_capture(_hostile_objects))

    assert "&lt;_RaisingRepr object; repr() raised RuntimeError&gt;" in page
    assert "HHHH" in page
    assert "H" * 1_100 not in page
    assert "t" * 1_100 not in page
    assert "(length 500,000)" in page
    assert "99970 more" in page
    assert len(page) < 100_000


class _Tripwire(dict[str, object]):
    """Fails the test if the renderer calls anything on it but repr()."""

    armed = False

    def __repr__(self) -> str:
        return "<tripwire>"

    def __getattribute__(self, name: str) -> object:
        if object.__getattribute__(self, "armed") and name != "__class__":
            raise AssertionError(f"renderer accessed {name}")
        return object.__getattribute__(self, name)

    def __len__(self) -> int:
        raise AssertionError("renderer called len()")

    def __iter__(self) -> object:  # type: ignore[override]
        raise AssertionError("renderer iterated")


def test_renderer_calls_nothing_but_repr_on_user_objects() -> None:
    trap = _Tripwire(password="x", user="bob")

    def fail(value: object) -> None:
        raise RuntimeError("boom")

    error = _capture(lambda: fail(trap))
    _Tripwire.armed = True
    try:
        page = _page(error)
        text = _text(error)
    finally:
        _Tripwire.armed = False

    assert "_Tripwire({&#x27;password&#x27;: ********************" in page
    assert "&#x27;user&#x27;: &#x27;bob&#x27;" in page
    assert "_Tripwire({'password': ********************, 'user': 'bob'})" in text


class _UnprintableError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str")


def test_exception_whose_str_raises_still_renders() -> None:
    page = _page(_UnprintableError())
    assert "&lt;str() raised RuntimeError&gt;" in page
    assert "_UnprintableError" in page


# HTML page: redaction


def _sensitive_locals() -> None:
    password = _joined("hunter2", "pw")
    api_key = _joined("ak", "123456")
    settings = {"SECRET_KEY": _joined("sk", "987654"), "db": {"passwd": _joined("db", "555")}}
    visible = _joined("plain", "value")
    raise RuntimeError(len(password + api_key + visible) + len(settings))


def test_sensitive_locals_are_redacted() -> None:
    error = _capture(_sensitive_locals)
    page = _page(error)
    text = _text(error)

    for secret in ("hunter2-pw", "ak-123456", "sk-987654", "db-555"):
        assert secret not in page
        assert secret not in text
    assert "<code>password</code></th><td><pre>********************</pre>" in page
    assert "&#x27;SECRET_KEY&#x27;: ********************" in page
    assert "&#x27;passwd&#x27;: ********************" in page
    assert "plain-value" in page


def test_sensitive_headers_and_query_values_are_redacted() -> None:
    headers = [
        ("Authorization", _joined("Bearer", "tok1")),
        ("Cookie", _joined("sid", "cookie1")),
        ("X-Api-Key", _joined("key", "k1")),
        ("X-CSRFToken", _joined("csrf", "c1")),
        ("Accept", "text/html"),
    ]
    url = "http://testserver/items?page=2&access_token=" + _joined("q", "t1")
    page = _page(_zero_division(), headers=headers, url=url)

    for secret in ("Bearer-tok1", "sid-cookie1", "key-k1", "csrf-c1", "q-t1"):
        assert secret not in page
    assert page.count(REDACTED) >= 5
    assert "<td>text/html</td>" in page
    assert f"page=2&amp;access_token={REDACTED}" in page
    assert "q-t1" not in _text(_zero_division(), url=url)


# HTML page: chains, groups, collapsing and size


def _chained() -> None:
    empty: dict[str, int] = {}
    try:
        empty["missing"]
    except KeyError as error:
        raise ValueError("lookup failed") from error


def _chained_then_context() -> None:
    try:
        _chained()
    except ValueError:
        raise TypeError("while reporting")  # noqa: B904 -- the implicit context is under test


def test_cause_and_context_chains_are_shown_in_order() -> None:
    page = _page(_capture(_chained_then_context))

    headings = re.findall(r'<h3><span class="type">(\w+)</span>: ([^<]*)</h3>', page)
    assert headings == [
        ("KeyError", "&#x27;missing&#x27;"),
        ("ValueError", "lookup failed"),
        ("TypeError", "while reporting"),
    ]
    links = re.findall(r'<p class="link">([^<]*)</p>', page)
    assert links == [
        "The above exception was the direct cause of the following exception:",
        "During handling of the above exception, another exception occurred:",
    ]


def _suppressed() -> None:
    try:
        raise KeyError("hidden-context")
    except KeyError:
        raise ValueError("clean") from None


def test_suppressed_context_is_hidden() -> None:
    page = _page(_capture(_suppressed))

    assert page.count('<article class="exception">') == 1
    assert '<p class="link">' not in page


def test_cause_cycles_terminate() -> None:
    first, second = ValueError("first"), TypeError("second")
    first.__cause__, second.__cause__ = second, first
    looped = RuntimeError("self")
    looped.__cause__ = looped

    assert "first" in _page(first)
    assert "second" in _page(first)
    assert _page(looped).count('<article class="exception">') == 1
    assert _text(looped).count("RuntimeError: self") == 2  # summary line and traceback


def test_exception_group_members_are_shown_and_bounded() -> None:
    group = ExceptionGroup(
        "many failed",
        [ValueError("member-a"), ExceptionGroup("inner", [KeyError("member-b")])]
        + [TypeError(f"extra-{n}") for n in range(40)],
    )
    page = _page(group)
    text = _text(group)

    assert "ExceptionGroup" in page
    assert "member-a" in page
    assert "member-b" in page
    assert "Sub-exception 1 of 42" in page
    assert "32 more not shown." in page
    assert "extra-39" not in page
    assert "member-b" in text
    assert "+---- sub-exception 2 of 42 ----" in text


def _recurse(depth: int) -> int:
    padding = "p" * 400
    return _recurse(depth + 1) + len(padding)


def test_recursion_error_page_is_bounded() -> None:
    error = _capture(lambda: _recurse(0))
    assert isinstance(error, RecursionError)
    page = _page(error)
    text = _text(error)

    assert len(page) < 1_000_000
    assert len(text) < 500_000
    assert re.search(r"[\d,]+ frames omitted", page)
    assert re.search(r"\.\.\. [\d,]+ frames omitted \.\.\.", text)
    assert page.count('<details class="frame') <= 100
    assert page.count(" open>") < 5  # repeats of the same line start collapsed


def test_library_frames_are_collapsed_and_user_frames_open() -> None:
    def parse() -> object:
        return json.loads("{not json")

    page = _page(_capture(parse))

    assert re.search(
        r'<details class="frame app" open>\n<summary><code class="function">[^<]*parse<', page
    )
    assert re.search(
        r'<details class="frame library">\n<summary><code class="function">JSONDecoder', page
    )
    assert '<span class="tag">library</span>' in page


# Plain-text companion


def test_text_carries_the_same_essentials() -> None:
    text = _text(_zero_division())

    assert text.startswith("ZeroDivisionError: division by zero\n")
    assert "Request: POST http://testserver/items?page=2" in text
    assert "Request ID: req-42" in text
    assert f"Python: {platform.python_implementation()} {platform.python_version()}" in text
    assert re.search(r"Time: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", text)
    assert "Traceback (most recent call last):" in text
    assert re.search(r"> +\d+ \| +return numerator / denominator", text)
    assert "in _divide" in text
    assert "    shopping_list = ['apples', 'pears']" in text
    assert "&lt;" not in text


def test_text_caps_local_values() -> None:
    text = _text(_capture(_hostile_objects))

    assert max(len(line) for line in text.splitlines()) < 400
    assert "<_RaisingRepr object; repr() raised RuntimeError>" in text

"""The debug page as a real browser sees it, in headless Chromium (see tests/browser.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from satchel.debug_page import render_debug_page
from tests.browser import dump_dom, screenshot
from tests.servers import serve_source

ACCENT_RGB = "rgb(159, 22, 32)"  # the summary band's --accent, #9f1620


def _lookup_widget(widget_id: int) -> None:
    known = {1: "spanner"}
    raise LookupError(f"Widget <{widget_id}> not found in {len(known)} widgets")


def _page(nonce: str) -> str:
    try:
        _lookup_widget(42)
    except LookupError as error:
        return render_debug_page(
            error,
            method="GET",
            url="http://testserver/widgets/42",
            headers=[("Accept", "text/html"), ("Cookie", "sid=abc")],
            request_id="req-browser",
            nonce=nonce,
        )
    pytest.fail("expected LookupError")


def _write(tmp_path: Path, page: str) -> str:
    path = tmp_path / "debug.html"
    path.write_text(page, encoding="utf-8")
    return path.as_uri()


def test_page_renders_in_chromium(tmp_path: Path) -> None:
    url = _write(tmp_path, _page("n0nce"))

    dom = dump_dom(url)
    assert "<h1>LookupError</h1>" in dom
    assert "Widget &lt;42&gt; not found in 1 widgets" in dom
    assert '<h2 id="traceback">Traceback' in dom
    assert "_lookup_widget" in dom
    assert "sid=abc" not in dom

    png = screenshot(url, tmp_path / "debug.png")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    ("style_nonce", "expected"),
    [("csp-n0nce", ACCENT_RGB), ("other-nonce", "rgba(0, 0, 0, 0)")],
    ids=["nonce-matches", "nonce-differs"],
)
def test_styles_apply_under_a_strict_csp(tmp_path: Path, style_nonce: str, expected: str) -> None:
    # The page adds no policy itself; the app sends one. Emulate it with a <meta> policy and
    # read the computed style back with a probe script the policy allows.
    policy = "default-src 'none'; style-src 'nonce-csp-n0nce'; script-src 'nonce-csp-n0nce'"
    probe = (
        '<script nonce="csp-n0nce">document.documentElement.dataset.probe = '
        'getComputedStyle(document.querySelector(".summary")).backgroundColor;</script>'
    )
    page = _page(style_nonce)
    page = page.replace(
        "<head>\n", f'<head>\n<meta http-equiv="Content-Security-Policy" content="{policy}">\n', 1
    )
    page = page.replace("</body>", f"{probe}</body>", 1)

    assert f'data-probe="{expected}"' in dump_dom(_write(tmp_path, page))


SERVED_APP = """
from satchel import App, Settings

app = App(settings=Settings(debug=True))


@app.get("/widgets/{widget_id}")
async def widget(widget_id: int) -> str:
    api_token = "tok-" + str(widget_id * 1000)  # built at run time: not in the source lines
    raise LookupError(f"Widget {widget_id} is missing")
"""


def test_debug_page_served_by_a_real_server(tmp_path: Path) -> None:
    """Through Granian, with the app's own nonce-based CSP: Chromium renders it styled."""
    with serve_source("granian-rsgi", SERVED_APP, tmp_path) as base_url:
        dom = dump_dom(f"{base_url}/widgets/42")
        shot = screenshot(f"{base_url}/widgets/42", tmp_path / "served.png")
    assert "LookupError" in dom
    assert "Widget 42 is missing" in dom
    assert "tok-42000" not in dom
    assert shot.stat().st_size > 0

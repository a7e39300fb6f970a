"""Error pages that disclose internals: tracebacks in production, debug pages to others.

In production an unhandled exception gives a generic 500 with a request id. In debug
mode the traceback page is for the developer's own browser: it redacts credentials,
and the Host allow-list still applies, so a DNS-rebinding page cannot read it.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from satchel import App, Request, Settings
from tests.security.helpers import assert_refused
from tests.support import FORBIDDEN_IN_BODY, call_asgi

SECRETS = [b"hunter2", b"tok-123", b"cookie-secret", b"bearer-secret", b"db.internal"]
BROWSER = (b"accept", b"text/html")
CREDENTIALS = [(b"cookie", b"sessionid=cookie-secret"), (b"authorization", b"Bearer bearer-secret")]


def build_app(*, debug: bool) -> App[Any]:
    app = App(settings=Settings(debug=debug, access_log=False))

    @app.get("/boom")
    async def boom(request: Request) -> str:
        # Built at run time, so that the page's source excerpt does not show them.
        password = "hunter" + str(2)  # noqa: F841 - locals the debug page must redact
        api_token = "-".join(["tok", "123"])  # noqa: F841
        raise RuntimeError("cannot reach db.internal:5432")

    return app


@pytest.mark.parametrize("accept", [BROWSER, (b"accept", b"application/json")])
def test_production_errors_are_generic(
    accept: tuple[bytes, bytes], caplog: pytest.LogCaptureFixture
) -> None:
    """Django and Flask with debug left on in production; Starlette's ServerErrorMiddleware
    with ``debug=True``: tracebacks, settings and locals shown to anyone.
    """
    caplog.set_level(logging.ERROR, logger="satchel.error")
    result = call_asgi(build_app(debug=False), path="/boom", headers=[accept, *CREDENTIALS])
    assert result.status == 500
    assert result.header("cache-control") == "no-store"
    request_id = result.header("x-request-id")
    assert request_id is not None
    assert request_id.encode() in result.body
    for leaked in [*SECRETS, *(text.encode() for text in FORBIDDEN_IN_BODY)]:
        assert leaked not in result.body
    assert "db.internal" in caplog.text  # the details go to the log instead


def test_debug_page_redacts_credentials() -> None:
    """The debug page shows locals, headers and cookies: never those that hold secrets."""
    headers = [BROWSER, *CREDENTIALS]
    result = call_asgi(build_app(debug=True), path="/boom", headers=headers)
    assert result.status == 500
    assert b"Traceback" in result.body  # it is the debug page
    for leaked in SECRETS[:4]:
        assert leaked not in result.body


def test_debug_page_is_not_served_to_a_rebound_host() -> None:
    """Django CVE-2016-9014 and Werkzeug CVE-2024-34069 (GHSA-2g68-c3qc-8985): in debug mode
    the Host check was skipped, so a page on ``evil.example``, rebound to 127.0.0.1 by DNS,
    could load the debug page (or console) from the developer's machine and read it.
    """
    headers = [(b"host", b"rebind.evil.example"), BROWSER, *CREDENTIALS]
    result = call_asgi(build_app(debug=True), path="/boom", headers=headers)
    assert result.status == 400
    assert b"Traceback" not in result.body
    json_result = call_asgi(
        build_app(debug=True), path="/boom", headers=[(b"host", b"rebind.evil.example")]
    )
    assert_refused(json_result, 400)

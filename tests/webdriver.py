"""A minimal W3C WebDriver client for tests that drive headless Chromium through chromedriver.

``chromium_session()`` starts chromedriver on a free port and opens a session in a fresh
profile; both are stopped and the profile removed when the block ends. Like tests/browser.py,
it skips the calling test when chromedriver or Chromium is missing, unless the ``CI``
environment variable is set: there a missing browser is a failure.
Install both on Debian with ``apt-get install -y chromium chromium-driver``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.browser import BROWSER_TIMEOUT_S, CHROMIUM_FLAGS, require_chromium, skip_or_fail
from tests.servers import STOP_TIMEOUT_S, free_port

__all__ = ["WAIT_TIMEOUT_S", "WebDriver", "WebDriverError", "chromium_session", "find_chromedriver"]

#: How long :meth:`WebDriver.wait_for` polls before failing: generous, for a loaded machine.
WAIT_TIMEOUT_S = 60.0
_POLL_INTERVAL_S = 0.1
# The key under which W3C WebDriver returns an element reference.
_ELEMENT = "element-6066-11e4-a52e-4f735466cecf"

T = TypeVar("T")


class WebDriverError(Exception):
    """chromedriver answered a command with an error."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(f"{error}: {message}")
        self.error = error


def find_chromedriver() -> str | None:
    """Return chromedriver: ``$CHROMEDRIVER`` if set, else the one on PATH."""
    return shutil.which(os.environ.get("CHROMEDRIVER") or "chromedriver")


class WebDriver:
    """One WebDriver session: navigation, elements (as ids), scripts and the browser log."""

    def __init__(self, client: httpx.Client, session_id: str) -> None:
        self._client = client
        self._session = f"/session/{session_id}"

    def command(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        """Send one command to the session and return its ``value``."""
        response = self._client.request(method, self._session + path, json=payload)
        value = response.json()["value"]
        if response.status_code != 200:
            raise WebDriverError(value.get("error", "?"), value.get("message", ""))
        return value

    def get(self, url: str) -> None:
        """Load ``url`` and wait until the document has loaded."""
        self.command("POST", "/url", {"url": url})

    def find_all(self, selector: str, within: str | None = None) -> list[str]:
        """The elements matching the CSS ``selector``, in the page or ``within`` an element."""
        where = "" if within is None else f"/element/{within}"
        found = self.command(
            "POST", f"{where}/elements", {"using": "css selector", "value": selector}
        )
        return [item[_ELEMENT] for item in found]

    def text(self, element: str) -> str:
        """The element's rendered text."""
        text: str = self.command("GET", f"/element/{element}/text")
        return text

    def property(self, element: str, name: str) -> Any:
        """The element's DOM property ``name`` (e.g. ``textContent``, ``value``)."""
        return self.command("GET", f"/element/{element}/property/{name}")

    def click(self, element: str) -> None:
        """Scroll the element into view and click it."""
        self.command("POST", f"/element/{element}/click", {})

    def clear(self, element: str) -> None:
        """Empty an input or textarea."""
        self.command("POST", f"/element/{element}/clear", {})

    def type(self, element: str, text: str) -> None:
        """Type ``text`` into the element, as key presses."""
        self.command("POST", f"/element/{element}/value", {"text": text})

    def execute(self, script: str, *args: Any) -> Any:
        """Run ``script`` (a function body; ``arguments`` holds ``args``) and return its result."""
        return self.command("POST", "/execute/sync", {"script": script, "args": list(args)})

    def browser_log(self) -> list[dict[str, Any]]:
        """The console and network messages logged since the last call (chromedriver only).

        Needs the session to be started with ``goog:loggingPrefs`` (``chromium_session`` does).
        """
        entries: list[dict[str, Any]] = self.command("POST", "/se/log", {"type": "browser"})
        return entries

    def wait_for(
        self, condition: Callable[[], T | None], what: str, timeout: float = WAIT_TIMEOUT_S
    ) -> T:
        """Poll ``condition`` until it returns something truthy, and return that.

        Raises:
            pytest.fail: it did not within ``timeout`` seconds; the message says ``what``.
        """
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout} s waiting for {what}")
            time.sleep(_POLL_INTERVAL_S)


def _wait_until_ready(client: httpx.Client, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + BROWSER_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"chromedriver exited with {process.returncode}")
        try:
            if client.get("/status").json()["value"]["ready"]:
                return
        except httpx.TransportError:
            pass
        time.sleep(_POLL_INTERVAL_S)
    pytest.fail(f"chromedriver was not ready within {BROWSER_TIMEOUT_S} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop chromedriver and whatever is left in its process group (a browser it started).

    The group is signalled before chromedriver is reaped, so its id cannot have been reused.
    """
    with suppress(ProcessLookupError):  # the whole group has exited already
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(STOP_TIMEOUT_S)


def _capabilities(binary: str, profile: Path, width: int, height: int) -> dict[str, Any]:
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"]
    options = {"binary": binary, "args": flags}
    always = {
        "browserName": "chrome",
        "goog:chromeOptions": options,
        "goog:loggingPrefs": {"browser": "ALL"},
        "timeouts": {"pageLoad": BROWSER_TIMEOUT_S * 1000, "script": BROWSER_TIMEOUT_S * 1000},
    }
    return {"capabilities": {"alwaysMatch": always}}


@contextmanager
def chromium_session(*, width: int = 1280, height: int = 1600) -> Iterator[WebDriver]:
    """Headless Chromium driven through chromedriver, in a fresh profile; yield the session."""
    driver = find_chromedriver()
    if driver is None:
        skip_or_fail("chromedriver is not installed (apt-get install -y chromium-driver)")
    binary = require_chromium()
    port = free_port()
    with (
        tempfile.TemporaryDirectory(prefix="satchel-webdriver-") as workspace,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=BROWSER_TIMEOUT_S) as client,
    ):
        profile, scratch = Path(workspace, "profile"), Path(workspace, "tmp")
        scratch.mkdir()
        process = subprocess.Popen(
            [driver, f"--port={port}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own group, so the browser goes with it
            # Chromium's own scratch directories go with the workspace, not into /tmp.
            env={**os.environ, "TMPDIR": str(scratch)},
        )
        try:
            _wait_until_ready(client, process)
            created = client.post("/session", json=_capabilities(binary, profile, width, height))
            value = created.json()["value"]
            if created.status_code != 200:
                pytest.fail(f"chromedriver could not start Chromium: {value.get('message')}")
            browser = WebDriver(client, value["sessionId"])
            try:
                yield browser
            finally:
                # Quits Chromium; if it is gone already, stopping the group below suffices.
                with suppress(WebDriverError, httpx.HTTPError):
                    browser.command("DELETE", "")
        finally:
            _stop(process)

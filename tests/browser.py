"""Headless Chromium for tests that need a real browser engine.

Use ``dump_dom(url)`` for the DOM after the page's scripts ran, ``screenshot(url, path)`` for a
PNG. Both skip the calling test when Chromium is missing, unless the ``CI`` environment variable is
set: there a missing browser is a failure, so browser checks never silently stop running.
Install it on Debian with ``apt-get install -y chromium``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import NoReturn

import pytest

__all__ = [
    "BROWSER_TIMEOUT_S",
    "CHROMIUM_FLAGS",
    "dump_dom",
    "find_chromium",
    "require_chromium",
    "screenshot",
    "skip_or_fail",
]

BROWSER_TIMEOUT_S = 60
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # tests run as root in containers, where the sandbox cannot start
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """Return the Chromium executable: ``$CHROMIUM`` if set, else the first one on PATH."""
    configured = os.environ.get("CHROMIUM")
    if configured:
        return shutil.which(configured)
    for name in _CANDIDATES:
        if found := shutil.which(name):
            return found
    return None


def skip_or_fail(message: str) -> NoReturn:
    """Skip the calling test because of ``message``; fail it instead when ``CI`` is set."""
    if os.environ.get("CI", "").lower() not in {"", "0", "false", "no"}:
        pytest.fail(f"{message}; browser tests must run in CI", pytrace=False)
    pytest.skip(f"{message}; set CI=1 to make this a failure")


def require_chromium() -> str:
    """Return the Chromium executable, or skip (in CI: fail) the calling test."""
    binary = find_chromium()
    if binary is None:
        skip_or_fail("Chromium is not installed (apt-get install -y chromium)")
    return binary


def _run_chromium(*args: str) -> str:
    binary = require_chromium()
    with tempfile.TemporaryDirectory(prefix="satchel-chromium-") as profile:
        completed = subprocess.run(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=BROWSER_TIMEOUT_S,
            check=False,
        )
    if completed.returncode != 0:
        pytest.fail(f"Chromium exited with {completed.returncode}:\n{completed.stderr[-4000:]}")
    return completed.stdout


def dump_dom(url: str) -> str:
    """Load url in headless Chromium and return the serialized DOM."""
    return _run_chromium("--dump-dom", url)


def screenshot(
    url: str, path: str | os.PathLike[str], *, width: int = 1280, height: int = 1600
) -> Path:
    """Load url in headless Chromium and save a PNG of the viewport to path."""
    target = Path(path).resolve()
    _run_chromium(
        f"--screenshot={target}", f"--window-size={width},{height}", "--hide-scrollbars", url
    )
    if not target.is_file():
        pytest.fail(f"Chromium wrote no screenshot to {target}")
    return target

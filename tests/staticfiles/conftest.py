"""A project's static folder and a battery's, with fixed modification times."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

MTIME_NS = 1_700_000_000 * 10**9
SITE_CSS = b"body { color: #333 }\n" * 20
APP_JS = b"console.log('hello from app.js');\n" * 30
PNG = b"\x89PNG\r\n\x1a\n"


def write(root: Path, name: str, data: bytes, mtime_ns: int = MTIME_NS) -> Path:
    """Write ``root/name`` with a fixed modification time."""
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The project's static folder: CSS, a script with .gz and .br siblings, images."""
    root = tmp_path / "static"
    write(root, "css/site.css", SITE_CSS)
    write(root, "js/app.js", APP_JS)
    write(root, "js/app.js.gz", gzip.compress(APP_JS, mtime=0), MTIME_NS + 1)
    # The server never decodes a sibling: any bytes stand for brotli output.
    write(root, "js/app.js.br", b"brotli stand-in", MTIME_NS + 1)
    write(root, "img/logo.png", PNG)
    write(root, "hello.txt", b"0123456789abcdefghij")
    return root


@pytest.fixture
def battery(tmp_path: Path) -> Path:
    """A battery's static folder: one name the project overrides, one of its own."""
    root = tmp_path / "battery"
    write(root, "css/site.css", b"/* the battery's */")
    write(root, "admin/admin.css", b".admin { margin: 0 }")
    return root

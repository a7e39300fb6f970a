"""Fixtures of the security suite: the checks every test gets, and Granian servers."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security.granian import Server, serve_security_app
from tests.security.helpers import QUICK_S, answers_quickly
from tests.servers import ServerKind
from tests.support import open_files_under


@pytest.fixture(autouse=True)
def spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Temporary files go to an empty folder, which must be empty and closed afterwards.

    The whole test must also end quickly: a blanket bound on top of the tighter ones
    the tests put around each hostile request.
    """
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    with answers_quickly(2 * QUICK_S):
        yield folder
    assert open_files_under(folder) == []
    assert list(folder.iterdir()) == []


@pytest.fixture(scope="session", params=["granian-rsgi", "granian-asgi"], ids=["rsgi", "asgi"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The security app under Granian, once per interface for the whole suite."""
    kind: ServerKind = request.param
    with serve_security_app(kind, tmp_path_factory.mktemp(kind)) as running:
        yield running


@pytest.fixture
def clean_server(server: Server) -> Iterator[Server]:
    """The server; afterwards its worker holds no more descriptors and no temporary file."""
    baseline = server.open_fds()
    yield server
    assert server.settled_fds(baseline) <= baseline, server.log.read_text()[-2000:]
    assert server.temp_files() == []

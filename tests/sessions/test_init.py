"""The satchel.sessions package: its names, and what importing it loads."""

from __future__ import annotations

import subprocess
import sys

import pytest

import satchel.sessions


def test_importing_sessions_loads_neither_redis_nor_sqlalchemy() -> None:
    code = "import sys, satchel.sessions; print(' '.join(sorted(sys.modules)))"
    loaded = set(subprocess.check_output([sys.executable, "-c", code], text=True).split())
    heavy = {m for m in loaded if m.split(".")[0] in ("redis", "sqlalchemy")}
    assert heavy == set()


def test_server_side_stores_load_on_first_use() -> None:
    from satchel.sessions.database import DatabaseStore
    from satchel.sessions.redis import RedisStore

    assert satchel.sessions.RedisStore is RedisStore
    assert satchel.sessions.DatabaseStore is DatabaseStore


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'FileStore'"):
        satchel.sessions.FileStore  # type: ignore[attr-defined]  # noqa: B018

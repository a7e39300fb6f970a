"""The real Redis and PostgreSQL the tests use: where they are, and what to do when they are down.

``scripts/services`` starts both. Without them the tests that need them skip on a
developer's machine and fail in CI (``CI`` set), so a missing service is never
mistaken for a pass.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

__all__ = ["POSTGRES_URL", "REDIS_URL", "redis_keys_under_fresh_prefix", "require_service"]

REDIS_URL = os.environ.get("SATCHEL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get(
    "SATCHEL_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def require_service(name: str, url: str, default_port: int) -> None:
    """Skip (or, in CI, fail) unless something accepts connections at ``url``."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        message = f"{name} is not running at {host}:{port} (scripts/services starts it)"
        if os.environ.get("CI", "").lower() not in {"", "0", "false", "no"}:
            pytest.fail(f"{message}; {name} tests must run in CI", pytrace=False)
        pytest.skip(f"{message}; set CI=1 to make this a failure")


def redis_keys_under_fresh_prefix(namespace: str) -> Iterator[str]:
    """Yield a Redis key prefix no other run uses; delete every key under it afterwards."""
    import redis

    require_service("Redis", REDIS_URL, 6379)
    prefix = f"satchel:test:{namespace}:{uuid.uuid4().hex}:"
    yield prefix
    with redis.Redis.from_url(REDIS_URL) as client:
        leftovers = list(client.scan_iter(match=f"{prefix}*"))
        if leftovers:
            client.delete(*leftovers)

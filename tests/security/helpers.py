"""What every security test checks: the exact refusal, a quick answer, nothing leaked.

"Quickly" is a generous bound: a regression guard against quadratic or unbounded work
(which takes minutes on these inputs), not a benchmark.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.support import FORBIDDEN_IN_BODY, RawResponse, assert_problem

__all__ = [
    "QUICK_S",
    "answers_quickly",
    "assert_refused",
    "assert_refused_http",
    "in_chunks",
    "multipart",
]

#: Seconds any hostile request may take, end to end, on a busy two-core machine.
QUICK_S = 5.0


@contextmanager
def answers_quickly(bound: float = QUICK_S) -> Iterator[None]:
    """Fail unless the block runs in under ``bound`` seconds."""
    start = time.perf_counter()
    yield
    elapsed = time.perf_counter() - start
    assert elapsed < bound, f"took {elapsed:.2f} s; the bound is {bound} s"


def assert_refused(result: RawResponse, status: int) -> dict[str, Any]:
    """Check a ``call_asgi`` answer: exactly ``status``, a problem body, no internals."""
    assert result.status == status, (result.status, result.body[:500])
    assert result.header("content-type") == "application/problem+json"
    body: dict[str, Any] = result.json()
    assert_problem(body, status)
    return body


def assert_refused_http(response: httpx.Response, status: int) -> dict[str, Any]:
    """:func:`assert_refused` for an httpx response (TestClient or a real server)."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = json.loads(response.content)
    assert_problem(body, status)
    for forbidden in FORBIDDEN_IN_BODY:
        assert forbidden not in response.text
    return body


def in_chunks(body: bytes, size: int = 65536) -> list[bytes]:
    """``body`` cut into pieces of ``size`` bytes, for a ``Receiver`` (one empty piece if empty)."""
    return [body[i : i + size] for i in range(0, len(body), size)] or [b""]


def multipart(parts: Iterable[tuple[str, str | None, bytes]], boundary: str = "B0und") -> bytes:
    """Encode ``(name, filename or None, content)`` parts as a multipart/form-data body."""
    chunks = []
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n"
        chunks.append(head.encode() + content + b"\r\n")
    return b"".join(chunks) + f"--{boundary}--\r\n".encode()

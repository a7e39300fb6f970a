"""Check that an app answers every endpoint as specified before any load is measured."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from benchmarks.catalog import Endpoint


class VerificationError(RuntimeError):
    """An endpoint answered with the wrong status, content type or body."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One response as the app served it."""

    status: int
    content_type: str
    body: bytes


def fetch(base_url: str, path: str, timeout: float = 5.0) -> Answer:
    """GET ``path`` from the server at ``base_url``."""
    netloc = urlsplit(base_url).netloc
    connection = http.client.HTTPConnection(netloc, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return Answer(response.status, response.getheader("content-type") or "", response.read())
    finally:
        connection.close()


def _check_body(endpoint: Endpoint, body: bytes) -> str | None:
    if endpoint.body_kind == "text" and body != endpoint.body.encode():
        return f"body {body!r}, expected {endpoint.body!r}"
    if endpoint.body_kind == "json":
        try:
            value = json.loads(body)
        except ValueError:
            return f"body {body!r} is not JSON"
        if value != endpoint.body:
            return f"JSON {value!r}, expected {endpoint.body!r}"
    return None


def verify(base_url: str, endpoint: Endpoint) -> Answer:
    """Fetch ``endpoint`` and check status, content type and body.

    Raises:
        VerificationError: If any of them is not what the endpoint expects.
    """
    try:
        answer = fetch(base_url, endpoint.path)
    except (OSError, http.client.HTTPException) as exc:
        raise VerificationError(f"GET {endpoint.path}: {exc!r}") from exc
    problems: list[str] = []
    if answer.status != endpoint.status:
        problems.append(f"status {answer.status}, expected {endpoint.status}")
    if endpoint.content_type and not answer.content_type.startswith(endpoint.content_type):
        problems.append(f"content-type {answer.content_type!r}, expected {endpoint.content_type}")
    body_problem = _check_body(endpoint, answer.body)
    if body_problem:
        problems.append(body_problem)
    if problems:
        raise VerificationError(f"GET {endpoint.path}: " + "; ".join(problems))
    return answer

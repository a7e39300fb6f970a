"""Check that an app answers every endpoint as specified before any load is measured."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from benchmarks.catalog import Endpoint


class VerificationError(RuntimeError):
    """An endpoint answered with the wrong status, content type or body."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One response as the app served it.

    Attributes:
        refused_with: The status the endpoint's invalid request got (``None``: it has none).
    """

    status: int
    content_type: str
    body: bytes
    refused_with: int | None = None


def fetch(
    base_url: str,
    path: str,
    method: str = "GET",
    body: bytes | None = None,
    timeout: float = 5.0,
) -> Answer:
    """Send one request to the server at ``base_url``; a body goes as ``application/json``."""
    netloc = urlsplit(base_url).netloc
    headers = {} if body is None else {"content-type": "application/json"}
    connection = http.client.HTTPConnection(netloc, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.getheader("content-type") or "", response.read())
    finally:
        connection.close()


def _check_body(endpoint: Endpoint, body: bytes) -> str | None:
    if endpoint.body_kind == "check":
        return None  # judged on every answer together, in verify()
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


def _refusal(base_url: str, endpoint: Endpoint) -> int | None:
    """Send the endpoint's invalid request; its status, which must be a 4xx."""
    invalid = endpoint.invalid
    if invalid is None:
        return None
    where = f"{endpoint.method} {invalid.path} ({invalid.broken})"
    try:
        answer = fetch(base_url, invalid.path, endpoint.method, invalid.body)
    except (OSError, http.client.HTTPException) as exc:
        raise VerificationError(f"{where}: {exc!r}") from exc
    if not 400 <= answer.status < 500:
        raise VerificationError(f"{where}: status {answer.status}, expected a 4xx refusal")
    return answer.status


def _problems(endpoint: Endpoint, answer: Answer) -> list[str]:
    problems: list[str] = []
    if answer.status != endpoint.status:
        problems.append(f"status {answer.status}, expected {endpoint.status}")
    if endpoint.content_type and not answer.content_type.startswith(endpoint.content_type):
        problems.append(f"content-type {answer.content_type!r}, expected {endpoint.content_type}")
    body_problem = _check_body(endpoint, answer.body)
    if body_problem:
        problems.append(body_problem)
    return problems


def verify(base_url: str, endpoint: Endpoint) -> Answer:
    """Fetch ``endpoint`` and check status, content type and body; check it refuses bad input.

    The request is sent ``endpoint.verify_requests`` times; a ``check`` endpoint's function
    judges all the bodies together.

    Raises:
        VerificationError: If any of them is not what the endpoint expects, or its invalid
            request was not refused with a 4xx.
    """
    where = f"{endpoint.method} {endpoint.path}"
    answers = []
    for _ in range(endpoint.verify_requests):
        try:
            answer = fetch(base_url, endpoint.path, endpoint.method, endpoint.request_body)
        except (OSError, http.client.HTTPException) as exc:
            raise VerificationError(f"{where}: {exc!r}") from exc
        problems = _problems(endpoint, answer)
        if problems:
            raise VerificationError(f"{where}: " + "; ".join(problems))
        answers.append(answer)
    if endpoint.body_kind == "check":
        problem = endpoint.body([answer.body for answer in answers])
        if problem:
            raise VerificationError(f"{where}: {problem}")
    return replace(answers[0], refused_with=_refusal(base_url, endpoint))

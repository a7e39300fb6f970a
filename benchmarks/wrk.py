"""Run ``wrk`` pinned to a core for a bounded time and parse what it prints."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in ", re.MULTILINE)
_NON_2XX = re.compile(r"^\s*Non-2xx or 3xx responses:\s+(\d+)", re.MULTILINE)
_SOCKET = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", re.MULTILINE
)
_GRACE_S = 15


class WrkError(RuntimeError):
    """wrk failed, overran its time bound, or printed something unparsable."""


@dataclass(frozen=True, slots=True)
class WrkResult:
    """What one wrk run measured."""

    requests_per_second: float
    requests: int
    non_2xx: int
    socket_errors: int


@dataclass(frozen=True, slots=True)
class WrkSettings:
    """How wrk loads the server: pinned core, threads, open connections, per-request timeout."""

    core: int = 1
    threads: int = 1
    connections: int = 64
    timeout_s: int = 2


def parse_wrk(output: str) -> WrkResult:
    """Parse wrk's summary.

    Raises:
        WrkError: If the summary lines are missing.
    """
    rps = _RPS.search(output)
    total = _TOTAL.search(output)
    if rps is None or total is None:
        raise WrkError(f"unexpected wrk output:\n{output.strip()}")
    non_2xx = _NON_2XX.search(output)
    socket_errors = _SOCKET.search(output)
    return WrkResult(
        requests_per_second=float(rps.group(1)),
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
    )


def request_script(method: str, body: bytes | None) -> str:
    """A wrk Lua script sending ``method`` with ``body`` as ``application/json``."""
    lines = [f'wrk.method = "{method}"']
    if body is not None:
        text = body.decode()
        # A Lua long string holds the body verbatim; pick a level its text does not close.
        level = 0
        while f"]{'=' * level}]" in text:
            level += 1
        equals = "=" * level
        lines += [
            'wrk.headers["Content-Type"] = "application/json"',
            f"wrk.body = [{equals}[{text}]{equals}]",
        ]
    return "\n".join(lines) + "\n"


def wrk_command(
    url: str, duration_s: int, settings: WrkSettings, script: Path | None = None
) -> list[str]:
    """The exact command line used to load ``url`` for ``duration_s`` seconds."""
    return [
        "taskset",
        "-c",
        str(settings.core),
        "wrk",
        f"-t{settings.threads}",
        f"-c{settings.connections}",
        f"-d{duration_s}s",
        f"--timeout={settings.timeout_s}s",
        *(["-s", str(script)] if script is not None else []),
        url,
    ]


def run_wrk(
    url: str, duration_s: int, settings: WrkSettings, script: Path | None = None
) -> WrkResult:
    """Load ``url`` for ``duration_s`` seconds (killed if it overruns by 15 s).

    ``script`` is a wrk Lua script (see :func:`request_script`) for requests other than
    a plain GET.

    Raises:
        WrkError: If wrk fails, overruns or prints no summary.
    """
    command = wrk_command(url, duration_s, settings, script)
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=duration_s + _GRACE_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise WrkError(f"wrk overran {duration_s + _GRACE_S} s on {url}") from exc
    if completed.returncode != 0:
        raise WrkError(f"wrk exited {completed.returncode}: {completed.stderr.strip()}")
    return parse_wrk(completed.stdout)

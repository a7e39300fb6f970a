"""Start one Granian worker pinned to a core, wait until it answers HTTP, stop it cleanly."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.catalog import AppSpec

REPO_ROOT = Path(__file__).resolve().parents[1]
STOP_TIMEOUT_S = 10.0


class ServerError(RuntimeError):
    """The server did not start, or stopped answering."""


def granian_command(app: AppSpec, *, port: int, core: int, loop: str) -> list[str]:
    """The exact command line used to serve ``app`` (one worker, HTTP/1, no access log)."""
    return [
        "taskset",
        "-c",
        str(core),
        sys.executable,
        "-m",
        "granian",
        "--interface",
        app.interface,
        "--http",
        "1",
        "--workers",
        "1",
        "--runtime-threads",
        "1",
        "--loop",
        loop,
        "--no-access-log",
        "--log-level",
        "warning",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        app.target,
    ]


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _server_env() -> dict[str, str]:
    # The apps live in this checkout: `src` for satchel, the repo root for `benchmarks.apps`.
    paths = [str(REPO_ROOT / "src"), str(REPO_ROOT)]
    existing = os.environ.get("PYTHONPATH")
    if existing:
        paths.append(existing)
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "PYTHONUNBUFFERED": "1"}


def _answers_http(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1.0)
    try:
        connection.request("GET", "/plaintext")
        connection.getresponse().read()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    return True


def log_tail(log_path: Path, lines: int = 15) -> str:
    """The last ``lines`` lines of a server log, for error messages."""
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.strip().splitlines()[-lines:]) or "(empty log)"


def _wait_until_ready(
    process: subprocess.Popen[bytes], port: int, log_path: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(
                f"server exited with status {process.returncode} before answering:\n"
                f"{log_tail(log_path)}"
            )
        if _answers_http(port):
            return
        time.sleep(0.1)
    raise ServerError(f"server did not answer within {timeout:.0f} s:\n{log_tail(log_path)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    # Granian runs in its own session (process group) that only it and its worker belong to.
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def granian_server(
    app: AppSpec,
    *,
    core: int,
    loop: str,
    log_path: Path,
    startup_timeout: float = 30.0,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Serve ``app`` for the duration of the block; yields its base URL and process.

    Raises:
        ServerError: If the server exits or does not answer HTTP within ``startup_timeout``.
    """
    port = free_port()
    command = granian_command(app, port=port, core=core, loop=loop)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=_server_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_ready(process, port, log_path, startup_timeout)
        yield f"http://127.0.0.1:{port}", process
    finally:
        _stop(process)

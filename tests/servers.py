"""Real servers for tests: Granian (RSGI, ASGI) and uvicorn on 127.0.0.1, always stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import pytest

__all__ = [
    "BIN",
    "SERVER_KINDS",
    "START_TIMEOUT_S",
    "STOP_TIMEOUT_S",
    "ServerKind",
    "free_port",
    "running",
    "serve",
    "serve_source",
    "server_command",
    "stop",
    "wait_until_listening",
]

ServerKind = Literal["granian-rsgi", "granian-asgi", "uvicorn"]
SERVER_KINDS: tuple[ServerKind, ...] = ("granian-rsgi", "granian-asgi", "uvicorn")
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
BIN = Path(sys.executable).parent


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_command(
    kind: ServerKind, target: str, port: int, options: Sequence[str] = ()
) -> list[str]:
    """The command line that serves ``target`` ("module:attr") with ``kind`` on ``port``.

    Args:
        kind: Which server, and for Granian which interface.
        target: What to serve, as the server expects it.
        port: The port on 127.0.0.1 to listen on.
        options: Further command-line options for that server (e.g. ``["--factory"]``).
    """
    where = ["--host", "127.0.0.1", "--port", str(port), *options]
    if kind == "uvicorn":
        return [str(BIN / "uvicorn"), target, *where]
    interface = kind.removeprefix("granian-")
    return [str(BIN / "granian"), "--interface", interface, *where, target]


@contextmanager
def running(
    command: Sequence[str],
    port: int,
    *,
    cwd: Path,
    log: Path,
    env: Mapping[str, str] | None = None,
    stderr_only: bool = False,
    must_stop_on_sigint: bool = False,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` (a server listening on ``port``) for the duration of the block.

    The server gets its own process group so that workers die with it; it is
    stopped with SIGINT, then killed if it does not stop in time.

    Args:
        command: The server's command line.
        port: The port it listens on; the block starts once it accepts connections.
        cwd: The server's working directory.
        log: Where its output goes (read it back for assertions or failure messages).
        env: The server's whole environment; this process's when None.
        stderr_only: Log only standard error and discard standard output.
        must_stop_on_sigint: Fail the test if the server had to be killed.
    """
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL if stderr_only else out,
            stderr=out if stderr_only else subprocess.STDOUT,
            start_new_session=True,
            env=None if env is None else dict(env),
        )
        try:
            wait_until_listening(process, port, log)
            yield process
        finally:
            if not stop(process) and must_stop_on_sigint:
                pytest.fail(f"server did not stop within {STOP_TIMEOUT_S} s of SIGINT")


@contextmanager
def serve(
    kind: ServerKind,
    target: str,
    *,
    cwd: Path,
    options: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
) -> Iterator[str]:
    """Serve ``target`` with ``kind``, importing from ``cwd``; yield the base URL.

    Args:
        kind: Which server, and for Granian which interface.
        target: What to serve ("module:attr"), importable from ``cwd``.
        cwd: The server's working directory, also put on ``PYTHONPATH``.
        options: Further command-line options for the server.
        env: Variables added to this process's environment for the server.
        log: Where the server's output goes; ``cwd / "<kind>.log"`` when None.
    """
    port = free_port()
    command = server_command(kind, target, port, options)
    environment = {**os.environ, "PYTHONPATH": str(cwd), **(env or {})}
    with running(command, port, cwd=cwd, log=log or cwd / f"{kind}.log", env=environment):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def serve_source(kind: ServerKind, source: str, folder: Path) -> Iterator[str]:
    """Serve the ``app`` that ``source`` defines with ``kind``; yield the base URL.

    The source is written to ``folder / "served_app.py"`` and the server runs in
    ``folder``, logging to ``folder / "<kind>.log"``.
    """
    (folder / "served_app.py").write_text(source)
    with serve(kind, "served_app:app", cwd=folder) as url:
        yield url


def wait_until_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Wait until ``port`` accepts connections; fail with the server's log if it died."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"server did not listen within {START_TIMEOUT_S} s:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:]


def stop(process: subprocess.Popen[bytes]) -> bool:
    """Stop a server started by :func:`running`: SIGINT, then SIGKILL to its group.

    Returns:
        Whether it stopped on SIGINT (or had already exited) rather than being killed.
    """
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(STOP_TIMEOUT_S)
        return False
    return True

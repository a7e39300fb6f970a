"""Real servers for tests: Granian (RSGI, ASGI) and uvicorn on 127.0.0.1, always stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import pytest

ServerKind = Literal["granian-rsgi", "granian-asgi", "uvicorn"]
SERVER_KINDS: tuple[ServerKind, ...] = ("granian-rsgi", "granian-asgi", "uvicorn")
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
BIN = Path(sys.executable).parent


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_command(kind: ServerKind, target: str, port: int) -> list[str]:
    """The command line that serves ``target`` ("module:attr") with ``kind`` on ``port``."""
    if kind == "uvicorn":
        return [str(BIN / "uvicorn"), target, "--host", "127.0.0.1", "--port", str(port)]
    interface = kind.removeprefix("granian-")
    return [
        str(BIN / "granian"),
        "--interface",
        interface,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        target,
    ]


@contextmanager
def running(
    command: Sequence[str], port: int, *, cwd: Path, log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` (a server listening on ``port``) for the duration of the block.

    The server gets its own process group so that workers die with it; it is
    stopped with SIGINT, then killed if it does not stop in time.
    """
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PYTHONPATH": str(cwd), **(env or {})},
        )
        try:
            wait_until_listening(process, port, log)
            yield process
        finally:
            stop(process)


@contextmanager
def serve(kind: ServerKind, target: str, *, cwd: Path) -> Iterator[str]:
    """Serve ``target`` from the directory ``cwd`` with ``kind``; yield the base URL."""
    port = free_port()
    with running(server_command(kind, target, port), port, cwd=cwd, log=cwd / f"{kind}.log"):
        yield f"http://127.0.0.1:{port}"


def wait_until_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Wait until ``port`` accepts connections; fail with the server's log if it died."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"server did not listen within {START_TIMEOUT_S} s:\n{log.read_text()[-4000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server started by :func:`running`: SIGINT, then SIGKILL to its group."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(STOP_TIMEOUT_S)

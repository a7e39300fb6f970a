"""Measure how much CPU time other work takes on the benchmark cores (Linux /proc).

The machine is shared: tests and builds of other work land on the same two cores and steal
time from the pinned server or wrk. Before a measurement the suite waits (bounded) for the
cores to be quiet; during it, it takes the CPU time the cores spent on anything but the server
and wrk ("foreign" time) so noisy measurements can be retried and are reported.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PROC = Path("/proc")
# /proc/stat columns counted as busy: user, nice, system, steal. irq and softirq are left
# out: on loopback they are mostly the benchmark's own network processing, which the
# kernel does not charge to the server or wrk process.
_BUSY_COLUMNS = (0, 1, 2, 7)


def _cores_busy_ticks(cores: tuple[int, ...]) -> int:
    busy = 0
    for line in (_PROC / "stat").read_text().splitlines():
        name, *fields = line.split()
        if name.startswith("cpu") and name != "cpu" and int(name[3:]) in cores:
            busy += sum(int(fields[i]) for i in _BUSY_COLUMNS if i < len(fields))
    return busy


def _process_ticks(pid: int, reaped: bool = False) -> int:
    # Fields after the parenthesised command name; utime and stime are fields 14 and 15,
    # cutime and cstime (children waited for) 16 and 17.
    stat = (_PROC / str(pid) / "stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    own = int(fields[11]) + int(fields[12])
    return own + int(fields[13]) + int(fields[14]) if reaped else own


def _children(pid: int) -> list[int]:
    children: list[int] = []
    for task in (_PROC / str(pid) / "task").iterdir():
        text = (task / "children").read_text()
        children += [int(child) for child in text.split()]
    return children


def process_tree_ticks(pid: int, reaped: bool = False) -> int:
    """CPU ticks (user + system) used so far by ``pid`` and its live descendants.

    ``reaped`` adds the ticks of the descendants that exited and were waited for (a
    database server's finished backends).
    """
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            total += _process_ticks(current, reaped)
            pending += _children(current)
        except (OSError, ValueError):
            continue  # exited meanwhile
    return total


def _reaped_children_ticks() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * CLOCK_TICKS


def background_busy(cores: tuple[int, ...], seconds: float = 0.5) -> float | None:
    """Largest fraction (0-1) of time any of ``cores`` spent busy over ``seconds``.

    Meant for moments when nothing of the suite's runs; ``None`` where /proc is unreadable.
    """
    try:
        before = [_cores_busy_ticks((core,)) for core in cores]
        time.sleep(seconds)
        after = [_cores_busy_ticks((core,)) for core in cores]
    except (OSError, ValueError):
        return None
    ticks = seconds * CLOCK_TICKS
    return max((b - a) / ticks for a, b in zip(before, after, strict=True))


def wait_for_quiet(cores: tuple[int, ...], threshold: float, max_wait_s: float) -> float | None:
    """Sample ``background_busy`` until it is below ``threshold`` or ``max_wait_s`` is spent.

    Returns the last sample (``None`` where it cannot be measured).
    """
    deadline = time.monotonic() + max_wait_s
    busy = background_busy(cores)
    while busy is not None and busy >= threshold and time.monotonic() < deadline:
        busy = background_busy(cores)
    return busy


@dataclass(slots=True)
class ForeignLoad:
    """Foreign CPU share on ``cores`` while the server ``pid`` and waited children ran.

    Call :meth:`start` right before the measured run and :meth:`stop` right after it (the
    load generator must be a child process this one waits for, as ``subprocess.run`` does).
    ``companions`` are other process trees serving the benchmark (the database server):
    their time is the benchmark's own, not other work.
    """

    cores: tuple[int, ...]
    pid: int
    companions: tuple[int, ...] = ()
    _start: tuple[float, int, int, float] | None = None

    def _ours(self) -> int:
        companions = sum(process_tree_ticks(pid, reaped=True) for pid in self.companions)
        return process_tree_ticks(self.pid) + companions

    def start(self) -> None:
        """Take the starting counters."""
        try:
            self._start = (
                time.monotonic(),
                _cores_busy_ticks(self.cores),
                self._ours(),
                _reaped_children_ticks(),
            )
        except (OSError, ValueError):
            self._start = None

    def stop(self) -> float | None:
        """Share (0-1) of the cores' capacity used by other work since :meth:`start`."""
        if self._start is None:
            return None
        started, cores_busy, ours, children = self._start
        try:
            elapsed = time.monotonic() - started
            foreign = (
                (_cores_busy_ticks(self.cores) - cores_busy)
                - (self._ours() - ours)
                - (_reaped_children_ticks() - children)
            )
        except (OSError, ValueError):
            return None
        capacity = elapsed * CLOCK_TICKS * len(self.cores)
        return max(0.0, foreign / capacity) if capacity > 0 else None

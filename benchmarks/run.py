"""HTTP throughput of Satchel next to raw RSGI/ASGI apps and other Python frameworks.

Run from the repository root: ``python benchmarks/run.py [--suite http|validation|db] [--quick]``.
See benchmarks/README.md. Every server is one Granian worker pinned to one core, loaded by
wrk pinned to the other; rounds are interleaved and medians are reported, as ratios to the
raw RSGI app and between Satchel and the frameworks it is compared with.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make the `benchmarks` package importable from the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.catalog import SUITES, AppSpec, Endpoint, Suite, select
from benchmarks.noise import ForeignLoad, wait_for_quiet
from benchmarks.report import (
    REPO_ROOT,
    Results,
    RunInfo,
    Sample,
    results_markdown,
    write_results,
)
from benchmarks.server import ServerError, granian_server, log_tail
from benchmarks.verify import VerificationError, verify
from benchmarks.worlddb import SetupError
from benchmarks.wrk import WrkError, WrkResult, WrkSettings, request_script, run_wrk

DEFAULT_ROUNDS = 3
DEFAULT_DURATION_S = 5
QUICK_ROUNDS = 1
QUICK_DURATION_S = 2


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the command line; ``--quick`` fills in rounds and duration not given."""
    parser = argparse.ArgumentParser(
        prog="python benchmarks/run.py",
        description="HTTP throughput of Satchel and other frameworks on Granian (one worker).",
    )
    parser.add_argument(
        "--suite",
        default="http",
        choices=[suite.name for suite in SUITES],
        help="what to measure: http (every app, trivial endpoints; default), validation"
        " (Satchel, Litestar and FastAPI validating a body and query parameters) or db"
        " (Satchel, Django and FastAPI + SQLAlchemy reading PostgreSQL)",
    )
    parser.add_argument("--quick", action="store_true", help="1 round x 2 s (a smoke run)")
    parser.add_argument("--rounds", type=int, help=f"interleaved rounds (default {DEFAULT_ROUNDS})")
    parser.add_argument(
        "--duration", type=int, help=f"seconds per measurement (default {DEFAULT_DURATION_S})"
    )
    parser.add_argument(
        "--warmup", type=int, default=1, help="seconds of warm-up per endpoint (0 disables)"
    )
    parser.add_argument("--apps", help="comma-separated app names (default: all)")
    parser.add_argument("--endpoints", help="comma-separated endpoint names (default: all)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--server-core", type=int, default=0, help="core the server runs on")
    parser.add_argument("--client-core", type=int, default=1, help="core wrk runs on")
    parser.add_argument(
        "--loop",
        default="auto",
        choices=["auto", "asyncio", "uvloop", "rloop"],
        help="Granian event loop (default auto)",
    )
    parser.add_argument(
        "--quiet-threshold",
        type=float,
        default=0.15,
        help="before each measurement, wait until neither core is this busy (default 0.15)",
    )
    parser.add_argument(
        "--quiet-wait", type=float, default=20.0, help="longest quiet wait in seconds (default 20)"
    )
    parser.add_argument(
        "--max-foreign",
        type=float,
        default=0.10,
        help="retry a run if other work took this share of the two cores (default 0.10)",
    )
    parser.add_argument("--retries", type=int, default=2, help="retries of a noisy run (default 2)")
    parser.add_argument(
        "--noise-budget",
        type=float,
        default=0.5,
        help="extra time for quiet waits and retries, as a share of the nominal run (0.5)",
    )
    parser.add_argument(
        "--output", type=Path, default=REPO_ROOT / "BENCHMARKS.md", help="markdown file to update"
    )
    parser.add_argument("--no-write", action="store_true", help="print results only")
    parser.add_argument("--list", action="store_true", help="list apps and endpoints, then exit")
    args = parser.parse_args(argv)
    default_rounds, default_duration = (
        (QUICK_ROUNDS, QUICK_DURATION_S) if args.quick else (DEFAULT_ROUNDS, DEFAULT_DURATION_S)
    )
    args.rounds = args.rounds or default_rounds
    args.duration = args.duration or default_duration
    if args.rounds < 1 or args.duration < 1 or min(args.warmup, args.retries) < 0:
        parser.error("--rounds and --duration must be >= 1, --warmup and --retries >= 0")
    return args


def _missing_prerequisites(args: argparse.Namespace) -> list[str]:
    problems = [
        f"`{tool}` not found on PATH" for tool in ("wrk", "taskset") if not shutil.which(tool)
    ]
    usable = os.sched_getaffinity(0)
    for core in (args.server_core, args.client_core):
        if core not in usable:
            problems.append(f"core {core} is not available (usable: {sorted(usable)})")
    if args.server_core == args.client_core:
        problems.append("server and wrk must run on different cores")
    return problems


def judge(
    app: AppSpec, endpoint: Endpoint, round_no: int, result: WrkResult, foreign: float | None
) -> Sample:
    """A sample, marked invalid if any response had an unexpected status class."""
    problem = None
    if result.requests == 0:
        problem = "no request completed"
    elif endpoint.expects_error and result.non_2xx != result.requests:
        problem = f"{result.requests - result.non_2xx} of {result.requests} responses were 2xx"
    elif not endpoint.expects_error and result.non_2xx:
        problem = f"{result.non_2xx} of {result.requests} responses were not 2xx"
    warning = f"{result.socket_errors} socket errors" if result.socket_errors else None
    return Sample(
        app.name, endpoint.name, round_no, result.requests_per_second, problem, warning, foreign
    )


class Measurer:
    """Loads one endpoint of a running server: quiet wait, warm-up, measured run, retries.

    Waiting for quiet and re-measuring noisy runs draw on one budget of extra seconds for
    the whole run, released evenly over the measurements (unused time carries over) so the
    first apps cannot use it all, with one run's retries allowed up front; when none is
    left a run is measured once, right away.
    """

    def __init__(
        self, args: argparse.Namespace, measurements: int, companions: tuple[int, ...] = ()
    ) -> None:
        self.args = args
        self.cores: tuple[int, int] = (args.server_core, args.client_core)
        self.companions = companions
        self.wrk = WrkSettings(args.client_core, args.threads, args.connections)
        self.duration_s: int = args.duration
        self.retries: int = args.retries
        self.measurements = measurements
        self.extra_budget_s: float = (
            measurements * (args.duration + args.warmup) * args.noise_budget
        )
        self.extra_spent_s = 0.0
        self.done = 0

    def _budget_left(self) -> float:
        # Released evenly, plus one measurement's worth of retries up front.
        released = self.extra_budget_s * (self.done + 1) / self.measurements
        released = min(self.extra_budget_s, released + self.retries * self.duration_s)
        return released - self.extra_spent_s

    def _wait_for_quiet(self) -> None:
        left = self._budget_left()
        if left <= 0:
            return
        started = time.monotonic()
        wait_for_quiet(self.cores, self.args.quiet_threshold, min(self.args.quiet_wait, left))
        self.extra_spent_s += time.monotonic() - started

    def _retry_allowed(self, attempt: int) -> bool:
        return attempt < self.retries and self.duration_s <= self._budget_left()

    def measure(
        self, url: str, server_pid: int, script: Path | None = None
    ) -> tuple[WrkResult, float | None]:
        """The measured wrk result and the share of the cores other work took during it.

        A run during which other work took ``--max-foreign`` or more of the two cores, or
        that wrk failed, is repeated up to ``--retries`` times while the budget lasts; the
        last run is kept (or its error raised).

        Raises:
            WrkError: If the last attempt's wrk run failed.
        """
        try:
            return self._measure(url, server_pid, script)
        finally:
            self.done += 1

    def _measure(
        self, url: str, server_pid: int, script: Path | None
    ) -> tuple[WrkResult, float | None]:
        args = self.args
        attempt = 0
        while True:
            self._wait_for_quiet()
            if attempt == 0 and args.warmup:
                run_wrk(url, args.warmup, self.wrk, script)
            load = ForeignLoad(self.cores, server_pid, self.companions)
            load.start()
            try:
                result = run_wrk(url, args.duration, self.wrk, script)
            except WrkError as exc:
                if not self._retry_allowed(attempt):
                    raise
                reason = str(exc).splitlines()[0]
            else:
                foreign = load.stop()
                if foreign is None or foreign < args.max_foreign:
                    return result, foreign
                if not self._retry_allowed(attempt):
                    return result, foreign
                reason = f"other work took {foreign:.0%} of the cores"
            attempt += 1
            self.extra_spent_s += args.duration
            print(f"    {reason}; measuring again", flush=True)


def _progress(endpoint: Endpoint, sample: Sample) -> str:
    notes = [n for n in (sample.problem, sample.warning) if n]
    if sample.foreign is not None:
        notes.insert(0, f"foreign {sample.foreign:.0%}")
    line = f"  {endpoint.label:<18} {sample.requests_per_second:>10,.0f} req/s  "
    return line + "; ".join(notes)


def _measure_endpoint(
    app: AppSpec,
    endpoint: Endpoint,
    round_no: int,
    measurer: Measurer,
    base_url: str,
    pid: int,
    script: Path | None,
) -> Sample:
    try:
        result, foreign = measurer.measure(base_url + endpoint.path, pid, script)
    except WrkError as exc:
        # One failed load (e.g. wrk starved past its time bound) invalidates that run only.
        return Sample(app.name, endpoint.name, round_no, 0.0, problem=str(exc).splitlines()[0])
    return judge(app, endpoint, round_no, result, foreign)


def measure_app(
    app: AppSpec,
    round_no: int,
    measurer: Measurer,
    results: Results,
    log_path: Path,
    scripts: dict[str, Path],
) -> None:
    """Start ``app``, verify every endpoint, then measure each one in turn.

    An app that does not start, answers an endpoint wrongly, accepts an endpoint's invalid
    request or dies under load is dropped from the run with the reason, so it never
    contributes a number. ``scripts`` holds the wrk script of each endpoint that needs one.
    """
    args = measurer.args
    server = granian_server(app, core=args.server_core, loop=args.loop, log_path=log_path)
    try:
        with server as (base_url, process):
            for endpoint in results.endpoints:
                results.answers.setdefault((app.name, endpoint.name), verify(base_url, endpoint))
            for endpoint in results.endpoints:
                script = scripts.get(endpoint.name)
                sample = _measure_endpoint(
                    app, endpoint, round_no, measurer, base_url, process.pid, script
                )
                if process.poll() is not None:
                    raise ServerError(
                        f"server exited during the load on {endpoint.label}:\n{log_tail(log_path)}"
                    )
                results.samples.append(sample)
                print(_progress(endpoint, sample), flush=True)
    except (ServerError, VerificationError) as exc:
        results.failures[app.name] = f"{type(exc).__name__}: {exc}"
        results.samples[:] = [s for s in results.samples if s.app != app.name]
        print(f"  FAILED, dropped from this run: {exc}", file=sys.stderr)


def _write_scripts(endpoints: list[Endpoint], directory: Path) -> dict[str, Path]:
    """A wrk script per endpoint that is not a plain GET, by endpoint name."""
    scripts = {}
    for endpoint in endpoints:
        if endpoint.method != "GET" or endpoint.request_body is not None:
            script = directory / f"{endpoint.name}.lua"
            script.write_text(request_script(endpoint.method, endpoint.request_body))
            scripts[endpoint.name] = script
    return scripts


def run(
    args: argparse.Namespace,
    apps: list[AppSpec],
    endpoints: list[Endpoint],
    companions: tuple[int, ...] = (),
) -> Results:
    """Interleave rounds: each round starts every app once; the app order rotates per round.

    ``companions`` are process trees serving the apps (the database server), whose CPU time
    is not counted as other work.
    """
    results = Results(apps, endpoints)
    measurer = Measurer(args, args.rounds * len(apps) * len(endpoints), companions)
    with tempfile.TemporaryDirectory(prefix="satchel-bench-") as log_dir:
        scripts = _write_scripts(endpoints, Path(log_dir))
        for round_no in range(1, args.rounds + 1):
            shift = (round_no - 1) % len(apps)
            for app in apps[shift:] + apps[:shift]:
                if app.name in results.failures:
                    continue
                print(f"[round {round_no}/{args.rounds}] {app.name} ({app.interface})", flush=True)
                log_path = Path(log_dir) / f"{app.name}-round{round_no}.log"
                measure_app(app, round_no, measurer, results, log_path, scripts)
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the suite; exit status 1 if an app failed or a sample was invalid."""
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    suite: Suite = next(s for s in SUITES if s.name == args.suite)
    try:
        apps = select(args.apps, suite.apps, "app")
        endpoints = select(args.endpoints, suite.endpoints, "endpoint")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.list:
        for app in suite.apps:
            print(f"app       {app.name:<14} {app.interface}  {app.target}")
        for endpoint in suite.endpoints:
            print(
                f"endpoint  {endpoint.name:<14} {endpoint.method} {endpoint.path}"
                f" -> {endpoint.status}"
            )
        return 0
    problems = _missing_prerequisites(args)
    if problems:
        print("error: " + "; ".join(problems), file=sys.stderr)
        return 2
    if args.warmup < suite.min_warmup_s:
        print(f"note: the {suite.name} suite warms up for at least {suite.min_warmup_s} s")
        args.warmup = suite.min_warmup_s
    prepared = None
    if suite.prepare is not None:
        try:
            prepared = suite.prepare()
        except SetupError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    info = RunInfo(
        command=shlex.join(["python", "benchmarks/run.py", *argv]),
        rounds=args.rounds,
        duration_s=args.duration,
        warmup_s=args.warmup,
        loop=args.loop,
        server_core=args.server_core,
        client_core=args.client_core,
        wrk_args=f"-t{args.threads} -c{args.connections} --timeout=2s",
        noise_policy=(
            f"waits up to {args.quiet_wait:.0f} s for both cores under "
            f"{args.quiet_threshold:.0%} busy before each run; retries a run (up to "
            f"{args.retries}x) when other work took >= {args.max_foreign:.0%} of the two cores; "
            f"{args.noise_budget:.0%} of the nominal time allowed for both"
        ),
        max_foreign=args.max_foreign,
        started=dt.datetime.now(dt.UTC),
        notes=prepared.notes if prepared else (),
    )
    companions = (prepared.companion_pid,) if prepared and prepared.companion_pid else ()
    results = run(args, apps, endpoints, companions)
    markdown = results_markdown(results, info, suite)
    print("\n" + markdown)
    if not args.no_write:
        write_results(args.output, markdown, suite)
        print(f"results written to {args.output}")
    invalid = any(sample.problem for sample in results.samples)
    return 1 if results.failures or invalid else 0


if __name__ == "__main__":
    sys.exit(main())

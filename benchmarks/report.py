"""Turn samples into medians and ratios, describe the machine, and write BENCHMARKS.md."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import importlib.util
import math
import os
import platform
import re
import statistics
import subprocess
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.catalog import REFERENCE_APP, AppSpec, Comparison, Endpoint, Suite
from benchmarks.verify import Answer

REPO_ROOT = Path(__file__).resolve().parents[1]
FLOOR_TOLERANCE = 1.10
"""A framework above this ratio to raw RSGI points at noise in the reference runs."""
_EXCEPTION_LINE = re.compile(r"^\w*(Error|Exception)\b.*:")


@dataclass(frozen=True, slots=True)
class Sample:
    """One timed wrk run; ``problem`` set means it is excluded from the medians."""

    app: str
    endpoint: str
    round: int
    requests_per_second: float
    problem: str | None = None
    warning: str | None = None
    foreign: float | None = None
    """Share of the two cores other processes used during the run (``None``: unmeasured)."""


@dataclass(slots=True)
class Results:
    """Everything one run produced."""

    apps: list[AppSpec]
    endpoints: list[Endpoint]
    samples: list[Sample] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    answers: dict[tuple[str, str], Answer] = field(default_factory=dict)

    def valid_rates(self, app: str, endpoint: str) -> list[float]:
        """Requests/s of every valid sample for one cell."""
        return [
            s.requests_per_second
            for s in self.samples
            if s.app == app and s.endpoint == endpoint and s.problem is None
        ]

    def median(self, app: str, endpoint: str) -> float | None:
        """Median requests/s over valid samples, ``None`` when there are none."""
        if app in self.failures:
            return None
        rates = self.valid_rates(app, endpoint)
        return statistics.median(rates) if rates else None


@dataclass(frozen=True, slots=True)
class RunInfo:
    """How the run was invoked, recorded next to its numbers."""

    command: str
    rounds: int
    duration_s: int
    warmup_s: int
    loop: str
    server_core: int
    client_core: int
    wrk_args: str
    noise_policy: str
    max_foreign: float
    """Share of the two cores taken by other work at which a run counts as noisy."""
    started: dt.datetime
    notes: tuple[str, ...] = ()
    """Further context lines from the suite's preparation (the database it uses)."""


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def satchel_version() -> str:
    """Installed Satchel version, or the checkout's pyproject version when not installed."""
    try:
        return importlib.metadata.version("satchel")
    except importlib.metadata.PackageNotFoundError:
        pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
        return f"{pyproject['project']['version']} (src tree)"


def resolved_loop(loop: str) -> str:
    """The event loop Granian's ``--loop`` choice resolves to in this environment."""
    if loop != "auto":
        return loop
    for candidate in ("rloop", "uvloop"):
        if importlib.util.find_spec(candidate) is not None:
            return f"auto -> {candidate}"
    return "auto -> asyncio (uvloop/rloop not installed)"


def _command_output(command: list[str]) -> str:
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=10, check=False, cwd=REPO_ROOT
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (completed.stdout or completed.stderr).strip()


def cpu_model() -> str:
    """The ``model name`` line of /proc/cpuinfo."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _wrk_version() -> str:
    # wrk has no --version; its usage banner starts with "wrk <version> [epoll] Copyright ...".
    banner = _command_output(["wrk", "--version"]).splitlines()
    return banner[0].split(" Copyright")[0].strip() if banner else "unknown"


def _noise_lines(results: Results, info: RunInfo) -> list[str]:
    shares = [s.foreign for s in results.samples if s.foreign is not None]
    if not shares:
        return ["- Other work on the benchmark cores: not measured"]
    median = statistics.median(shares)
    noisy = sum(1 for share in shares if share >= info.max_foreign)
    lines = [
        f"- Noise control: {info.noise_policy}",
        f"- Other work's share of the two cores during the {len(shares)} kept runs: median "
        f"{median:.0%}, max {max(shares):.0%}; {noisy} run(s) at >= {info.max_foreign:.0%}",
    ]
    if median >= info.max_foreign:
        lines += [
            "",
            f"**Not fit to quote: other work took a median {median:.0%} of the two cores "
            "during the measurements. Rerun on a quiet machine.**",
        ]
    return lines


def _context_lines(results: Results, info: RunInfo) -> list[str]:
    commit = _command_output(["git", "rev-parse", "--short", "HEAD"])
    if not commit or " " in commit:
        commit = "none (no commit yet)"
    packages = sorted({p for app in results.apps for p in app.packages})
    framework_versions = ", ".join(f"{name} {_version(name)}" for name in packages)
    return [
        f"- Command: `{info.command}`",
        f"- Date: {info.started:%Y-%m-%d %H:%M} UTC; checkout commit: {commit}",
        f"- Machine: nproc {len(os.sched_getaffinity(0))}, CPU `{cpu_model()}`, "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, Granian {_version('granian')} "
        f"(loop: {resolved_loop(info.loop)}), `{_wrk_version()}`",
        f"- Satchel {satchel_version()}; {framework_versions}",
        f"- {info.rounds} round(s) x {info.duration_s} s per measurement, "
        f"{info.warmup_s} s warm-up per endpoint per server start; server on core "
        f"{info.server_core}, `wrk {info.wrk_args}` on core {info.client_core}",
        *info.notes,
        *_noise_lines(results, info),
    ]


def _cell(results: Results, app: str, endpoint: str) -> str:
    if app in results.failures:
        return "failed"
    rates = results.valid_rates(app, endpoint)
    invalid = sum(
        1 for s in results.samples if s.app == app and s.endpoint == endpoint and s.problem
    )
    if not rates:
        return "invalid" if invalid else "-"
    median = statistics.median(rates)
    text = f"{median:,.0f}"
    if len(rates) > 1:
        text += f" ±{(max(rates) - min(rates)) / 2 / median:.0%}"
    if invalid:
        text += f" ({invalid} invalid)"
    return text


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _geomean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None and v > 0]
    if not present:
        return None
    return math.exp(sum(math.log(v) for v in present) / len(present))


def _format_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _ratio_rows(results: Results, pairs: list[tuple[str, str, str]]) -> list[list[str]]:
    rows = []
    for label, app, reference in pairs:
        ratios = [
            _ratio(results.median(app, e.name), results.median(reference, e.name))
            for e in results.endpoints
        ]
        rows.append([label, *map(_format_ratio, ratios), _format_ratio(_geomean(ratios))])
    return rows


def _comparison_table(
    results: Results, comparison: Comparison, label: str, paths: list[str]
) -> list[str]:
    satchels = [app for app in results.apps if app.name.startswith("satchel")]
    pairs = [(f"{app.label} / {label}", app.name, comparison.app) for app in satchels]
    rows = _ratio_rows(results, pairs)
    header = ["ratio", *paths, "geo-mean"]
    if comparison.bar is not None:
        header.append(f"bar: >= {comparison.bar:g} on each")
        for row, (_, app, other) in zip(rows, pairs, strict=True):
            ratios = [
                _ratio(results.median(app, e.name), results.median(other, e.name))
                for e in results.endpoints
            ]
            met = all(r is not None and r >= comparison.bar for r in ratios)
            row.append("met" if met else "**missed**")
    heading = f"#### Satchel vs {label} (higher is better for Satchel)"
    return ["", heading, "", *_table(header, rows)]


def _tables(results: Results, rounds: int, suite: Suite) -> list[str]:
    paths = [f"`{e.label}`" for e in results.endpoints]
    labels = {app.name: app.label for app in results.apps}
    lines = [f"#### Requests per second (median of {rounds}; ± is half the range)", ""]
    lines += _table(
        ["app", "interface", *paths],
        [
            [
                app.label,
                app.interface,
                *(_cell(results, app.name, e.name) for e in results.endpoints),
            ]
            for app in results.apps
        ],
    )
    if REFERENCE_APP in labels:
        lines += ["", f"#### Ratio to {labels[REFERENCE_APP]} (higher is better)", ""]
        pairs = [(app.label, app.name, REFERENCE_APP) for app in results.apps]
        lines += _table(["app", *paths, "geo-mean"], _ratio_rows(results, pairs))
    if any(app.name.startswith("satchel") for app in results.apps):
        for comparison in suite.comparisons:
            if comparison.app in labels:
                lines += _comparison_table(results, comparison, labels[comparison.app], paths)
    return lines


def _sample_flags(sample: Sample, max_foreign: float) -> list[str]:
    flags = [f"INVALID ({sample.problem})"] if sample.problem else []
    if sample.warning:
        flags.append(sample.warning)
    if sample.foreign is not None and sample.foreign >= max_foreign:
        flags.append(f"noisy ({sample.foreign:.0%})")
    return flags


def summarize_failure(message: str) -> str:
    """First line of a failure plus the innermost exception line of any traceback in it."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return "failed"
    exceptions = [line for line in lines[1:] if _EXCEPTION_LINE.match(line)]
    return lines[0] + (f" `{exceptions[-1]}`" if exceptions else "")


def _floor_beaters(results: Results) -> list[str]:
    beaters = []
    for app in results.apps:
        if app.name.startswith("raw-"):
            continue
        for endpoint in results.endpoints:
            ratio = _ratio(
                results.median(app.name, endpoint.name),
                results.median(REFERENCE_APP, endpoint.name),
            )
            if ratio is not None and ratio > FLOOR_TOLERANCE:
                beaters.append(f"{app.label} `{endpoint.label}` {ratio:.2f}")
    return beaters


def _problem_lines(results: Results, max_foreign: float) -> list[str]:
    lines: list[str] = []
    beaters = _floor_beaters(results)
    if beaters:
        lines += [
            "",
            f"Faster than the raw RSGI floor by more than {FLOOR_TOLERANCE - 1:.0%}, which a "
            "framework on the same server cannot be: a sign that noise hit the raw RSGI runs "
            "(see the flagged runs), not a result: " + ", ".join(beaters) + ".",
        ]
    if results.failures:
        lines += ["", "Apps that failed (no numbers recorded):", ""]
        lines += [f"- `{app}`: {summarize_failure(msg)}" for app, msg in results.failures.items()]
    by_start: dict[tuple[str, int], list[str]] = {}
    for sample in results.samples:
        flags = _sample_flags(sample, max_foreign)
        if flags:
            by_start.setdefault((sample.app, sample.round), []).append(
                f"`{sample.endpoint}` " + ", ".join(flags)
            )
    if by_start:
        lines += [
            "",
            f"Flagged runs (noisy: other work took >= {max_foreign:.0%} of the cores):",
            "",
        ]
        lines += [
            f"- `{app}` round {round_no}: " + "; ".join(flags)
            for (app, round_no), flags in by_start.items()
        ]
    return lines


def _difference_lines(results: Results) -> list[str]:
    lines: list[str] = []
    for endpoint in results.endpoints:
        reference = results.answers.get((REFERENCE_APP, endpoint.name))
        if reference is None or endpoint.body_kind == "any":
            continue
        for app in results.apps:
            answer = results.answers.get((app.name, endpoint.name))
            if answer is None or app.name == REFERENCE_APP:
                continue
            if (answer.body, answer.content_type) != (reference.body, reference.content_type):
                lines.append(
                    f"- {app.label} `{endpoint.label}`: `{answer.content_type}`, "
                    f"{len(answer.body)} bytes `{answer.body.decode(errors='replace').strip()}`"
                )
    if not lines:
        return []
    reference_json = results.answers.get((REFERENCE_APP, "json"))
    shown = f" (raw `/json` body: {len(reference_json.body)} bytes)" if reference_json else ""
    return ["", f"Responses that differ from raw RSGI's bytes or content type{shown}:", "", *lines]


def _refusal_lines(results: Results) -> list[str]:
    checked = [(e, e.invalid) for e in results.endpoints if e.invalid is not None]
    if not checked:
        return []
    rows = []
    for app in results.apps:
        answers = [results.answers.get((app.name, e.name)) for e, _ in checked]
        cells = [str(a.refused_with) if a and a.refused_with else "-" for a in answers]
        rows.append([app.label, *cells])
    header = ["app", *(f"`{e.method} {bad.path}`: {bad.broken}" for e, bad in checked)]
    return [
        "",
        "Invalid requests, checked before the load: every app must refuse them with a 4xx"
        " (status each app answered):",
        "",
        *_table(header, rows),
    ]


def _apps_lines(results: Results) -> list[str]:
    rows = [[app.label, f"`{app.interface}`", f"`{app.target}`", app.stack] for app in results.apps]
    return ["", "#### Apps in this run", "", *_table(["app", "interface", "target", "stack"], rows)]


def results_markdown(results: Results, info: RunInfo, suite: Suite) -> str:
    """The results section: context, tables, failures, flags, refusals and body differences."""
    lines = [
        *_context_lines(results, info),
        "",
        *_tables(results, info.rounds, suite),
        *_problem_lines(results, info.max_foreign),
        *_refusal_lines(results),
        *_difference_lines(results),
        *_apps_lines(results),
    ]
    return "\n".join(lines) + "\n"


def result_markers(suite: Suite) -> tuple[str, str]:
    """The comments that delimit ``suite``'s block in BENCHMARKS.md."""
    return (
        f"<!-- benchmarks:{suite.marker}:results:start -->",
        f"<!-- benchmarks:{suite.marker}:results:end -->",
    )


def write_results(path: Path, markdown: str, suite: Suite) -> None:
    """Replace the text between ``suite``'s markers in ``path`` (appending them if absent)."""
    results_start, results_end = result_markers(suite)
    block = f"{results_start}\n{markdown}{results_end}"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    start, end = text.find(results_start), text.find(results_end)
    if start != -1 and end > start:
        text = text[:start] + block + text[end + len(results_end) :]
    else:
        text = text.rstrip("\n") + f"\n\n## {suite.title}\n\n" + block + "\n"
    path.write_text(text)

"""The database suite's tables and answer checks, on the runner's side (psycopg, sync).

``prepare()`` creates the TechEmpower tables in their own schema of the test database and
fills them, leaving them alone when they already hold the expected rows (so it is safe
to run every time). ``check_world`` and ``check_fortunes`` judge an app's answers against
the tables before any load.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.apps.techempower import (
    ADDED_FORTUNE,
    FORTUNES,
    POOL_SIZE,
    POSTGRES_URL,
    SCHEMA,
    WORLD_ROWS,
)

if TYPE_CHECKING:
    import psycopg

WORLD_SEED = 20_240_601
"""``world.randomnumber`` comes from this seed, so every fill holds the same numbers."""

_CREATE = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.world"
    " (id integer PRIMARY KEY, randomnumber integer NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.fortune"
    " (id integer PRIMARY KEY, message varchar(2048) NOT NULL)",
)


class SetupError(RuntimeError):
    """PostgreSQL is unreachable or the tables could not be made."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the report says about the database, and whose CPU time is the suite's own.

    Attributes:
        notes: Lines for the report's context list.
        companion_pid: The PostgreSQL postmaster's pid when it runs on this machine (its
            backends serve the apps, so their CPU time is not "other work"), else ``None``.
    """

    notes: tuple[str, ...]
    companion_pid: int | None


def _connect() -> psycopg.Connection:
    # Imported here: the other suites run without psycopg.
    import psycopg

    return psycopg.connect(POSTGRES_URL, connect_timeout=5)


def _world_rows() -> list[tuple[int, int]]:
    numbers = random.Random(WORLD_SEED)
    return [(i, numbers.randint(1, WORLD_ROWS)) for i in range(1, WORLD_ROWS + 1)]


def _fill(connection: psycopg.Connection) -> list[str]:
    """Refill each table whose rows are not the expected ones; the names of those refilled."""
    done = []
    world = connection.execute(
        f"SELECT count(*), min(id), max(id), count(*) FILTER"
        f" (WHERE randomnumber NOT BETWEEN 1 AND {WORLD_ROWS}) FROM {SCHEMA}.world"
    ).fetchone()
    if world != (WORLD_ROWS, 1, WORLD_ROWS, 0):
        connection.execute(f"TRUNCATE {SCHEMA}.world")
        with connection.cursor().copy(f"COPY {SCHEMA}.world (id, randomnumber) FROM STDIN") as copy:
            for row in _world_rows():
                copy.write_row(row)
        done.append("world")
    fortunes = connection.execute(
        f"SELECT id, message FROM {SCHEMA}.fortune ORDER BY id"
    ).fetchall()
    if tuple(fortunes) != FORTUNES:
        connection.execute(f"TRUNCATE {SCHEMA}.fortune")
        with connection.cursor().copy(f"COPY {SCHEMA}.fortune (id, message) FROM STDIN") as copy:
            for row in FORTUNES:
                copy.write_row(row)
        done.append("fortune")
    return done


def _postmaster_pid(connection: psycopg.Connection) -> int | None:
    # A backend's parent is the postmaster; reachable only when it runs on this machine
    # (in this pid namespace), which its command name confirms.
    row = connection.execute("SELECT pg_backend_pid()").fetchone()
    try:
        stat = Path(f"/proc/{row[0]}/stat").read_text() if row else ""
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        if Path(f"/proc/{parent}/comm").read_text().strip() == "postgres":
            return parent
    except (OSError, ValueError, IndexError):
        pass
    return None


def prepare() -> Prepared:
    """Create and fill the tables where needed; describe the database for the report.

    Raises:
        SetupError: If PostgreSQL cannot be reached or the tables cannot be made.
    """
    import psycopg

    try:
        with _connect() as connection:
            for statement in _CREATE:
                connection.execute(statement)
            done = _fill(connection)
            connection.commit()
            version = connection.execute("SHOW server_version").fetchone()
            companion = _postmaster_pid(connection)
    except psycopg.Error as exc:
        raise SetupError(f"PostgreSQL at {POSTGRES_URL}: {exc}") from exc
    where = POSTGRES_URL.split("@")[-1]
    state = f"filled by this run: {', '.join(done)}" if done else "already in place"
    shared = (
        "its CPU time counts as the suite's own in the noise figures"
        if companion
        else "it is not on this machine, so its CPU time is not measured"
    )
    notes = (
        f"- PostgreSQL {version[0].split()[0] if version else '?'} at `{where}`, schema `{SCHEMA}`:"
        f" `world` {WORLD_ROWS:,} rows, `fortune` {len(FORTUNES)} rows ({state})",
        f"- Every app's pool: {POOL_SIZE} connections, no overflow, opened by the verification"
        " requests and the warm-up before any measured run",
        f"- PostgreSQL is not pinned: it shares the machine's cores with the server and wrk;"
        f" {shared}",
    )
    return Prepared(notes, companion)


def _stored_numbers(ids: list[int]) -> dict[int, int]:
    """``randomnumber`` of each row in ``ids``, as stored.

    Raises:
        SetupError: If PostgreSQL cannot be reached.
    """
    import psycopg

    try:
        with _connect() as connection:
            rows = connection.execute(
                f"SELECT id, randomnumber FROM {SCHEMA}.world WHERE id = ANY(%s)", (ids,)
            ).fetchall()
    except psycopg.Error as exc:
        raise SetupError(f"PostgreSQL at {POSTGRES_URL}: {exc}") from exc
    return dict(rows)


def _world_value(body: bytes) -> tuple[dict[str, int] | None, str | None]:
    try:
        value = json.loads(body)
    except ValueError:
        return None, f"body {body!r} is not JSON"
    if (
        not isinstance(value, dict)
        or set(value) != {"id", "randomNumber"}
        or not all(type(number) is int for number in value.values())
    ):
        return None, f"JSON {value!r}, expected {{'id': int, 'randomNumber': int}}"
    return value, None


def check_world(bodies: list[bytes]) -> str | None:
    """Every answer is one row of ``world`` as stored, and the ids are not all the same."""
    values = []
    for body in bodies:
        value, problem = _world_value(body)
        if problem or value is None:
            return problem
        values.append(value)
    try:
        stored = _stored_numbers([value["id"] for value in values])
    except SetupError as exc:
        return f"the stored rows could not be read to compare: {exc}"
    for value in values:
        if stored.get(value["id"]) != value["randomNumber"]:
            return (
                f"row {value['id']} answered with randomNumber {value['randomNumber']},"
                f" the table holds {stored.get(value['id'])}"
            )
    if len(values) > 1 and len({value["id"] for value in values}) == 1:
        return f"{len(values)} requests all got row {values[0]['id']}: the id is not random"
    return None


class _TableCells(HTMLParser):
    """The text of each ``<td>`` cell, row by row (header ``<th>`` cells left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag == "td" and self.rows:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def expected_fortunes() -> list[list[str]]:
    """The table every ``/fortunes`` page must show: the rows plus the added one, by message."""
    rows = sorted([*FORTUNES, (0, ADDED_FORTUNE)], key=lambda row: row[1])
    return [[str(id_), message] for id_, message in rows]


def _fortunes_problem(body: bytes) -> str | None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the page is not UTF-8"
    if "<script>" in text or "&lt;script&gt;" not in text:
        return "the <script> fortune is not HTML-escaped"
    parser = _TableCells()
    parser.feed(text)
    parser.close()
    rows = [row for row in parser.rows if row]
    expected = expected_fortunes()
    if len(rows) != len(expected):
        return f"{len(rows)} table rows, expected {len(expected)}"
    for position, (row, wanted) in enumerate(zip(rows, expected, strict=True), start=1):
        if row != wanted:
            return f"row {position} is {row!r}, expected {wanted!r} (sorted by message)"
    return None


def check_fortunes(bodies: list[bytes]) -> str | None:
    """Every page lists the stored fortunes and the added one, escaped, sorted by message."""
    for body in bodies:
        problem = _fortunes_problem(body)
        if problem:
            return problem
    return None

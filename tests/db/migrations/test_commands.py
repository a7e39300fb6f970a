"""``satchel db``: the migration commands through the CLI, and ``db shell`` as a real process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from satchel.cli import main
from satchel.commands.db import db_command
from satchel.db.clients import client_command
from satchel.errors import ConfigurationError
from tests.db.migrations.conftest import Backend
from tests.support import importable_module

APP_SOURCE = """
import sqlalchemy as sa

from satchel import App, Settings
from satchel.db import Database
from satchel.db.migrations import Migrations
from satchel.db.models import NAMING_CONVENTION


def make_app(*columns, url={url!r}):
    models = sa.MetaData(naming_convention=NAMING_CONVENTION)
    sa.Table("post", models, sa.Column("id", sa.Integer, primary_key=True), *columns)
    app = App(settings=Settings())
    database = Database(url, engine_options={options!r})
    database.init_app(app)
    Migrations(database, metadata=models, directory="migrations").init_app(app)
    return app


app = make_app()
evolved = make_app(sa.Column("title", sa.String(100)))
unreachable = make_app(url="postgresql+asyncpg://postgres@127.0.0.1:9/test")
no_database = App(settings=Settings())
"""

SATCHEL = Path(sys.executable).with_name("satchel")


@pytest.fixture
def module(backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    source = APP_SOURCE.format(url=backend.url, options=backend.engine_options)
    yield from importable_module(source, tmp_path, monkeypatch, "satchel_db_app")


def db(module: str, *args: str, app: str = "app") -> Result:
    return CliRunner().invoke(main, ["--app", f"{module}:{app}", "db", *args])


def revision_ids(result: Result) -> list[str]:
    return [line.split()[1] for line in result.output.splitlines()]


def test_migration_commands(module: str) -> None:
    assert db(module, "history").exit_code == 1
    init = db(module, "init")
    assert init.output == "Created migrations/: env.py, script.py.mako, versions/\n"
    assert db(module, "history").output == "No migrations yet.\n"
    assert db(module, "heads").output == "No migrations yet.\n"

    made = db(module, "makemigrations", "-m", "create posts")
    assert made.exit_code == 0, made.output
    assert re.fullmatch(r"Created migrations/versions/\w+_create_posts\.py\n", made.output)
    behind = db(module, "check")
    assert behind.exit_code == 1
    assert "not at the latest migration" in behind.stderr
    assert "migrate it first" in behind.stderr
    assert db(module, "current").output == "No migration applied.\n"

    migrated = db(module, "migrate")
    assert migrated.exit_code == 0, migrated.output
    (first,) = revision_ids(migrated)
    assert migrated.output == f"Applied {first}  create posts\n"
    assert db(module, "migrate").output.startswith("Nothing to apply")
    assert db(module, "check").output == "The models match the migrations.\n"

    differs = db(module, "check", app="evolved")
    assert differs.exit_code == 1
    assert differs.output.splitlines()[:2] == [
        "The models differ from the migrations (1):",
        "  + column post.title (VARCHAR(100))",
    ]
    assert "satchel db makemigrations -m MESSAGE" in differs.output

    assert db(module, "makemigrations", "-m", "add titles", app="evolved").exit_code == 0
    (second,) = revision_ids(db(module, "migrate", app="evolved"))
    assert db(module, "check", app="evolved").exit_code == 0
    assert db(module, "history").output == (f"{first}  create posts\n{second}  add titles (head)\n")
    assert db(module, "heads").output == f"{second}  add titles (head)\n"
    assert db(module, "current").output == f"{second}  add titles (head)\n"

    unchanged = db(module, "makemigrations", "-m", "again", app="evolved")
    assert unchanged.exit_code == 1
    assert "no changes detected" in unchanged.stderr

    assert db(module, "downgrade", "-1").output == f"Reverted {second}  add titles\n"
    assert db(module, "current").output == f"{first}  create posts\n"
    assert db(module, "downgrade", "base").output == f"Reverted {first}  create posts\n"
    assert db(module, "current").output == "No migration applied.\n"


def test_empty_migration_for_data(module: str) -> None:
    db(module, "makemigrations", "-m", "create posts")
    db(module, "migrate")
    result = db(module, "makemigrations", "--empty", "-m", "fill slugs")
    assert result.exit_code == 0, result.output
    assert result.output.endswith("_fill_slugs.py\n")


def test_merge(module: str, tmp_path: Path) -> None:
    db(module, "makemigrations", "-m", "create posts")
    alone = db(module, "merge")
    assert alone.exit_code == 1
    assert "nothing to merge" in alone.stderr
    mine = tmp_path / db(module, "makemigrations", "--empty", "-m", "mine").output.split()[1]
    # A teammate's migration from the same parent, under another name.
    theirs = mine.read_text().replace(mine.name.removesuffix("_mine.py"), "20000101_000000_0001")
    (mine.parent / "20000101_000000_0001_theirs.py").write_text(theirs)
    assert len(db(module, "heads").output.splitlines()) == 2

    merged = db(module, "merge", "-m", "join")
    assert merged.exit_code == 0, merged.output
    assert merged.output.endswith("_join.py\n")
    (head,) = db(module, "heads").output.splitlines()
    assert head.endswith("  join (head)")


def test_directory_option(module: str, tmp_path: Path) -> None:
    result = db(module, "--directory", "db/migrations", "init")
    assert result.output == "Created db/migrations/: env.py, script.py.mako, versions/\n"
    assert (tmp_path / "db" / "migrations" / "env.py").is_file()
    assert not (tmp_path / "migrations").exists()


def test_app_from_the_environment(module: str) -> None:
    result = CliRunner().invoke(main, ["db", "history"], env={"SATCHEL_APP": f"{module}:app"})
    assert "no migration environment in migrations" in result.stderr


def test_the_group_on_its_own(module: str) -> None:
    # Embedded in another click program, the group finds the app in SATCHEL_APP.
    result = CliRunner().invoke(db_command, ["init"], env={"SATCHEL_APP": f"{module}:app"})
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Created migrations/")


def test_no_app_given(module: str) -> None:
    result = CliRunner().invoke(main, ["db", "current"])
    assert result.exit_code == 2
    assert "no app given: use 'satchel --app MODULE:APP db ...'" in result.stderr


def test_app_without_a_database(module: str) -> None:
    result = db(module, "current", app="no_database")
    assert result.exit_code == 1
    assert "no Database for this app" in result.stderr


def test_unreachable_database(module: str) -> None:
    db(module, "init")
    result = db(module, "current", app="unreachable")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: database error: ")
    assert "Traceback" not in result.stderr


# -- satchel db shell -----------------------------------------------------------------------


def test_client_commands_keep_the_password_off_the_command_line() -> None:
    command = client_command("postgresql+asyncpg://shop:s3cret@db.internal/shop?ssl=require")
    assert command.argv == ["psql"]
    assert "s3cret" not in " ".join(command.argv)
    assert command.env == {
        "PGHOST": "db.internal",
        "PGUSER": "shop",
        "PGDATABASE": "shop",
        "PGPASSWORD": "s3cret",
        "PGSSLMODE": "require",
    }
    assert client_command("sqlite+aiosqlite:////srv/app.db").argv == ["sqlite3", "/srv/app.db"]


@pytest.mark.parametrize(
    ("query", "host", "port"),
    [
        ("host=/var/run/postgresql", "/var/run/postgresql", None),
        ("host=db.internal:5433", "db.internal", "5433"),
    ],
)
def test_a_host_in_the_query_reaches_the_client(query: str, host: str, port: str | None) -> None:
    # The asyncpg dialect connects there (a Unix socket, say): psql must go to the same server.
    env = client_command(f"postgresql+asyncpg://shop@/shop?{query}").env
    assert (env.get("PGHOST"), env.get("PGPORT")) == (host, port)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite+aiosqlite://", "in-memory SQLite database"),
        ("sqlite+aiosqlite:///:memory:", "in-memory SQLite database"),
        ("mysql+aiomysql://root@localhost/shop", "no command-line client is known for mysql"),
    ],
)
def test_databases_without_a_client(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        client_command(url)


def test_missing_client(module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = db(module, "shell")
    assert result.exit_code == 1
    assert "client is not installed (or not on PATH)" in result.stderr


def test_db_shell_runs_the_client(module: str, backend: Backend, tmp_path: Path) -> None:
    client = {"sqlite": "sqlite3", "postgresql": "psql"}[backend.name]
    if subprocess.run(["which", client], capture_output=True, check=False).returncode:
        pytest.skip(f"the {client} client is not installed")
    db(module, "makemigrations", "-m", "create posts")
    db(module, "migrate")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SATCHEL_", "PG"))}
    completed = subprocess.run(
        [str(SATCHEL), "--app", f"{module}:app", "db", "shell"],
        input="select 40 + 2;\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=30,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "42" in completed.stdout

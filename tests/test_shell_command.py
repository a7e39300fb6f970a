"""``satchel shell``: the names it defines, and statements read from standard input."""

from __future__ import annotations

import asyncio
import importlib.machinery
import subprocess
import sys
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from satchel import App, Settings
from satchel.cli import main
from satchel.commands.shell import shell_namespace
from satchel.db import Database, SyncDbSession, database_of, select
from tests.db.models import Article
from tests.support import importable_module

APP_SOURCE = """
from satchel import App, Settings
from satchel.db import Database

app = App(settings=Settings())
Database("sqlite+aiosqlite:///shell.db").init_app(app)
bare = App(settings=Settings())
"""

SATCHEL = Path(sys.executable).with_name("satchel")


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield from importable_module(APP_SOURCE, tmp_path, monkeypatch, "satchel_shell_app")


def with_tables(module: str) -> None:
    """Import the app and create every model's table in its database."""
    database = database_of(__import__(module).app)

    async def create() -> None:
        await database.create_all()
        await database.dispose()

    asyncio.run(create())


def shell(module: str, statements: str, *options: str) -> Result:
    return CliRunner().invoke(
        main, ["shell", *options, f"{module}:app"], input=textwrap.dedent(statements)
    )


def test_namespace_has_the_app_models_and_a_session() -> None:
    app = App(settings=Settings())
    database = Database("sqlite+aiosqlite:///:memory:")
    database.init_app(app)
    namespace = shell_namespace(app)
    try:
        assert namespace["app"] is app
        assert namespace["select"] is select
        assert namespace["Article"] is Article
        assert namespace["database"] is database
        assert isinstance(namespace["db"], SyncDbSession)
    finally:
        namespace["db"].close()


def test_namespace_without_a_sync_driver_still_has_the_database() -> None:
    # No sync twin is known for aioodbc: the shell must open all the same, without db.
    app = App(settings=Settings())
    database = Database("mssql+aioodbc://db/app")
    database.init_app(app)
    namespace = shell_namespace(app)
    assert namespace["database"] is database
    assert "db" not in namespace


def test_namespace_without_a_database() -> None:
    namespace = shell_namespace(App(settings=Settings()))
    assert "db" not in namespace
    assert "database" not in namespace
    assert namespace["Article"] is Article


def test_statements_from_stdin_use_the_session(module: str) -> None:
    with_tables(module)
    result = shell(
        module,
        """
        db.add(Article(slug="hello", title="Hello"))
        db.commit()
        print("titles:", db.scalars(select(Article.title)).all())
        print(type(db).__name__, type(app).__name__)
        """,
    )
    assert result.exit_code == 0, result.output
    assert "titles: ['Hello']" in result.output
    assert "SyncDbSession App" in result.output
    assert "Defined: Article, " in result.stderr
    assert "app, database, db, select" in result.stderr


def test_await_works_at_the_top_level(module: str) -> None:
    with_tables(module)
    result = shell(
        module,
        """
        async with database.transaction() as session:
            count = await session.count(Article)

        print("answer:", count + 42)
        """,
    )
    assert result.exit_code == 0, result.output
    assert "answer: 42" in result.output


def test_an_error_does_not_end_the_shell(module: str) -> None:
    result = shell(module, "1 / 0\nprint('still here')\n")
    assert result.exit_code == 0
    assert "ZeroDivisionError" in result.stderr
    assert "still here" in result.output


def test_ipython_when_installed(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    ipython = types.ModuleType("IPython")
    ipython.__spec__ = importlib.machinery.ModuleSpec("IPython", None)
    ipython.start_ipython = lambda **options: calls.append(options)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)

    assert shell(module, "").exit_code == 0
    (options,) = calls
    assert options["argv"] == []
    assert options["user_ns"]["app"] is sys.modules[module].app

    # --plain keeps Python's console.
    assert "plain: yes" in shell(module, "print('plain: yes')\n", "--plain").output
    assert len(calls) == 1


def test_models_sharing_a_name_are_left_out(tmp_path: Path) -> None:
    for folder in ("blog", "shop"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "__init__.py").write_text(
            "from satchel.db import Mapped, Model, mapped_column\n\n\n"
            "class Tag(Model):\n"
            f"    __tablename__ = '{folder}_tag'\n"
            "    id: Mapped[int] = mapped_column(primary_key=True)\n\n\n"
            f"class {folder.title()}Post(Model):\n"
            "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        )
    code = (
        "import blog, shop\n"
        "from satchel import App, Settings\n"
        "from satchel.commands.shell import shell_namespace\n"
        "names = shell_namespace(App(settings=Settings()))\n"
        "print('Tag' in names, names['BlogPost'].__module__, names['ShopPost'].__module__)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert completed.stdout == "False blog shop\n"


def test_the_satchel_script_reads_stdin(module: str, tmp_path: Path) -> None:
    completed = subprocess.run(
        [str(SATCHEL), "shell", f"{module}:bare"],
        input="print('sum:', 40 + 2)\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "sum: 42" in completed.stdout
    assert "Satchel shell. Defined: app, select." in completed.stderr

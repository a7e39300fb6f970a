"""The ``satchel`` command line: in process with click's runner, then as a real server."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from click.testing import CliRunner, Result

import satchel
from satchel.cli import AppLocation, logging_config, main
from tests.servers import free_port, running
from tests.wsclient import TIMEOUT, RawWebSocket

APP_SOURCE = """
from satchel import App, Router, Settings
from satchel.websockets import WebSocket

app = App(settings=Settings(), openapi=None)
api = Router(prefix="/api", name="api")


@app.get("/hello/{name}")
async def hello(name: str) -> str:
    return f"Hello, {name}!"


@api.route("/items", methods=["GET", "POST"])
async def items() -> list[int]:
    return [1, 2]


@app.websocket("/chat")
async def chat(socket: WebSocket) -> None:
    await socket.accept()
    await socket.send_text((await socket.receive_text()).upper())
    await socket.close()


@app.get("/")
async def index() -> str:
    return "home"


app.include(api)


def create_app() -> App:
    return app
"""


@dataclass
class AppModule:
    """A module written to a temporary folder that is also the working directory."""

    name: str
    folder: Path
    written: list[str] = field(default_factory=list)

    def add(self, suffix: str, source: str) -> str:
        """Write another module next to this one and return its name."""
        name = f"{self.name}_{suffix}"
        (self.folder / f"{name}.py").write_text(textwrap.dedent(source))
        self.written.append(name)
        return name


@pytest.fixture
def app_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppModule]:
    # The CLI puts the working directory on sys.path; give it a copy to change.
    monkeypatch.setattr(sys, "path", list(sys.path))
    module = AppModule(f"satchel_cli_app_{uuid.uuid4().hex[:8]}", tmp_path)
    (tmp_path / f"{module.name}.py").write_text(APP_SOURCE)
    monkeypatch.syspath_prepend(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SATCHEL_APP", raising=False)
    try:
        yield module
    finally:
        for name in (module.name, *module.written):
            sys.modules.pop(name, None)


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


# -- in process -------------------------------------------------------------------------------


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.startswith(f"satchel {satchel.__version__} (Granian ")


def test_import_satchel_imports_neither_click_nor_granian() -> None:
    code = (
        "import sys, satchel; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'click', 'granian'}))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert completed.stdout.strip() == "[]"


def test_help_lists_builtin_commands() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    assert "routes" in result.output
    assert "run" in result.output


def test_routes_table_sorted_by_path(app_module: AppModule) -> None:
    result = invoke("routes", f"{app_module.name}:app")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["PATH", "METHODS", "KIND", "NAME", "HANDLER"]
    assert set(lines[1]) <= {"-", " "}
    rows = [line.split() for line in lines[2:]]
    mod = app_module.name
    assert rows == [
        ["/", "GET", "http", "index", f"{mod}.index"],
        ["/api/items", "GET,POST", "http", "api.items", f"{mod}.items"],
        ["/chat", "WEBSOCKET", "websocket", "chat", f"{mod}.chat"],
        ["/hello/{name}", "GET", "http", "hello", f"{mod}.hello"],
    ]


def test_routes_json(app_module: AppModule) -> None:
    result = invoke("routes", "--json", f"{app_module.name}:app")
    assert result.exit_code == 0, result.output
    mod = app_module.name
    assert json.loads(result.output) == [
        {
            "path": "/",
            "methods": ["GET"],
            "name": "index",
            "handler": f"{mod}.index",
            "kind": "http",
        },
        {
            "path": "/api/items",
            "methods": ["GET", "POST"],
            "name": "api.items",
            "handler": f"{mod}.items",
            "kind": "http",
        },
        {
            "path": "/chat",
            "methods": ["WEBSOCKET"],
            "name": "chat",
            "handler": f"{mod}.chat",
            "kind": "websocket",
        },
        {
            "path": "/hello/{name}",
            "methods": ["GET"],
            "name": "hello",
            "handler": f"{mod}.hello",
            "kind": "http",
        },
    ]


def test_routes_of_an_app_without_routes(app_module: AppModule) -> None:
    name = app_module.add(
        "empty", "from satchel import App, Settings\napp = App(settings=Settings(), openapi=None)\n"
    )
    assert invoke("routes", name).output == "No routes.\n"
    assert invoke("routes", "--json", name).output == "[]\n"


def test_factory_is_called_with_parentheses(app_module: AppModule) -> None:
    result = invoke("routes", f"{app_module.name}:create_app()")
    assert result.exit_code == 0, result.output
    assert "/hello/{name}" in result.output


def test_function_without_parentheses_is_refused(app_module: AppModule) -> None:
    result = invoke("routes", f"{app_module.name}:create_app")
    assert result.exit_code == 2
    assert f"write '{app_module.name}:create_app()'" in result.stderr


def test_module_alone_means_its_app_attribute(app_module: AppModule) -> None:
    assert AppLocation.parse(app_module.name) == AppLocation(app_module.name, "app")
    assert invoke("routes", app_module.name).exit_code == 0


def test_app_from_option_and_environment(app_module: AppModule) -> None:
    from_option = invoke("--app", f"{app_module.name}:app", "routes")
    from_env = invoke("routes", env={"SATCHEL_APP": f"{app_module.name}:create_app()"})
    assert from_option.exit_code == from_env.exit_code == 0
    assert "/hello/{name}" in from_option.output
    assert from_option.output == from_env.output


def test_missing_app_location_is_a_usage_error(app_module: AppModule) -> None:
    result = invoke("routes")
    assert result.exit_code == 2
    assert "no app given" in result.stderr
    assert "SATCHEL_APP" in result.stderr


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "satchel_no_such_module:app",
            "Error: could not import 'satchel_no_such_module': "
            "No module named 'satchel_no_such_module'",
        ),
        ("satchel.no_such_module:app", "No module named 'satchel.no_such_module'"),
        ("{module}:application", "Error: module '{module}' has no attribute 'application'"),
        ("{module}:app.missing", "Error: module '{module}' has no attribute 'app.missing'"),
        ("not a module:app", "Error: invalid app location 'not a module:app'"),
        ("{module}:", "Error: invalid app location"),
    ],
)
@pytest.mark.parametrize("command", ["routes", "run"])
def test_bad_app_locations_exit_2(
    app_module: AppModule, command: str, target: str, message: str
) -> None:
    result = invoke(command, target.format(module=app_module.name))
    assert result.exit_code == 2
    assert message.format(module=app_module.name) in result.stderr
    assert "Traceback" not in result.stderr


def test_error_while_importing_shows_the_users_traceback(app_module: AppModule) -> None:
    name = app_module.add(
        "broken",
        """
        import satchel_missing_dependency
        """,
    )
    result = invoke("routes", f"{name}:app")
    assert result.exit_code == 2
    assert f"could not import '{name}': an exception was raised while importing it" in result.stderr
    assert f"{name}.py" in result.stderr
    assert "ModuleNotFoundError: No module named 'satchel_missing_dependency'" in result.stderr
    assert "importlib" not in result.stderr
    assert "cli.py" not in result.stderr


def test_routes_refuses_what_is_not_an_app(app_module: AppModule) -> None:
    name = app_module.add("other", "app = 42\n")
    result = invoke("routes", f"{name}:app")
    assert result.exit_code == 2
    assert "'int' object is not a Satchel App" in result.stderr


def test_run_refuses_reload_with_several_workers(app_module: AppModule) -> None:
    result = invoke("run", f"{app_module.name}:app", "--reload", "--workers", "2")
    assert result.exit_code == 2
    assert "--reload cannot be combined with --workers > 1" in result.stderr


def test_run_refuses_zero_workers(app_module: AppModule) -> None:
    result = invoke("run", f"{app_module.name}:app", "--workers", "0")
    assert result.exit_code == 2


def test_run_reload_names_the_missing_extra(
    app_module: AppModule, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "watchfiles", None)
    result = invoke("run", f"{app_module.name}:app", "--reload")
    assert result.exit_code == 1
    assert "pip install 'granian[reload]'" in result.stderr


def test_run_refuses_asgi_middleware_on_rsgi(app_module: AppModule) -> None:
    name = app_module.add(
        "wrapped",
        """
        from satchel import App, Settings

        app = App(settings=Settings())
        app.wrap_asgi(lambda inner: inner)
        """,
    )
    result = invoke("run", f"{name}:app")
    assert result.exit_code == 2
    assert "serve it with --interface asgi" in result.stderr


def test_logging_config_switches_the_access_log() -> None:
    on = logging_config("info")["loggers"]
    off = logging_config("info", access_log=False)["loggers"]
    quiet = logging_config("warning")["loggers"]
    assert on["satchel.access"]["level"] == "INFO"
    assert off["satchel.access"]["level"] == "WARNING"
    assert quiet["satchel.access"]["level"] == "WARNING"
    assert on["satchel"]["level"] == "INFO"


# -- commands from entry points ------------------------------------------------------------


@pytest.fixture
def plugin(app_module: AppModule) -> str:
    """A fake installed distribution registering three ``satchel.commands`` entries."""
    module = app_module.add(
        "plugin",
        """
        import click

        from satchel.cli import pass_app


        @click.command()
        @pass_app
        def count(app) -> None:
            \"\"\"Count the routes.\"\"\"
            click.echo(f"{len(app.routes_info())} routes")


        routes = click.Command("routes", callback=lambda: click.echo("plugin routes"))
        not_a_command = 42
        """,
    )
    dist_info = app_module.folder / "satchel_test_plugin-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: satchel-test-plugin\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text(
        "[satchel.commands]\n"
        f"count = {module}:count\n"
        f"routes = {module}:routes\n"
        f"broken = {module}:not_a_command\n"
        f"missing = {module}_nowhere:command\n"
    )
    return module


def test_registered_command_runs(app_module: AppModule, plugin: str) -> None:
    result = invoke("--app", app_module.name, "count")
    assert result.exit_code == 0, result.output
    assert result.output == "4 routes\n"


def test_registered_commands_load_only_when_needed(app_module: AppModule, plugin: str) -> None:
    assert invoke("routes", app_module.name).exit_code == 0
    assert plugin not in sys.modules


def test_builtin_commands_win(app_module: AppModule, plugin: str) -> None:
    result = invoke("routes", app_module.name)
    assert "plugin routes" not in result.output
    assert "/hello/{name}" in result.output


def test_broken_registered_commands_fail_alone(app_module: AppModule, plugin: str) -> None:
    listing = invoke("--help")
    assert listing.exit_code == 0
    assert "count" in listing.output
    assert "Count the routes." in listing.output
    assert "(could not be loaded)" in listing.output
    broken = invoke("broken")
    assert broken.exit_code == 1
    assert "could not load the 'broken' command" in broken.stderr
    assert "int is not a click command" in broken.stderr
    missing = invoke("missing")
    assert missing.exit_code == 1
    assert "ModuleNotFoundError" in missing.stderr


# -- a real server ------------------------------------------------------------------------------

SATCHEL = Path(sys.executable).with_name("satchel")


@dataclass
class Server:
    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        while text not in (output := self.stderr()):
            if time.monotonic() > deadline:
                pytest.fail(f"{text!r} not logged within {timeout} s:\n{output}")
            time.sleep(0.05)
        return output


def websocket_echo(url: str, path: str, text: str) -> str:
    """Open a WebSocket by hand (no client library), send ``text`` and return the reply."""
    port = urlsplit(url).port
    assert port is not None

    async def exchange() -> str:
        ws = await RawWebSocket.connect(port, path)
        try:
            assert ws.status == 101
            await ws.send_text(text)
            first, payload = await ws.read_frame()
            assert first == 0x81  # FIN + text: the reply in one frame
            return payload.decode()
        finally:
            await ws.close()

    return asyncio.run(asyncio.wait_for(exchange(), TIMEOUT))


@contextmanager
def satchel_run(project: Path, *args: str) -> Iterator[Server]:
    if not SATCHEL.exists():
        pytest.fail(f"the satchel console script is missing at {SATCHEL}: pip install -e .")
    port = free_port()
    log = project.parent / f"stderr-{port}.log"
    # No PYTHONPATH: `satchel run` itself must find the app in its working directory.
    env = {key: value for key, value in os.environ.items() if not key.startswith("SATCHEL_")}
    command = [str(SATCHEL), "run", *args, "--host", "127.0.0.1", "--port", str(port)]
    with running(
        command, port, cwd=project, log=log, env=env, stderr_only=True, must_stop_on_sigint=True
    ) as process:
        yield Server(f"http://127.0.0.1:{port}", log, process)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "webapp.py").write_text(APP_SOURCE)
    return folder


@pytest.mark.parametrize(
    "options",
    [["--interface", "rsgi"], ["--interface", "asgi"], ["--workers", "2"]],
    ids=["rsgi", "asgi", "two-workers"],
)
def test_run_serves_and_logs_access(project: Path, options: list[str]) -> None:
    with satchel_run(project, "webapp:app", *options) as server:
        response = httpx.get(f"{server.url}/hello/world", timeout=5)
        assert response.status_code == 200
        assert response.text == "Hello, world!"
        log = server.wait_for_log('"GET /hello/world HTTP/1.1" 200')
        assert websocket_echo(server.url, "/chat", "hi") == "HI"
    assert server.process.returncode == 0
    # Granian's own access log is off, so each request is logged once.
    assert log.count("/hello/world") == 1
    if "--workers" in options:
        assert "Spawning worker-2" in log


def test_run_without_access_log(project: Path) -> None:
    with satchel_run(project, "webapp:create_app()", "--no-access-log") as server:
        response = httpx.get(f"{server.url}/api/items", timeout=5)
        assert response.json() == [1, 2]
    assert server.process.returncode == 0
    assert "/api/items" not in server.stderr()
    assert "Granian shutdown completed" in server.stderr()


def test_run_reload_serves_the_changed_code(project: Path) -> None:
    with satchel_run(project, "webapp:app", "--reload") as server:
        assert httpx.get(f"{server.url}/", timeout=5).text == "home"
        source = project / "webapp.py"
        source.write_text(source.read_text().replace('"home"', '"changed"'))
        deadline = time.monotonic() + 10
        while True:
            try:
                body = httpx.get(f"{server.url}/", timeout=2).text
            except httpx.TransportError:
                body = ""  # the worker is restarting
            if body == "changed":
                break
            if time.monotonic() > deadline:
                pytest.fail(f"the change was not served within 10 s:\n{server.stderr()}")
            time.sleep(0.1)
    assert server.process.returncode == 0

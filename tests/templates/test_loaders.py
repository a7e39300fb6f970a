"""Where templates are found (the override order), reloading, and the bytecode cache."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import jinja2
import pytest

from satchel import App, ConfigurationError, HTMLResponse, Router, Settings
from satchel.templates import Templates, render, templates_of
from satchel.testing import TestClient
from tests.templates.support import SECRET, make_app, write_templates

HERE = Path(__file__).resolve().parent


def _page_route(app: Router, name: str) -> None:
    @app.get(f"/{name}", name=f"show_{name.replace('/', '_').replace('.', '_')}")
    async def show() -> HTMLResponse:
        return await render(name, {"name": "Ada"})


def test_project_then_routers_in_include_order_then_packages(tmp_path: Path) -> None:
    folders = {key: tmp_path / key for key in ("app", "first", "nested", "second")}
    write_templates(folders["app"], {"who.html": "app who", "satchel/pagination.html": "mine"})
    write_templates(folders["first"], {"who.html": "first who", "r.html": "first r"})
    write_templates(folders["nested"], {"r.html": "nested r", "c.html": "nested c"})
    write_templates(folders["second"], {"r.html": "second r", "c.html": "second c"})
    app = App(settings=Settings(secret_key=SECRET))
    templates = Templates(
        folders["app"], packages=["tests.templates.battery"], bytecode_cache=False
    )
    templates.init_app(app)
    first, nested, second = (
        Router(prefix="/first", template_folder=folders["first"]),
        Router(template_folder=folders["nested"]),
        Router(prefix="/second", template_folder=str(folders["second"])),
    )
    for name in ("who.html", "r.html", "c.html", "battery/login.html", "satchel/pagination.html"):
        _page_route(app, name)
    app.include(first)
    app.include(second)
    first.include(nested)  # after init_app and after first was included: still searched

    with TestClient(app) as client:
        found = {
            name: client.get(f"/{name}").text
            for name in ("who.html", "r.html", "c.html", "battery/login.html")
        }
        overridden = client.get("/satchel/pagination.html").text
    assert found == {
        "who.html": "app who",  # the project's own first
        "r.html": "first r",  # then the routers' folders, in include order...
        "c.html": "nested c",  # ...a router's children right after it
        "battery/login.html": "battery default: Ada",  # then the packages
    }
    assert overridden == "mine"  # even Satchel's own templates can be replaced


def test_a_relative_template_folder_is_beside_the_routers_module() -> None:
    router = Router(template_folder="router_templates")
    assert router.template_folder == str(HERE / "router_templates")
    assert Router().template_folder is None
    absolute = Router(template_folder=HERE / "battery")
    assert absolute.template_folder == str(HERE / "battery")

    app = App(settings=Settings(secret_key=SECRET))
    Templates(HERE / "no-such-folder", bytecode_cache=False).init_app(app)
    _page_route(router, "beside.html")
    app.include(router)
    with TestClient(app) as client:
        assert client.get("/beside.html").text == "router beside its module"


def test_without_a_module_file_a_template_folder_is_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"Router": Router}
    exec("router = Router(template_folder='shop')", namespace)  # as typed in a REPL
    router = namespace["router"]
    assert isinstance(router, Router)
    assert router.template_folder == str(tmp_path / "shop")


def test_a_missing_package_fails_at_once() -> None:
    with pytest.raises(ModuleNotFoundError):
        Templates(packages=["tests.templates.no_such_battery"])


def test_one_templates_per_app_and_one_app_per_templates(tmp_path: Path) -> None:
    app, templates = make_app(tmp_path, {})
    assert templates_of(app) is templates
    with pytest.raises(ConfigurationError, match="already serve an app"):
        templates.init_app(App(settings=Settings(secret_key=SECRET)))
    with pytest.raises(ConfigurationError, match="already has Templates"):
        Templates(tmp_path).init_app(app)
    with pytest.raises(ConfigurationError, match="no Templates for this app"):
        templates_of(App(settings=Settings(secret_key=SECRET)))


def test_templates_loaded_before_init_app_are_forgotten(tmp_path: Path) -> None:
    write_templates(tmp_path / "routed", {"page.html": "from the router"})
    write_templates(tmp_path / "app", {"other.html": "other"})
    templates = Templates(tmp_path / "app", bytecode_cache=False)
    with pytest.raises(jinja2.TemplateNotFound):
        templates.env.get_template("page.html")

    app = App(settings=Settings(secret_key=SECRET))
    app.include(Router(template_folder=tmp_path / "routed"))
    templates.init_app(app)
    assert templates.env.get_template("page.html").render() == "from the router"


@pytest.mark.parametrize("debug", [True, False])
def test_debug_mode_reloads_and_production_caches_bytecode(tmp_path: Path, debug: bool) -> None:
    app = App(settings=Settings(secret_key=SECRET, debug=debug))
    templates = Templates(tmp_path)
    templates.init_app(app)
    assert templates.env.auto_reload is debug
    cache = templates.env.bytecode_cache
    if debug:
        assert cache is None
    else:
        assert isinstance(cache, jinja2.FileSystemBytecodeCache)
        assert cache.directory.endswith(f"_jinja2-cache-{os.getuid()}")


def test_auto_reload_picks_up_changes(tmp_path: Path) -> None:
    _, templates = make_app(tmp_path, {"page.html": "before"}, debug=True)
    assert templates.env.get_template("page.html").render() == "before"
    page = tmp_path / "page.html"
    page.write_text("after")
    stamp = page.stat().st_mtime + 10  # a change the file system's clock cannot hide
    os.utime(page, (stamp, stamp))
    assert templates.env.get_template("page.html").render() == "after"


def test_bytecode_cache_folder_is_created_private_and_filled(tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "templates"
    app, _ = make_app(tmp_path / "t", {"page.html": "{{ 1 + 1 }}"}, bytecode_cache=cache)
    _page_route(app, "page.html")

    with TestClient(app) as client:
        assert client.get("/page.html").text == "2"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert [path.name.startswith("__satchel_jinja2_") for path in cache.iterdir()] == [True]

    # What a new process finds there: this template's compiled code, ready to load.
    _, templates = make_app(tmp_path / "t", {}, bytecode_cache=cache)
    bytecode = templates.env.bytecode_cache
    assert bytecode is not None
    source, filename, _ = templates.env.loader.get_source(templates.env, "page.html")  # type: ignore[union-attr]
    bucket = bytecode.get_bucket(templates.env, "page.html", filename, source)
    assert bucket.code is not None


@pytest.mark.parametrize("enable_async", [True, False])
def test_a_plain_jinja2_environment_sharing_the_cache_cannot_unescape(
    tmp_path: Path, enable_async: bool
) -> None:
    # Jinja2's cache keys leave out autoescaping and async: code compiled by a plain
    # environment (autoescaping off by default) would run unescaped here, or fail.
    cache = tmp_path / "cache"
    app, _ = make_app(tmp_path / "t", {"page.html": "{{ x }}"}, bytecode_cache=cache)
    plain = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(tmp_path / "t")),
        bytecode_cache=jinja2.FileSystemBytecodeCache(str(cache)),
        enable_async=enable_async,
    )
    template = plain.get_template("page.html")  # compiled, and written to the cache folder
    if enable_async:
        assert asyncio.run(template.render_async(x="<b>")) == "<b>"
    else:
        assert template.render(x="<b>") == "<b>"

    @app.get("/")
    async def page() -> HTMLResponse:
        return await render("page.html", {"x": "<b>"})

    with TestClient(app) as client:
        assert client.get("/").text == "&lt;b&gt;"


def test_a_bytecode_cache_others_can_write_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o775)
    with pytest.raises(ConfigurationError, match="writable by no one else"):
        Templates(tmp_path, bytecode_cache=shared)
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigurationError, match="not a directory"):
        Templates(tmp_path, bytecode_cache=tmp_path / "file")
    (tmp_path / "link").symlink_to(shared)
    with pytest.raises(ConfigurationError, match="not a directory"):
        Templates(tmp_path, bytecode_cache=tmp_path / "link")


def test_a_bytecode_cache_object_is_used_as_given(tmp_path: Path) -> None:
    cache = jinja2.FileSystemBytecodeCache(str(tmp_path))
    assert Templates(tmp_path, bytecode_cache=cache).env.bytecode_cache is cache
    assert Templates(tmp_path, bytecode_cache=False).env.bytecode_cache is None

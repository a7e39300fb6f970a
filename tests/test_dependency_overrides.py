"""Dependency overrides: replacing providers after startup, for tests and local runs."""

from typing import Annotated, Any

import pytest

from satchel import App, ConfigurationError, DependencyOverrides, Depends, Header, Settings
from satchel.testing import TestClient


def make_app() -> App[Any]:
    return App(settings=Settings(access_log=False), openapi=None)


def test_overrides_are_a_mapping_on_the_app() -> None:
    app = make_app()

    def real() -> str:
        return "real"

    def fake() -> str:
        return "fake"

    overrides = app.dependency_overrides
    assert isinstance(overrides, DependencyOverrides)
    overrides[real] = fake
    assert (dict(overrides), len(overrides), real in overrides) == ({real: fake}, 1, True)
    del overrides[real]
    with pytest.raises(KeyError):
        del overrides[real]


def test_overrides_after_startup_rebuild_the_plans() -> None:
    app = make_app()

    def database() -> str:
        return "real"

    def repository(db: str = Depends(database)) -> str:
        return f"repo({db})"

    @app.get("/")
    async def handler(repo: str = Depends(repository)) -> str:
        return repo

    with TestClient(app) as client:
        assert client.get("/").text == "repo(real)"
        app.dependency_overrides[database] = lambda: "fake"
        assert client.get("/").text == "repo(fake)"
        with app.dependency_overrides.use(database, lambda: "other"):
            assert client.get("/").text == "repo(other)"
        assert client.get("/").text == "repo(fake)"  # the previous override is back
        del app.dependency_overrides[database]
        assert client.get("/").text == "repo(real)"
        assert len(app.dependency_overrides) == 0


def test_an_override_with_inputs_of_its_own() -> None:
    app = make_app()

    def current_user() -> str:
        return "real"

    @app.get("/")
    async def handler(user: str = Depends(current_user)) -> str:
        return user

    def from_header(x_user: Annotated[str, Header()]) -> str:
        return x_user

    with TestClient(app) as client, app.dependency_overrides.use(current_user, from_header):
        assert client.get("/", headers={"x-user": "ann"}).text == "ann"
        assert client.get("/").status_code == 422


def test_an_override_with_a_bad_signature_is_refused_where_it_is_set() -> None:
    app = make_app()

    def database() -> str:
        return "real"

    @app.get("/")
    async def handler(db: str = Depends(database)) -> str:
        return db

    def bad(config: object) -> str:
        return "bad"

    with TestClient(app) as client:
        app.dependency_overrides[database] = lambda: "fake"
        with pytest.raises(ConfigurationError, match="bad, parameter 'config'"):
            app.dependency_overrides[database] = bad
        assert client.get("/").text == "fake"  # the previous state is kept
        assert app.dependency_overrides[database] is not bad
        with pytest.raises(ConfigurationError), app.dependency_overrides.use(database, bad):
            pass  # pragma: no cover
        assert client.get("/").text == "fake"


def test_overriding_an_app_scoped_provider_replaces_its_value() -> None:
    app = make_app()

    def client_factory() -> str:
        return "real client"

    @app.get("/")
    async def handler(http: str = Depends(client_factory, scope="app")) -> str:
        return http

    with TestClient(app) as client:
        assert client.get("/").text == "real client"
        with app.dependency_overrides.use(client_factory, lambda: "fake client"):
            assert client.get("/").text == "fake client"
        assert client.get("/").text == "real client"


def test_overriding_what_an_app_scoped_provider_uses_replaces_its_value() -> None:
    app = make_app()

    def settings() -> str:
        return "production"

    def client_factory(config: str = Depends(settings, scope="app")) -> str:
        return f"client for {config}"

    def pool(http: str = Depends(client_factory, scope="app")) -> str:
        return f"pool of {http}"

    @app.get("/")
    async def handler(value: str = Depends(pool, scope="app")) -> str:
        return value

    with TestClient(app) as client:
        assert client.get("/").text == "pool of client for production"
        with app.dependency_overrides.use(settings, lambda: "test"):
            assert client.get("/").text == "pool of client for test"
        assert client.get("/").text == "pool of client for production"

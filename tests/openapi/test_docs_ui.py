"""The docs UI at /docs: the page, its script and assets, and Swagger UI driven in Chromium."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from satchel import App
from satchel.openapi import OpenAPIConfig
from satchel.testing import TestClient
from tests.servers import serve_source
from tests.webdriver import WebDriver, chromium_session

STRICT_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "index.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}


def _app(**options: Any) -> App[Any]:
    app = App(openapi=OpenAPIConfig(**options))

    @app.get("/ping")
    async def ping() -> str:
        return "pong"

    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(_app(title="Shop")) as test_client:
        yield test_client


# -- the page ----------------------------------------------------------------------------


def test_page_loads_the_bundle_and_the_init_script(client: TestClient) -> None:
    response = client.get("/docs")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    scripts = re.findall(r"<script\b[^>]*>", response.text)
    assert scripts == [
        '<script src="/docs/assets/swagger-ui-bundle.js" defer>',
        '<script src="/docs/init.js" defer>',
    ]
    assert "<style" not in response.text
    assert " style=" not in response.text
    assert '<link rel="stylesheet" href="/docs/assets/swagger-ui.css">' in response.text
    assert '<div id="swagger-ui"></div>' in response.text
    assert "<title>Shop</title>" in response.text


def test_page_has_its_own_strict_policy_and_keeps_the_other_defaults(client: TestClient) -> None:
    response = client.get("/docs")

    assert response.headers["content-security-policy"] == STRICT_POLICY
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    # Everywhere else the app's default policy still applies.
    assert "script-src" not in client.get("/ping").headers["content-security-policy"]


def test_page_escapes_the_title() -> None:
    with TestClient(_app(title='Shop </title><script>alert("x")</script>')) as client:
        page = client.get("/docs").text

    assert "<title>Shop &lt;/title&gt;&lt;script&gt;alert(&quot;x&quot;)" in page
    assert "<script>alert" not in page


def test_page_carries_a_csrf_token_for_try_it_out() -> None:
    app = _app()

    @app.post("/items", status_code=201)
    async def create() -> str:
        return "created"

    with TestClient(
        app, cookies={"theme": "dark"}, headers={"origin": "https://testserver"}
    ) as client:
        page = client.get("/docs")
        token = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', page.text)
        assert token is not None
        assert page.headers["vary"] == "Cookie"
        assert client.post("/items").status_code == 403  # a browser with cookies needs it
        assert client.post("/items", headers={"x-csrf-token": token[1]}).status_code == 201
        script = client.get("/docs/init.js").text
    assert 'request.headers["x-csrf-token"] = csrf.content' in script
    assert "url.origin === window.location.origin" in script  # never sent elsewhere


def test_absolute_servers_are_allowed_for_try_it_out() -> None:
    servers = (
        {"url": "https://api.example.com/v1"},
        {"url": "/relative"},  # same origin: 'self' covers it
        {"url": "https://{region}.example.com"},  # templated: no fixed origin to allow
        {"url": "https://api.example.com/v2"},
        {"url": "https://evil.example; script-src *"},
        {"url": "http://[::1]:8080"},
    )
    with TestClient(_app(servers=servers)) as client:
        policy = client.get("/docs").headers["content-security-policy"]

    assert "connect-src 'self' https://api.example.com http://[::1]:8080;" in policy
    assert policy.count(";") == STRICT_POLICY.count(";")


def test_head_answers_like_get(client: TestClient) -> None:
    response = client.head("/docs")

    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-security-policy"] == STRICT_POLICY


# -- the init script --------------------------------------------------------------------


def _options(script: str) -> Any:
    start = script.index("const options = ") + len("const options = ")
    return json.loads(script[start : script.index(";\n", start)])


def test_init_script_points_swagger_ui_at_the_document(client: TestClient) -> None:
    response = client.get("/docs/init.js")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    options = _options(response.text)
    assert options["url"] == "/openapi.json"
    assert options["dom_id"] == "#swagger-ui"
    assert options["queryConfigEnabled"] is False  # ?url= cannot swap in another document
    assert options["validatorUrl"] is None  # no request to validator.swagger.io


def test_init_script_escapes_what_could_end_a_script_element() -> None:
    with TestClient(_app(path="/spec</script><b>&.json")) as client:
        script = client.get("/docs/init.js").text

    assert not set("<>&") & set(script)
    assert _options(script)["url"] == "/spec</script><b>&.json"


# -- assets ----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "media_type"), ASSETS.items())
def test_assets_are_served_with_their_type_and_validators(
    client: TestClient, name: str, media_type: str
) -> None:
    response = client.get(f"/docs/assets/{name}")

    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["cache-control"].startswith("public, max-age=")
    assert response.content
    revalidated = client.get(
        f"/docs/assets/{name}", headers={"if-none-match": response.headers["etag"]}
    )
    assert revalidated.status_code == 304


def test_bundle_is_the_packaged_swagger_ui(client: TestClient) -> None:
    body = client.get("/docs/assets/swagger-ui-bundle.js").text

    assert "SwaggerUIBundle" in body


@pytest.mark.parametrize(
    "name",
    [
        "swagger-ui.js",  # in the package, but not on the allow-list
        "swagger-editor-bundle.js",
        "oauth2-redirect.html",  # inline script: it would need a looser policy
        "swagger-ui.css.map",
        "LICENSE",
        "../__init__.py",
        "..%2f__init__.py",
        "..%5c__init__.py",
        "%2e%2e%2f__init__.py",
        "%252e%252e%252f__init__.py",
        "swagger-ui.css%00",
        "SWAGGER-UI.CSS",
        "",
    ],
)
def test_only_allow_listed_assets_are_served(client: TestClient, name: str) -> None:
    response = client.get(f"/docs/assets/{name}")

    # Dot segments are refused by the router (400) before the handler sees them.
    assert response.status_code in {400, 404}
    assert response.headers["content-type"] == "application/problem+json"


def test_custom_docs_path() -> None:
    with TestClient(_app(docs_path="/reference/")) as client:
        page = client.get("/reference/")
        asset = client.get("/reference/assets/swagger-ui.css")
        script = client.get("/reference/init.js")

    assert page.status_code == asset.status_code == script.status_code == 200
    assert '<script src="/reference/assets/swagger-ui-bundle.js" defer>' in page.text
    assert '<script src="/reference/init.js" defer>' in page.text


def test_routes_are_named_and_left_out_of_the_schema() -> None:
    app = _app()
    app.build()
    routes = {info.name: info for info in app.routes_info()}

    assert app.url_for("openapi.docs") == "/docs"
    assert app.url_for("openapi.docs_init") == "/docs/init.js"
    assert app.url_for("openapi.docs_asset", name="swagger-ui.css") == "/docs/assets/swagger-ui.css"
    for name in ("openapi.docs", "openapi.docs_init", "openapi.docs_asset"):
        assert routes[name].doc.include_in_schema is False


# -- when there is nothing to show ------------------------------------------------------


def test_no_docs_without_a_served_document() -> None:
    with TestClient(_app(path=None)) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/docs/init.js").status_code == 404
        assert client.get("/docs/assets/swagger-ui.css").status_code == 404
        assert client.get("/ping").text == "pong"


def test_no_docs_when_switched_off() -> None:
    with TestClient(_app(docs_path=None)) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/openapi.json").status_code == 200


@pytest.fixture
def without_swagger_ui(monkeypatch: pytest.MonkeyPatch) -> None:
    # A double for an install without the extra: None in sys.modules makes both import and
    # importlib.util.find_spec report the package as absent, without touching site-packages.
    monkeypatch.setitem(sys.modules, "swagger_ui", None)


@pytest.mark.usefixtures("without_swagger_ui")
def test_missing_package_names_the_install_line() -> None:
    with TestClient(_app()) as client:  # the app starts and serves its routes
        assert client.get("/ping").text == "pong"
        problem = client.get("/docs")
        page = client.get("/docs", headers={"accept": "text/html"})
        asset = client.get("/docs/assets/swagger-ui-bundle.js")

    assert problem.status_code == 501
    assert problem.headers["content-type"] == "application/problem+json"
    assert "pip install 'satchel[openapi]'" in problem.json()["detail"]
    assert page.status_code == 501
    assert "pip install &#x27;satchel[openapi]&#x27;" in page.text
    assert asset.status_code == 501


# -- Swagger UI in a real browser, against a real server -----------------------------------

SERVED_APP = """
from typing import Annotated

import msgspec

from satchel import App, Header, Query
from satchel.openapi import OpenAPIConfig


class NewItem(msgspec.Struct):
    name: str
    price: float


class Item(NewItem, kw_only=True):
    id: int


schemes = {"bearerAuth": {"type": "http", "scheme": "bearer"}}
app = App(openapi=OpenAPIConfig(title="Shop", security_schemes=schemes))


@app.get("/items", tags=["items"])
async def list_items(limit: Annotated[int, Query(ge=1, le=10)] = 2) -> list[Item]:
    return [Item(id=i, name=f"item {i}", price=1.5) for i in range(limit)]


@app.post("/items", status_code=201, tags=["items"])
async def create_item(item: NewItem) -> Item:
    return Item(id=7, name=item.name, price=item.price)


@app.get("/whoami", tags=["auth"], security=[{"bearerAuth": []}])
async def whoami(authorization: Annotated[str | None, Header()] = None) -> dict[str, str | None]:
    return {"authorization": authorization}
"""
SERVED_OPERATIONS = {("GET", "/items"), ("POST", "/items"), ("GET", "/whoami")}


@dataclass
class DocsPage:
    """The docs page open in Chromium, and what the browser logged while loading it."""

    browser: WebDriver
    url: str
    load_log: list[dict[str, Any]]


@pytest.fixture(scope="module")
def docs_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DocsPage]:
    folder = tmp_path_factory.mktemp("docs-ui")
    with chromium_session() as browser, serve_source("granian-rsgi", SERVED_APP, folder) as url:
        browser.get(f"{url}/docs")
        browser.wait_for(
            lambda: len(browser.find_all(".opblock")) >= len(SERVED_OPERATIONS),
            "Swagger UI to list the operations",
        )
        yield DocsPage(browser, url, browser.browser_log())


def _errors(log: list[dict[str, Any]]) -> list[str]:
    """Console errors, failed loads and CSP violations (logged as SEVERE from 'security')."""
    return [entry["message"] for entry in log if entry["level"] == "SEVERE"]


def _try_out(browser: WebDriver, method: str, path: str) -> str:
    """Expand the operation, press "Try it out", and return the operation's element."""
    selector = f'.opblock-{method}:has(.opblock-summary-path[data-path="{path}"])'
    (operation,) = browser.find_all(selector)
    browser.click(browser.find_all(".opblock-summary-control", operation)[0])
    buttons = browser.wait_for(
        lambda: browser.find_all(".try-out__btn", operation), f"Try it out on {method} {path}"
    )
    browser.click(buttons[0])
    return operation


def _execute(browser: WebDriver, operation: str) -> tuple[str, Any]:
    """Press Execute; return the status code and the JSON body the UI shows."""
    browser.click(browser.wait_for(lambda: browser.find_all(".execute", operation), "Execute")[0])
    status = browser.wait_for(
        lambda: browser.find_all(
            ".live-responses-table tr.response .response-col_status", operation
        ),
        "the live response",
    )
    (body,) = browser.find_all(".live-responses-table .highlight-code code", operation)
    return browser.text(status[0]), json.loads(browser.property(body, "textContent"))


def test_chromium_lists_the_app_operations_without_policy_violations(docs_page: DocsPage) -> None:
    listed = docs_page.browser.execute(
        "return [...document.querySelectorAll('.opblock')].map(block => ["
        "block.querySelector('.opblock-summary-method').textContent,"
        "block.querySelector('.opblock-summary-path').dataset.path])"
    )

    assert {(method, path) for method, path in listed} == SERVED_OPERATIONS
    assert len(listed) == len(SERVED_OPERATIONS)
    assert _errors(docs_page.load_log) == []


def test_chromium_tries_a_get_with_a_query_parameter(docs_page: DocsPage) -> None:
    browser = docs_page.browser
    operation = _try_out(browser, "get", "/items")
    (limit,) = browser.find_all('tr[data-param-name="limit"] input', operation)
    browser.clear(limit)
    browser.type(limit, "3")

    status, body = _execute(browser, operation)

    assert status == "200"
    assert body == [{"name": f"item {i}", "price": 1.5, "id": i} for i in range(3)]
    assert _errors(browser.browser_log()) == []


def test_chromium_tries_a_post_with_a_json_body(docs_page: DocsPage) -> None:
    browser = docs_page.browser
    operation = _try_out(browser, "post", "/items")
    (body_input,) = browser.find_all("textarea.body-param__text", operation)
    browser.clear(body_input)
    browser.type(body_input, '{"name": "Lamp", "price": 12.5}')

    status, body = _execute(browser, operation)

    assert status == "201"
    assert body == {"name": "Lamp", "price": 12.5, "id": 7}
    assert _errors(browser.browser_log()) == []


def test_chromium_tries_a_post_while_the_browser_holds_cookies(docs_page: DocsPage) -> None:
    # Any cookie for the host (a session, another local app's) makes a POST need a CSRF
    # token: the docs page supplies one to its own origin's requests.
    browser = docs_page.browser
    browser.execute("document.cookie = 'theme=dark; path=/'")
    try:
        browser.get(f"{docs_page.url}/docs")  # a fresh page: every operation folded
        browser.wait_for(
            lambda: len(browser.find_all(".opblock")) >= len(SERVED_OPERATIONS),
            "Swagger UI to list the operations",
        )
        operation = _try_out(browser, "post", "/items")
        (body_input,) = browser.find_all("textarea.body-param__text", operation)
        browser.clear(body_input)
        browser.type(body_input, '{"name": "Desk", "price": 80}')

        status, body = _execute(browser, operation)
    finally:
        browser.execute("document.cookie = 'theme=; max-age=0; path=/'")

    assert (status, body) == ("201", {"name": "Desk", "price": 80.0, "id": 7})
    assert _errors(browser.browser_log()) == []


def test_chromium_authorize_sends_the_bearer_token(docs_page: DocsPage) -> None:
    browser = docs_page.browser
    browser.click(browser.find_all(".auth-wrapper .authorize")[0])
    (token,) = browser.wait_for(lambda: browser.find_all(".modal-ux input"), "the Authorize dialog")
    browser.type(token, "s3cret")
    browser.click(browser.find_all(".modal-ux .auth-btn-wrapper .authorize")[0])
    browser.click(browser.wait_for(lambda: browser.find_all(".modal-ux .btn-done"), "Close")[0])
    operation = _try_out(browser, "get", "/whoami")

    status, body = _execute(browser, operation)

    assert status == "200"
    assert body == {"authorization": "Bearer s3cret"}
    assert _errors(browser.browser_log()) == []

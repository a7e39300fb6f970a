"""CSRF protection: the origin checks, the token, the cookie, and how apps switch it off."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from satchel import (
    App,
    ConfigurationError,
    Depends,
    Forbidden,
    HTMLResponse,
    Request,
    Response,
    Router,
    Settings,
    StreamingResponse,
)
from satchel.csrf import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    csrf_input,
    csrf_token,
    rotate_csrf,
    set_csrf_cookie,
)
from satchel.middleware import CallNext
from satchel.testing import TestClient
from tests.servers import serve_source
from tests.support import assert_problem
from tests.webdriver import chromium_session

ORIGIN = "https://testserver"
SECRET = "test-secret-key"


class Note(msgspec.Struct):
    text: str


def make_app(*, csrf: bool = True, **settings: Any) -> tuple[App[Any], list[str]]:
    """An app with a form page, a token endpoint and unsafe routes; the list records calls."""
    settings.setdefault("secret_key", SECRET)
    app = App(settings=Settings(**settings), csrf=csrf)
    reached: list[str] = []

    def record_dependency() -> None:
        reached.append("dependency")

    @app.get("/form")
    def form(request: Request) -> HTMLResponse:
        return HTMLResponse(f'<form method="post">{csrf_input(request)}</form>')

    @app.get("/token")
    def token(request: Request) -> dict[str, str]:
        return {"token": csrf_token(request)}

    @app.route(
        "/submit",
        ["POST", "PUT", "PATCH", "DELETE"],
        dependencies=[Depends(record_dependency)],
    )
    def submit(request: Request) -> str:
        reached.append(request.method)
        return "done"

    @app.post("/notes", status_code=201)
    def add_note(note: Note) -> str:
        reached.append(note.text)
        return note.text

    @app.post("/webhook", csrf=False)
    def webhook() -> str:
        reached.append("webhook")
        return "received"

    @app.post("/callback", csrf=False)
    def callback(request: Request) -> str:
        return csrf_token(request)

    @app.post("/login")
    def login(request: Request) -> dict[str, str]:
        rotate_csrf(request)
        return {"token": csrf_token(request)}

    @app.route("/search", ["GET", "QUERY"])
    def search() -> str:
        reached.append("search")
        return "results"

    return app, reached


@pytest.fixture
def app_and_calls() -> tuple[App[Any], list[str]]:
    return make_app()


@pytest.fixture
def client(app_and_calls: tuple[App[Any], list[str]]) -> Iterator[TestClient]:
    # Browsers send Origin with every POST; tests that need it gone delete it.
    with TestClient(app_and_calls[0], headers={"origin": ORIGIN}) as client:
        yield client


@pytest.fixture
def reached(app_and_calls: tuple[App[Any], list[str]]) -> list[str]:
    return app_and_calls[1]


def token_of(client: TestClient) -> str:
    """A token from the app's token endpoint (the client's jar gets the cookie)."""
    value: str = client.get("/token").json()["token"]
    return value


def form_token(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get("/form").text)
    assert found is not None
    return found[1]


def refused(response: Any, reason: str) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert_problem(body, 403)
    assert reason in body["detail"]


# -- the token round trip --------------------------------------------------------------


def test_form_field_in_an_urlencoded_form(client: TestClient, reached: list[str]) -> None:
    token = form_token(client)
    response = client.post("/submit", data={CSRF_FIELD: token}, headers={"origin": ORIGIN})
    assert response.text == "done"
    assert reached == ["dependency", "POST"]


def test_form_field_in_a_multipart_form(client: TestClient) -> None:
    token = form_token(client)
    response = client.post(
        "/submit",
        data={CSRF_FIELD: token},
        files={"upload": ("a.txt", b"hello", "text/plain")},
        headers={"origin": ORIGIN},
    )
    assert response.text == "done"


def test_header_for_javascript_clients(client: TestClient, reached: list[str]) -> None:
    token = token_of(client)
    response = client.post(
        "/notes", json={"text": "hi"}, headers={CSRF_HEADER: token, "origin": ORIGIN}
    )
    assert response.status_code == 201
    for method in ("PUT", "PATCH", "DELETE"):
        assert client.request(method, "/submit", headers={CSRF_HEADER: token}).text == "done"
    assert reached == ["hi", "dependency", "PUT", "dependency", "PATCH", "dependency", "DELETE"]


def test_tokens_differ_on_every_render_and_all_verify(client: TestClient) -> None:
    tokens = [token_of(client), token_of(client), form_token(client)]
    assert len(set(tokens)) == 3
    assert all(re.fullmatch(r"[0-9a-f]{128}", token) for token in tokens)
    for token in tokens:
        assert client.post("/submit", headers={CSRF_HEADER: token}).text == "done"


# -- refusals ----------------------------------------------------------------------------


def test_missing_token_is_refused_before_dependencies(
    client: TestClient, reached: list[str]
) -> None:
    token_of(client)
    refused(client.post("/submit", headers={"origin": ORIGIN}), "no token in the x-csrf-token")
    refused(client.post("/submit", data={"other": "x"}), "no token")
    # A file part named like the field is no token.
    files = {CSRF_FIELD: ("t.txt", b"x", "text/plain")}
    refused(client.post("/submit", files=files), "no token")
    assert reached == []


@pytest.mark.parametrize(
    "token",
    ["0" * 128, "abc", "<script>alert(1)</script>", "A" * 128, "é" * 128, "0" * 130],
    ids=["zeros", "short", "markup", "upper-case", "non-ascii", "long"],
)
def test_wrong_token_is_refused_without_echo(client: TestClient, token: str) -> None:
    token_of(client)
    response = client.post("/submit", data={CSRF_FIELD: token}, headers={"origin": ORIGIN})
    refused(response, "the CSRF token is invalid")
    assert token not in response.text


def test_token_of_another_client_is_refused(app_and_calls: tuple[App[Any], list[str]]) -> None:
    app = app_and_calls[0]
    with (
        TestClient(app, headers={"origin": ORIGIN}) as alice,
        TestClient(app, headers={"origin": ORIGIN}) as mallory,
    ):
        token_of(alice)
        stolen = token_of(mallory)
        refused(alice.post("/submit", headers={CSRF_HEADER: stolen}), "token is invalid")


def test_missing_or_forged_cookie_is_refused(client: TestClient) -> None:
    token = token_of(client)
    secret_hex = client.cookies[CSRF_COOKIE].partition(".")[0]
    forged = f"{secret_hex}.{'0' * 64}"
    for cookie in (f"{CSRF_COOKIE}={forged}", "theme=dark", f"{CSRF_COOKIE}=junk"):
        client.cookies.clear()
        response = client.post("/submit", headers={CSRF_HEADER: token, "cookie": cookie})
        refused(response, "the CSRF cookie is missing or invalid")


def test_a_forged_cookie_is_replaced_when_a_token_is_rendered(client: TestClient) -> None:
    client.cookies.set(CSRF_COOKIE, "0" * 64 + "." + "0" * 64, domain="testserver")
    response = client.get("/token")
    assert CSRF_COOKIE in response.headers["set-cookie"]
    assert client.post("/submit", headers={CSRF_HEADER: response.json()["token"]}).text == "done"


def test_rotate_invalidates_earlier_tokens(client: TestClient) -> None:
    old = token_of(client)
    login = client.post("/login", headers={CSRF_HEADER: old})
    assert CSRF_COOKIE in login.headers["set-cookie"]
    refused(client.post("/submit", headers={CSRF_HEADER: old}), "token is invalid")
    assert client.post("/submit", headers={CSRF_HEADER: login.json()["token"]}).text == "done"


# -- key rotation ------------------------------------------------------------------------


def test_cookie_signed_with_a_fallback_key_verifies_and_is_signed_again() -> None:
    old_app, _ = make_app(secret_key="old-key")
    with TestClient(old_app, headers={"origin": ORIGIN}) as old_client:
        token = token_of(old_client)
        cookie = old_client.cookies[CSRF_COOKIE]

    def post(app: App[Any], cookie: str) -> Any:
        with TestClient(app, headers={"origin": ORIGIN}) as client:
            headers = {CSRF_HEADER: token, "cookie": f"{CSRF_COOKIE}={cookie}"}
            return client.post("/submit", headers=headers)

    rotated, _ = make_app(secret_key="new-key", secret_key_fallbacks=["old-key"])
    response = post(rotated, cookie)
    assert response.text == "done"
    renewed = response.headers["set-cookie"].partition(";")[0].removeprefix(f"{CSRF_COOKIE}=")
    # Same secret, signed with the current key: the page's tokens keep working.
    assert renewed != cookie
    assert renewed.partition(".")[0] == cookie.partition(".")[0]
    again = post(rotated, renewed)
    assert again.text == "done"
    assert "set-cookie" not in again.headers

    forgotten, _ = make_app(secret_key="new-key")
    refused(post(forgotten, cookie), "cookie is missing or invalid")
    assert post(forgotten, renewed).text == "done"


# -- where the request comes from ------------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "reason"),
    [
        ("https://attacker.test", "Origin is not trusted"),
        ("http://testserver", "Origin is not trusted"),  # a downgraded page
        ("https://testserver:8443", "Origin is not trusted"),
        ("https://testserver.attacker.test", "Origin is not trusted"),
        ("null", "Origin is null"),
        ("https://user@testserver", "Origin is not trusted"),
        ("garbage", "Origin is not trusted"),
    ],
)
def test_foreign_origin_is_refused_even_with_a_token(
    client: TestClient, origin: str, reason: str
) -> None:
    token = token_of(client)
    refused(client.post("/submit", headers={CSRF_HEADER: token, "origin": origin}), reason)


def test_own_origin_in_any_spelling_passes(client: TestClient) -> None:
    token = token_of(client)
    for origin in ("https://testserver", "https://TESTSERVER:443", "https://testserver."):
        response = client.post("/submit", headers={CSRF_HEADER: token, "origin": origin})
        assert response.text == "done", origin


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_sec_fetch_site_across_sites_is_refused(client: TestClient, site: str) -> None:
    token = token_of(client)
    headers = {CSRF_HEADER: token, "sec-fetch-site": site, "origin": "https://a.testserver"}
    refused(client.post("/submit", headers=headers), f"{site} request from an untrusted origin")


def test_sec_fetch_site_same_origin_is_the_browsers_word(client: TestClient) -> None:
    # With Referrer-Policy: no-referrer a browser sends "Origin: null" even to its own origin.
    token = token_of(client)
    headers = {CSRF_HEADER: token, "sec-fetch-site": "same-origin", "origin": "null"}
    assert client.post("/submit", headers=headers).text == "done"
    # It vouches for the origin, not for the token.
    del headers[CSRF_HEADER]
    refused(client.post("/submit", headers=headers), "no token")


def test_cross_site_requests_without_cookies_are_refused_too(
    client: TestClient, reached: list[str]
) -> None:
    # Login CSRF: the victim has no cookie yet (or SameSite kept it), the attacker's
    # form signs them in to the attacker's account.
    headers = {"sec-fetch-site": "cross-site", "origin": "https://attacker.test"}
    refused(client.post("/submit", data={"user": "mallory"}, headers=headers), "cross-site")
    refused(client.post("/submit", headers={"origin": "https://attacker.test"}), "Origin")
    assert reached == []


def test_requests_without_cookies_or_browser_headers_pass(
    client: TestClient, reached: list[str]
) -> None:
    del client.headers["origin"]
    # Scripts and servers: nothing ambient to forge, nothing a browser would add.
    assert client.post("/notes", json={"text": "from curl"}).status_code == 201
    assert client.post("/submit").text == "done"
    assert reached == ["from curl", "dependency", "POST"]


def test_referer_is_required_over_https_without_origin(client: TestClient) -> None:
    del client.headers["origin"]
    token = token_of(client)
    refused(client.post("/submit", headers={CSRF_HEADER: token}), "no Origin or Referer header")
    for referer in (
        "https://attacker.test/page",
        "http://testserver/form",
        "https://user@testserver/form",
        "https://[::1/form",
        "not a url",
    ):
        response = client.post("/submit", headers={CSRF_HEADER: token, "referer": referer})
        refused(response, "the Referer is not a trusted origin")
    response = client.post(
        "/submit", headers={CSRF_HEADER: token, "referer": "https://testserver/form?x=1"}
    )
    assert response.text == "done"


def test_plain_http_needs_no_referer(app_and_calls: tuple[App[Any], list[str]]) -> None:
    with TestClient(app_and_calls[0]) as secure:
        token = token_of(secure)
        cookie = secure.cookies[CSRF_COOKIE]
    # A plain-HTTP client would not send a Secure cookie: send it by hand.
    with TestClient(app_and_calls[0], base_url="http://testserver") as client:
        headers = {CSRF_HEADER: token, "cookie": f"{CSRF_COOKIE}={cookie}"}
        assert client.post("/submit", headers=headers).text == "done"
        headers["origin"] = ORIGIN  # a page served over HTTPS posting to plain HTTP
        refused(client.post("/submit", headers=headers), "Origin is not trusted")


def test_trusted_origins_from_settings() -> None:
    app, _ = make_app(csrf_trusted_origins=["https://App.Example:443", "http://localhost:5173"])
    with TestClient(app) as client:
        token = token_of(client)
        for origin in ("https://app.example", "http://localhost:5173"):
            headers = {CSRF_HEADER: token, "origin": origin, "sec-fetch-site": "same-site"}
            assert client.post("/submit", headers=headers).text == "done", origin
            headers["referer"] = origin + "/page"
            del headers["origin"], headers["sec-fetch-site"]
            assert client.post("/submit", headers=headers).text == "done", origin
        # Trusted origins still need the token.
        refused(client.post("/submit", headers={"origin": "https://app.example"}), "no token")
        headers = {CSRF_HEADER: token, "origin": "https://other.example"}
        refused(client.post("/submit", headers=headers), "Origin is not trusted")


@pytest.mark.parametrize(
    "entry", ["app.example", "https://app.example/", "ftp://app.example", "https://", "*"]
)
def test_malformed_trusted_origin_is_a_configuration_error(entry: str) -> None:
    with pytest.raises(ConfigurationError, match="csrf_trusted_origins"):
        App(settings=Settings(csrf_trusted_origins=[entry]))


def test_origin_behind_a_trusted_proxy() -> None:
    app, _ = make_app(trusted_proxies=["10.0.0.0/8"], allowed_hosts=["shop.example", "backend"])
    forwarded = {"x-forwarded-proto": "https", "x-forwarded-host": "shop.example"}
    with TestClient(app, base_url="http://backend:8000", client=("10.0.0.2", 4000)) as client:
        client.headers.update(forwarded)
        token = token_of(client)
        cookie = {"cookie": f"{CSRF_COOKIE}={client.cookies[CSRF_COOKIE]}"}
        headers = {CSRF_HEADER: token, **cookie}
        ok = client.post("/submit", headers={**headers, "origin": "https://shop.example"})
        assert ok.text == "done"
        inner = client.post("/submit", headers={**headers, "origin": "http://backend:8000"})
        refused(inner, "Origin is not trusted")
    # The same headers from an untrusted peer change nothing.
    with TestClient(app, base_url="http://backend:8000", client=("192.0.2.9", 4000)) as client:
        client.headers.update(forwarded)
        headers = {CSRF_HEADER: token, **cookie, "origin": "https://shop.example"}
        refused(client.post("/submit", headers=headers), "Origin is not trusted")


# -- who is checked ------------------------------------------------------------------------


def test_bearer_authorization_skips_the_checks(client: TestClient, reached: list[str]) -> None:
    token_of(client)  # the client has cookies too
    headers = {
        "authorization": "Bearer abc.def",
        "origin": "https://attacker.test",
        "sec-fetch-site": "cross-site",
    }
    assert client.post("/submit", headers=headers).text == "done"
    assert reached == ["dependency", "POST"]


def test_exempt_credential_headers_skip_the_checks(
    app_and_calls: tuple[App[Any], list[str]], client: TestClient
) -> None:
    token_of(client)
    headers = {"x-api-key": "k.s", "origin": "https://attacker.test"}
    refused(client.post("/submit", headers=headers), "Origin is not trusted")
    app = app_and_calls[0]
    assert app.csrf is not None
    app.csrf.exempt_header("X-API-Key")
    assert app.csrf.exempt_headers == frozenset({"x-api-key"})
    assert client.post("/submit", headers=headers).text == "done"


@pytest.mark.parametrize("scheme", ["Basic dXNlcjpwdw==", "Digest username=x", "NTLM abc"])
def test_credentials_browsers_replay_are_checked_like_cookies(
    client: TestClient, scheme: str
) -> None:
    del client.headers["origin"]
    token_of(client)
    refused(client.post("/submit", headers={"authorization": scheme}), "no Origin or Referer")
    headers = {"authorization": scheme, "sec-fetch-site": "cross-site"}
    client.cookies.clear()
    refused(client.post("/submit", headers=headers), "cross-site")


def test_safe_methods_are_never_checked(client: TestClient, reached: list[str]) -> None:
    token_of(client)
    hostile = {"origin": "null", "sec-fetch-site": "cross-site"}
    assert client.get("/search", headers=hostile).text == "results"
    assert client.head("/search", headers=hostile).status_code == 200
    assert client.options("/submit", headers=hostile).status_code == 204
    assert client.request("QUERY", "/search", headers=hostile).text == "results"
    assert reached == ["search", "search", "search"]


def test_routing_answers_first(client: TestClient) -> None:
    token_of(client)
    assert client.post("/missing").status_code == 404
    assert client.post("/search").status_code == 405


def test_exempt_route(client: TestClient, reached: list[str]) -> None:
    token_of(client)
    headers = {"origin": "https://attacker.test", "sec-fetch-site": "cross-site"}
    assert client.post("/webhook", headers=headers).text == "received"
    assert reached == ["webhook"]


def test_exempt_route_still_sends_the_cookie_for_tokens_it_renders(
    client: TestClient,
) -> None:
    # E.g. an OAuth form_post callback: a cross-site POST that shows the next form.
    response = client.post("/callback", headers={"sec-fetch-site": "cross-site"})
    assert CSRF_COOKIE in response.headers["set-cookie"]
    assert response.headers["vary"] == "Cookie"
    assert client.post("/submit", headers={CSRF_HEADER: response.text}).text == "done"


def test_app_wide_off() -> None:
    app, reached = make_app(csrf=False)
    assert app.csrf is None
    with TestClient(app, cookies={"session": "abc"}) as client:
        headers = {"origin": "https://attacker.test", "sec-fetch-site": "cross-site"}
        assert client.post("/submit", headers=headers).text == "done"
    assert reached == ["dependency", "POST"]


def test_json_body_posted_as_text_plain_never_reaches_the_handler(
    client: TestClient, reached: list[str]
) -> None:
    # What a cross-site <form enctype="text/plain"> can send: refused by either defence.
    token = token_of(client)
    body = b'{"text": "forged"}'
    cross = {"content-type": "text/plain", "origin": "https://attacker.test"}
    assert client.post("/notes", content=body, headers=cross).status_code in (403, 415)
    same = {"content-type": "text/plain", "origin": ORIGIN, CSRF_HEADER: token}
    assert client.post("/notes", content=body, headers=same).status_code == 415
    assert reached == []


# -- the cookie and the response -------------------------------------------------------------


def test_cookie_attributes(client: TestClient) -> None:
    response = client.get("/form")
    pair, *attributes = [part.strip() for part in response.headers["set-cookie"].split(";")]
    assert re.fullmatch(rf"{CSRF_COOKIE}=[0-9a-f]{{64}}\.[0-9a-f]{{64}}", pair)
    assert sorted(attributes) == [
        "HttpOnly",
        "Max-Age=31536000",
        "Path=/",
        "SameSite=Lax",
        "Secure",
    ]
    assert response.headers["vary"] == "Cookie"
    # The cookie goes out once; every page with a token varies by it.
    again = client.get("/form")
    assert "set-cookie" not in again.headers
    assert again.headers["vary"] == "Cookie"


def test_pages_without_tokens_get_neither_cookie_nor_vary(client: TestClient) -> None:
    response = client.get("/search")
    assert "set-cookie" not in response.headers
    assert "vary" not in response.headers


def test_vary_joins_the_handlers_own() -> None:
    app = App(settings=Settings(secret_key=SECRET))

    @app.get("/page")
    def page(request: Request) -> Response:
        return Response(csrf_token(request), headers={"vary": "Accept-Encoding"})

    @app.get("/star")
    def star(request: Request) -> Response:
        return Response(csrf_token(request), headers={"vary": "*"})

    @app.get("/stream")
    def stream(request: Request) -> StreamingResponse:
        token = csrf_token(request)
        return StreamingResponse(iter([token.encode()]), media_type="text/plain")

    with TestClient(app) as client:
        assert client.get("/page").headers.get_list("vary") == ["Accept-Encoding", "Cookie"]
        assert client.get("/star").headers.get_list("vary") == ["*"]
        client.cookies.clear()
        streamed = client.get("/stream")
        assert CSRF_COOKIE in streamed.headers["set-cookie"]
        assert client.post("/stream", headers={CSRF_HEADER: streamed.text}).status_code == 405


def test_middleware_that_renders_tokens_sets_the_cookie_itself() -> None:
    async def token_header(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        if request.method == "GET":
            response.headers["x-csrf-token"] = csrf_token(request)
        set_csrf_cookie(request, response)
        set_csrf_cookie(request, response)  # twice adds nothing
        return response

    app = App(settings=Settings(secret_key=SECRET), middleware=[token_header])

    @app.post("/save")
    def save() -> str:
        return "saved"

    with TestClient(app) as client:
        first = client.get("/missing")  # middleware runs for 404s too
        assert len(first.headers.get_list("set-cookie")) == 1
        assert first.headers.get_list("vary") == ["Cookie"]
        token = first.headers["x-csrf-token"]
        response = client.post("/save", headers={CSRF_HEADER: token, "origin": ORIGIN})
        assert response.text == "saved"
        assert "set-cookie" not in response.headers
        nothing_owed = client.post("/missing")
        assert "set-cookie" not in nothing_owed.headers
        assert "vary" not in nothing_owed.headers


def test_error_pages_that_render_tokens_send_the_cookie() -> None:
    # An error handler runs outside the route: the cookie its token needs still goes out.
    app = App(settings=Settings(secret_key=SECRET))

    @app.error_handler(404)
    def not_found(request: Request, exc: Exception) -> HTMLResponse:
        return HTMLResponse(
            f'<form method="post" action="/search">{csrf_input(request)}</form>', 404
        )

    @app.post("/search")
    def search() -> str:
        return "results"

    with TestClient(app, headers={"origin": ORIGIN}) as client:
        page = client.get("/missing")
        assert CSRF_COOKIE in page.headers["set-cookie"]
        assert page.headers["vary"] == "Cookie"
        token = re.search(r'value="([0-9a-f]+)"', page.text)
        assert token is not None
        assert client.post("/search", data={CSRF_FIELD: token[1]}).text == "results"


def test_a_secret_rotated_before_an_error_still_reaches_the_client() -> None:
    app = App(settings=Settings(secret_key=SECRET))

    @app.get("/token")
    def token(request: Request) -> str:
        return csrf_token(request)

    @app.post("/login")
    def login(request: Request) -> str:
        rotate_csrf(request)  # signed in: the session rotates with it...
        raise Forbidden("...but the account must change its password first")

    with TestClient(app, headers={"origin": ORIGIN}) as client:
        before = client.get("/token").text
        secret_before = client.cookies[CSRF_COOKIE]
        refused = client.post("/login", headers={CSRF_HEADER: before})
        assert refused.status_code == 403
        assert client.cookies[CSRF_COOKIE] != secret_before


def test_refusals_go_through_the_routers_error_handlers() -> None:
    app = App(settings=Settings(secret_key=SECRET))
    forms = Router(prefix="/forms")

    @forms.post("/send")
    def send() -> str:
        return "sent"

    @forms.error_handler(403)
    def forbidden(request: Request, exc: Exception) -> HTMLResponse:
        assert isinstance(exc, Forbidden)
        return HTMLResponse("<p>Please reload the page and try again.</p>", 403)

    app.include(forms)
    with TestClient(app, cookies={"theme": "dark"}) as client:
        response = client.post("/forms/send", headers={"origin": ORIGIN})
        assert response.status_code == 403
        assert "reload the page" in response.text


# -- a real browser ---------------------------------------------------------------------


BROWSER_APP = """
from satchel import App, HTMLResponse, Request, Settings
from satchel.csrf import csrf_input

app = App(settings=Settings(secret_key="browser-test"))


@app.get("/form")
def form(request: Request) -> HTMLResponse:
    return HTMLResponse(
        '<form method="post" action="/submit">'
        + csrf_input(request)
        + '<button id="send">Send</button></form>'
    )


@app.post("/submit")
def submit(request: Request) -> HTMLResponse:
    return HTMLResponse('<p id="result">accepted with ' + ", ".join(request.cookies) + "</p>")


@app.get("/attacker")
def attacker(request: Request) -> HTMLResponse:
    target = request.query_params["target"]
    return HTMLResponse(
        f'<form method="post" action="{target}/submit">'
        '<input name="csrf_token" value="guess"><button id="send">Send</button></form>'
    )
"""


def test_in_chromium(tmp_path: Path) -> None:
    with serve_source("granian-rsgi", BROWSER_APP, tmp_path) as url, chromium_session() as browser:
        # Chromium keeps the __Host- cookie from http://127.0.0.1 (a secure context) and
        # posts it back with the form's token.
        browser.get(url + "/form")
        browser.click(browser.find_all("#send")[0])
        result = browser.wait_for(lambda: browser.find_all("#result"), "the form's answer")
        assert browser.text(result[0]) == f"accepted with {CSRF_COOKIE}"

        browser.get(url + "/form")
        browser.execute("document.querySelector('[name=csrf_token]').value = '0'.repeat(128)")
        browser.click(browser.find_all("#send")[0])
        browser.wait_for(lambda: "token is invalid" in browser.execute(_BODY_TEXT), "the 403")

        # "localhost" and "127.0.0.1" are different sites.
        browser.get(url.replace("127.0.0.1", "localhost") + "/attacker?target=" + url)
        browser.click(browser.find_all("#send")[0])
        browser.wait_for(lambda: "cross-site request" in browser.execute(_BODY_TEXT), "the 403")


_BODY_TEXT = "return document.body ? document.body.innerText : ''"

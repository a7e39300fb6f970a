"""Safe redirects: open-redirect attacks refused, ordinary targets kept, checked in Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from satchel import App, Request, Settings
from satchel.hosts import AllowedHosts
from satchel.redirects import MAX_REDIRECT_URL_LENGTH, is_safe_url, safe_redirect
from satchel.responses import RedirectResponse
from satchel.testing import TestClient
from tests.webdriver import WebDriver, chromium_session

HOSTS = ["good.example", ".trusted.example"]

ATTACKS = [
    # nothing, or whitespace around the target
    "",
    " ",
    " /account",
    "/account ",
    "\t/account",
    "/account\n",
    "\u00a0/account",
    "/account\u3000",
    # scheme-relative and backslash forms: the browser takes the next word as a host
    "//evil.example",
    "//evil.example/login",
    "///evil.example",
    "////evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "/./\\evil.example",
    "/a\\b",
    # dot segments that leave "//" at the start once removed
    "/.//evil.example",
    "/..//evil.example",
    "/a/..//evil.example",
    "/%2e//evil.example",
    "/%2E%2e//evil.example",
    # tabs and newlines are deleted by browsers, other controls ignored at the ends
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "/\r\n/evil.example",
    "\x00/account",
    "/account\x00",
    "\x01//evil.example",
    "/\x7f",
    "java\tscript:alert(1)",
    "\njavascript:alert(1)",
    # invisible and direction characters
    "\u200b//evil.example",
    "/\u200b/evil.example",
    "/\u202eelpmaxe.live",
    "/\ufeffaccount",
    # other schemes
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "javascript://good.example/%0aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://good.example/",
    "ws://good.example/",
    "mailto:someone@good.example",
    "blob:https://good.example/uuid",
    "good.example:443/",
    # missing or extra slashes after the scheme
    "https:evil.example",
    "http:evil.example",
    "https:/evil.example",
    "https:///evil.example",
    "http:///evil.example",
    "https:\\\\evil.example",
    "https:/\\evil.example",
    "https:\\/evil.example",
    "https://",
    "https:",
    "http:/",
    # user info: the host is what follows the "@"
    "https://good.example@evil.example",
    "https://good.example:443@evil.example/",
    "https://user:pass@good.example/",
    "https://@good.example/",
    "https://evil.example\\@good.example/",
    "https://good.example%2f@evil.example",
    "//good.example@evil.example",
    # hosts that are not the allowed ones, or not spelt plainly
    "https://evil.example/",
    "https://evil.example#@good.example",
    "https://evil.example?@good.example",
    "https://evil.example/good.example",
    "https://good.example.evil.example/",
    "https://evilgood.example/",
    "https://eviltrusted.example/",
    "https://evil%2eexample/",
    "https://good%2eexample/",
    "https://good.example\u3002evil.example/",
    "https://[::1]/",
    "https://[::ffff:7f00:1]/",
    "https://[good.example]/",
    "http://127.0.0.1/",
    "http://2130706433/",
    "https://good.example:/",
    "https://good.example:99999/",
    "https://good.example:80a/",
    "https://good.example:\u0661\u0662/",
    "https://good.example /",
    "https://xn--gd-8cab.example/",
    # non-ASCII lookalikes: Cyrillic and fullwidth letters and solidi
    "\u04bbttps://good.example/",
    "\uff48\uff54\uff54\uff50\uff53://good.example/",
    "https\uff1a//good.example/",
    "\uff0f\uff0fevil.example",
    "https://g\u043e\u043ed.example/",
    "https://\uff47ood.example/",
    # encoded separators: the server decodes what the browser sends
    "/%2f%2fevil.example",
    "/%2F%2Fevil.example",
    "/%2f/evil.example",
    "/%5cevil.example",
    "/%5Cevil.example",
    "/%5c%5cevil.example",
    "/%09/evil.example",
    "/%0d%0aSet-Cookie:%20a=b",
    "/%00",
    "/%e2%80%ae",
    # encoded twice (or more): one decoding still leaves a separator, a dot or a percent
    "/%252f%252fevil.example",
    "/%25252f%25252fevil.example",
    "/%255cevil.example",
    "/%252e%252e/account",
    "/%2509",
    # relative paths without the leading slash, and bare queries or fragments
    "evil.example",
    "evil.example/path",
    "account",
    "./account",
    "../account",
    "?next=/account",
    "#top",
    # too long
    "/" + "a" * MAX_REDIRECT_URL_LENGTH,
    # absolute URLs on an allowed host whose path still leaves it when re-served
    "https://good.example//evil.example",
    "https://good.example/%2f%2fevil.example",
]

SAFE = [
    "/",
    "/account",
    "/account/",
    "/a/b/c",
    "/a//b",
    "/a/./b",
    "/a/../b",
    "/..",
    "/.well-known/security.txt",
    "/@someone",
    "/~someone",
    "/path:with:colons",
    "/evil.example",
    "/search?q=hello+world&page=2",
    "/search?q=a%20b",
    "/login?next=//evil.example",
    "/login?next=%2F%2Fevil.example",
    "/login?next=https://evil.example",
    "/login?next=%252F",
    "/path?back=a\\b",
    "/path#section",
    "/path#/\\evil.example",
    "/path?a=1#b",
    "/caf\u00e9/\u00fcber",
    "/\u65e5\u672c",
    "/caf%C3%A9",
    "/100%25",
    "/50%off",
    "/%ff",
    "/files/a%2Fb",
    "/files/a%20b",
    "/a b",
    "/" + "a" * (MAX_REDIRECT_URL_LENGTH - 1),
    "https://good.example",
    "https://good.example/",
    "https://good.example/account?tab=2#top",
    "https://good.example?x=1",
    "https://good.example#top",
    "HTTPS://GOOD.EXAMPLE/Account",
    "http://good.example/",
    "https://good.example:8443/",
    "https://good.example./",
    "https://trusted.example/",
    "https://api.trusted.example/v1",
    "https://a.b.trusted.example/",
    "https://good.example/caf\u00e9",
]


@pytest.mark.parametrize("url", ATTACKS)
def test_attacks_are_refused(url: str) -> None:
    assert is_safe_url(url, allowed_hosts=HOSTS) is False


@pytest.mark.parametrize("url", SAFE)
def test_paths_and_allowed_hosts_are_accepted(url: str) -> None:
    assert is_safe_url(url, allowed_hosts=HOSTS) is True


@pytest.mark.parametrize(
    "url", ["https://good.example/", "http://localhost/", "/account", "https://x.trusted.example"]
)
def test_absolute_urls_need_an_allowed_host(url: str) -> None:
    assert is_safe_url(url) is url.startswith("/")


@pytest.mark.parametrize("hosts", [["*"], ["*", "good.example"], [" * "]])
def test_a_wildcard_allows_no_host(hosts: list[str]) -> None:
    assert is_safe_url("https://evil.example/", allowed_hosts=hosts) is False
    assert is_safe_url("https://good.example/", allowed_hosts=hosts) is ("good.example" in hosts)


def test_require_https_refuses_plain_http() -> None:
    assert is_safe_url("http://good.example/", allowed_hosts=HOSTS, require_https=True) is False
    assert is_safe_url("https://good.example/", allowed_hosts=HOSTS, require_https=True)
    assert is_safe_url("/account", require_https=True)


def test_allowed_hosts_may_be_any_iterable() -> None:
    assert is_safe_url("https://good.example/", allowed_hosts=(h for h in HOSTS))
    assert is_safe_url("https://good.example/", allowed_hosts={"GOOD.example"})


def test_non_strings_are_refused() -> None:
    value: Any = None
    assert is_safe_url(value) is False
    value = b"/account"
    assert is_safe_url(value) is False


# -- safe_redirect ------------------------------------------------------------------------


def test_safe_redirect_goes_to_a_safe_target() -> None:
    response = safe_redirect("/orders?page=2#last")
    assert isinstance(response, RedirectResponse)
    assert response.status_code == 303
    assert response.headers["location"] == "/orders?page=2#last"


@pytest.mark.parametrize("url", [None, "", "//evil.example", "https://evil.example/", "/\t/x"])
def test_safe_redirect_falls_back(url: str | None) -> None:
    response = safe_redirect(url, fallback="/account")
    assert response.headers["location"] == "/account"


def test_safe_redirect_allows_listed_hosts_and_status() -> None:
    response = safe_redirect(
        "https://api.trusted.example/done", allowed_hosts=HOSTS, status_code=302
    )
    assert response.status_code == 302
    assert response.headers["location"] == "https://api.trusted.example/done"


def test_safe_redirect_require_https() -> None:
    response = safe_redirect("http://good.example/", allowed_hosts=HOSTS, require_https=True)
    assert response.headers["location"] == "/"


def test_safe_redirect_percent_encodes_non_ascii_paths() -> None:
    assert safe_redirect("/caf\u00e9").headers["location"] == "/caf%C3%A9"


@pytest.mark.parametrize("fallback", ["//evil.example", "https://evil.example/", "account", ""])
def test_an_unsafe_fallback_is_a_programming_error(fallback: str) -> None:
    with pytest.raises(ValueError, match="fallback"):
        safe_redirect("/account", fallback=fallback)


def test_the_fallback_may_be_on_an_allowed_host() -> None:
    response = safe_redirect(None, fallback="https://good.example/", allowed_hosts=HOSTS)
    assert response.headers["location"] == "https://good.example/"


def test_a_redirect_status_is_required() -> None:
    with pytest.raises(ValueError, match="not a redirect status"):
        safe_redirect("/", status_code=200)


def test_login_flow_in_an_app() -> None:
    app = App(settings=Settings())

    @app.post("/login", csrf=False)
    async def login(request: Request) -> RedirectResponse:
        return safe_redirect(request.query_params.get("next"), fallback="/account")

    with TestClient(app) as client:
        kept = client.post("/login", params={"next": "/orders/7?tab=items"})
        refused = client.post("/login", params={"next": "/\\evil.example"})
        missing = client.post("/login")

    assert (kept.status_code, kept.headers["location"]) == (303, "/orders/7?tab=items")
    assert refused.headers["location"] == "/account"
    assert missing.headers["location"] == "/account"


# -- what Chromium makes of them ----------------------------------------------------------

SITE = "site.example"
RESOLVE = """
const [urls, bases] = arguments;
return urls.map(u => bases.map(b => {
  try { const r = new URL(u, b); return [r.protocol, r.hostname, r.pathname]; }
  catch (e) { return null; }
}));
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    with chromium_session() as driver:
        driver.get("about:blank")
        yield driver


def _resolve(browser: WebDriver, urls: list[str]) -> list[list[list[str] | None]]:
    """Each URL resolved by Chromium's URL parser against an http and an https page."""
    bases = [f"http://{SITE}/dir/page", f"https://{SITE}/dir/page"]
    result: list[list[list[str] | None]] = browser.execute(RESOLVE, urls, bases)
    return result


def test_chromium_keeps_every_accepted_location_on_an_allowed_host(browser: WebDriver) -> None:
    # What the browser reads is the Location header, after RedirectResponse's encoding.
    accepted = [u for u in ATTACKS + SAFE if is_safe_url(u, allowed_hosts=HOSTS)]
    locations = [safe_redirect(u, allowed_hosts=HOSTS).headers["location"] for u in accepted]
    for url, readings in zip(accepted, _resolve(browser, locations), strict=True):
        for reading in readings:
            assert reading is not None, url
            protocol, host, path = reading
            assert protocol in ("http:", "https:"), url
            assert host == SITE or AllowedHosts(HOSTS).allows(host), url
            assert not path.startswith("//"), url


BROWSER_ATTACKS = [
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "\x01//evil.example",
    " //evil.example",
    "https:/\\evil.example",
    "https:///evil.example",
    "https://good.example@evil.example",
    "https://evil.example\\@good.example/",
    "https://evil.example#@good.example",
]


def test_chromium_reads_the_attacks_as_another_host(browser: WebDriver) -> None:
    # The attack list is not hypothetical: a browser leaves the site for each of these.
    hosts = dict(zip(BROWSER_ATTACKS, _hosts(browser, BROWSER_ATTACKS), strict=True))
    assert hosts == {url: ["evil.example", "evil.example"] for url in BROWSER_ATTACKS}


def test_chromium_reads_a_missing_double_slash_as_a_host_from_another_scheme(
    browser: WebDriver,
) -> None:
    # From an https page, "https:evil.example" is a relative path; from an http one, a host.
    assert _hosts(browser, ["https:evil.example"]) == [["evil.example", SITE]]


def _hosts(browser: WebDriver, urls: list[str]) -> list[list[str | None]]:
    return [[r[1] if r else None for r in readings] for readings in _resolve(browser, urls)]

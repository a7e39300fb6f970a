"""Deployment checks: one finding per insecure setting, none for a production-ready app."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from satchel import App, Router, Settings
from satchel.checks import (
    CHECKS,
    DEPLOY_CHECKS,
    Finding,
    check_app,
    check_deploy,
    register,
    run_checks,
)
from satchel.cors import CORSConfig
from satchel.mail import (
    ConsoleBackend,
    EmailMessage,
    FileBackend,
    MailBackend,
    Mailer,
    MemoryBackend,
    SMTPBackend,
    mailer_of,
    registered_mailer,
)
from satchel.openapi import OpenAPIConfig
from satchel.sessions import SessionMiddleware

STRONG_KEY = "Jx8_qP2vL0mZ-3rT9wYb6cN1dK5hG7sF4aE2uI8oQ0lW3zX6vB9nM1jH5gR7tD"
PRODUCTION: dict[str, Any] = {
    "secret_key": STRONG_KEY,
    "allowed_hosts": ["example.com", ".api.example.com"],
    "trusted_proxies": ["10.0.0.0/8"],
}
NO_DOCS = OpenAPIConfig(path=None, docs_path=None)
APP_OPTIONS = ("csrf", "security_headers", "cors")


def make_app(*, openapi: OpenAPIConfig | None = NO_DOCS, **options: Any) -> App[Any]:
    """A production-ready app, but for the settings and App options given."""
    app_options = {key: options.pop(key) for key in APP_OPTIONS if key in options}
    return App(settings=Settings(**{**PRODUCTION, **options}), openapi=openapi, **app_options)


def ids(app: App[Any]) -> list[str]:
    return [finding.id for finding in check_deploy(app)]


def test_a_production_ready_app_has_no_findings() -> None:
    assert check_deploy(make_app()) == []


def test_without_deploy_nothing_is_checked_yet() -> None:
    insecure = make_app(debug=True, secret_key="", openapi=OpenAPIConfig())
    assert CHECKS == []
    assert check_app(insecure) == []


# -- debug and keys -----------------------------------------------------------------------


def test_debug_setting() -> None:
    (finding,) = check_deploy(make_app(debug=True))
    assert finding.id == "security.W001"
    assert "traceback" in finding.message
    assert "SATCHEL_DEBUG=false" in finding.fix


def test_debug_passed_to_the_app_wins_over_settings() -> None:
    app = App(settings=Settings(**PRODUCTION), debug=True, openapi=None)
    assert ids(app) == ["security.W001"]


def test_empty_secret_key() -> None:
    (finding,) = check_deploy(make_app(secret_key=""))
    assert finding.id == "security.W002"
    assert "secrets.token_urlsafe" in finding.fix


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("hunter2", "shorter than 50"),
        ("x" * 49, "shorter than 50"),
        ("ab" * 40, "fewer than 5 different"),
        ("abcd" * 20, "fewer than 5 different"),
        ("django-insecure-" + STRONG_KEY, "placeholder"),
        ("change-me-" + STRONG_KEY, "placeholder"),
        ("CHANGE_ME", "placeholder"),
        ("changeme", "placeholder"),
        ("replace-me-with-a-real-key-" + "k" * 40, "placeholder"),
        ("your-secret-key-goes-here-" + STRONG_KEY, "placeholder"),
        ("example-" + STRONG_KEY, "placeholder"),
    ],
)
def test_weak_secret_key(key: str, problem: str) -> None:
    (finding,) = check_deploy(make_app(secret_key=key))
    assert finding.id == "security.W003"
    assert problem in finding.message
    assert key not in finding.message
    assert key not in finding.fix


@pytest.mark.parametrize(
    "key", [STRONG_KEY, "0123456789abcdef" * 4, "".join(map(chr, range(40, 90)))]
)
def test_strong_secret_keys_pass(key: str) -> None:
    assert ids(make_app(secret_key=key)) == []


def test_weak_fallback_keys_are_named_by_position() -> None:
    app = make_app(secret_key_fallbacks=[STRONG_KEY, "", "old-secret"])
    (finding,) = check_deploy(app)
    assert finding.id == "security.W004"
    assert "#2 is empty" in finding.message
    assert "#3 is shorter than 50 characters" in finding.message
    assert "old-secret" not in finding.message


def test_strong_fallback_keys_pass() -> None:
    assert ids(make_app(secret_key_fallbacks=[STRONG_KEY])) == []


def test_empty_secret_key_and_weak_fallbacks_are_both_reported() -> None:
    assert ids(make_app(secret_key="", secret_key_fallbacks=["old"])) == [
        "security.W002",
        "security.W004",
    ]


# -- hosts, HSTS, proxies -----------------------------------------------------------------


def test_empty_allowed_hosts() -> None:
    (finding,) = check_deploy(make_app(allowed_hosts=[]))
    assert finding.id == "security.W005"
    assert "SATCHEL_ALLOWED_HOSTS" in finding.fix


@pytest.mark.parametrize("shuffle", [False, True])
def test_local_only_default_allowed_hosts(shuffle: bool) -> None:
    default = Settings().allowed_hosts
    hosts = [host.upper() for host in reversed(default)] if shuffle else default
    (finding,) = check_deploy(make_app(allowed_hosts=hosts))
    assert finding.id == "security.W006"
    assert "local-only default" in finding.message


def test_the_default_is_what_an_unconfigured_app_gets() -> None:
    app = App(settings=Settings(secret_key=STRONG_KEY), openapi=None)
    assert ids(app) == ["security.W006"]


def test_one_local_name_is_a_choice_not_the_default() -> None:
    assert ids(make_app(allowed_hosts=["localhost"])) == []


@pytest.mark.parametrize("hosts", [["*"], ["example.com", " * "]])
def test_wildcard_allowed_hosts(hosts: list[str]) -> None:
    (finding,) = check_deploy(make_app(allowed_hosts=hosts))
    assert finding.id == "security.W007"


@pytest.mark.parametrize(("seconds", "expected"), [(0, "security.W008"), (86_400, "security.W009")])
def test_hsts_off_or_short(seconds: int, expected: str) -> None:
    (finding,) = check_deploy(make_app(hsts_seconds=seconds))
    assert finding.id == expected
    assert "31536000" in finding.fix


@pytest.mark.parametrize("seconds", [31_536_000, 63_072_000])
def test_hsts_of_a_year_or_more(seconds: int) -> None:
    assert ids(make_app(hsts_seconds=seconds)) == []


@pytest.mark.parametrize(
    "proxies", [["0.0.0.0/0"], ["::/0"], ["10.0.0.1", "0.0.0.0/1"], ["2000::/3"], ["8.0.0.0/8"]]
)
def test_trusted_proxies_that_trust_the_internet(proxies: list[str]) -> None:
    (finding,) = check_deploy(make_app(trusted_proxies=proxies))
    assert finding.id == "security.W010"
    assert "X-Forwarded-For" in finding.message
    assert all(entry in finding.message for entry in proxies if "/" in entry)


@pytest.mark.parametrize(
    "proxies",
    [
        ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
        ["127.0.0.1", "::1"],
        ["203.0.113.7", "198.51.100.0/24", "2600:1f18::/32"],
        ["fc00::/7"],
    ],
)
def test_trusted_proxies_of_a_private_network_or_a_few_addresses(proxies: list[str]) -> None:
    assert ids(make_app(trusted_proxies=proxies)) == []


# -- app-wide protections -----------------------------------------------------------------


def test_csrf_off_for_the_whole_app() -> None:
    (finding,) = check_deploy(make_app(csrf=False))
    assert finding.id == "security.W011"
    assert "csrf=False" in finding.fix


def test_csrf_off_for_one_route_is_fine() -> None:
    app = make_app()

    @app.post("/webhook", csrf=False)
    async def webhook() -> str:
        return "ok"

    assert ids(app) == []


def test_security_headers_off() -> None:
    (finding,) = check_deploy(make_app(security_headers=False))
    assert finding.id == "security.W012"


def test_cors_for_every_origin() -> None:
    assert ids(make_app(cors=CORSConfig(allow_origins=["*"]))) == ["security.W013"]


@pytest.mark.parametrize("credentials", [False, True])
def test_cors_for_the_null_origin(credentials: bool) -> None:
    # Any site can send Origin: null, from a sandboxed frame or a data: URL.
    config = CORSConfig(
        allow_origins=["https://app.example.com", "null"], allow_credentials=credentials
    )
    (finding,) = check_deploy(make_app(cors=config))
    assert finding.id == "security.W019"
    assert "sandboxed" in finding.message


def test_cors_for_listed_origins() -> None:
    app = make_app(cors=CORSConfig(allow_origins=["https://app.example.com"]))
    assert ids(app) == []


# -- the session cookie -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"secure": False, "cookie_name": "session"}, ["security.W014"]),
        ({"http_only": False}, ["security.W015"]),
        ({"same_site": "none"}, ["security.W016"]),
        (
            {"secure": False, "http_only": False, "cookie_name": "session"},
            ["security.W014", "security.W015"],
        ),
        ({}, []),
        ({"same_site": "strict"}, []),
    ],
)
def test_session_cookie(options: dict[str, Any], expected: list[str]) -> None:
    app = make_app()
    app.add_middleware(SessionMiddleware(**options))
    assert ids(app) == expected


def test_session_middleware_of_an_included_router() -> None:
    app, outer, inner = make_app(), Router(), Router()
    inner.add_middleware(SessionMiddleware(http_only=False))
    outer.include(inner)
    app.include(outer, prefix="/shop")
    assert ids(app) == ["security.W015"]


def test_session_middleware_added_as_a_bound_method() -> None:
    class SessionMiddleware:  # another implementation: recognised by its name
        secure = False

        async def dispatch(self, request: Any, call_next: Any) -> Any:
            return await call_next(request)

    app = make_app()
    app.add_middleware(SessionMiddleware().dispatch)
    assert ids(app) == ["security.W014"]


def test_other_middleware_is_not_inspected() -> None:
    class CookieMiddleware:
        secure = False

        async def __call__(self, request: Any, call_next: Any) -> Any:
            return await call_next(request)

    app = make_app()
    app.add_middleware(CookieMiddleware())
    assert ids(app) == []


# -- OpenAPI ------------------------------------------------------------------------------


def test_openapi_document_and_docs_served_by_default() -> None:
    findings = check_deploy(make_app(openapi=OpenAPIConfig()))
    assert [f.id for f in findings] == ["security.W017", "security.W018"]
    assert "/openapi.json" in findings[0].message
    assert "/docs" in findings[1].message


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (OpenAPIConfig(docs_path=None), ["security.W017"]),
        (OpenAPIConfig(path=None, docs_path="/api-docs"), ["security.W018"]),
        (None, []),
    ],
)
def test_openapi_switched_off_in_part(config: OpenAPIConfig | None, expected: list[str]) -> None:
    assert ids(make_app(openapi=config)) == expected


# -- mail ---------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["console", "file", "memory"])
def test_mail_that_is_never_sent(backend: str) -> None:
    (finding,) = check_deploy(make_app(mail_backend=backend))
    assert finding.id == "security.W020"
    assert repr(backend) in finding.message


def test_an_smtp_login_without_tls_to_a_remote_server() -> None:
    (finding,) = check_deploy(make_app(mail_host="smtp.example.com", mail_username="app"))
    assert finding.id == "security.W021"
    assert "smtp.example.com" in finding.message


@pytest.mark.parametrize(
    "options",
    [
        {"mail_host": "smtp.example.com", "mail_username": "app", "mail_use_tls": True},
        {"mail_host": "smtp.example.com", "mail_username": "app", "mail_use_ssl": True},
        {"mail_host": "smtp.example.com"},  # no login, no password to leak
        {"mail_host": "localhost", "mail_username": "app"},  # never leaves the machine
    ],
)
def test_smtp_with_tls_without_login_or_local(options: dict[str, Any]) -> None:
    assert ids(make_app(**options)) == []


# The app's own Mailer decides where its mail goes: the settings once decided alone, so a
# MemoryBackend given to a production app passed, and an SMTP one beside a console setting failed.


@pytest.mark.parametrize(
    "backend",
    [ConsoleBackend(), FileBackend("sent-mail"), MemoryBackend()],
    ids=["console", "file", "memory"],
)
def test_the_apps_own_mailer_that_never_sends(backend: MailBackend) -> None:
    app = make_app()  # mail_backend is "smtp": the settings alone look fine
    Mailer(backend).init_app(app)
    (finding,) = check_deploy(app)
    assert finding.id == "security.W020"
    assert type(backend).__name__ in finding.message
    assert "Mailer(SMTPBackend" in finding.fix


def test_the_apps_own_smtp_mailer_wins_over_a_console_setting() -> None:
    app = make_app(mail_backend="console")
    Mailer(SMTPBackend("smtp.example.com", use_tls=True)).init_app(app)
    assert ids(app) == []


def test_the_apps_own_smtp_mailer_logging_in_without_tls() -> None:
    app = make_app(mail_host="smtp.example.com", mail_username="app", mail_use_tls=True)
    Mailer(SMTPBackend("mail.example.net", username="app", password="pw")).init_app(app)
    (finding,) = check_deploy(app)
    assert finding.id == "security.W021"
    assert "mail.example.net" in finding.message


@pytest.mark.parametrize(
    "backend",
    [
        SMTPBackend("mail.example.net", username="app", password="pw", use_ssl=True),
        SMTPBackend("localhost", username="app", password="pw"),
        SMTPBackend("mail.example.net"),
    ],
    ids=["tls", "local", "no-login"],
)
def test_the_apps_own_smtp_mailer_that_is_fine(backend: SMTPBackend) -> None:
    app = make_app(mail_host="smtp.example.com", mail_username="app")  # W021 by settings
    Mailer(backend).init_app(app)
    assert ids(app) == []


class HTTPMailAPI:
    """A project's own backend: the check cannot tell where it sends, so says nothing."""

    async def send(self, messages: Sequence[EmailMessage]) -> int:
        return len(messages)


def test_the_apps_own_mailer_with_a_custom_backend_is_not_judged() -> None:
    app = make_app(mail_backend="memory")
    Mailer(HTTPMailAPI()).init_app(app)
    assert ids(app) == []


def test_the_settings_fallback_built_on_first_use_is_still_judged_by_settings() -> None:
    app = make_app(mail_backend="memory")
    mailer_of(app)  # built from the settings, not given: registered_mailer stays None
    assert registered_mailer(app) is None
    assert ids(app) == ["security.W020"]


# -- the registry -------------------------------------------------------------------------


def test_every_finding_of_an_insecure_app() -> None:
    app = make_app(
        debug=True,
        secret_key="change-me",
        secret_key_fallbacks=["old"],
        allowed_hosts=["*"],
        hsts_seconds=0,
        trusted_proxies=["0.0.0.0/0"],
        csrf=False,
        security_headers=False,
        openapi=OpenAPIConfig(),
        mail_backend="console",
    )
    app.add_middleware(SessionMiddleware(secure=False, cookie_name="sid", http_only=False))
    found = ids(app)
    assert found == sorted(found)
    assert len(found) == len(set(found)) == 13
    assert all(re.fullmatch(r"security\.W\d{3}", finding) for finding in found)


def test_findings_say_what_and_how() -> None:
    for finding in check_deploy(make_app(debug=True, secret_key="", openapi=OpenAPIConfig())):
        assert finding.message.endswith(".")
        assert finding.fix


def test_register_a_project_check() -> None:
    @register(deploy=True)
    def no_admin_email(app: App[Any]) -> Iterator[Finding]:
        yield Finding("shop.W001", "No admin email.", "Set SHOP_ADMIN_EMAIL.")

    try:
        assert ids(make_app())[-1:] == ["shop.W001"]
        assert check_app(make_app()) == []
    finally:
        DEPLOY_CHECKS.remove(no_admin_email)


def test_register_a_check_for_every_environment() -> None:
    @register(deploy=False)
    def always(app: App[Any]) -> list[Finding]:
        return [Finding("shop.E001", "Broken.", "Fix it.")]

    try:
        assert [f.id for f in check_app(make_app())] == ["shop.E001"]
        assert ids(make_app()) == ["shop.E001"]
    finally:
        CHECKS.remove(always)


def test_run_checks_runs_the_given_ones_in_order() -> None:
    def first(app: App[Any]) -> list[Finding]:
        return [Finding("a.W001", "A.", "a")]

    def second(app: App[Any]) -> list[Finding]:
        return [Finding("b.W001", "B.", "b"), Finding("b.W002", "B2.", "b2")]

    assert [f.id for f in run_checks(make_app(), [second, first])] == [
        "b.W001",
        "b.W002",
        "a.W001",
    ]

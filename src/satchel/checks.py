"""System checks: find insecure or mistaken settings of an app before it is deployed.

Each check is a function that takes the app and yields :class:`Finding` objects; the
lists :data:`CHECKS` (always run) and :data:`DEPLOY_CHECKS` (run for ``satchel check
--deploy``) hold them in order. A battery adds its own with :func:`register`. Checks only
read the app: they never build it, start it or send it a request.

>>> from satchel import App, Settings
>>> app = App(settings=Settings(debug=True))
>>> "security.W001" in [finding.id for finding in check_deploy(app)]
True
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from satchel.mail import ConsoleBackend, FileBackend, MemoryBackend, SMTPBackend, registered_mailer
from satchel.settings import Settings

if TYPE_CHECKING:
    from satchel.app import App
    from satchel.routers import Router

__all__ = [
    "CHECKS",
    "DEPLOY_CHECKS",
    "MIN_HSTS_SECONDS",
    "MIN_SECRET_KEY_CHARACTERS",
    "MIN_SECRET_KEY_LENGTH",
    "Check",
    "Finding",
    "check_app",
    "check_deploy",
    "register",
    "run_checks",
]

#: Django's thresholds: shorter or more repetitive keys can be guessed.
MIN_SECRET_KEY_LENGTH = 50
MIN_SECRET_KEY_CHARACTERS = 5
#: One year, the max-age that HSTS preload lists ask for.
MIN_HSTS_SECONDS = 31_536_000
# Words of the keys found in tutorials, templates and generated dev settings, compared
# with dashes and underscores removed; a random key contains none of them by chance.
_PLACEHOLDER_WORDS = (
    "changeme",
    "replaceme",
    "insecure",
    "placeholder",
    "example",
    "yoursecret",
    "secretkey",
    "notsecret",
    "dontuse",
    "donotuse",
)
_NEW_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(50))"'


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found by a check.

    Attributes:
        id: Stable identifier, e.g. ``"security.W001"``: safe to grep for, document
            and silence by.
        message: What is wrong and why it matters.
        fix: What to change.
    """

    id: str
    message: str
    fix: str


Check = Callable[["App[Any]"], Iterable[Finding]]

#: Checks that hold in every environment (none yet).
CHECKS: list[Check] = []
#: Checks of production settings, run by ``satchel check --deploy``.
DEPLOY_CHECKS: list[Check] = []


def register(*, deploy: bool) -> Callable[[Check], Check]:
    """Add the decorated check to :data:`DEPLOY_CHECKS` (or :data:`CHECKS`).

    >>> @register(deploy=True)
    ... def no_admin_password(app):
    ...     if not getattr(app.settings, "admin_password", "x"):
    ...         yield Finding("myapp.W001", "admin_password is empty.", "Set it.")
    >>> DEPLOY_CHECKS.remove(no_admin_password)
    """

    def add(check: Check) -> Check:
        (DEPLOY_CHECKS if deploy else CHECKS).append(check)
        return check

    return add


def run_checks(app: App[Any], checks: Iterable[Check]) -> list[Finding]:
    """Run ``checks`` on ``app`` and return their findings, in order."""
    return [finding for check in checks for finding in check(app)]


def check_app(app: App[Any]) -> list[Finding]:
    """The findings of the checks that hold in every environment (:data:`CHECKS`)."""
    return run_checks(app, CHECKS)


def check_deploy(app: App[Any]) -> list[Finding]:
    """The findings of every check, the deployment ones included.

    An empty list means no known insecure setting was found, not that the app is secure.
    """
    return run_checks(app, [*CHECKS, *DEPLOY_CHECKS])


# -- the deployment checks ----------------------------------------------------------------


@register(deploy=True)
def debug_mode(app: App[Any]) -> Iterator[Finding]:
    """Debug pages show tracebacks, source code and local variables."""
    if app.debug:
        yield Finding(
            "security.W001",
            "Debug mode is on: error pages show tracebacks, source code and local "
            "variables to anyone who triggers an error.",
            "Set SATCHEL_DEBUG=false in production (and don't pass App(debug=True)).",
        )


@register(deploy=True)
def secret_keys(app: App[Any]) -> Iterator[Finding]:
    """The signing keys must be long, random and not copied from an example."""
    settings = app.settings
    if not settings.secret_key:
        yield Finding(
            "security.W002",
            "secret_key is empty: each process signs with its own random key, so sessions "
            "and signed cookies break across workers and restarts.",
            f"Set SATCHEL_SECRET_KEY to a long random value, e.g. the output of {_NEW_KEY}",
        )
    elif problem := _key_problem(settings.secret_key):
        yield Finding(
            "security.W003",
            f"secret_key {problem}: signed sessions and tokens could be forged.",
            f"Set SATCHEL_SECRET_KEY to a long random value, e.g. the output of {_NEW_KEY}",
        )
    weak = [
        f"#{number} {problem}"
        for number, key in enumerate(settings.secret_key_fallbacks, start=1)
        if (problem := _key_problem(key))
    ]
    if weak:
        yield Finding(
            "security.W004",
            f"secret_key_fallbacks holds weak keys ({'; '.join(weak)}): values signed "
            "with them are still accepted.",
            "Remove them from SATCHEL_SECRET_KEY_FALLBACKS; keep only retired keys that "
            "were strong.",
        )


def _key_problem(key: str) -> str | None:
    """Why ``key`` is weak, or None; never quotes the key, which may be real."""
    if not key:
        return "is empty"
    squashed = key.lower().replace("-", "").replace("_", "")
    if any(word in squashed for word in _PLACEHOLDER_WORDS):
        return "looks like a placeholder from an example"
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"is shorter than {MIN_SECRET_KEY_LENGTH} characters"
    if len(set(key)) < MIN_SECRET_KEY_CHARACTERS:
        return f"has fewer than {MIN_SECRET_KEY_CHARACTERS} different characters"
    return None


@register(deploy=True)
def allowed_hosts(app: App[Any]) -> Iterator[Finding]:
    """The Host allow-list must name the site's domains, and only them."""
    hosts = [host.strip().lower() for host in app.settings.allowed_hosts if host.strip()]
    fix = (
        "Set SATCHEL_ALLOWED_HOSTS to the names the site is served under, "
        "e.g. example.com,www.example.com (or .example.com for every subdomain)."
    )
    # Read at run time: the local-only default may change between versions.
    default = {host.lower() for host in Settings().allowed_hosts}
    if not hosts:
        yield Finding(
            "security.W005",
            "allowed_hosts is empty: every request is refused with 400 Bad Request.",
            fix,
        )
    elif set(hosts) == default:
        yield Finding(
            "security.W006",
            f"allowed_hosts is the local-only default ({', '.join(hosts)}): requests for "
            "the site's real domain are refused.",
            fix,
        )
    if "*" in hosts:
        yield Finding(
            "security.W007",
            "allowed_hosts contains '*': the app answers any Host header, so links built "
            "from it (password reset emails, redirects) can point to an attacker's site.",
            fix,
        )


@register(deploy=True)
def hsts(app: App[Any]) -> Iterator[Finding]:
    """HTTPS responses should tell browsers to use HTTPS for a year."""
    seconds = app.settings.hsts_seconds
    fix = f"Set SATCHEL_HSTS_SECONDS={MIN_HSTS_SECONDS} (one year) or more."
    if seconds == 0:
        yield Finding(
            "security.W008",
            "hsts_seconds is 0: no Strict-Transport-Security header, so a first "
            "plain-HTTP request can be intercepted and downgraded.",
            fix,
        )
    elif seconds < MIN_HSTS_SECONDS:
        yield Finding(
            "security.W009",
            f"hsts_seconds is {seconds}, less than a year: browsers forget to insist on "
            "HTTPS between visits.",
            fix,
        )


@register(deploy=True)
def trusted_proxies(app: App[Any]) -> Iterator[Finding]:
    """Only the real proxies may set the client address with X-Forwarded-For."""
    broad = [entry for entry in app.settings.trusted_proxies if _is_too_broad(entry)]
    if broad:
        yield Finding(
            "security.W010",
            f"trusted_proxies trusts public networks wider than a /16 or /32 "
            f"({', '.join(broad)}): any client can fake its address with "
            "X-Forwarded-For, defeating rate limits and address checks.",
            "List only the addresses or private networks of your own proxies or load "
            "balancer in SATCHEL_TRUSTED_PROXIES.",
        )


def _is_too_broad(entry: str) -> bool:
    """A public network wider than an IPv4 /16 or an IPv6 /32 (``0.0.0.0/0``, ``::/0``)."""
    try:
        network = ipaddress.ip_network(entry.strip(), strict=False)
    except ValueError:  # Settings already refuses these; nothing to say about them here
        return False
    widest = 16 if network.version == 4 else 32
    return network.prefixlen < widest and not network.is_private


@register(deploy=True)
def csrf(app: App[Any]) -> Iterator[Finding]:
    """CSRF protection must not be switched off for the whole app."""
    if app.csrf is None:  # the app's CSRF checker, None when App(csrf=False)
        yield Finding(
            "security.W011",
            "CSRF protection is off for the whole app (App(csrf=False)): other sites can "
            "submit forms as your logged-in users.",
            "Remove csrf=False; switch it off only on the routes that need it, with "
            "@app.post(..., csrf=False), e.g. webhooks authenticated otherwise.",
        )


@register(deploy=True)
def security_headers(app: App[Any]) -> Iterator[Finding]:
    """The default security headers (CSP, nosniff, frame options...) must be sent."""
    if not app.default_headers:
        yield Finding(
            "security.W012",
            "The default security headers are off (App(security_headers=False)): no "
            "Content-Security-Policy, X-Content-Type-Options or X-Frame-Options.",
            "Remove security_headers=False; change a single header for a route with "
            "@app.get(..., headers={...}) instead.",
        )


@register(deploy=True)
def cors(app: App[Any]) -> Iterator[Finding]:
    """CORS should name the origins that may read responses, not allow them all."""
    # app.cors is the compiled CORSPolicy (None: no CORS). Its ``config``, the CORSConfig
    # it was built from, is read with getattr: a policy without one is not inspected.
    config = getattr(app.cors, "config", None)
    origins = getattr(config, "allow_origins", None) or ()
    if "*" in origins:
        yield Finding(
            "security.W013",
            "CORS allows every origin ('*'): any website can call the API from its "
            "visitors' browsers and read the responses.",
            "List the origins that need access in CORSConfig(allow_origins=[...]), "
            "e.g. https://app.example.com.",
        )
    if any(origin.strip().lower() == "null" for origin in origins):
        yield Finding(
            "security.W019",
            "CORS allows the 'null' origin: any website can send it, from a sandboxed "
            "frame or a data: URL, and read the responses.",
            "Remove 'null' from CORSConfig(allow_origins=[...]); list real origins.",
        )


@register(deploy=True)
def session_cookie(app: App[Any]) -> Iterator[Finding]:
    """The session cookie must be Secure and HttpOnly, and not SameSite=None."""
    for middleware in _session_middleware(app):
        # Read with getattr: an option another implementation lacks is not inspected.
        secure = getattr(middleware, "secure", None)
        http_only = getattr(middleware, "http_only", None)
        same_site = getattr(middleware, "same_site", None)
        if secure is False:
            yield Finding(
                "security.W014",
                "The session cookie is not Secure: it is also sent over plain HTTP, "
                "where anyone on the network can read it and take over the session.",
                "Remove secure=False from SessionMiddleware.",
            )
        if http_only is False:
            yield Finding(
                "security.W015",
                "The session cookie is not HttpOnly: any script injected into a page "
                "can read it and take over the session.",
                "Remove http_only=False from SessionMiddleware.",
            )
        if isinstance(same_site, str) and same_site.lower() == "none":
            yield Finding(
                "security.W016",
                "The session cookie is SameSite=None: browsers send it with requests "
                "from other sites, which helps cross-site request forgery.",
                'Use same_site="lax" (the default) or "strict" in SessionMiddleware.',
            )


def _session_middleware(app: App[Any]) -> Iterator[object]:
    """The session middleware of the app and of every router it includes.

    Recognised by class name rather than by import, so that checking an app never
    imports the sessions battery, and so that a bound method of it counts too.
    """
    routers: list[Router] = [app]
    while routers:
        router = routers.pop()
        routers.extend(child for child, _prefix in router.children)
        for layer in router.middleware:
            owner = getattr(layer, "__self__", layer)
            if type(owner).__name__ == "SessionMiddleware":
                yield owner


@register(deploy=True)
def openapi_exposed(app: App[Any]) -> Iterator[Finding]:
    """The API description and its docs UI are public unless switched off or protected."""
    config = app.openapi_config
    if config is None:
        return
    if config.path is not None:
        yield Finding(
            "security.W017",
            f"The OpenAPI document is served at {config.path}: anyone can list every "
            "route and parameter of the app.",
            "Pass OpenAPIConfig(path=None) in production (satchel openapi still exports "
            "it), or protect the route, e.g. with middleware that checks a login.",
        )
    if config.docs_path is not None:
        yield Finding(
            "security.W018",
            f"The interactive API docs are served at {config.docs_path}: anyone can "
            "explore and call the API from them.",
            "Pass OpenAPIConfig(docs_path=None) in production, or protect the route.",
        )


# Hosts an SMTP login may reach without TLS: the password never leaves the machine.
_LOCAL_MAIL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# Backends that keep mail on the server instead of sending it.
_UNSENT_MAIL_BACKENDS = (ConsoleBackend, FileBackend, MemoryBackend)


@dataclass(frozen=True, slots=True)
class _MailRoute:
    """Where an app's mail goes, as far as the mail check cares."""

    unsent: str | None  # what keeps mail on the server; None: it is sent (or unknown)
    fix_unsent: str
    smtp_host: str | None  # the SMTP server, when mail goes through one
    smtp_login: bool
    smtp_tls: bool


def _mail_route(app: App[Any]) -> _MailRoute:
    # The mailer given to the app sends its mail; only without one do the settings say.
    mailer = registered_mailer(app)
    if mailer is None:
        settings = app.settings
        return _MailRoute(
            unsent=None
            if settings.mail_backend == "smtp"
            else f"mail_backend is {settings.mail_backend!r}",
            fix_unsent="Set SATCHEL_MAIL_BACKEND=smtp with the mail_host of your mail server.",
            smtp_host=settings.mail_host if settings.mail_backend == "smtp" else None,
            smtp_login=bool(settings.mail_username),
            smtp_tls=settings.mail_use_tls or settings.mail_use_ssl,
        )
    backend = mailer.backend
    smtp = backend if isinstance(backend, SMTPBackend) else None
    return _MailRoute(
        unsent=f"the app's Mailer uses {type(backend).__name__}"
        if isinstance(backend, _UNSENT_MAIL_BACKENDS)
        else None,
        fix_unsent="Give the app Mailer(SMTPBackend(...)) in production, or no Mailer "
        "and SATCHEL_MAIL_BACKEND=smtp.",
        smtp_host=None if smtp is None else smtp.host,
        smtp_login=smtp is not None and smtp.username is not None,
        smtp_tls=smtp is not None and (smtp.use_tls or smtp.use_ssl),
    )


@register(deploy=True)
def mail(app: App[Any]) -> Iterator[Finding]:
    """Mail that never leaves the server, or a mail password sent in clear.

    The app's own Mailer (``Mailer(...).init_app(app)``) is checked when it has one,
    else the ``mail_*`` settings its mailer would be built from. A backend other than
    the built-in ones (an HTTP mail API) is not judged.
    """
    route = _mail_route(app)
    if route.unsent is not None:
        yield Finding(
            "security.W020",
            f"{route.unsent}: e-mails (password reset links among them) are printed, "
            "written to files or kept in memory instead of sent, and anyone reading the "
            "logs or files can use them.",
            route.fix_unsent,
        )
    elif (
        route.smtp_host is not None
        and route.smtp_login
        and not route.smtp_tls
        and route.smtp_host not in _LOCAL_MAIL_HOSTS
    ):
        yield Finding(
            "security.W021",
            f"The SMTP login to {route.smtp_host} is sent without TLS: anyone on the "
            "path can read the mail password.",
            "Set SATCHEL_MAIL_USE_TLS=true (STARTTLS) or SATCHEL_MAIL_USE_SSL=true "
            "(SMTPBackend(use_tls=True) or use_ssl=True for the app's own Mailer).",
        )

"""Guards: dependencies that let a request through only for the right user.

Each is a ``Depends(...)`` marker: put it in ``dependencies=[...]`` of a route or
a router, or use it as a parameter's default (or in ``Annotated``) to receive the
user it let through; WebSocket handlers take it as a parameter. A guard answers:

- nobody logged in: 401 with ``WWW-Authenticate`` (the app's bearer challenge);
  browsers navigating to a page (``Accept: text/html``, no ``Authorization``) are
  sent to ``auth.login_url?next=<path>`` with 303 instead, whatever the method
  (the form data of an unsafe one is not replayed);
- logged in, not allowed: 403 (``insufficient_scope`` for a token lacking a scope);
- a scoped credential (a token or JWT created with scopes) may do only what its
  scopes allow: the other guards refuse it (403 ``insufficient_scope``) unless a
  ``scopes_required`` guard of the same route accepted it first (router guards
  run before the route's, ``dependencies`` in order); unscoped tokens and
  session logins act with all the user's rights;
- a WebSocket handshake it refuses gets 401 or 403 (never a redirect).

Guarded routes list the app's security schemes in the OpenAPI document.

>>> from satchel import App, Router, Settings
>>> admin = Router(prefix="/admin", dependencies=[staff_required])
>>> app = App(settings=Settings())
>>> @app.get("/articles/{slug}/edit", dependencies=[permission_required("blog.change_article")])
... async def edit(slug: str) -> str:
...     return slug
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from satchel.auth.auth import Auth, auth_of
from satchel.auth.backends import Connection, Credentials, InsufficientScope
from satchel.auth.current import current_credentials
from satchel.auth.sessionauth import SessionBackend
from satchel.db.database import Session
from satchel.errorpages import wants_html
from satchel.errors import ConfigurationError, Forbidden, HTTPError, NotFound, Unauthorized
from satchel.openapi.operations import SecurityDoc, document_security
from satchel.params import Depends
from satchel.redirects import is_safe_url
from satchel.requests import Request
from satchel.websockets import WebSocket

__all__ = [
    "LoginRedirect",
    "login_required",
    "permission_required",
    "scopes_required",
    "staff_required",
    "superuser_required",
]

_UNAUTHENTICATED = "Not authenticated: log in, or send a valid token."
_FORBIDDEN = "Authenticated, but not allowed to do this."


class LoginRedirect(HTTPError):
    """303 to the login page: a browser asked for a page that needs a login."""

    status_code = 303

    def __init__(self, location: str) -> None:
        super().__init__("Log in to see this page", headers={"Location": location})


def login_url_for(auth: Auth, request: Request) -> str:
    """``auth.login_url`` with ``next`` set to the request's path and query string.

    ``next`` is left out unless ``is_safe_url`` accepts it: a path such as
    ``//evil.example`` (a route matching any path) must not become an open
    redirect, even where a login page trusts ``next`` more than it should.
    """
    target = quote(request.path, safe="/:@!$&'()*+,;=-._~")
    if request.query_string:
        target += "?" + quote(request.query_string, safe="/?:@!$&'()*+,;=-._~%")
    if not is_safe_url(target):
        return auth.login_url
    separator = "&" if "?" in auth.login_url else "?"
    return f"{auth.login_url}{separator}{urlencode({'next': target})}"


def _is_navigation(connection: Connection) -> bool:
    if not isinstance(connection, Request) or not wants_html(connection):
        return False
    headers = connection.headers
    if headers.get_single("authorization") is not None:
        return False  # an API client that happens to accept HTML
    # A script's fetch() names its mode; a browser navigation says "navigate".
    mode = headers.get_single("sec-fetch-mode")
    return mode is None or mode == "navigate"


def not_authenticated(connection: Connection) -> HTTPError:
    """The refusal for a connection nobody is logged in to (401, or 303 for browsers)."""
    auth = auth_of(connection.app)
    if isinstance(connection, Request) and _is_navigation(connection):
        return LoginRedirect(login_url_for(auth, connection))
    # Bearer and JWT backends share one challenge: name it once.
    challenges = dict.fromkeys(backend.challenge for backend in auth.backends if backend.challenge)
    headers = {"WWW-Authenticate": ", ".join(challenges)} if challenges else None
    return Unauthorized(_UNAUTHENTICATED, headers=headers)


# Set on a connection once a ``scopes_required`` guard accepted its scoped credential.
_SCOPES_CHECKED = "satchel.auth.scopes_checked"


async def _authenticated(connection: Connection, db: Any) -> Credentials:
    credentials = await current_credentials(connection, db)
    if credentials is None:
        raise not_authenticated(connection)
    return credentials


async def _guarded_user(connection: Connection, db: Any) -> Any:
    """The user of an unscoped credential, or of a scoped one a scope guard accepted.

    A credential limited to scopes must not reach routes that name none (the
    password change page, an admin router): it may do only what its scopes allow.
    """
    credentials = await _authenticated(connection, db)
    if credentials.scopes is not None and not connection.state.get(_SCOPES_CHECKED, False):
        raise InsufficientScope((), _realm(auth_of(connection.app)))
    return credentials.user


def _realm(auth: Auth) -> str:
    for backend in auth.backends:
        realm = getattr(backend, "realm", None)
        if isinstance(realm, str):
            return realm
    return "api"


def _describe(*, forbids: bool, scopes: tuple[str, ...] = ()) -> Callable[[Any], SecurityDoc]:
    def describe(app: Any) -> SecurityDoc:
        try:
            auth = auth_of(app)
        except ConfigurationError:
            return SecurityDoc({})
        schemes = {backend.name: backend.openapi_scheme(app) for backend in auth.backends}
        responses = {401: _UNAUTHENTICATED}
        # Even login_required refuses a scoped token (403) where no scopes_required let it in.
        tokens = any(not isinstance(backend, SessionBackend) for backend in auth.backends)
        if forbids or scopes or tokens:
            responses[403] = _FORBIDDEN
        return SecurityDoc(schemes, scopes, responses)

    return describe


async def _login_required(connection: Request | WebSocket, db: Session) -> Any:
    """The logged-in user; refuses anonymous connections."""
    return await _guarded_user(connection, db)


async def _staff_required(connection: Request | WebSocket, db: Session) -> Any:
    """The logged-in user if staff (``is_staff``); 403 otherwise."""
    user = await _guarded_user(connection, db)
    if not user.is_staff:
        raise Forbidden(_FORBIDDEN)
    return user


async def _superuser_required(connection: Request | WebSocket, db: Session) -> Any:
    """The logged-in user if a superuser; 403 otherwise."""
    user = await _guarded_user(connection, db)
    if not user.is_superuser:
        raise Forbidden(_FORBIDDEN)
    return user


#: Lets logged-in users through (and gives the user to a parameter that uses it).
login_required: Any = Depends(document_security(_login_required, _describe(forbids=False)))
#: Lets staff users (``is_staff``) through.
staff_required: Any = Depends(document_security(_staff_required, _describe(forbids=True)))
#: Lets superusers through.
superuser_required: Any = Depends(document_security(_superuser_required, _describe(forbids=True)))


def permission_required(*perms: str, obj: Callable[..., Any] | None = None) -> Any:
    """A guard letting through users who hold every one of ``perms``.

    Args:
        perms: Permission codenames, ``"blog.change_article"``.
        obj: A provider (resolved like any dependency: path parameters, ``db``)
            returning the object the permissions are about; then
            ``Auth(object_permission=...)`` may grant them on that object (see
            ``Auth.has_perm``). A provider returning None answers 404. It runs
            only once the connection is authenticated: anonymous clients get
            401 (or the login redirect) whether the object exists or not.

    The guard's value is the user.
    """
    if not perms:
        raise ValueError("permission_required needs at least one permission")

    async def check(connection: Connection, db: Any, user: Any, target: Any) -> Any:
        auth = auth_of(connection.app)
        for perm in perms:
            if not await auth.has_perm(db, user, perm, target):
                raise Forbidden(_FORBIDDEN)
        return user

    describe = _describe(forbids=True)
    if obj is None:

        async def permission_guard(
            connection: Request | WebSocket, db: Session, user: Any = Depends(_login_required)
        ) -> Any:
            return await check(connection, db, user, None)

        return Depends(document_security(permission_guard, describe))

    provider = obj

    # Dependencies run in the order of the parameters: the user (401) comes before
    # the provider, so its 404 never tells anonymous clients what exists.
    async def object_permission_guard(
        connection: Request | WebSocket,
        db: Session,
        user: Any = Depends(_login_required),
        target: Any = Depends(provider),
    ) -> Any:
        if target is None:
            raise NotFound()
        return await check(connection, db, user, target)

    return Depends(document_security(object_permission_guard, describe))


def scopes_required(*scopes: str) -> Any:
    """A guard letting through credentials that carry every one of ``scopes``.

    Tokens and JWTs carry scopes; a session login and a token created without
    scopes carry all of them (they act with the user's full rights). A credential
    lacking one gets 403 with ``WWW-Authenticate: Bearer error="insufficient_scope"``.
    One carrying them may then pass the route's other guards (``login_required``,
    ``staff_required``, ...), which refuse scoped credentials otherwise: list this
    guard before them. The guard's value is the user.
    """
    if not scopes:
        raise ValueError("scopes_required needs at least one scope")

    async def scope_guard(connection: Request | WebSocket, db: Session) -> Any:
        credentials = await _authenticated(connection, db)
        if not all(credentials.allows(scope) for scope in scopes):
            raise InsufficientScope(scopes, _realm(auth_of(connection.app)))
        connection.state[_SCOPES_CHECKED] = True
        return credentials.user

    return Depends(document_security(scope_guard, _describe(forbids=True, scopes=scopes)))

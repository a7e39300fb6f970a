"""The account pages: log in, log out, change a password, reset a forgotten one.

``auth_router(auth)`` builds them as a :class:`~satchel.Router` named ``auth``,
under ``/auth``; ``Auth.init_app`` includes it. Every page renders a template of
``satchel/auth/templates/auth/`` that a project overrides with one of the same name
in its own templates folder (``auth/login.html``, or ``auth/base.html`` for the
layout of all of them).

==================================  ========  =====================================
path                                name      does
==================================  ========  =====================================
``/auth/login``                     login     GET form, POST logs in (throttled)
``/auth/logout``                    logout    GET asks to confirm, POST logs out
``/auth/password/change``           ...       login required: old and new password
``/auth/password/change/done``      ...       login required: confirmation
``/auth/password/reset``            ...       e-mail address; same answer for any
``/auth/password/reset/done``       ...       "we've e-mailed you, if ..."
``/auth/password/reset/confirm``    ...       the link in the e-mail: new password
``/auth/password/reset/complete``   ...       "your password has been set"
==================================  ========  =====================================
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

import sqlalchemy as sa

from satchel.auth.current import CurrentUser
from satchel.auth.forms import (
    INVALID_LOGIN,
    WRONG_OLD_PASSWORD,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
    with_password_help,
    with_username_length,
)
from satchel.auth.guards import login_required
from satchel.auth.models import USERNAME_MAX_LENGTH, username_field_of
from satchel.auth.password_validation import PasswordValidationError, password_help_texts
from satchel.auth.reset import PasswordResetTokens, send_reset_mail, users_for_reset
from satchel.auth.sessionauth import login, logout, update_session_auth_hash
from satchel.db import DbSession, Session
from satchel.forms import Form
from satchel.redirects import is_safe_url, safe_redirect
from satchel.requests import Request
from satchel.responses import HTMLResponse, RedirectResponse, Response
from satchel.routers import Router
from satchel.templates import render

if TYPE_CHECKING:
    from satchel.auth.auth import Auth
    from satchel.auth.throttle import LoginThrottle

__all__ = ["auth_router"]

#: Account pages are one user's, and hold forms: never cached anywhere.
_PRIVATE: Final = {"cache-control": "no-store"}
#: The reset page's URL holds the token: no Referer carries it to another site.
_TOKEN_PAGE: Final = {**_PRIVATE, "referrer-policy": "no-referrer"}
_PAGE: Final[dict[str, Any]] = {"include_in_schema": False, "headers": _PRIVATE}
_FORM_METHODS: Final = ("GET", "POST")


def _next_target(value: object) -> str | None:
    """``value`` if it is a safe place to go after logging in (a path on this site)."""
    return value if isinstance(value, str) and is_safe_url(value) else None


def _wait(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


async def _throttled(
    template: str, context: dict[str, Any], retry_after: int, request: Request
) -> HTMLResponse:
    context = {**context, "retry_after": retry_after, "wait": _wait(retry_after)}
    return await render(
        template, context, status=429, headers={"retry-after": str(retry_after)}, request=request
    )


def auth_router(auth: Auth) -> Router:
    """The account pages of ``auth`` (see the module's documentation), under ``/auth``."""
    router = Router(prefix="/auth", name="auth", template_folder="templates")
    _login_pages(router, auth)
    _password_change_pages(router, auth)
    _password_reset_pages(router, auth)
    return router


def _username_length(user_model: type[Any]) -> int:
    """The length of the user model's username column (``UserMixin``'s when it has none)."""
    column = getattr(user_model, username_field_of(user_model), None)
    length = getattr(getattr(column, "type", None), "length", None)
    return length if isinstance(length, int) else USERNAME_MAX_LENGTH


def _login_pages(router: Router, auth: Auth) -> None:
    throttle: LoginThrottle | None = auth.throttle
    login_form = with_username_length(LoginForm, _username_length(auth.user_model))

    @router.route("/login", _FORM_METHODS, name="login", **_PAGE)
    async def login_page(request: Request, db: Session, user: CurrentUser) -> Response:
        """Log in; an already logged-in user sees the form too (to switch accounts)."""
        form = await login_form.from_request(request)
        source = request.query_params if request.method == "GET" else await request.form()
        target = _next_target(source.get("next"))
        context = {"form": form, "next": target, "user": user}
        if not form.validate():
            status = 422 if form.is_bound else 200
            return await render("auth/login.html", context, status=status, request=request)
        username, password = form.data["username"], form.data["password"]
        # Checked (and counted) before the password: a refused attempt learns nothing.
        wait = None if throttle is None else await throttle.attempt(request, username)
        if wait is not None:
            return await _throttled("auth/login.html", context, wait, request)
        found = await auth.authenticate(db, username, password)
        if found is None:
            if throttle is not None:
                await throttle.failed(request)
            form.add_error(None, INVALID_LOGIN)
            return await render("auth/login.html", context, status=422, request=request)
        if throttle is not None:
            await throttle.succeeded(request, username)
        await login(request, found, remember=form.data["remember"])
        return safe_redirect(target, fallback=auth.login_redirect_url)

    @router.route("/logout", _FORM_METHODS, name="logout", **_PAGE)
    async def logout_page(request: Request, user: CurrentUser) -> Response:
        """GET asks to confirm (a link or a prefetch must not log anyone out); POST does it."""
        if request.method == "GET":
            return await render("auth/logout.html", {"user": user}, request=request)
        await logout(request)
        return RedirectResponse(auth.logout_redirect_url, 303)


def _password_change_pages(router: Router, auth: Auth) -> None:
    throttle: LoginThrottle | None = auth.throttle
    change_form = with_password_help(PasswordChangeForm, password_help_texts(auth.validators))
    guarded: dict[str, Any] = {**_PAGE, "dependencies": [login_required]}

    @router.route("/password/change", _FORM_METHODS, name="password_change", **guarded)
    async def password_change(request: Request, db: Session, user: CurrentUser) -> Response:
        """Change the logged-in user's password; their other sessions end."""
        form = await change_form.from_request(request)
        context = {"form": form, "user": user}
        if not form.validate():
            status = 422 if form.is_bound else 200
            return await render("auth/password_change.html", context, status=status)
        username = user.get_username()
        # The old password is a password guess like a login's: throttled the same way.
        wait = None if throttle is None else await throttle.attempt(request, username)
        if wait is not None:
            return await _throttled("auth/password_change.html", context, wait, request)
        if not (await auth.passwords.verify(form.data["old_password"], user.password)).ok:
            if throttle is not None:
                await throttle.failed(request)
            form.add_error("old_password", WRONG_OLD_PASSWORD)
            return await render("auth/password_change.html", context, status=422)
        if throttle is not None:
            await throttle.succeeded(request, username)
        if not await _set_password(auth, db, user, form):
            return await render("auth/password_change.html", context, status=422)
        # This session carries the new password's hash and survives; the others end.
        await update_session_auth_hash(request, user)
        return RedirectResponse(_path(request, "auth.password_change_done"), 303)

    @router.get("/password/change/done", name="password_change_done", **guarded)
    async def password_change_done() -> HTMLResponse:
        return await render("auth/password_change_done.html")


def _password_reset_pages(router: Router, auth: Auth) -> None:
    set_form = with_password_help(SetPasswordForm, password_help_texts(auth.validators))

    def tokens(request: Request) -> PasswordResetTokens:
        return PasswordResetTokens(request.app.secret_keys, max_age=auth.reset_timeout)

    @router.route("/password/reset", _FORM_METHODS, name="password_reset", **_PAGE)
    async def password_reset(request: Request, db: Session) -> Response:
        """Ask for a reset link; the answer never tells whether an account matched."""
        form = await PasswordResetForm.from_request(request)
        if not form.validate():
            status = 422 if form.is_bound else 200
            return await render("auth/password_reset.html", {"form": form}, status=status)
        users = await users_for_reset(db, auth.user_model, form.data["email"])
        await send_reset_mail(request, users, tokens(request), "auth.password_reset_confirm")
        return RedirectResponse(_path(request, "auth.password_reset_done"), 303)

    @router.get("/password/reset/done", name="password_reset_done", **_PAGE)
    async def password_reset_done() -> HTMLResponse:
        return await render("auth/password_reset_done.html")

    @router.get("/password/reset/complete", name="password_reset_complete", **_PAGE)
    async def password_reset_complete() -> HTMLResponse:
        return await render("auth/password_reset_complete.html")

    @router.route(
        "/password/reset/confirm",
        _FORM_METHODS,
        name="password_reset_confirm",
        include_in_schema=False,
        headers=_TOKEN_PAGE,
    )
    async def password_reset_confirm(request: Request, db: Session) -> Response:
        """Set a new password with the link's token (``?token=``); it then stops working.

        The token travels in the query string, which access logs leave out.
        """
        token = request.query_params.get("token", "")
        checker = tokens(request)
        user_id = checker.user_id(token)
        if user_id is not None and request.method == "POST":
            await _write_first(db, auth.user_model)
        user = None if user_id is None else await auth.get_user(db, user_id)
        if user is None or not user.is_active or not checker.check_token(user, token):
            return await render("auth/password_reset_confirm.html", {"valid": False}, status=400)
        form = await set_form.from_request(request)
        context = {
            "valid": True,
            "form": form,
            "username": user.get_username(),
            "action": f"{_path(request, 'auth.password_reset_confirm')}?token={quote(token)}",
        }
        if not form.validate():
            status = 422 if form.is_bound else 200
            return await render("auth/password_reset_confirm.html", context, status=status)
        # One use per token, even for two submissions at once: read the user again,
        # locking the row (PostgreSQL: SELECT ... FOR UPDATE, so the second waits for
        # the first to commit and then sees the new password; on SQLite the
        # transaction is already the only writer), and check the token again.
        await db.refresh(user, with_for_update=True)
        if not checker.check_token(user, token):
            return await render("auth/password_reset_confirm.html", {"valid": False}, status=400)
        if not await _set_password(auth, db, user, form):
            return await render("auth/password_reset_confirm.html", context, status=422)
        # Not logged in here (as Django): the sessions of the old password all end.
        return RedirectResponse(_path(request, "auth.password_reset_complete"), 303)


async def _write_first(db: DbSession, user_model: type[Any]) -> None:
    """On SQLite, make this transaction the database's one writer before it reads.

    SQLite has no row locks: two transactions that both read the user and then
    both write would deadlock, and one would fail ("database is locked"). A write
    that changes nothing (``UPDATE ... WHERE false``), as the first statement, takes
    the write lock at once, so a second submission of the link waits for the first
    to commit, then reads the new password and is refused. Elsewhere a no-op.
    """
    if db.bind is None or db.bind.dialect.name != "sqlite":
        return
    table = sa.inspect(user_model).local_table
    (key,) = table.primary_key.columns
    await db.execute(table.update().where(sa.false()).values({key: key}))


async def _set_password(auth: Auth, db: DbSession, user: Any, form: Form) -> bool:
    """Set the form's new password, or put the validators' refusals on the form."""
    try:
        await auth.set_password(db, user, form.data["new_password1"])
    except PasswordValidationError as exc:
        for message in exc.messages:
            form.add_error("new_password1", message)
        return False
    return True


def _path(request: Request, name: str) -> str:
    """The path of the route ``name`` in ``request``'s app (names carry the router's ``auth.``)."""
    return request.app.url_for(name)

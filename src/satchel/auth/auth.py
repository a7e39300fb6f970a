"""``Auth``: an app's users, passwords, credentials and permission checks; ``auth_of(app)``."""

from __future__ import annotations

import inspect
import re
import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

import sqlalchemy as sa

from satchel.auth.backends import Backend
from satchel.auth.hashers import Passwords, make_unusable_password
from satchel.auth.models import email_field_of, username_field_of
from satchel.auth.password_validation import PasswordValidator, validate_password
from satchel.auth.permissions import add_permission_hook, load_permissions
from satchel.auth.sessionauth import SessionBackend
from satchel.auth.throttle import LoginThrottle
from satchel.auth.tokens import APIKeyBackend, BearerTokenBackend, Tokens
from satchel.db.database import database_of
from satchel.db.migrations import migrations_of
from satchel.errors import ConfigurationError
from satchel.templates import templates_of

if TYPE_CHECKING:
    from satchel.db import DbSession

__all__ = ["Auth", "ObjectPermission", "auth_of"]

#: ``object_permission(user, perm, obj)``: whether ``user`` may ``perm`` on ``obj``.
ObjectPermission = Callable[[Any, str, Any], bool | Awaitable[bool]]

_auths: weakref.WeakKeyDictionary[Any, Auth] = weakref.WeakKeyDictionary()
# Where a DbSession keeps the permission sets it loaded: one session per request.
_PERMISSIONS_KEY: Final = "satchel.auth.permissions"
# Longer text is no key of any type a user model uses (a UUID's is 36 characters).
_MAX_KEY_TEXT: Final = 200


class Auth:
    """Users, passwords and how requests authenticate, for one app.

    Args:
        user_model: The user model (``UserMixin`` or any ``AuthUser``); None:
            ``satchel.auth.user.User`` (table ``auth_user``).
        token_model: The token model (``TokenMixin``); None: ``satchel.auth.token.Token``,
            which belongs to the default ``User``.
        passwords: How passwords are hashed; None: ``Passwords()`` (argon2id first).
        validators: Password rules for ``set_password`` and the pages; None: the defaults.
        backends: How requests authenticate, in order; None: the session, then
            bearer tokens. Add ``APIKeyBackend()`` or ``JWTBackend(...)`` here.
        login_url: Where browsers that must log in are sent (with ``?next=``).
        login_redirect_url: Where the login page goes after logging in, without ``next``.
        logout_redirect_url: Where the logout page goes afterwards.
        object_permission: Grants permissions on single objects (see :meth:`has_perm`).
        throttle: Limits failed logins; None: a ``LoginThrottle()`` counting in this
            process (pass one with a Redis store when there are several); False: off.
        reset_timeout: Seconds a password reset link stays valid.
    """

    def __init__(
        self,
        *,
        user_model: type[Any] | None = None,
        token_model: type[Any] | None = None,
        passwords: Passwords | None = None,
        validators: Sequence[PasswordValidator] | None = None,
        backends: Iterable[Backend] | None = None,
        login_url: str = "/auth/login",
        login_redirect_url: str = "/",
        logout_redirect_url: str = "/",
        object_permission: ObjectPermission | None = None,
        throttle: LoginThrottle | Literal[False] | None = None,
        reset_timeout: int = 3600,
    ) -> None:
        self._user_model = user_model
        self._token_model = token_model
        self.passwords = passwords if passwords is not None else Passwords()
        self.validators = validators
        self.backends: tuple[Backend, ...] = (
            (SessionBackend(), BearerTokenBackend()) if backends is None else tuple(backends)
        )
        self.login_url = login_url
        self.login_redirect_url = login_redirect_url
        self.logout_redirect_url = logout_redirect_url
        self.object_permission = object_permission
        self.throttle: LoginThrottle | None = (
            LoginThrottle() if throttle is None else throttle or None
        )
        self.reset_timeout = reset_timeout
        #: Creates, checks and revokes API tokens and keys.
        self.tokens = Tokens(self)

    def __repr__(self) -> str:
        return f"<Auth user_model={self.user_model.__name__} backends={list(self.backends)!r}>"

    # -- models ----------------------------------------------------------------------------

    @property
    def user_model(self) -> type[Any]:
        """The user model (the default ``User`` is imported, declaring its table, on first use)."""
        if self._user_model is None:
            from satchel.auth.user import User  # declares auth_user: only when used

            self._user_model = User
        return self._user_model

    @property
    def token_model(self) -> type[Any]:
        """The token model.

        Raises:
            ConfigurationError: a custom user model and no ``token_model`` given.
        """
        if self._token_model is None:
            from satchel.auth.user import User

            if self.user_model is not User:
                raise ConfigurationError(
                    "Tokens of a custom user model need a model of their own: declare "
                    "class Token(TokenMixin, Model) with a user_id foreign key and pass "
                    "Auth(token_model=Token)"
                )
            from satchel.auth.token import Token  # declares auth_token: only when used

            self._token_model = Token
        return self._token_model

    @property
    def username_field(self) -> str:
        """The user model's ``USERNAME_FIELD`` (``"username"`` when it names none)."""
        return username_field_of(self.user_model)

    @property
    def email_field(self) -> str:
        """The user model's ``EMAIL_FIELD`` (``"email"`` when it names none)."""
        return email_field_of(self.user_model)

    def get_username(self, user: Any) -> str:
        """``user``'s username: the value of its ``username_field``."""
        return str(getattr(user, self.username_field))

    def get_email(self, user: Any) -> str:
        """``user``'s e-mail address (``""`` when it has none, or no such field)."""
        return str(getattr(user, self.email_field, None) or "")

    # -- the app ---------------------------------------------------------------------------

    def init_app(self, app: Any, *, routes: bool = True) -> None:
        """Serve ``app``: its ``Database`` stores the users; mount the login pages.

        Also makes ``satchel db migrate`` create the models' permissions (with the
        app's ``Migrations``: call ``Migrations.init_app`` first, if at all), and lets
        requests carrying an ``APIKeyBackend`` header skip CSRF checks.

        Args:
            app: The app.
            routes: Mount ``auth_router(self)`` (login, logout, password pages) at ``/auth``.

        Raises:
            ConfigurationError: the app has no Database yet, already has an Auth, or
                has no ``Templates`` for the pages (``routes``).
        """
        database_of(app)  # the users live there: fail now, not on the first login
        if routes:
            try:
                templates_of(app)
            except ConfigurationError:
                raise ConfigurationError(
                    "The login pages need templates: call Templates().init_app(app) "
                    "before Auth().init_app(app), or pass routes=False"
                ) from None
        if app in _auths:
            raise ConfigurationError("this app already has an Auth")
        _auths[app] = self
        migrations = migrations_of(app)
        if migrations is not migrations_of(app):
            # A new one each time: the app registered none, so this one becomes its.
            migrations.init_app(app)
        add_permission_hook(migrations)
        if app.csrf is not None:
            for backend in self.backends:
                if isinstance(backend, APIKeyBackend):
                    app.csrf.exempt_header(backend.header)
        if routes:
            from satchel.auth.views import auth_router  # templates and forms: only when used

            app.include(auth_router(self))

    # -- users -----------------------------------------------------------------------------

    async def get_user(self, db: DbSession, user_id: Any) -> Any:
        """The user with primary key ``user_id``, or None.

        ``user_id`` comes from a session or a token's claims: anything that is not
        an id of the key's type is None, never an error. Integer keys take an int
        or its canonical decimal text (``"42"``, not ``" 42"``, ``"4_2"`` or
        ``True``) within the column's range; other keys their own type or text.
        """
        (column,) = sa.inspect(self.user_model).primary_key
        # The session's engine, not get_bind(): that may open a connection.
        dialect = "" if db.bind is None else db.bind.dialect.name
        key = _primary_key_value(column, user_id, dialect)
        return None if key is None else await db.get(self.user_model, key)

    async def authenticate(self, db: DbSession, username: str, password: str) -> Any:
        """The active user with this username and password, or None.

        Takes the same time whether the user is unknown, the password wrong or
        unusable, or the user inactive: a password hash is verified every time.
        A hash from an older or weaker hasher is replaced (flushed in ``db``).
        """
        user = await self.find_user(db, username)
        check = await self.passwords.verify(password, None if user is None else user.password)
        if user is None or not check.ok or not user.is_active:
            return None
        if check.needs_update:
            user.password = await self.passwords.hash(password)
            await db.flush()
        return user

    async def find_user(self, db: DbSession, username: str) -> Any:
        """The user whose ``username_field`` is ``username`` (active or not), or None."""
        model = self.user_model
        column = getattr(model, self.username_field)
        return await db.scalar(sa.select(model).where(column == username))

    async def set_password(
        self, db: DbSession, user: Any, password: str, *, validate: bool = True
    ) -> None:
        """Give ``user`` a new password (flushed in ``db``); their sessions made before end.

        Raises:
            PasswordValidationError: ``validate`` and the password breaks a rule.
            PasswordTooLong: the password is beyond ``MAX_PASSWORD_LENGTH``.
        """
        if validate:
            validate_password(password, user=user, validators=self.validators)
        user.password = await self.passwords.hash(password)
        if sa.inspect(user).session is None:
            db.add(user)
        await db.flush()

    async def create_user(
        self, db: DbSession, username: str, password: str | None = None, **fields: Any
    ) -> Any:
        """Add a user (flushed, not committed); no password: an unusable one.

        The password is not validated here (``set_password`` does that).
        """
        user = self.user_model(**{self.username_field: username}, **fields)
        user.password = (
            make_unusable_password() if password is None else await self.passwords.hash(password)
        )
        db.add(user)
        await db.flush()
        return user

    async def create_superuser(
        self, db: DbSession, username: str, password: str | None = None, **fields: Any
    ) -> Any:
        """``create_user`` with ``is_staff`` and ``is_superuser`` set."""
        fields.update(is_staff=True, is_superuser=True)
        return await self.create_user(db, username, password, **fields)

    # -- permissions -----------------------------------------------------------------------

    async def get_permissions(self, db: DbSession, user: Any) -> frozenset[str]:
        """The permission codenames ``user`` holds (none when inactive or anonymous).

        Read once per ``db`` session (so once per request) and user.
        """
        if not user.is_active or user.id is None:
            return frozenset()
        cache: dict[Any, frozenset[str]] = db.info.setdefault(_PERMISSIONS_KEY, {})
        key = (type(user), user.id)
        if key not in cache:
            cache[key] = await load_permissions(db, user)
        return cache[key]

    async def has_perm(self, db: DbSession, user: Any, perm: str, obj: Any = None) -> bool:
        """Whether ``user`` may ``perm`` (``"blog.change_article"``), on ``obj`` if given.

        Inactive users may do nothing, active superusers everything. Holding the
        permission allows it on every object; ``object_permission(user, perm, obj)``
        may allow it on one object more (its author editing an article).
        """
        if not user.is_active:
            return False
        if user.is_superuser or perm in await self.get_permissions(db, user):
            return True
        if obj is None or self.object_permission is None:
            return False
        allowed = self.object_permission(user, perm, obj)
        if inspect.isawaitable(allowed):
            allowed = await allowed
        return bool(allowed)


# Signed bits of integer columns on databases that enforce them (SQLite stores 64).
_INTEGER_BITS = ((sa.SmallInteger, 16), (sa.BigInteger, 64), (sa.Integer, 32))
_DECIMAL = re.compile(r"0|-?[1-9][0-9]{0,19}")


def _primary_key_value(column: Any, value: Any, dialect: str) -> Any:
    """``value`` as a value of the primary key ``column``, or None if it cannot be one."""
    if isinstance(column.type, sa.Integer):
        if isinstance(value, str) and _DECIMAL.fullmatch(value):
            value = int(value)
        if type(value) is not int:  # bool is an int too
            return None
        bits = (
            64
            if dialect == "sqlite"
            else next(b for kind, b in _INTEGER_BITS if isinstance(column.type, kind))
        )
        limit = 1 << (bits - 1)
        return value if -limit <= value < limit else None
    try:
        wanted = column.type.python_type
    except NotImplementedError:
        wanted = str
    if isinstance(value, str) and (len(value) > _MAX_KEY_TEXT or "\x00" in value):
        return None  # PostgreSQL refuses NUL in text: an error, not "no such user"
    if isinstance(value, wanted) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    try:
        return wanted(value)
    except (TypeError, ValueError, ArithmeticError):
        return None


def auth_of(app: Any) -> Auth:
    """The ``Auth`` serving ``app`` (``Auth.init_app``).

    Raises:
        ConfigurationError: none does.
    """
    try:
        return _auths[app]
    except KeyError:
        raise ConfigurationError("no Auth for this app: call Auth().init_app(app)") from None

"""Authentication and authorization: users, groups, permissions, login, tokens.

Needs the ``auth`` extra (``pip install 'satchel[auth]'``; JWTs also the ``jwt``
one). Importing this package is cheap: every name loads on first use, and
``User`` (whose import declares the ``auth_user`` table) only when asked for.

>>> from satchel import App, Settings
>>> from satchel.auth import Auth
>>> from satchel.db import Database
>>> from satchel.sessions import SessionMiddleware
>>> from satchel.templates import Templates
>>> app = App(settings=Settings(secret_key="change me"))
>>> Database("sqlite+aiosqlite://").init_app(app)
>>> Templates().init_app(app)  # the login pages render with the app's templates
>>> app.add_middleware(SessionMiddleware())
>>> Auth().init_app(app)
"""

from __future__ import annotations

import typing as _typing

from satchel.lazyexports import lazy_exports as _lazy_exports

if _typing.TYPE_CHECKING:
    from satchel.auth.auth import Auth, ObjectPermission, auth_of
    from satchel.auth.backends import (
        Backend,
        Credentials,
        InsufficientScope,
        InvalidCredentials,
    )
    from satchel.auth.current import (
        CurrentCredentials,
        CurrentUser,
        current_credentials,
        current_user,
    )
    from satchel.auth.guards import (
        LoginRedirect,
        login_required,
        permission_required,
        scopes_required,
        staff_required,
        superuser_required,
    )
    from satchel.auth.hashers import (
        MAX_PASSWORD_LENGTH,
        UNUSABLE_PASSWORD_PREFIX,
        Argon2Hasher,
        BCryptHasher,
        PasswordCheck,
        PasswordHasher,
        Passwords,
        PasswordTooLong,
        PBKDF2Hasher,
        ScryptHasher,
        is_password_usable,
        make_unusable_password,
    )
    from satchel.auth.jwt import JWTBackend
    from satchel.auth.models import ANONYMOUS, AnonymousUser, AuthUser, Group, Permission, UserMixin
    from satchel.auth.password_validation import (
        CommonPassword,
        MaximumLength,
        MinimumLength,
        NumericPassword,
        PasswordValidationError,
        PasswordValidator,
        UserAttributeSimilarity,
        default_validators,
        password_help_texts,
        validate_password,
    )
    from satchel.auth.permissions import load_permissions, model_permissions, sync_permissions
    from satchel.auth.reset import PasswordResetTokens
    from satchel.auth.sessionauth import (
        SessionBackend,
        login,
        logout,
        update_session_auth_hash,
    )
    from satchel.auth.throttle import LoginThrottle, account_key
    from satchel.auth.token import Token
    from satchel.auth.tokens import (
        DEFAULT_TOKEN_LIFETIME,
        APIKeyBackend,
        BearerTokenBackend,
        TokenKind,
        TokenMixin,
        Tokens,
    )
    from satchel.auth.user import User
    from satchel.auth.views import auth_router

_MODULES: dict[str, tuple[str, ...]] = {
    "satchel.auth.auth": ("Auth", "ObjectPermission", "auth_of"),
    "satchel.auth.backends": (
        "Backend",
        "Credentials",
        "InsufficientScope",
        "InvalidCredentials",
    ),
    "satchel.auth.current": (
        "CurrentCredentials",
        "CurrentUser",
        "current_credentials",
        "current_user",
    ),
    "satchel.auth.guards": (
        "LoginRedirect",
        "login_required",
        "permission_required",
        "scopes_required",
        "staff_required",
        "superuser_required",
    ),
    "satchel.auth.hashers": (
        "MAX_PASSWORD_LENGTH",
        "UNUSABLE_PASSWORD_PREFIX",
        "Argon2Hasher",
        "BCryptHasher",
        "PBKDF2Hasher",
        "PasswordCheck",
        "PasswordHasher",
        "PasswordTooLong",
        "Passwords",
        "ScryptHasher",
        "is_password_usable",
        "make_unusable_password",
    ),
    "satchel.auth.jwt": ("JWTBackend",),
    "satchel.auth.models": (
        "ANONYMOUS",
        "AnonymousUser",
        "AuthUser",
        "Group",
        "Permission",
        "UserMixin",
    ),
    "satchel.auth.password_validation": (
        "CommonPassword",
        "MaximumLength",
        "MinimumLength",
        "NumericPassword",
        "PasswordValidationError",
        "PasswordValidator",
        "UserAttributeSimilarity",
        "default_validators",
        "password_help_texts",
        "validate_password",
    ),
    "satchel.auth.permissions": ("load_permissions", "model_permissions", "sync_permissions"),
    "satchel.auth.sessionauth": ("SessionBackend", "login", "logout", "update_session_auth_hash"),
    "satchel.auth.reset": ("PasswordResetTokens",),
    "satchel.auth.throttle": ("LoginThrottle", "account_key"),
    "satchel.auth.token": ("Token",),
    "satchel.auth.tokens": (
        "DEFAULT_TOKEN_LIFETIME",
        "APIKeyBackend",
        "BearerTokenBackend",
        "TokenKind",
        "TokenMixin",
        "Tokens",
    ),
    # Imported only when asked for: importing it declares the auth_user table.
    "satchel.auth.user": ("User",),
    "satchel.auth.views": ("auth_router",),
}

if not _typing.TYPE_CHECKING:  # hidden from type checkers: a typo stays a typing error
    __getattr__ = _lazy_exports(
        __name__,
        globals(),
        {name: module for module, names in _MODULES.items() for name in names},
    )

__all__ = [
    "ANONYMOUS",
    "DEFAULT_TOKEN_LIFETIME",
    "MAX_PASSWORD_LENGTH",
    "UNUSABLE_PASSWORD_PREFIX",
    "APIKeyBackend",
    "AnonymousUser",
    "Argon2Hasher",
    "Auth",
    "AuthUser",
    "BCryptHasher",
    "Backend",
    "BearerTokenBackend",
    "CommonPassword",
    "Credentials",
    "CurrentCredentials",
    "CurrentUser",
    "Group",
    "InsufficientScope",
    "InvalidCredentials",
    "JWTBackend",
    "LoginRedirect",
    "LoginThrottle",
    "MaximumLength",
    "MinimumLength",
    "NumericPassword",
    "ObjectPermission",
    "PBKDF2Hasher",
    "PasswordCheck",
    "PasswordHasher",
    "PasswordResetTokens",
    "PasswordTooLong",
    "PasswordValidationError",
    "PasswordValidator",
    "Passwords",
    "Permission",
    "ScryptHasher",
    "SessionBackend",
    "Token",
    "TokenKind",
    "TokenMixin",
    "Tokens",
    "User",
    "UserAttributeSimilarity",
    "UserMixin",
    "account_key",
    "auth_of",
    "auth_router",
    "current_credentials",
    "current_user",
    "default_validators",
    "is_password_usable",
    "load_permissions",
    "login",
    "login_required",
    "logout",
    "make_unusable_password",
    "model_permissions",
    "password_help_texts",
    "permission_required",
    "scopes_required",
    "staff_required",
    "superuser_required",
    "sync_permissions",
    "update_session_auth_hash",
    "validate_password",
]

"""Typed, frozen application settings read from the environment and a ``.env`` file.

:class:`Settings` holds the values the framework itself reads (debug mode, secret key,
host and proxy lists, request size limits). Applications subclass it to add their own
fields; :meth:`Settings.from_env` fills every field, the new ones included, from
``SATCHEL_<FIELD NAME>`` variables, converting and validating each one and reporting
every bad variable at once in a :class:`SettingsError`.

Nothing happens at import time: field type information is gathered on the first
``from_env`` call (or ``repr``) for each class and cached.
"""

import functools
import os
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, NamedTuple, Self, TypeVar, cast, dataclass_transform

import msgspec
import msgspec.inspect as mi

from satchel import defaults
from satchel.mailaddresses import check_address
from satchel.secret_names import SETTINGS_SECRET_WORDS, looks_secret

__all__ = ["LOCAL_HOSTS", "Settings", "SettingsError"]

#: The default ``allowed_hosts``: this machine's names only, so an app deployed without
#: configuration refuses every public Host (400) instead of trusting it. ``testserver`` is
#: the host of :class:`satchel.testing.TestClient` requests, so tests work unconfigured;
#: no public name can end in it (no such top-level domain).
LOCAL_HOSTS: tuple[str, ...] = ("localhost", "127.0.0.1", "[::1]", "testserver")

_Positive = Annotated[int, msgspec.Meta(ge=1)]
_NonNegative = Annotated[int, msgspec.Meta(ge=0)]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_ESCAPES = {"n": "\n", '"': '"', "\\": "\\"}
_MAX_SHOWN = 80
_REDUNDANT = ("Expected `", "Invalid enum value")

_LINE_RE = r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)"
_DOUBLE_QUOTED_RE = r'"((?:[^"\\]|\\.)*)"(.*)'
_COMMENT_TAIL_RE = r"\s*(?:#.*)?"


class SettingsError(ValueError):
    """One or more settings are missing or invalid.

    Each entry of :attr:`errors` names the variable (or keyword override) and says what
    was expected; values of secret fields are never included.

    Example:
        >>> err = SettingsError("SATCHEL_DEBUG: expected bool, got 'maybe'")
        >>> err.errors
        ("SATCHEL_DEBUG: expected bool, got 'maybe'",)
    """

    def __init__(self, *errors: str) -> None:
        super().__init__(*errors)

    @property
    def errors(self) -> tuple[str, ...]:
        """One message per bad variable, in field order."""
        return tuple(str(error) for error in self.args)

    def __str__(self) -> str:
        errors = self.errors
        if len(errors) == 1:
            return errors[0]
        lines = "\n".join(f"  {error}" for error in errors)
        return f"{len(errors)} settings are invalid:\n{lines}"


# msgspec subclasses inherit ``frozen`` but type checkers, following PEP 681, would call
# ``class MySettings(Settings):`` a non-frozen subclass of a frozen class. Declaring
# Settings a transform base whose subclasses default to frozen tells them the truth.
@dataclass_transform(frozen_default=True, field_specifiers=(msgspec.field,))
class Settings(msgspec.Struct, kw_only=True, frozen=True):
    """Framework settings; subclass to add your own fields.

    Attributes:
        debug: Debug mode: traceback pages for server errors. Never in production.
        secret_key: Key for signing sessions, CSRF tokens and other values. Redacted in
            ``repr`` and error messages.
        secret_key_fallbacks: Older keys, still accepted when verifying signatures, so
            that rotating ``secret_key`` does not log everyone out. Redacted.
        allowed_hosts: Host names (no port) the app answers to: exact names,
            ``.example.com`` for a domain and its subdomains, or ``*``; others get 400.
            Defaults to :data:`LOCAL_HOSTS`; an empty list refuses every host. Debug
            mode does not widen it.
        trusted_proxies: IP addresses or CIDR networks whose ``X-Forwarded-*`` headers
            are believed.
        max_body_size: Largest body, in bytes, read into memory (raw body, JSON,
            urlencoded forms).
        max_upload_size: Largest whole multipart body, in bytes.
        max_form_fields: Most fields in one form, and most query-string parameters.
        max_form_files: Most files in one multipart body (0 disables uploads).
        max_part_header_size: Largest header block, in bytes, of one multipart part.
        max_json_depth: Deepest nesting of arrays and objects accepted in a JSON body.
        spool_max_size: Uploads larger than this many bytes are spooled to a temporary
            file on disk (0 always spools).
        access_log: Log one line per request.
        redirect_slashes: Redirect ``/path/`` to ``/path`` (or back) when only the
            other one is routed.
        csrf_trusted_origins: Origins (``https://app.example.com``) besides the request's
            own whose unsafe requests pass the CSRF Origin check.
        hsts_seconds: ``Strict-Transport-Security`` max-age sent over HTTPS (0: none).
        hsts_include_subdomains: Add ``includeSubDomains`` to that header.
        database_url: The database ``satchel.db.Database.from_settings`` connects to.
            Secret (it may hold a password): redacted in ``repr`` and error messages.
        database_echo: Log every SQL statement.
        database_pool_size: Connections each engine keeps open (None: SQLAlchemy's default).
        database_max_overflow: Connections opened beyond the pool size under load.
        database_pool_timeout: Seconds to wait for a free connection.
        database_pool_recycle: Reopen connections older than this many seconds.
        database_pool_pre_ping: Test each connection before use (survives database restarts).
        mail_backend: Where ``satchel.mail.Mailer.from_settings`` sends mail: ``"smtp"``
            (production), ``"console"`` (development: printed), ``"file"`` or ``"memory"``
            (tests).
        mail_host: The SMTP server.
        mail_port: Its port; None picks 465 with ``mail_use_ssl``, 587 with
            ``mail_use_tls``, else 25.
        mail_username: The SMTP login; empty: no login.
        mail_password: The SMTP password. Secret: redacted.
        mail_use_tls: Upgrade the connection with STARTTLS.
        mail_use_ssl: Connect over TLS from the start (SMTPS); not with ``mail_use_tls``.
        mail_timeout: Seconds to wait for the SMTP server.
        mail_default_from: The sender of messages that name none: one address,
            ``local@domain`` or ``Name <local@domain>``, checked here.
        mail_file_path: The directory the file backend writes ``.eml`` files to.

    Example:
        >>> class MySettings(Settings):
        ...     cache_url: str = "redis://localhost:6379/0"
        >>> settings = MySettings.from_env(
        ...     environ={"SATCHEL_DEBUG": "yes", "SATCHEL_CACHE_URL": "redis://cache:6379/1"},
        ...     env_file=None,
        ... )
        >>> settings.debug, settings.cache_url
        (True, 'redis://cache:6379/1')
    """

    debug: bool = False
    secret_key: str = ""
    secret_key_fallbacks: list[str] = msgspec.field(default_factory=list)
    allowed_hosts: list[str] = msgspec.field(default_factory=lambda: list(LOCAL_HOSTS))
    trusted_proxies: list[str] = msgspec.field(default_factory=list)
    max_body_size: _Positive = defaults.MAX_BODY_SIZE
    max_upload_size: _Positive = defaults.MAX_UPLOAD_SIZE
    max_form_fields: _Positive = defaults.MAX_FORM_FIELDS
    max_form_files: _NonNegative = defaults.MAX_FORM_FILES
    max_part_header_size: _Positive = defaults.MAX_PART_HEADER_SIZE
    max_json_depth: _Positive = defaults.MAX_JSON_DEPTH
    spool_max_size: _NonNegative = defaults.SPOOL_MAX_SIZE
    access_log: bool = True
    redirect_slashes: bool = True
    csrf_trusted_origins: list[str] = msgspec.field(default_factory=list)
    hsts_seconds: _NonNegative = 31_536_000
    hsts_include_subdomains: bool = False
    database_url: Annotated[str, msgspec.Meta(extra={"secret": True})] = (
        "sqlite+aiosqlite:///satchel.db"
    )
    database_echo: bool = False
    database_pool_size: _Positive | None = None
    database_max_overflow: _NonNegative | None = None
    database_pool_timeout: Annotated[float, msgspec.Meta(gt=0)] | None = None
    database_pool_recycle: _Positive | None = None
    database_pool_pre_ping: bool = False
    mail_backend: Literal["smtp", "console", "file", "memory"] = "smtp"
    mail_host: str = "localhost"
    mail_port: Annotated[int, msgspec.Meta(ge=1, le=65_535)] | None = None
    mail_username: str = ""
    mail_password: Annotated[str, msgspec.Meta(extra={"secret": True})] = ""
    mail_use_tls: bool = False
    mail_use_ssl: bool = False
    mail_timeout: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    mail_default_from: str = "webmaster@localhost"
    mail_file_path: str = "sent-mail"

    def __post_init__(self) -> None:
        """Check values that a type alone cannot.

        Subclasses that define ``__post_init__`` must call ``super().__post_init__()``.
        A ``ValueError`` whose message starts with ``"<field name>: "`` is reported by
        :meth:`from_env` under that field's variable.
        """
        invalid = [entry for entry in self.trusted_proxies if not _is_ip_network(entry)]
        if invalid:
            shown = ", ".join(repr(entry) for entry in invalid)
            raise ValueError(
                f"trusted_proxies: expected IP addresses or CIDR networks, got {shown}"
            )
        if self.mail_use_tls and self.mail_use_ssl:
            raise ValueError(
                "mail_use_ssl: cannot be combined with mail_use_tls; choose STARTTLS "
                "(mail_use_tls, usually port 587) or implicit TLS (mail_use_ssl, port 465)"
            )
        # Checked now: a bad sender would fail every message that names none, at send time.
        check_address(self.mail_default_from, "mail_default_from")

    @classmethod
    def from_env(
        cls,
        *,
        environ: Mapping[str, str] | None = None,
        env_file: str | os.PathLike[str] | None = ".env",
        prefix: str = "SATCHEL_",
        **overrides: object,
    ) -> Self:
        """Build settings from keyword overrides, the environment, a ``.env`` file and defaults.

        For each field, the first of these that has a value wins: a keyword override, the
        variable ``prefix + FIELD_NAME`` in ``environ``, the same key in ``env_file``, the
        field's default. Variables with the prefix that match no field are ignored.

        Args:
            environ: Variables to read; ``os.environ`` when ``None``.
            env_file: A ``.env`` file to read (a missing file is skipped), or ``None``.
            prefix: Prefix of the variable names, used as given (case-sensitive).
            **overrides: Field values, as Python objects, that win over everything.

        Returns:
            A validated, frozen instance of ``cls``.

        Raises:
            SettingsError: A variable or override is invalid, a required field is not
                set, or ``env_file`` has a malformed line. Lists every problem found.
            TypeError: An override names no field.

        Example:
            >>> settings = Settings.from_env(
            ...     environ={"SATCHEL_MAX_BODY_SIZE": "1_000"}, env_file=None, debug=True
            ... )
            >>> settings.max_body_size, settings.debug
            (1000, True)
        """
        fields = _fields_of(cls)
        unknown = sorted(overrides.keys() - {field.name for field in fields})
        if unknown:
            names = ", ".join(unknown)
            raise TypeError(f"{cls.__name__}.from_env() got unknown setting(s): {names}")
        if environ is None:
            environ = os.environ
        dotenv, errors = _read_env_file(env_file, prefix) if env_file is not None else ({}, [])
        values: dict[str, Any] = {}
        labels: dict[str, str] = {}
        for field in fields:
            variable = prefix + field.name.upper()
            source = _find_source(field, variable, overrides, environ, dotenv)
            if source is None:
                labels[field.name] = variable
                if field.required:
                    errors.append(f"{variable}: required ({_expected(field.info)}), not set")
                continue
            labels[field.name] = source.label
            try:
                values[field.name] = _convert(field, source)
            except (ValueError, TypeError) as exc:
                errors.append(_describe_problem(field, source, exc))
        if errors:
            raise SettingsError(*errors)
        return _build(cls, values, labels)

    def __repr__(self) -> str:
        parts = ", ".join(f"{name}={value!r}" for name, value in self.__rich_repr__())
        return f"{type(self).__name__}({parts})"

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        """Field names and values for ``rich``, secret values redacted."""
        items = []
        for field in _fields_of(type(self)):
            value = getattr(self, field.name)
            items.append((field.name, _REDACTED if field.secret and value else value))
        return items


class _Redacted:
    """Stands in for a secret value in reprs."""

    def __repr__(self) -> str:
        return "'**********'"


_REDACTED = _Redacted()
_S = TypeVar("_S", bound=Settings)


class _Field(NamedTuple):
    name: str
    annotation: Any
    info: mi.Type
    required: bool
    secret: bool


class _Source(NamedTuple):
    """Where a field's value came from: ``label`` names it in error messages."""

    label: str
    value: object
    from_text: bool  # a string from the environment, to parse by the field's type


@functools.cache
def _fields_of(cls: type[Settings]) -> tuple[_Field, ...]:
    """The fields of ``cls``, base class fields first, each in definition order."""
    annotations = {field.name: field.type for field in msgspec.structs.fields(cls)}
    infos = {field.name: field for field in cast(mi.StructType, mi.type_info(cls)).fields}
    # msgspec puts a subclass's positional fields before the inherited keyword-only
    # ones; reprs and error lists read better in the order the classes define them.
    names = dict.fromkeys(
        name
        for klass in reversed(cls.__mro__)
        for name in vars(klass).get("__annotations__", {})
        if name in infos
    )
    names.update(dict.fromkeys(infos))  # anything not found above, in msgspec's order
    return tuple(
        _Field(
            name=name,
            annotation=annotations[name],
            info=infos[name].type,
            required=infos[name].required,
            secret=_is_secret(name, infos[name].type),
        )
        for name in names
    )


def _is_secret(name: str, info: mi.Type) -> bool:
    """``Meta(extra={"secret": ...})`` decides; otherwise the field's name does."""
    if isinstance(info, mi.Metadata) and info.extra and "secret" in info.extra:
        return bool(info.extra["secret"])
    return looks_secret(name, SETTINGS_SECRET_WORDS)


def _is_ip_network(entry: str) -> bool:
    # Imported here: most apps trust no proxy and never pay for the module.
    import ipaddress

    try:
        ipaddress.ip_network(entry.strip(), strict=False)
    except ValueError:
        return False
    return True


# --- finding and converting values -------------------------------------------------


def _find_source(
    field: _Field,
    variable: str,
    overrides: Mapping[str, object],
    environ: Mapping[str, str],
    dotenv: Mapping[str, tuple[str, str]],
) -> _Source | None:
    if field.name in overrides:
        return _Source(f"{field.name} (keyword override)", overrides[field.name], False)
    if variable in environ:
        return _Source(variable, environ[variable], True)
    if variable in dotenv:
        text, where = dotenv[variable]
        return _Source(f"{variable} ({where})", text, True)
    return None


def _convert(field: _Field, source: _Source) -> object:
    if isinstance(source.value, str) and source.from_text:
        value = _from_text(source.value, field.info)
        return msgspec.convert(value, field.annotation, strict=False)
    return msgspec.convert(source.value, field.annotation)


def _from_text(text: str, info: mi.Type) -> object:
    """Turn an environment string into what msgspec can convert to the field's type."""
    if isinstance(info, mi.Metadata):
        info = info.type
    parse = _PARSERS.get(type(info))
    if parse is not None:
        return parse(text, info)
    if isinstance(info, mi.StrType | mi.AnyType):
        return text
    # Datetimes, enums, literals, UUIDs, decimals...: msgspec's own string conversion.
    return text.strip()


def _parse_bool(text: str, info: mi.Type) -> object:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return text  # msgspec rejects it with the expected type


def _parse_int(text: str, info: mi.Type) -> object:
    try:
        return int(text.strip())  # accepts "1_000"
    except ValueError:
        return text.strip()  # msgspec still accepts "1e3" and rejects the rest


def _parse_collection(text: str, info: Any) -> object:
    stripped = text.strip()
    if stripped.startswith("[") and stripped.endswith("]"):
        try:
            return msgspec.json.decode(stripped)
        except msgspec.DecodeError:
            pass  # not JSON: "[::1]" is a host name
    parts = [part.strip() for part in stripped.split(",")]
    parts = [part for part in parts if part]
    if isinstance(info, mi.TupleType):
        if len(parts) != len(info.item_types):
            return parts  # msgspec reports the length
        return [_from_text(part, item) for part, item in zip(parts, info.item_types, strict=True)]
    return [_from_text(part, info.item_type) for part in parts]


def _parse_json(text: str, info: mi.Type) -> object:
    try:
        return msgspec.json.decode(text.strip())
    except msgspec.DecodeError as exc:
        raise ValueError(f"invalid JSON: {exc}") from None


def _parse_union(text: str, info: Any) -> object:
    if _is_optional(info) and not text.strip():
        return None
    options = [option for option in info.types if not isinstance(option, mi.NoneType)]
    if len(options) == 1:
        return _from_text(text, options[0])
    stripped = text.strip()
    if stripped[:1] in ("[", "{"):
        try:
            return msgspec.json.decode(stripped)
        except msgspec.DecodeError:
            pass
    return text if any(isinstance(option, mi.StrType) for option in options) else stripped


_PARSERS: dict[type[mi.Type], Callable[[str, Any], object]] = {
    mi.BoolType: _parse_bool,
    mi.IntType: _parse_int,
    mi.ListType: _parse_collection,
    mi.SetType: _parse_collection,
    mi.FrozenSetType: _parse_collection,
    mi.VarTupleType: _parse_collection,
    mi.TupleType: _parse_collection,
    mi.DictType: _parse_json,
    mi.StructType: _parse_json,
    mi.DataclassType: _parse_json,
    mi.TypedDictType: _parse_json,
    mi.NamedTupleType: _parse_json,
    mi.UnionType: _parse_union,
}


def _build(cls: type[_S], values: dict[str, Any], labels: Mapping[str, str]) -> _S:
    """Construct the instance, attributing ``__post_init__`` errors to their variable."""
    try:
        return cls(**values)
    except (ValueError, TypeError) as exc:
        name, sep, reason = str(exc).partition(": ")
        if sep and name in labels:
            raise SettingsError(f"{labels[name]}: {reason}") from exc
        raise SettingsError(f"{cls.__name__}: {exc}") from exc


# --- error messages ------------------------------------------------------------------


def _describe_problem(field: _Field, source: _Source, exc: Exception) -> str:
    expected = _expected(field.info)
    if field.secret:
        return f"{source.label}: expected {expected}, got an invalid value (hidden: secret)"
    message = f"{source.label}: expected {expected}, got {_show(source.value)}"
    detail = str(exc)
    # msgspec's top-level messages repeat what the expected type already says.
    redundant = detail.startswith(_REDUNDANT) and " - at `" not in detail
    return message if redundant or not detail else f"{message} ({detail})"


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _expected(info: mi.Type) -> str:
    """The field's type as an error message says it, with a hint on the text format."""
    if isinstance(info, mi.Metadata):
        info = info.type
    if isinstance(info, mi.UnionType) and _is_optional(info):
        options = [option for option in info.types if not isinstance(option, mi.NoneType)]
        return " | ".join(_expected(option) for option in options) + ", or empty for None"
    return _describe(info) + _HINTS.get(type(info), "")


def _is_optional(info: mi.UnionType) -> bool:
    return any(isinstance(option, mi.NoneType) for option in info.types)


_JSON_OBJECT = " (JSON object)"
_HINTS: dict[type[mi.Type], str] = {
    mi.BoolType: " (1/0, true/false, yes/no, on/off)",
    mi.ListType: " (JSON array or comma-separated)",
    mi.SetType: " (JSON array or comma-separated)",
    mi.FrozenSetType: " (JSON array or comma-separated)",
    mi.VarTupleType: " (JSON array or comma-separated)",
    mi.TupleType: " (JSON array or comma-separated)",
    mi.DictType: _JSON_OBJECT,
    mi.StructType: _JSON_OBJECT,
    mi.DataclassType: _JSON_OBJECT,
    mi.TypedDictType: _JSON_OBJECT,
}


def _describe(info: mi.Type) -> str:
    if isinstance(info, mi.Metadata):
        info = info.type
    describe = _DESCRIBERS.get(type(info))
    if describe is not None:
        return describe(info)
    name = getattr(info, "cls", None)
    if isinstance(name, type):
        return name.__name__
    return _SIMPLE_NAMES.get(type(info), type(info).__name__.removesuffix("Type").lower())


def _bounds(info: Any) -> str:
    limits = [
        f"{symbol} {limit}"
        for symbol, limit in ((">", info.gt), (">=", info.ge), ("<", info.lt), ("<=", info.le))
        if limit is not None
    ]
    if info.multiple_of is not None:
        limits.append(f"multiple of {info.multiple_of}")
    return " " + ", ".join(limits) if limits else ""


def _lengths(info: Any) -> str:
    limits = []
    if info.min_length is not None:
        limits.append(f"length >= {info.min_length}")
    if info.max_length is not None:
        limits.append(f"length <= {info.max_length}")
    if getattr(info, "pattern", None) is not None:
        limits.append(f"matching {info.pattern!r}")
    return " with " + ", ".join(limits) if limits else ""


def _one_of(values: Any) -> str:
    return "one of " + ", ".join(repr(value) for value in values)


def _describe_union(info: Any) -> str:
    return " | ".join(_describe(option) for option in info.types)


def _describe_tuple(info: Any) -> str:
    return "tuple[" + ", ".join(_describe(item) for item in info.item_types) + "]"


def _collection(kind: str) -> Callable[[Any], str]:
    def describe(info: Any) -> str:
        return f"{kind}[{_describe(info.item_type)}]{_lengths(info)}"

    return describe


_DESCRIBERS: dict[type[mi.Type], Callable[[Any], str]] = {
    mi.IntType: lambda info: "int" + _bounds(info),
    mi.FloatType: lambda info: "float" + _bounds(info),
    mi.StrType: lambda info: "str" + _lengths(info),
    mi.ListType: _collection("list"),
    mi.SetType: _collection("set"),
    mi.FrozenSetType: _collection("frozenset"),
    mi.VarTupleType: lambda info: f"tuple[{_describe(info.item_type)}, ...]{_lengths(info)}",
    mi.TupleType: _describe_tuple,
    mi.DictType: lambda info: f"dict[{_describe(info.key_type)}, {_describe(info.value_type)}]",
    mi.UnionType: _describe_union,
    mi.LiteralType: lambda info: _one_of(info.values),
    mi.EnumType: lambda info: _one_of(member.value for member in info.cls),
}

_SIMPLE_NAMES: dict[type[mi.Type], str] = {
    mi.NoneType: "None",
    mi.DateTimeType: "datetime (RFC 3339)",
    mi.DateType: "date (YYYY-MM-DD)",
    mi.TimeType: "time (HH:MM:SS)",
    mi.TimeDeltaType: "duration (ISO 8601, e.g. PT30S)",
    mi.UUIDType: "UUID",
    mi.BytesType: "bytes (base64)",
}


def _read_env_file(
    path: str | os.PathLike[str], prefix: str
) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """Read ``KEY=value`` lines from ``path``.

    Returns:
        ``{key: (value, "<path>, line <n>")}`` for keys with ``prefix``, and one message
        per malformed line (or for an unreadable file). A missing file reads as empty.
    """
    name = os.fspath(path)
    try:
        with open(path, encoding="utf-8-sig") as file:
            text = file.read()
    except FileNotFoundError:
        return {}, []
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else exc.reason
        return {}, [f"{name}: cannot read the file ({reason})"]
    values: dict[str, tuple[str, str]] = {}
    errors: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        where = f"{name}, line {number}"
        try:
            entry = _parse_env_line(line)
        except ValueError as exc:
            errors.append(f"{where}: {exc}")
            continue
        if entry is not None and entry[0].startswith(prefix):
            values[entry[0]] = (entry[1], where)
    return values, errors


def _parse_env_line(line: str) -> tuple[str, str] | None:
    """Parse one ``.env`` line: ``None`` for blank and comment lines.

    Error messages never quote the line: it may hold a secret.
    """
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    match = re.fullmatch(_LINE_RE, stripped, re.DOTALL)
    if match is None:
        raise ValueError("expected KEY=value")
    key, rest = match.groups()
    value = rest.lstrip()
    if value.startswith("'"):
        end = value.find("'", 1)
        if end == -1:
            raise ValueError("unterminated single-quoted value")
        return key, _check_tail(value[1:end], value[end + 1 :])
    if value.startswith('"'):
        quoted = re.fullmatch(_DOUBLE_QUOTED_RE, value, re.DOTALL)
        if quoted is None:
            raise ValueError("unterminated double-quoted value")
        unescaped = re.sub(r"\\(.)", _unescape, quoted[1], flags=re.DOTALL)
        return key, _check_tail(unescaped, quoted[2])
    comment = re.search(r"\s#", rest)
    if comment is not None:
        rest = rest[: comment.start()]
    return key, rest.strip()


def _unescape(match: re.Match[str]) -> str:
    return _ESCAPES.get(match[1], match[0])


def _check_tail(value: str, tail: str) -> str:
    if re.fullmatch(_COMMENT_TAIL_RE, tail) is None:
        raise ValueError("unexpected text after the closing quote")
    return value

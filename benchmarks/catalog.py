"""What each suite measures: the apps under test and the endpoints each serves.

Three suites share the harness: ``http`` (framework overhead on trivial endpoints, every
app), ``validation`` (typed input validated into a model, a dependency, a typed
answer: Satchel against the frameworks that do the same) and ``db`` (TechEmpower's single
row and fortunes on PostgreSQL: Satchel against Django and FastAPI + SQLAlchemy).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from benchmarks.worlddb import Prepared, check_fortunes, check_world, prepare

Interface = Literal["rsgi", "asgi", "wsgi"]
BodyKind = Literal["text", "json", "check", "any"]


@dataclass(frozen=True, slots=True)
class AppSpec:
    """One server configuration to measure.

    Attributes:
        name: Name used on the command line (``--apps``) and in the results.
        label: Human name used in the tables.
        interface: Granian ``--interface`` value.
        target: Granian application target (``module:attribute``).
        packages: Distributions whose versions the report lists.
        stack: What runs between Granian and the handler (middleware and setup).
    """

    name: str
    label: str
    interface: Interface
    target: str
    packages: tuple[str, ...]
    stack: str


@dataclass(frozen=True, slots=True)
class InvalidRequest:
    """A variant of an endpoint's request that an app must refuse with a 4xx.

    It proves the app really validates: an app that skipped validation would answer 2xx.

    Attributes:
        path: Request target, query string included.
        payload: JSON value sent as the body (``None``: no body).
        broken: What is wrong with it, for the report.
    """

    path: str
    payload: Any
    broken: str

    @property
    def body(self) -> bytes | None:
        """The encoded request body."""
        return encode_payload(self.payload)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One request every app must answer identically (up to byte-level encoding choices).

    Attributes:
        name: Name used on the command line (``--endpoints``) and in the results.
        path: Request target, query string included.
        status: Expected status code.
        body_kind: How the body is checked: exact text, equal JSON value, a check function,
            or not at all.
        body: Expected text (``text``), decoded JSON value (``json``), or (``check``) a
            function given the bodies of ``verify_requests`` answers that returns what is
            wrong with them (``None``: nothing).
        content_type: Expected ``content-type`` prefix; ``None`` accepts any.
        method: Request method.
        payload: JSON value sent as the request body (``None``: no body).
        invalid: A request every app must refuse with a 4xx, checked before any load.
        verify_requests: How many times verification sends the request (answers that
            should vary, such as a random row, need several).
    """

    name: str
    path: str
    status: int
    body_kind: BodyKind
    body: Any
    content_type: str | None
    method: str = "GET"
    payload: Any = None
    invalid: InvalidRequest | None = None
    verify_requests: int = 1

    @property
    def expects_error(self) -> bool:
        """Whether every response is meant to be non-2xx (wrk counts those separately)."""
        return not 200 <= self.status < 300

    @property
    def label(self) -> str:
        """The request as tables show it: the path, with the method when it is not GET."""
        return self.path if self.method == "GET" else f"{self.method} {self.path}"

    @property
    def request_body(self) -> bytes | None:
        """The encoded request body."""
        return encode_payload(self.payload)


@dataclass(frozen=True, slots=True)
class Comparison:
    """A framework every Satchel entry is compared with, and the ratio it should reach.

    Attributes:
        app: The other app's name.
        bar: The least Satchel / other ratio on every endpoint (``None``: reported only).
    """

    app: str
    bar: float | None = None


@dataclass(frozen=True, slots=True)
class Suite:
    """A set of apps and endpoints measured together, with its own BENCHMARKS.md block.

    Attributes:
        name: Name used on the command line (``--suite``).
        title: Heading of the block when it has to be appended to BENCHMARKS.md.
        marker: The block sits between ``<!-- benchmarks:{marker}:results:start/end -->``.
        apps: The apps it can run (``--apps`` picks among them).
        endpoints: The endpoints it can run (``--endpoints`` picks among them).
        comparisons: Frameworks Satchel is compared with, in their own tables.
        prepare: Run once before any app starts (the database suite makes its tables);
            what it returns goes into the report.
        min_warmup_s: The least warm-up per endpoint the suite accepts (the database
            suite's warm-up opens every pooled connection before the measured run).
    """

    name: str
    title: str
    marker: str
    apps: tuple[AppSpec, ...]
    endpoints: tuple[Endpoint, ...]
    comparisons: tuple[Comparison, ...]
    prepare: Callable[[], Prepared] | None = None
    min_warmup_s: int = 0


def encode_payload(payload: Any) -> bytes | None:
    """A JSON request body, compact like the apps' answers (``None`` stays ``None``)."""
    if payload is None:
        return None
    return json.dumps(payload, separators=(",", ":")).encode()


APPS: tuple[AppSpec, ...] = (
    AppSpec(
        "raw-rsgi",
        "raw RSGI",
        "rsgi",
        "benchmarks.apps.raw_rsgi:app",
        ("msgspec",),
        "none: a dict lookup and a hand-parsed int",
    ),
    AppSpec(
        "raw-asgi",
        "raw ASGI",
        "asgi",
        "benchmarks.apps.raw_asgi:app",
        ("msgspec",),
        "none: a dict lookup and a hand-parsed int",
    ),
    AppSpec(
        "satchel-rsgi",
        "Satchel (RSGI)",
        "rsgi",
        "benchmarks.apps.satchel_app:app",
        ("msgspec",),
        "`App()` defaults",
    ),
    AppSpec(
        "satchel-asgi",
        "Satchel (ASGI)",
        "asgi",
        "benchmarks.apps.satchel_app:app",
        ("msgspec",),
        "`App()` defaults",
    ),
    AppSpec(
        "starlette",
        "Starlette",
        "asgi",
        "benchmarks.apps.starlette_app:app",
        ("starlette",),
        "`Starlette(routes=...)` defaults (ServerErrorMiddleware, ExceptionMiddleware)",
    ),
    AppSpec(
        "litestar",
        "Litestar",
        "asgi",
        "benchmarks.apps.litestar_app:app",
        ("litestar", "msgspec"),
        "`Litestar(route_handlers=...)` defaults (no middleware); query as a typed argument",
    ),
    AppSpec(
        "fastapi",
        "FastAPI",
        "asgi",
        "benchmarks.apps.fastapi_app:app",
        ("fastapi", "starlette", "pydantic"),
        "`FastAPI()` defaults (ServerError, ExceptionTelemetry, AppBodyLimit, Exception and"
        " AsyncExitStack middleware); return annotations as response models",
    ),
    AppSpec(
        "flask",
        "Flask",
        "wsgi",
        "benchmarks.apps.flask_app:app",
        ("flask", "werkzeug"),
        "`Flask(__name__)` defaults, production mode (debug off)",
    ),
    AppSpec(
        "django",
        "Django",
        "wsgi",
        "benchmarks.apps.django_app:application",
        ("django",),
        "`startproject` defaults: 6 contrib apps, the 7 default MIDDLEWARE, DEBUG off",
    ),
)

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("plaintext", "/plaintext", 200, "text", "Hello, World!", "text/plain"),
    Endpoint("json", "/json", 200, "json", {"message": "Hello, World!"}, "application/json"),
    Endpoint("user", "/users/42", 200, "json", {"id": 42}, "application/json"),
    Endpoint("query", "/query?name=abc", 200, "json", {"name": "abc"}, "application/json"),
    Endpoint("not-found", "/does-not-exist", 404, "any", None, None),
)

REFERENCE_APP = "raw-rsgi"
"""Every ratio is taken against this app's median for the same endpoint."""

_APP_BY_NAME = {app.name: app for app in APPS}

_CUSTOMER: dict[str, Any] = {
    "id": "3f0c1a56-2b8e-4d5f-9a51-7c2f4e1d9b60",
    "name": "Ada Lovelace",
    "email": "ada@example.org",
    "age": 36,
    "credit_limit": 2500.5,
    "newsletter": True,
    "tags": ["vip", "early-adopter"],
    "tier": "pro",
    "address": {"street": "12 St James's Square", "city": "London", "zip_code": "10115"},
}
"""The body of ``POST /validate``: nine fields sent, the optional ``nickname`` left out."""

VALIDATION_APPS: tuple[AppSpec, ...] = (
    AppSpec(
        "raw-rsgi",
        "raw RSGI + msgspec",
        "rsgi",
        "benchmarks.apps.raw_rsgi:app",
        ("msgspec",),
        "none: dict routing; msgspec decodes the body and converts the query into the same"
        " Structs, the dependency awaited by hand",
    ),
    _APP_BY_NAME["satchel-rsgi"],
    _APP_BY_NAME["satchel-asgi"],
    AppSpec(
        "litestar",
        "Litestar",
        "asgi",
        "benchmarks.apps.litestar_app:app",
        ("litestar", "msgspec"),
        "`Litestar(route_handlers=...)` defaults; msgspec Struct body (`data`), `Parameter`"
        " constraints, `Provide` dependency",
    ),
    AppSpec(
        "fastapi",
        "FastAPI",
        "asgi",
        "benchmarks.apps.fastapi_app:app",
        ("fastapi", "starlette", "pydantic"),
        "`FastAPI()` defaults; pydantic v2 models for the body and the answer (response"
        " model), `Query` constraints, `Depends` dependency",
    ),
)

VALIDATION_ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "validate",
        "/validate",
        200,
        "json",
        {**_CUSTOMER, "nickname": None},
        "application/json",
        method="POST",
        payload=_CUSTOMER,
        invalid=InvalidRequest(
            "/validate", {**_CUSTOMER, "age": -1, "email": "ada"}, "`age` -1, `email` `ada`"
        ),
    ),
    Endpoint(
        "search",
        "/search?q=chair&limit=20&order=price",
        200,
        "json",
        {"q": "chair", "limit": 20, "order": "price", "store": "main", "currency": "EUR"},
        "application/json",
        invalid=InvalidRequest(
            "/search?q=chair&limit=500&order=price", None, "`limit` 500 (at most 100)"
        ),
    ),
)

_DB_PACKAGES = ("sqlalchemy", "asyncpg", "jinja2")

DB_APPS: tuple[AppSpec, ...] = (
    AppSpec(
        "satchel-rsgi",
        "Satchel (RSGI)",
        "rsgi",
        "benchmarks.apps.satchel_db_app:app",
        ("msgspec", *_DB_PACKAGES),
        "`App()` defaults; `satchel.db` (`Database`; both endpoints only read, through"
        " `Reads`: autocommit reads on asyncpg's prepared statements, rows as detached model"
        " instances); `satchel.templates` (`Templates(...).init_app`, which adds its request"
        " middleware, and `render`)",
    ),
    AppSpec(
        "satchel-asgi",
        "Satchel (ASGI)",
        "asgi",
        "benchmarks.apps.satchel_db_app:app",
        ("msgspec", *_DB_PACKAGES),
        "the same module as Satchel (RSGI)",
    ),
    AppSpec(
        "satchel-session",
        "Satchel (RSGI, ORM session)",
        "rsgi",
        "benchmarks.apps.satchel_db_session_app:app",
        ("msgspec", *_DB_PACKAGES),
        "as Satchel (RSGI), but reading through the ORM: a `Session` per request (BEGIN,"
        " SELECT, COMMIT), tracked instances; what handlers that also write pay",
    ),
    AppSpec(
        "django",
        "Django",
        "wsgi",
        "benchmarks.apps.django_db_app:application",
        ("django", "psycopg", "psycopg-pool"),
        "`startproject` defaults (6 contrib apps, the 7 default MIDDLEWARE, DEBUG off);"
        " the ORM on psycopg 3 with Django's connection pool (`OPTIONS['pool']`), Django"
        " templates via `render()`",
    ),
    AppSpec(
        "fastapi",
        "FastAPI",
        "asgi",
        "benchmarks.apps.fastapi_db_app:app",
        ("fastapi", "starlette", "pydantic", *_DB_PACKAGES),
        "`FastAPI()` defaults; async SQLAlchemy 2 on asyncpg (`AsyncSession` per request from"
        " a `Depends` generator), a pydantic response model, Starlette's `Jinja2Templates`",
    ),
)

DB_ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "db",
        "/db",
        200,
        "check",
        check_world,
        "application/json",
        verify_requests=5,
    ),
    Endpoint(
        "fortunes",
        "/fortunes",
        200,
        "check",
        check_fortunes,
        "text/html; charset=utf-8",
    ),
)

SUITES: tuple[Suite, ...] = (
    Suite(
        "http",
        "HTTP throughput: latest results",
        "http-throughput",
        APPS,
        ENDPOINTS,
        (Comparison("litestar"),),
    ),
    Suite(
        "validation",
        "Validation: latest results",
        "validation",
        VALIDATION_APPS,
        VALIDATION_ENDPOINTS,
        (Comparison("fastapi", 2.0), Comparison("litestar", 1.3)),
    ),
    Suite(
        "db",
        "Database: latest results",
        "db",
        DB_APPS,
        DB_ENDPOINTS,
        (Comparison("django", 2.0), Comparison("fastapi", 1.0)),
        prepare=prepare,
        min_warmup_s=1,
    ),
)


def select(names: str | None, available: tuple[Any, ...], kind: str) -> list[Any]:
    """Pick items by comma-separated ``name`` in catalog order; ``None`` picks all.

    Raises:
        ValueError: If a name is not in the catalog.
    """
    if names is None:
        return list(available)
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    known = {item.name for item in available}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise ValueError(
            f"unknown {kind}: {', '.join(unknown)} (choose from {', '.join(sorted(known))})"
        )
    return [item for item in available if item.name in wanted]

"""What the HTTP throughput suite measures: the apps under test and the endpoints each serves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Interface = Literal["rsgi", "asgi", "wsgi"]
BodyKind = Literal["text", "json", "any"]


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
class Endpoint:
    """One request every app must answer identically (up to byte-level encoding choices).

    Attributes:
        name: Name used on the command line (``--endpoints``) and in the results.
        path: Request target, query string included.
        status: Expected status code.
        body_kind: How the body is checked: exact text, equal JSON value, or not at all.
        body: Expected text (``text``) or decoded JSON value (``json``).
        content_type: Expected ``content-type`` prefix; ``None`` accepts any.
    """

    name: str
    path: str
    status: int
    body_kind: BodyKind
    body: Any
    content_type: str | None

    @property
    def expects_error(self) -> bool:
        """Whether every response is meant to be non-2xx (wrk counts those separately)."""
        return not 200 <= self.status < 300


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

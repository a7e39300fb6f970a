"""What the database suite's apps share: where the tables are, the pool size, the data.

The tables follow the TechEmpower benchmark: ``world`` (10,000 rows of ``id`` and
``randomnumber``, both 1-10,000) and ``fortune`` (the 12 standard rows). They live in the
schema ``satchel_bench`` of the test database; every app selects it with ``search_path``
when its connections open, so no query names the schema. ``benchmarks/worlddb.py`` creates
and fills them.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from urllib.parse import urlsplit

POSTGRES_URL = os.environ.get(
    "SATCHEL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
"""A plain ``postgresql://`` URL; each app turns it into its own driver's form."""

SCHEMA = "satchel_bench"
POOL_SIZE = 10
"""Connections in every app's pool, opened once and kept: no overflow, no reconnects."""

WORLD_ROWS = 10_000
ADDED_FORTUNE = "Additional fortune added at request time."
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
"""Holds ``fortunes.html``, whose syntax both Jinja2 and Django's engine read the same way."""

FORTUNES: tuple[tuple[int, str], ...] = (
    (1, "fortune: No such file or directory"),
    (2, "A computer scientist is someone who fixes things that aren't broken."),
    (3, "After enough decimal points, nobody gives a damn."),
    (4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"),
    (5, "A computer program does what you tell it to do, not what you want it to do."),
    (6, "Emacs is a nice operating system, but I prefer UNIX. \u2014 Tom Christaensen"),
    (7, "Any program that runs right is obsolete."),
    (8, "A list is only as strong as its weakest link. \u2014 Donald Knuth"),
    (9, "Feature: A bug with seniority."),
    (10, "Computers make very fast, very accurate mistakes."),
    (11, '<script>alert("This should not be displayed in a browser alert box.");</script>'),
    (12, "\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de\u30fc\u30af"),
)
"""The standard rows of ``fortune``, by id."""


def asyncpg_url() -> str:
    """``POSTGRES_URL`` for SQLAlchemy on asyncpg."""
    return "postgresql+asyncpg://" + POSTGRES_URL.split("://", 1)[1]


def url_parts() -> dict[str, str]:
    """``POSTGRES_URL`` split into Django's ``DATABASES`` keys."""
    parts = urlsplit(POSTGRES_URL)
    return {
        "NAME": parts.path.lstrip("/"),
        "USER": parts.username or "",
        "PASSWORD": parts.password or "",
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
    }


def random_id() -> int:
    """A random primary key of ``world``."""
    return random.randint(1, WORLD_ROWS)

"""Satchel on PostgreSQL: ``satchel.db`` models read with ``Reads``, ``satchel.templates``.

Both endpoints only read, so they use the fast read path (docs/database.md, "Fast reads"):
one autocommit round trip on asyncpg's prepared statements, rows as detached model
instances. Served both as RSGI and as ASGI (``--interface rsgi|asgi``).
"""

from operator import attrgetter
from typing import Any

import msgspec

from benchmarks.apps.techempower import (
    ADDED_FORTUNE,
    POOL_SIZE,
    SCHEMA,
    TEMPLATES_DIR,
    asyncpg_url,
    random_id,
)
from satchel import App, HTMLResponse
from satchel.db import Database, Mapped, Model, Reads, mapped_column, select
from satchel.templates import Templates, render


class World(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    randomnumber: Mapped[int]


class Fortune(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str]


class WorldOut(msgspec.Struct):
    id: int
    randomNumber: int  # the TechEmpower answer's key


def database_options() -> dict[str, Any]:
    """The Database of both Satchel apps: the benchmark's pool, on its schema."""
    return {
        "url": asyncpg_url(),
        "pool_size": POOL_SIZE,
        "max_overflow": 0,
        "engine_options": {"connect_args": {"server_settings": {"search_path": SCHEMA}}},
    }


app = App()
Database(**database_options()).init_app(app)
Templates(TEMPLATES_DIR).init_app(app)


ALL_FORTUNES = select(Fortune)  # compiled once, on its first run


@app.get("/db")
async def single_row(reads: Reads) -> WorldOut:
    world = await reads.get_or_404(World, random_id())
    return WorldOut(world.id, world.randomnumber)


@app.get("/fortunes")
async def fortunes(reads: Reads) -> HTMLResponse:
    rows = await reads.scalars(ALL_FORTUNES)
    rows.append(Fortune(id=0, message=ADDED_FORTUNE))
    rows.sort(key=attrgetter("message"))
    return await render("fortunes.html", {"fortunes": rows})

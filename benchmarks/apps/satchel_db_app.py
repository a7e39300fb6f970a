"""Satchel on PostgreSQL: ``satchel.db`` models and a session per request, ``satchel.templates``.

Served both as RSGI and as ASGI (``--interface rsgi|asgi``), as docs/database.md shows it.
"""

from operator import attrgetter

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
from satchel.db import Database, Mapped, Model, Session, mapped_column, select
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


app = App()
database = Database(
    asyncpg_url(),
    pool_size=POOL_SIZE,
    max_overflow=0,
    engine_options={"connect_args": {"server_settings": {"search_path": SCHEMA}}},
)
database.init_app(app)
Templates(TEMPLATES_DIR).init_app(app)


@app.get("/db")
async def single_row(db: Session) -> WorldOut:
    world = await db.get_or_404(World, random_id())
    return WorldOut(world.id, world.randomnumber)


@app.get("/fortunes")
async def fortunes(db: Session) -> HTMLResponse:
    rows = list(await db.scalars(select(Fortune)))
    rows.append(Fortune(id=0, message=ADDED_FORTUNE))
    rows.sort(key=attrgetter("message"))
    return await render("fortunes.html", {"fortunes": rows})

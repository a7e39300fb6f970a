"""Satchel on PostgreSQL through the ORM: a ``Session`` per request, committed after the handler.

The same models and template as ``satchel_db_app``, read the way handlers that also
write would read: tracked ORM instances in a transaction (BEGIN, SELECT, COMMIT).
Shown beside the ``Reads`` figures so that both costs are on record.
"""

from operator import attrgetter

from benchmarks.apps.satchel_db_app import Fortune, World, WorldOut, database_options
from benchmarks.apps.techempower import ADDED_FORTUNE, TEMPLATES_DIR, random_id
from satchel import App, HTMLResponse
from satchel.db import Database, Session, select
from satchel.templates import Templates, render

app = App()
Database(**database_options()).init_app(app)
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

"""The Satchel demo app: notes in SQLite, as a JSON API and as server-rendered pages.

Run it with ``scripts/demo`` (or ``satchel run app:app`` from this folder) and open
http://127.0.0.1:8000/ : the pages are under /notes, the API under /api/notes and its
documentation at /docs.

It runs on embedded defaults, with nothing to set up:

- **Database**: ``Database.from_settings``, so ``SATCHEL_DATABASE_URL`` chooses it; by
  default the SQLite file ``satchel.db`` in the working directory (a PostgreSQL URL
  works too). The table is created at startup with ``create_all`` (and a welcome note
  added to an empty one): fine for a demo whose schema never changes; a real app keeps
  its schema in migrations (``satchel db makemigrations``). The demo's models have a
  ``MetaData`` of their own, so ``create_all`` creates only their table, whatever else
  the process has imported (the test suite imports many models).
- **Sessions** (for flash messages) live in a signed cookie. Without
  ``SATCHEL_SECRET_KEY``, Satchel signs with a random key made for this process and
  logs a warning: sessions and flash messages end when the server restarts. Set the
  variable (50 random characters or more) to keep them; it is used as given.
- **Templates** come from ``templates/`` and the stylesheet from ``static/`` next to
  this file, whatever the working directory. The default Content-Security-Policy
  refuses inline styles, so every style is in ``static/demo.css``.
- **Users** (``satchel.auth``): reading notes is open to all; writing a note (the form
  at /notes/new, ``POST /api/notes``) and deleting one (``DELETE /api/notes/{id}``)
  need a login. Browsers are sent to the login page at /auth/login (its template,
  ``templates/auth/base.html``, takes the demo's layout); the API answers 401, as its
  OpenAPI document says. The users' tables are created with the notes' (a real app
  migrates them). Create a user from this folder with
  ``satchel --app app:app createsuperuser`` (it asks for a name and a password), then
  log in.

``create_app(settings)`` builds a fresh app (tests give each one its own database);
``app`` is the one ``satchel run app:app`` serves, configured from the environment.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa

import satchel.auth.token  # declares the default token model's table, auth_token
import satchel.auth.user  # noqa: F401  (declares the default user model's, auth_user)
from satchel import (
    App,
    Conflict,
    HTMLResponse,
    NotFound,
    Query,
    RedirectResponse,
    Request,
    ResponseDoc,
    Router,
    Settings,
    State,
    StreamingResponse,
)
from satchel.auth import Auth, login_required
from satchel.db import Database, DbSession, Mapped, Model, ModelSchema, Session, mapped_column
from satchel.db.models import NAMING_CONVENTION
from satchel.forms import ModelForm, StringField, TextField
from satchel.openapi import OpenAPIConfig
from satchel.sessions import SessionMiddleware, flash
from satchel.staticfiles import StaticFiles
from satchel.templates import Templates, render

HERE = Path(__file__).resolve().parent

#: New notes are refused (409) past this many: the demo is open to anyone who reaches it.
MAX_NOTES = 10_000
#: Notes per page on /notes.
PAGE_SIZE = 10
#: The largest id an ``Integer`` column holds: larger ids name no note (404, like any
#: unknown id), rather than reach the database, which cannot compare them with the column.
MAX_NOTE_ID = 2**31 - 1

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text = Annotated[str, msgspec.Meta(max_length=10_000)]
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=30, pattern=r"^[a-z0-9-]+$")]
Tags = Annotated[list[Tag], msgspec.Meta(max_length=10)]

#: The tables of ``satchel.auth``'s default models (users, groups, permissions, tokens).
AUTH_TABLES = (
    "auth_user",
    "auth_group",
    "auth_permission",
    "auth_group_permissions",
    "auth_user_groups",
    "auth_user_permissions",
    "auth_token",
)


# -- storage -----------------------------------------------------------------------------


class DemoModel(Model):
    """Base of the demo's models: Satchel's ``Model`` with a ``MetaData`` of its own."""

    __abstract__ = True
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class Note(DemoModel):
    """A note (table ``note``)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    # A JSON list: tags belong to their note and keep their order, so no table of their own.
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)


def tagged(tag: str) -> sa.ColumnElement[bool]:
    """Whether a note has ``tag``, on any database.

    A tag matches ``^[a-z0-9-]+$``, so in the column's JSON text it is exactly
    ``"tag"``: no escapes inside, and quotes on both sides, so ``"home"`` does not
    match ``"homework"``; ``autoescape`` escapes LIKE's wildcards all the same.
    """
    return sa.cast(Note.tags, sa.Text).contains(f'"{tag}"', autoescape=True)


async def get_note_or_404(db: DbSession, note_id: int) -> Note:
    """The note ``note_id``, or ``NotFound`` (also for ids no note can have)."""
    if not 1 <= note_id <= MAX_NOTE_ID:
        raise NotFound("Note not found")
    return await db.get_or_404(Note, note_id)


async def ensure_room(db: DbSession) -> None:
    """Refuse a new note once the demo holds ``MAX_NOTES``."""
    if await db.count(Note) >= MAX_NOTES:
        raise Conflict(f"The demo store is full ({MAX_NOTES} notes)")


# -- the home page, and two examples -----------------------------------------------------


examples = Router()


@examples.get("/", include_in_schema=False)
async def index() -> HTMLResponse:
    return await render("index.html")


@examples.get("/hello/{name}", tags=["examples"])
async def hello(name: str) -> str:
    """Greet someone by name."""
    return f"Hello, {name}!"


@examples.get("/stream", tags=["examples"])
async def stream() -> StreamingResponse:
    """Five server-sent events, 0.2 s apart."""

    async def ticks() -> AsyncIterator[str]:
        for i in range(5):
            yield f"data: tick {i}\n\n"
            await asyncio.sleep(0.2)

    return StreamingResponse(ticks(), media_type="text/event-stream")


# -- the JSON API ------------------------------------------------------------------------


class NoteIn(ModelSchema[Note], mode="create"):
    """A note as a client writes it."""

    # Tighter than the columns: a title is never empty, a body is bounded, tags are checked.
    title: Title
    body: Text = ""
    tags: Tags = msgspec.field(default_factory=list)


class NoteOut(ModelSchema[Note]):
    """A stored note."""


api = Router(prefix="/api", name="api", tags=["notes"])
_NOT_FOUND = {404: ResponseDoc("No such note")}
#: A write logged in with the session cookie must carry its CSRF token (``X-CSRF-Token``).
_CSRF = {403: ResponseDoc("CSRF check failed: a cookie-authenticated write without its token")}


@api.get("/notes")
async def list_notes(
    db: Session,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_NOTES)] = 0,
    tag: Tag | None = None,
) -> list[NoteOut]:
    """List notes, oldest first, optionally only those with a tag."""
    query = sa.select(Note).order_by(Note.id).limit(limit).offset(offset)
    if tag is not None:
        query = query.where(tagged(tag))
    return [NoteOut.from_model(note) for note in await db.scalars(query)]


@api.get("/notes/{note_id}", responses=_NOT_FOUND)
async def get_note(note_id: int, db: Session) -> NoteOut:
    """Read one note."""
    return NoteOut.from_model(await get_note_or_404(db, note_id))


@api.post(
    "/notes",
    status_code=201,
    responses={409: ResponseDoc("The store is full"), **_CSRF},
    dependencies=[login_required],
)
async def create_note(body: NoteIn, db: Session) -> NoteOut:
    """Write a new note."""
    await ensure_room(db)
    note = body.to_model()
    db.add(note)
    await db.flush()  # the database assigns the id
    return NoteOut.from_model(note)


@api.delete(
    "/notes/{note_id}",
    status_code=204,
    responses={**_NOT_FOUND, **_CSRF},
    dependencies=[login_required],
)
async def delete_note(note_id: int, db: Session) -> None:
    """Delete a note."""
    await db.delete(await get_note_or_404(db, note_id))


# -- the pages ---------------------------------------------------------------------------


class NoteForm(ModelForm, model=Note, fields=("title", "body", "tags")):
    """The form for a new note; ``title`` comes from its column (``String(200)``)."""

    body = TextField(max_length=10_000, required=False)
    tags = StringField(
        max_length=400, required=False, help_text="Up to 10, separated by spaces: a-z, 0-9, -."
    )

    def clean(self, data: dict[str, Any]) -> None:
        if "tags" not in data:  # refused by its field already
            return
        try:  # the API's rules, so both ways in store the same tags
            data["tags"] = msgspec.convert((data["tags"] or "").split(), Tags)
        except msgspec.ValidationError:
            self.add_error("tags", "Use up to 10 tags of a-z, 0-9 and -, 30 characters at most.")


pages = Router(prefix="/notes", name="notes")  # pages: not part of the OpenAPI document


@pages.get("", include_in_schema=False)
async def note_list(
    db: Session,
    page: Annotated[int, Query(ge=1, le=MAX_NOTES)] = 1,
    tag: Tag | None = None,
) -> HTMLResponse:
    query = sa.select(Note).order_by(Note.id.desc())
    if tag is not None:
        query = query.where(tagged(tag))
    found = await db.paginate(query, page=page, size=PAGE_SIZE)
    return await render("notes/list.html", {"page": found, "tag": tag})


@pages.get("/new", include_in_schema=False, dependencies=[login_required])
async def new_note(request: Request) -> HTMLResponse:
    return await render("notes/new.html", {"form": await NoteForm.from_request(request)})


@pages.post("/new", include_in_schema=False, dependencies=[login_required])
async def create_note_page(request: Request, db: Session) -> HTMLResponse | RedirectResponse:
    form = await NoteForm.from_request(request)
    if not form.validate():
        return await render("notes/new.html", {"form": form}, status=422)
    await ensure_room(db)
    note: Note = await form.save(db)
    await flash(request, "Note created", "success")
    # 303: the browser follows with a GET, so reloading the page cannot post twice.
    return RedirectResponse(request.app.url_for("notes.note_detail", note_id=note.id), 303)


@pages.get("/{note_id:int}", include_in_schema=False)
async def note_detail(note_id: int, db: Session) -> HTMLResponse:
    return await render("notes/detail.html", {"note": await get_note_or_404(db, note_id)})


# -- the app -----------------------------------------------------------------------------


def create_tables(database: Database) -> None:
    """Create the notes' and the users' tables, if missing, before anything uses them.

    Done when the app is created, not at startup, so that ``satchel createsuperuser``
    (which does not start the app) finds the users' table on a fresh database too.
    """
    engine = database.sync_engine
    try:
        DemoModel.metadata.create_all(engine)
        tables = Model.metadata.tables
        Model.metadata.create_all(engine, tables=[tables[name] for name in AUTH_TABLES])
    finally:
        engine.dispose()  # the app's own connections are async ones


def create_app(settings: Settings | None = None) -> App[State]:
    """The demo app, configured by ``settings`` (by default, from the environment)."""
    settings = settings if settings is not None else Settings.from_env()
    app = App(
        settings=settings,
        openapi=OpenAPIConfig(title="Satchel demo: notes", version="1.0"),
    )
    database = Database.from_settings(settings)
    database.init_app(app)
    Templates(HERE / "templates").init_app(app)
    StaticFiles(HERE / "static").init_app(app)
    app.add_middleware(SessionMiddleware())
    Auth().init_app(app)  # the login pages under /auth, and login_required
    create_tables(database)

    @app.on_startup
    async def seed() -> None:
        async with database.transaction() as db:
            if not await db.exists(Note):
                body = "Satchel is running on embedded defaults."
                db.add(Note(title="Welcome", body=body, tags=["hello"]))

    app.include(examples)
    app.include(api)
    app.include(pages)
    return app


app = create_app()

"""The Satchel demo app: a small notes API on embedded defaults.

Run it with ``scripts/demo`` (or ``satchel run app:app`` from this folder) and
open http://127.0.0.1:8000/ ; the API is documented at /docs.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Annotated

import msgspec

from satchel import (
    App,
    Conflict,
    Depends,
    HTMLResponse,
    NotFound,
    Query,
    ResponseDoc,
    Router,
    StreamingResponse,
)
from satchel.openapi import OpenAPIConfig

#: The in-memory store refuses new notes past this many (the demo keeps no database).
MAX_NOTES = 10_000

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=30, pattern=r"^[a-z0-9-]+$")]


class NoteIn(msgspec.Struct, forbid_unknown_fields=True):
    """A note as a client writes it."""

    title: Title
    body: Annotated[str, msgspec.Meta(max_length=10_000)] = ""
    tags: Annotated[list[Tag], msgspec.Meta(max_length=10)] = []


class Note(NoteIn, kw_only=True):
    """A stored note."""

    id: int


class NoteStore:
    """Typed application state: an in-memory note store."""

    def __init__(self) -> None:
        self.notes: dict[int, Note] = {}
        self.ids = itertools.count(1)

    def add(self, note: NoteIn) -> Note:
        if len(self.notes) >= MAX_NOTES:
            raise Conflict(f"The demo store is full ({MAX_NOTES} notes)")
        stored = Note(title=note.title, body=note.body, tags=list(note.tags), id=next(self.ids))
        self.notes[stored.id] = stored
        return stored

    def get(self, note_id: int) -> Note:
        note = self.notes.get(note_id)
        if note is None:
            raise NotFound(f"No note {note_id}")
        return note


app = App(
    state=NoteStore(),
    openapi=OpenAPIConfig(title="Satchel demo: notes", version="1.0"),
)


@app.on_startup
def seed() -> None:
    app.state.add(NoteIn("Welcome", "Satchel is running on embedded defaults.", ["hello"]))


def notes_store(app: App[NoteStore]) -> NoteStore:
    """The note store, as a dependency (a database session in a real app)."""
    return app.state


Store = Annotated[NoteStore, Depends(notes_store)]


@app.get("/", include_in_schema=False)
def index() -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Satchel demo</title>"
        "</head><body><main><h1>Satchel demo</h1>"
        "<p>A notes API: see <a href='/docs'>the API docs</a>, <code>/api/notes</code>, "
        "<code>/hello/you</code>, <code>/stream</code>.</p></main></body></html>"
    )


@app.get("/hello/{name}", tags=["examples"])
async def hello(name: str) -> str:
    """Greet someone by name."""
    return f"Hello, {name}!"


@app.get("/stream", tags=["examples"])
async def stream() -> StreamingResponse:
    """Five server-sent events, 0.2 s apart."""

    async def ticks() -> AsyncIterator[str]:
        for i in range(5):
            yield f"data: tick {i}\n\n"
            await asyncio.sleep(0.2)

    return StreamingResponse(ticks(), media_type="text/event-stream")


api = Router(prefix="/api", name="api", tags=["notes"])
_NOT_FOUND = {404: ResponseDoc("No such note")}


@api.get("/notes")
async def list_notes(
    store: Store,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
    tag: Tag | None = None,
) -> list[Note]:
    """List notes, oldest first, optionally only those with a tag."""
    notes = [n for n in store.notes.values() if tag is None or tag in n.tags]
    return notes[offset : offset + limit]


@api.get("/notes/{note_id}", responses=_NOT_FOUND)
async def get_note(note_id: int, store: Store) -> Note:
    """Read one note."""
    return store.get(note_id)


@api.post("/notes", status_code=201, responses={409: ResponseDoc("The store is full")})
async def create_note(note: NoteIn, store: Store) -> Note:
    """Write a new note."""
    return store.add(note)


@api.delete("/notes/{note_id}", status_code=204, responses=_NOT_FOUND)
async def delete_note(note_id: int, store: Store) -> None:
    """Delete a note."""
    store.get(note_id)
    del store.notes[note_id]


app.include(api)

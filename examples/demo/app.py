"""The Satchel demo app: a small notes API on embedded defaults.

Run it with ``scripts/demo`` (or ``satchel run app:app`` from this folder) and
open http://127.0.0.1:8000/.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass

from satchel import (
    App,
    HTMLResponse,
    NotFound,
    Request,
    Router,
    StreamingResponse,
    UnprocessableEntity,
)


@dataclass
class Note:
    id: int
    title: str
    body: str


class DemoState:
    """Typed application state: an in-memory note store."""

    def __init__(self) -> None:
        self.notes: dict[int, Note] = {}
        self.ids = itertools.count(1)

    def add(self, title: str, body: str) -> Note:
        note = Note(next(self.ids), title, body)
        self.notes[note.id] = note
        return note


app = App(state=DemoState())


@app.on_startup
def seed() -> None:
    app.state.add("Welcome", "Satchel is running on embedded defaults.")


@app.get("/")
def index() -> HTMLResponse:
    items = "".join(
        f'<li><a href="/api/notes/{n.id}">note {n.id}</a></li>' for n in app.state.notes.values()
    )
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Satchel demo</title>"
        f"</head><body><main><h1>Satchel demo</h1><ul>{items}</ul>"
        "<p>Try <code>/api/notes</code>, <code>/hello/you</code>, <code>/stream</code>.</p>"
        "</main></body></html>"
    )


@app.get("/hello/{name}")
async def hello(name: str) -> str:
    return f"Hello, {name}!"


@app.get("/stream")
async def stream() -> StreamingResponse:
    async def ticks() -> AsyncIterator[str]:
        for i in range(5):
            yield f"data: tick {i}\n\n"
            await asyncio.sleep(0.2)

    return StreamingResponse(ticks(), media_type="text/event-stream")


api = Router(prefix="/api", name="api")


@api.get("/notes")
async def list_notes() -> list[Note]:
    return list(app.state.notes.values())


@api.get("/notes/{note_id}")
async def get_note(note_id: int) -> Note:
    note = app.state.notes.get(note_id)
    if note is None:
        raise NotFound(f"No note {note_id}")
    return note


@api.post("/notes", status_code=201)
async def create_note(request: Request) -> Note:
    data = await request.json()
    title, body = data.get("title"), data.get("body", "")
    if not isinstance(title, str) or not title or not isinstance(body, str):
        raise UnprocessableEntity("'title' must be a non-empty string and 'body' a string")
    return app.state.add(title, body)


app.include(api)

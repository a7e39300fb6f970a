"""The app the security tests attack, in process and under Granian.

Its limits are small, so that every limit is crossed with little data, and uploads
over 1 KiB are spooled to disk, so that a leaked temporary file would show.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from satchel import App, CallNext, FileResponse, Request, Response, Settings, WebSocket
from satchel.redirects import safe_redirect

__all__ = ["MAX_BODY", "MAX_FIELDS", "MAX_FILES", "MAX_UPLOAD", "SERVED_FILE", "app", "build_app"]

MAX_BODY = 64 * 1024
MAX_UPLOAD = 1024 * 1024
MAX_FIELDS = 50
MAX_FILES = 5
#: What ``/file`` serves: this module's source.
SERVED_FILE = Path(__file__)


def build_app() -> App[Any]:
    """A fresh app: raw, JSON and form bodies, a file, and a log of the requests it saw."""
    app = App(
        settings=Settings(
            max_body_size=MAX_BODY,
            max_upload_size=MAX_UPLOAD,
            max_form_fields=MAX_FIELDS,
            max_form_files=MAX_FILES,
            spool_max_size=1024,
            access_log=False,
        )
    )
    _record_requests(app)
    _add_body_routes(app)
    _add_other_routes(app)
    return app


def _record_requests(app: App[Any]) -> None:
    """Note every request and its outcome; ``GET /seen`` tells them (and forgets them)."""
    seen: list[str] = []

    async def record(request: Request, call_next: CallNext) -> Response:
        if request.url.path == "/seen":
            return await call_next(request)
        outcome = "failed"  # an exception on its way to the error handler
        try:
            response = await call_next(request)
            outcome = str(response.status_code)
            return response
        finally:
            seen.append(f"{request.method} {request.url.path} {outcome}")

    app.add_middleware(record)

    @app.get("/seen")
    async def seen_requests() -> list[str]:
        answer = list(seen)
        seen.clear()
        return answer


def _add_body_routes(app: App[Any]) -> None:
    @app.post("/body")
    async def body(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    @app.post("/json")
    async def json_body(request: Request) -> object:
        return await request.json()

    @app.post("/form")
    async def form(request: Request) -> dict[str, Any]:
        data = await request.form()
        files = [[upload.filename, upload.size] for _, upload in data.files()]
        return {"fields": len(data.fields()), "files": files}


def _add_other_routes(app: App[Any]) -> None:
    @app.get("/")
    async def index() -> str:
        return "ok"

    @app.get("/file")
    async def file() -> FileResponse:
        return FileResponse(SERVED_FILE, media_type="text/plain")

    @app.get("/note")
    async def note(request: Request) -> Response:
        """Echoes a query parameter into a header: the classic response-splitting bug."""
        return Response("noted", headers={"x-note": request.query_params.get("v", "")})

    @app.get("/go")
    async def go(request: Request) -> Response:
        """Redirects to ``?next=`` the documented way."""
        return safe_redirect(request.query_params.get("next"), fallback="/")

    @app.websocket("/ws")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        async for text in ws.iter_text():
            await ws.send_text(text)


app = build_app()

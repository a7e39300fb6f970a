"""A shop API that uses every documented feature, for the OpenAPI tests.

Every input kind (path, query, header, cookie, JSON body, urlencoded and
multipart forms with files, models gathering query parameters or headers),
dependencies that read inputs, nested and shared models, a pydantic model,
routers with prefixes and tags, security, extra responses, a WebSocket.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import AsyncIterator
from typing import Annotated, Any, TypedDict

import msgspec
import pydantic

from satchel import (
    App,
    Cookie,
    Depends,
    File,
    Form,
    Header,
    HTMLResponse,
    Path,
    Query,
    ResponseDoc,
    Router,
    Settings,
    UploadFile,
)
from satchel.openapi import OpenAPIConfig
from satchel.websockets import WebSocket

__all__ = ["SCHEMES", "make_app"]


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Label(msgspec.Struct):
    """A label on an item."""

    name: str


class NewItem(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    price: Annotated[float, msgspec.Meta(gt=0)]
    labels: list[Label] = []
    color: Color | None = None


class Item(NewItem, kw_only=True):
    id: int


@dataclasses.dataclass
class Page:
    number: Annotated[int, msgspec.Meta(ge=1, description="Page number")] = 1
    size: Annotated[int, msgspec.Meta(le=100)] = 20


class Trace(msgspec.Struct):
    x_trace_id: str
    x_span_id: str | None = None


class Stats(TypedDict):
    count: int


class Review(pydantic.BaseModel):
    stars: int = pydantic.Field(ge=1, le=5)
    text: str


class Profile(msgspec.Struct):
    nickname: str
    age: Annotated[int, msgspec.Meta(ge=0)] | None = None


SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}


async def current_user(authorization: Annotated[str, Header()]) -> str:
    return authorization


def pagination(
    limit: Annotated[int, Query(ge=1, le=100, description="How many")] = 10, offset: int = 0
) -> tuple[int, int]:
    return limit, offset


async def db_session() -> AsyncIterator[str]:
    yield "session"


def make_app() -> App[Any]:
    app = App(
        settings=Settings(),
        openapi=OpenAPIConfig(
            title="Shop",
            version="2.0",
            description="The shop's API.",
            servers=({"url": "https://shop.example.com"},),
            security_schemes=SCHEMES,
            security=({"bearerAuth": []},),
            tags=({"name": "items", "description": "What the shop sells"},),
        ),
    )
    app.include(api_router())
    add_form_and_page_routes(app)
    return app


def api_router() -> Router:
    api = Router(prefix="/api/v1", name="api", tags=["api"])
    reviews = Router(prefix="/reviews", name="reviews", tags=["reviews"])

    @api.post("/items", status_code=201, tags=["items"], responses={409: ResponseDoc("Exists")})
    async def create_item(
        item: NewItem,
        session: str = Depends(db_session),
        user: str = Depends(current_user),
        x_request_id: Annotated[str | None, Header()] = None,
    ) -> Item:
        """Create an item.

        The new item gets an id.
        """
        return Item(name=item.name, price=item.price, id=1)

    @api.get("/items", tags=["items"])
    async def list_items(
        page: Annotated[Page, Query()],
        trace: Annotated[Trace, Header()],
        paging: tuple[int, int] = Depends(pagination),
        label: list[str] = [],  # noqa: B006 - never mutated
        q: str | None = None,
        sort: Annotated[str, Query(alias="sort-by", pattern="^[a-z]+$")] = "name",
        old: Annotated[int | None, Query(deprecated=True, description="Use page")] = None,
        debug: Annotated[bool, Query(include_in_schema=False)] = False,
        session_id: Annotated[str | None, Cookie()] = None,
    ) -> list[Item]:
        return []

    @api.get(
        "/items/{item_id}",
        tags=["items"],
        operation_id="fetchItem",
        summary="Fetch one item",
        responses={404: "No such item", 200: "The item", 202: ResponseDoc("Later", Stats)},
    )
    async def get_item(item_id: Annotated[int, Path(ge=1)]) -> Item:
        return Item(name="x", price=1, id=item_id)

    @api.delete("/items/{item_id}", tags=["items"], deprecated=True)
    async def delete_item(item_id: int) -> None:
        return None

    @api.route("/stats", methods=["GET", "POST"], security=[{"apiKey": []}])
    async def stats() -> Stats:
        return {"count": 1}

    @reviews.post("", description="Post a review.")
    async def post_review(review: Review) -> Review:
        return review

    @reviews.get("/{review_id:int}/text", security=[])
    async def review_text(review_id: int) -> str:
        return "text"

    api.include(reviews)
    return api


def add_form_and_page_routes(app: App[Any]) -> None:
    @app.post("/profile")
    async def upload_profile(
        nickname: Annotated[str, Form(min_length=2)],
        avatar: UploadFile,
        extras: Annotated[list[UploadFile], File()],
        motto: Annotated[str | None, Form()] = None,
    ) -> Profile:
        return Profile(nickname=nickname)

    @app.post("/login", security=[])
    async def login(
        username: Annotated[str, Form()], password: Annotated[str, Form(min_length=8)]
    ) -> None:
        return None

    @app.post("/profile/settings")
    async def profile_settings(profile: Annotated[Profile, Form()]) -> dict[str, int]:
        return {}

    @app.get("/files/{rest:path}")
    async def download(rest: str) -> bytes:
        return b""

    @app.get("/home")
    async def home() -> HTMLResponse:
        return HTMLResponse("<p>home</p>")

    @app.get("/hidden", include_in_schema=False)
    async def hidden() -> str:
        return "no"

    @app.websocket("/ws")
    async def chat(socket: WebSocket) -> None:
        await socket.close()

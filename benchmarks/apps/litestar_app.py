"""Litestar as its quickstart shows it: typed handlers, query parameters as arguments."""

from litestar import Litestar, MediaType, get


@get("/plaintext", media_type=MediaType.TEXT)
async def plaintext() -> str:
    return "Hello, World!"


@get("/json")
async def json() -> dict[str, str]:
    return {"message": "Hello, World!"}


@get("/users/{user_id:int}")
async def user(user_id: int) -> dict[str, int]:
    return {"id": user_id}


@get("/query")
async def query(name: str | None = None) -> dict[str, str | None]:
    return {"name": name}


app = Litestar(route_handlers=[plaintext, json, user, query])

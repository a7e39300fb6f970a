"""Litestar as its quickstart shows it: typed handlers, query parameters as arguments."""

from typing import Annotated

from litestar import Litestar, MediaType, get, post
from litestar.di import Provide
from litestar.params import Parameter

from benchmarks.apps.customers import Customer, SearchPage, SortOrder, Storefront, storefront


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


# The validation suite: a Struct body, constrained query parameters and a dependency.


@post("/validate", status_code=200)
async def validate(data: Customer) -> Customer:
    return data


@get("/search", dependencies={"store": Provide(storefront)})
async def search(
    q: Annotated[str, Parameter(min_length=1, max_length=50)],
    store: Storefront,
    limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
    order: SortOrder = "relevance",
) -> SearchPage:
    return SearchPage(q, limit, order, store.name, store.currency)


app = Litestar(route_handlers=[plaintext, json, user, query, validate, search])

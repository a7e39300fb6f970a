"""Satchel: one module served both as RSGI and as ASGI (``--interface rsgi|asgi``)."""

from typing import Annotated

from benchmarks.apps.customers import Customer, SearchPage, SortOrder, Storefront, storefront
from satchel import App, Depends, Query, Request

app = App()


@app.get("/plaintext")
async def plaintext() -> str:
    return "Hello, World!"


@app.get("/json")
async def json() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/users/{user_id}")
async def user(user_id: int) -> dict[str, int]:
    return {"id": user_id}


@app.get("/query")
async def query(request: Request) -> dict[str, str | None]:
    return {"name": request.query_params.get("name")}


# The validation suite: a Struct body, constrained query parameters and a dependency.


@app.post("/validate")
async def validate(customer: Customer) -> Customer:
    return customer


@app.get("/search")
async def search(
    q: Annotated[str, Query(min_length=1, max_length=50)],
    store: Annotated[Storefront, Depends(storefront)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    order: Annotated[SortOrder, Query()] = "relevance",
) -> SearchPage:
    return SearchPage(q, limit, order, store.name, store.currency)

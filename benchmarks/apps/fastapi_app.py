"""FastAPI as its tutorial shows it: typed handlers (return types become response models)."""

import uuid
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from benchmarks.apps.customers import EMAIL_PATTERN, ZIP_PATTERN, Storefront, storefront

app = FastAPI()


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext() -> str:
    return "Hello, World!"


@app.get("/json")
async def json() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/users/{user_id}")
async def user(user_id: int) -> dict[str, int]:
    return {"id": user_id}


@app.get("/query")
async def query(name: str | None = None) -> dict[str, str | None]:
    return {"name": name}


# The validation suite: the rules of benchmarks.apps.customers as pydantic v2 models.


class Address(BaseModel):
    street: Annotated[str, Field(min_length=1, max_length=100)]
    city: Annotated[str, Field(min_length=1, max_length=50)]
    zip_code: Annotated[str, Field(pattern=ZIP_PATTERN)]


class Customer(BaseModel):
    id: uuid.UUID
    name: Annotated[str, Field(min_length=1, max_length=100)]
    email: Annotated[str, Field(pattern=EMAIL_PATTERN, max_length=254)]
    age: Annotated[int, Field(ge=0, le=150)]
    credit_limit: Annotated[float, Field(gt=0)]
    newsletter: bool
    tags: Annotated[list[str], Field(max_length=10)]
    tier: Literal["free", "pro", "enterprise"]
    address: Address
    nickname: Annotated[str | None, Field(max_length=30)] = None


SortOrder = Literal["relevance", "price", "newest"]


class SearchPage(BaseModel):
    q: str
    limit: int
    order: SortOrder
    store: str
    currency: str


@app.post("/validate")
async def validate(customer: Customer) -> Customer:
    return customer


@app.get("/search")
async def search(
    q: Annotated[str, Query(min_length=1, max_length=50)],
    store: Annotated[Storefront, Depends(storefront)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    order: SortOrder = "relevance",
) -> SearchPage:
    return SearchPage(q=q, limit=limit, order=order, store=store.name, currency=store.currency)

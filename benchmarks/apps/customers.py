"""The validation suite's models and dependency, shared by the msgspec-based apps.

Raw RSGI, Satchel and Litestar validate with these same Structs, so their rules cannot
drift apart; FastAPI states the same rules as pydantic models in its own module.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
ZIP_PATTERN = r"^[0-9]{5}$"

Tier = Literal["free", "pro", "enterprise"]
SortOrder = Literal["relevance", "price", "newest"]


class Address(msgspec.Struct):
    """A small nested model."""

    street: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    city: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    zip_code: Annotated[str, msgspec.Meta(pattern=ZIP_PATTERN)]


class Customer(msgspec.Struct):
    """The 10-field JSON body of ``POST /validate``, echoed back as is."""

    id: uuid.UUID
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    email: Annotated[str, msgspec.Meta(pattern=EMAIL_PATTERN, max_length=254)]
    age: Annotated[int, msgspec.Meta(ge=0, le=150)]
    credit_limit: Annotated[float, msgspec.Meta(gt=0)]
    newsletter: bool
    tags: Annotated[list[str], msgspec.Meta(max_length=10)]
    tier: Tier
    address: Address
    nickname: Annotated[str, msgspec.Meta(max_length=30)] | None = None


class Storefront(msgspec.Struct, frozen=True):
    """What the dependency of ``GET /search`` provides."""

    name: str
    currency: str


class SearchPage(msgspec.Struct):
    """The answer of ``GET /search``: the validated parameters and the dependency's data."""

    q: str
    limit: int
    order: SortOrder
    store: str
    currency: str


_STOREFRONT = Storefront("main", "EUR")


async def storefront() -> Storefront:
    """The dependency: stands in for a per-request lookup (a tenant, a session)."""
    return _STOREFRONT

"""FastAPI on PostgreSQL the way its SQL guides show it: async SQLAlchemy 2 on asyncpg.

An ``AsyncSession`` per request from a ``Depends`` generator, a pydantic response model,
Starlette's ``Jinja2Templates`` (autoescaping ``.html``).
"""

from collections.abc import AsyncIterator
from operator import attrgetter
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from benchmarks.apps.techempower import (
    ADDED_FORTUNE,
    POOL_SIZE,
    SCHEMA,
    TEMPLATES_DIR,
    asyncpg_url,
    random_id,
)

engine = create_async_engine(
    asyncpg_url(),
    pool_size=POOL_SIZE,
    max_overflow=0,
    connect_args={"server_settings": {"search_path": SCHEMA}},
)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class World(Base):
    __tablename__ = "world"

    id: Mapped[int] = mapped_column(primary_key=True)
    randomnumber: Mapped[int]


class Fortune(Base):
    __tablename__ = "fortune"

    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str]


class WorldOut(BaseModel):
    id: int
    randomNumber: int  # the TechEmpower answer's key


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]

app = FastAPI()
templates = Jinja2Templates(directory=TEMPLATES_DIR)


@app.get("/db")
async def single_row(session: SessionDep) -> WorldOut:
    world = await session.get(World, random_id())
    if world is None:
        raise HTTPException(status_code=404)
    return WorldOut(id=world.id, randomNumber=world.randomnumber)


@app.get("/fortunes", response_class=HTMLResponse)
async def fortunes(request: Request, session: SessionDep) -> HTMLResponse:
    rows = list(await session.scalars(select(Fortune)))
    rows.append(Fortune(id=0, message=ADDED_FORTUNE))
    rows.sort(key=attrgetter("message"))
    return templates.TemplateResponse(request, "fortunes.html", {"fortunes": rows})

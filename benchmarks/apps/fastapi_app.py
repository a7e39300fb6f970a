"""FastAPI as its tutorial shows it: typed handlers (return types become response models)."""

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

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

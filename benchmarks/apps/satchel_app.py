"""Satchel: one module served both as RSGI and as ASGI (``--interface rsgi|asgi``)."""

from satchel import App, Request

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

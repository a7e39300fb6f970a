"""Starlette as its docs show it: a route list, no middleware beyond Starlette's defaults."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


async def plaintext(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


async def json(request: Request) -> JSONResponse:
    return JSONResponse({"message": "Hello, World!"})


async def user(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.path_params["user_id"]})


async def query(request: Request) -> JSONResponse:
    return JSONResponse({"name": request.query_params.get("name")})


app = Starlette(
    routes=[
        Route("/plaintext", plaintext),
        Route("/json", json),
        Route("/users/{user_id:int}", user),
        Route("/query", query),
    ]
)

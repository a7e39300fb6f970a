"""Flask as its quickstart shows it, served over WSGI; a returned dict becomes JSON."""

from typing import Any

from flask import Flask, Response, request

app = Flask(__name__)


@app.get("/plaintext")
def plaintext() -> Response:
    return Response("Hello, World!", mimetype="text/plain")


@app.get("/json")
def json() -> dict[str, Any]:
    return {"message": "Hello, World!"}


@app.get("/users/<int:user_id>")
def user(user_id: int) -> dict[str, Any]:
    return {"id": user_id}


@app.get("/query")
def query() -> dict[str, Any]:
    return {"name": request.args.get("name")}

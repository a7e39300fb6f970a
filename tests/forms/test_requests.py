"""Forms in a real app: CSRF tokens, redirect after POST with a flash, uploads, hostile input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from satchel import App, HTMLResponse, RedirectResponse, Request, Settings
from satchel.csrf import CSRF_HEADER
from satchel.forms import (
    BooleanField,
    ChoiceField,
    EmailField,
    FileField,
    Form,
    MultipleChoiceField,
    PasswordField,
    StringField,
    TextField,
)
from satchel.sessions import SessionMiddleware, flash, get_flashed_messages
from satchel.testing import TestClient
from tests.forms.support import BROWSER_HEADERS, SECRET_KEY, csrf_token_in
from tests.support import FORBIDDEN_IN_BODY


class CommentForm(Form):
    author = StringField(max_length=50)
    email = EmailField(required=False)
    text = TextField(max_length=500)
    rating = ChoiceField(choices=[(n, "\u2605" * n) for n in range(1, 6)])
    tags = MultipleChoiceField(choices=[("bug", "Bug"), ("idea", "Idea")], required=False)
    notify = BooleanField("Email me replies")
    password = PasswordField(required=False)
    attachment = FileField(required=False, max_size=1000, content_types=["text/plain", "image/*"])


def page(form: CommentForm) -> str:
    return (
        f'<form method="post" action="/comments" enctype="{form.enctype}">'
        f"{form}<button>Send</button></form>"
    )


def make_app() -> tuple[App[Any], list[dict[str, Any]]]:
    app = App(settings=Settings(secret_key=SECRET_KEY))
    app.add_middleware(SessionMiddleware())
    saved: list[dict[str, Any]] = []

    @app.get("/comments/new")
    async def new_comment(request: Request) -> HTMLResponse:
        form = await CommentForm.from_request(request, initial={"rating": 5})
        return HTMLResponse(page(form))

    @app.post("/comments")
    async def create_comment(request: Request) -> HTMLResponse | RedirectResponse:
        form = await CommentForm.from_request(request)
        if not form.validate():
            return HTMLResponse(page(form), status_code=422)
        data = dict(form.data)
        upload = data.pop("attachment")
        data["attachment"] = None if upload is None else (upload.filename, await upload.read())
        saved.append(data)
        await flash(request, "Thanks for your comment!", "success")
        return RedirectResponse("/comments", status_code=303)

    @app.get("/comments")
    async def comments(request: Request) -> list[str]:
        return [m.message for m in await get_flashed_messages(request)]

    return app, saved


@pytest.fixture
def app_and_saved() -> tuple[App[Any], list[dict[str, Any]]]:
    return make_app()


@pytest.fixture
def client(app_and_saved: tuple[App[Any], list[dict[str, Any]]]) -> Iterator[TestClient]:
    with TestClient(app_and_saved[0], headers=BROWSER_HEADERS) as client:
        yield client


@pytest.fixture
def token(client: TestClient) -> str:
    return csrf_token_in(client.get("/comments/new").text)


VALID = {"author": "Ada", "text": "Nice!", "rating": "4"}


def send(client: TestClient, token: str, data: Any, **options: Any) -> httpx.Response:
    """POST the form with the token in the header, so the body is only the handler's to parse."""
    return client.post("/comments", data=data, headers={CSRF_HEADER: token}, **options)


def assert_refused_with(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert not any(text in response.text for text in FORBIDDEN_IN_BODY)


def test_the_page_carries_a_csrf_token_and_the_initial_values(client: TestClient) -> None:
    response = client.get("/comments/new")
    assert response.status_code == 200
    assert "__Host-csrf=" in response.headers["set-cookie"]
    assert 'name="csrf_token" value="' in response.text
    assert '<option value="5" selected>' in response.text
    assert 'enctype="multipart/form-data"' in response.text


def test_a_post_without_the_token_is_refused(client: TestClient, token: str) -> None:
    response = client.post("/comments", data=VALID)
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    forged = client.post("/comments", data={**VALID, "csrf_token": "0" * 128})
    assert forged.status_code == 403


def test_a_post_with_the_rendered_token_succeeds_and_flashes_once(
    client: TestClient, token: str, app_and_saved: tuple[App[Any], list[dict[str, Any]]]
) -> None:
    response = client.post("/comments", data={**VALID, "notify": "on", "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/comments"
    assert client.get("/comments").json() == ["Thanks for your comment!"]
    assert client.get("/comments").json() == []
    assert app_and_saved[1] == [
        {
            "author": "Ada",
            "email": None,
            "text": "Nice!",
            "rating": 4,
            "tags": [],
            "notify": True,
            "password": None,
            "attachment": None,
        }
    ]


def test_an_invalid_post_is_shown_again_with_errors_and_a_fresh_token(
    client: TestClient, token: str
) -> None:
    data = {"author": "Ada", "email": "not an email", "rating": "4", "password": "s3cret!"}
    response = client.post("/comments", data={**data, "csrf_token": token})
    assert response.status_code == 422
    html = response.text
    assert 'value="Ada"' in html
    assert 'value="not an email"' in html
    assert "Enter a valid email address." in html
    assert "This field is required." in html  # the text
    assert "s3cret!" not in html
    fresh = csrf_token_in(html)
    assert fresh != token  # masked afresh on every render, and it verifies
    retry = client.post("/comments", data={**VALID, "csrf_token": fresh})
    assert retry.status_code == 303


def test_uploads(
    client: TestClient, token: str, app_and_saved: tuple[App[Any], list[dict[str, Any]]]
) -> None:
    ok = send(client, token, VALID, files={"attachment": ("notes.txt", b"hello", "text/plain")})
    assert ok.status_code == 303
    assert app_and_saved[1][-1]["attachment"] == ("notes.txt", b"hello")
    big = send(client, token, VALID, files={"attachment": ("big.txt", b"x" * 1001, "text/plain")})
    assert big.status_code == 422
    assert "The file is too large (1.001 kB); the limit is 1 kB." in big.text
    wrong = send(client, token, VALID, files={"attachment": ("a.exe", b"MZ", "application/x-dos")})
    assert wrong.status_code == 422
    assert "Upload a file of one of these types: text/plain, image/*." in wrong.text
    nothing = send(
        client, token, VALID, files={"attachment": ("", b"", "application/octet-stream")}
    )
    assert nothing.status_code == 303  # what browsers send when no file was chosen
    assert app_and_saved[1][-1]["attachment"] is None
    twice = send(
        client,
        token,
        VALID,
        files=[
            ("attachment", ("a.txt", b"a", "text/plain")),
            ("attachment", ("b.txt", b"b", "text/plain")),
        ],
    )
    assert twice.status_code == 422
    assert "Upload a single file." in twice.text


def test_a_file_name_sent_as_text_asks_for_multipart(client: TestClient, token: str) -> None:
    response = send(client, token, {**VALID, "attachment": "notes.txt"})
    assert response.status_code == 422
    assert "the form must be sent as multipart/form-data" in response.text


def test_a_file_where_text_belongs_is_a_field_error(client: TestClient, token: str) -> None:
    response = send(
        client,
        token,
        {"text": "x", "rating": "1"},
        files={"author": ("author.txt", b"Ada", "text/plain")},
    )
    assert response.status_code == 422
    assert "Expected text, not a file." in response.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**VALID, "author": "A" * 100_000}, "at most 50 characters (it has 100000)"),
        ({**VALID, "text": "B" * 1_000_000}, "at most 500 characters (it has 1000000)"),
        ({**VALID, "rating": "6"}, "Select a valid choice."),
        ({**VALID, "rating": "<script>"}, "Select a valid choice."),
        ({**VALID, "tags": ["bug", "admin"]}, "Select valid choices only."),
        ({**VALID, "author": ["Ada", "Eve"]}, "Enter a single value."),
        ({**VALID, "author": "Ada\x00"}, "Remove the control characters from this value."),
        ({**VALID, "author": "Ada\r\nX-Injected: 1"}, "Remove the control characters"),
        ({**VALID, "email": "a@example.com\r\nBcc: b@example.com"}, "Remove the control"),
    ],
)
def test_hostile_input_gives_field_errors(
    client: TestClient, token: str, data: dict[str, Any], message: str
) -> None:
    response = send(client, token, data)
    assert_refused_with(response, 422)
    assert message in response.text
    assert "<script>" not in response.text


def test_hostile_bodies_get_a_4xx(client: TestClient, token: str) -> None:
    urlencoded = {"content-type": "application/x-www-form-urlencoded", CSRF_HEADER: token}
    bad_utf8 = client.post("/comments", content=b"author=%FF%FE&text=x", headers=urlencoded)
    assert_refused_with(bad_utf8, 400)
    unknown = client.post(
        "/comments",
        content=b"author=x",
        headers={**urlencoded, "content-type": "application/x-www-form-urlencoded; charset=nope"},
    )
    assert_refused_with(unknown, 400)
    boundary = "b0undary"
    multipart = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="author"\r\n\r\n'.encode()
        + b"\xff\xfe\r\n"
        + f"--{boundary}--\r\n".encode()
    )
    bad_part = client.post(
        "/comments",
        content=multipart,
        headers={CSRF_HEADER: token, "content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert_refused_with(bad_part, 400)
    assert_refused_with(client.post("/comments", json=VALID, headers={CSRF_HEADER: token}), 415)
    too_big = client.post("/comments", content=b"a=" + b"x" * 3_000_000, headers=urlencoded)
    assert_refused_with(too_big, 413)
    many = "&".join(f"f{n}=x" for n in range(2000)).encode()
    assert_refused_with(client.post("/comments", content=many, headers=urlencoded), 413)

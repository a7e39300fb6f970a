"""Model forms: fields made from columns, saved through a real app on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from satchel import App, HTMLResponse, RedirectResponse, Request, Settings
from satchel.db import Database, Session
from satchel.forms import (
    BooleanField,
    ChoiceField,
    DateField,
    DecimalField,
    FloatField,
    Form,
    IntegerField,
    ModelForm,
    PasswordField,
    StringField,
    TextField,
    validators,
)
from satchel.testing import TestClient
from tests.forms.models import FormsArticle, Status
from tests.forms.support import BROWSER_HEADERS, SECRET_KEY, csrf_token_in

ALL_COLUMNS = (
    "slug",
    "title",
    "body",
    "published",
    "status",
    "views",
    "price",
    "rating",
    "day",
    "rank",
    "code",
)


class ArticleForm(ModelForm, model=FormsArticle, fields=ALL_COLUMNS):
    slug = StringField(
        max_length=40, validators=[validators.Regex(r"[a-z0-9-]+", "Use a-z, 0-9, -.")]
    )


# -- fields from columns ---------------------------------------------------------------


def test_fields_follow_the_columns() -> None:
    form = ArticleForm()
    fields = {bound.field.name: bound.field for bound in form}
    assert list(fields) == list(ALL_COLUMNS)
    title = fields["title"]
    assert isinstance(title, StringField)
    assert (title.max_length, title.required, title.label) == (200, True, "Title")
    assert isinstance(fields["body"], TextField)
    assert not fields["body"].required  # nullable
    assert isinstance(fields["published"], BooleanField)
    status = fields["status"]
    assert isinstance(status, ChoiceField)
    assert not status.required  # it has a default
    assert [(c.key, c.value) for c in status.choices] == [
        ("draft", Status.DRAFT),
        ("published", Status.PUBLISHED),
    ]
    code = fields["code"]
    assert isinstance(code, ChoiceField)
    assert [c.key for c in code.choices] == ["a", "b"]
    views = fields["views"]
    assert isinstance(views, IntegerField)
    assert (views.min_value, views.max_value) == (-(2**31), 2**31 - 1)
    rank = fields["rank"]
    assert isinstance(rank, IntegerField)
    assert (rank.min_value, rank.max_value) == (-(2**15), 2**15 - 1)
    price = fields["price"]
    assert isinstance(price, DecimalField)
    assert (price.max_digits, price.decimal_places) == (8, 2)
    assert isinstance(fields["rating"], FloatField)
    assert isinstance(fields["day"], DateField)


def test_a_declared_field_replaces_the_derived_one() -> None:
    slug = ArticleForm.slug
    assert len(slug.validators) == 1
    assert ArticleForm.model_fields == ALL_COLUMNS
    plain: Any = type("Plain", (ModelForm,), {}, model=FormsArticle, fields=("slug",))
    assert plain.slug.help_text == "Lower-case, in the URL."  # the column's doc
    assert plain.slug.validators == []


def test_only_the_listed_columns_can_be_set() -> None:
    class TitleForm(ModelForm, model=FormsArticle, fields=("title",), csrf=False):
        note = StringField(required=False)  # on the form, not copied to the model

    form = TitleForm({"title": "New", "slug": "hijack", "views": "999", "note": "hi"})
    assert form.validate()
    article = FormsArticle(slug="kept", title="Old", views=1)
    form.populate(article)
    assert (article.slug, article.title, article.views) == ("kept", "New", 1)
    assert not hasattr(article, "note")


def test_empty_optional_fields_set_null_only_where_null_is_allowed() -> None:
    class EditForm(ModelForm, model=FormsArticle, fields=("body", "views", "status"), csrf=False):
        pass

    form = EditForm({"body": "", "views": "", "status": ""})
    assert form.validate()
    article = FormsArticle(body="old", views=7, status=Status.PUBLISHED)
    form.populate(article)
    assert (article.body, article.views, article.status) == (None, 7, Status.PUBLISHED)


def test_an_edited_object_gives_the_initial_values() -> None:
    article = FormsArticle(
        slug="s", title="T", status=Status.PUBLISHED, price=Decimal("1.50"), day=date(2024, 1, 2)
    )
    form = ArticleForm(obj=article, initial={"title": "Override"}, request=None)
    assert form.obj is article
    assert form.title.value == "Override"
    assert form.status.value == "published"
    assert form.price.value == "1.50"
    assert form.day.value == "2024-01-02"


def test_mistakes_in_the_declaration_are_reported() -> None:
    with pytest.raises(TypeError, match=r"needs fields=\(\.\.\.\)"):
        type("NoFields", (ModelForm,), {}, model=FormsArticle)
    with pytest.raises(TypeError, match=r"needs fields=\(\.\.\.\)"):
        type("StringFields", (ModelForm,), {}, model=FormsArticle, fields="title")
    with pytest.raises(TypeError, match="FormsArticle has no column 'titel'"):
        type("Typo", (ModelForm,), {}, model=FormsArticle, fields=("titel",))
    with pytest.raises(TypeError, match="No form field for column 'created_at'"):
        type("Unsupported", (ModelForm,), {}, model=FormsArticle, fields=("created_at",))
    with pytest.raises(TypeError, match="is not a mapped model class"):
        type("NotAModel", (ModelForm,), {}, model=dict, fields=("title",))


def test_a_declared_field_may_stand_for_a_non_column() -> None:
    class PasswordForm(ModelForm, model=FormsArticle, fields=("title", "secret"), csrf=False):
        secret = PasswordField()  # set through a property or a setter of the model, say

    form = PasswordForm({"title": "T", "secret": "x"})
    assert form.validate()
    target: dict[str, Any] = {}

    class Recorder:
        def __setattr__(self, name: str, value: Any) -> None:
            target[name] = value

    form.populate(Recorder())
    assert target == {"title": "T", "secret": "x"}


def test_a_write_only_attribute_has_no_initial_value() -> None:
    class Account:
        title = "T"
        secret = property(fset=lambda self, value: None)  # a setter only, as for a password

    class PasswordForm(ModelForm, model=FormsArticle, fields=("title", "secret")):
        secret = PasswordField()

    form = PasswordForm(obj=Account())
    assert form.title.value == "T"
    assert form.secret.initial is None


def test_a_subclass_that_removes_a_field_leaves_its_column_alone() -> None:
    class TitleOnly(ArticleForm, csrf=False):
        body = None

    assert "body" not in TitleOnly.model_fields
    form = TitleOnly({"slug": "s", "title": "New"})
    assert form.validate()
    article = FormsArticle(slug="s", title="Old", body="kept")
    form.populate(article)
    assert (article.title, article.body) == ("New", "kept")
    with pytest.raises(TypeError, match="lists 'body' in fields and removes it"):
        type("Both", (ModelForm,), {"body": None}, model=FormsArticle, fields=("body",))


def test_saving_needs_a_valid_form_and_a_model() -> None:
    async def never(*args: Any) -> None:
        raise AssertionError("no database work for an invalid form")

    form = ArticleForm({"title": ""})
    form.validate()
    with pytest.raises(RuntimeError, match="validate\\(\\) found valid"):
        __import__("asyncio").run(form.save(never))  # type: ignore[arg-type]

    class Abstract(ModelForm, csrf=False):
        title = StringField()

    abstract = Abstract({"title": "x"})
    assert abstract.validate()
    with pytest.raises(TypeError, match="has no model"):
        __import__("asyncio").run(abstract.save(never))  # type: ignore[arg-type]
    assert isinstance(abstract, Form)


def test_importing_forms_loads_sqlalchemy_only_for_model_forms() -> None:
    code = (
        "import sys, satchel.forms; assert 'sqlalchemy' not in sys.modules; "
        "satchel.forms.ModelForm; assert 'sqlalchemy' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- through an app, on each database --------------------------------------------------


def article_json(article: FormsArticle) -> dict[str, Any]:
    return {
        "slug": article.slug,
        "title": article.title,
        "body": article.body,
        "published": article.published,
        "status": article.status.value,
        "views": article.views,
        "price": None if article.price is None else str(article.price),
        "rating": article.rating,
        "day": None if article.day is None else article.day.isoformat(),
        "rank": article.rank,
        "code": article.code,
    }


def make_app(database: Database) -> App[Any]:
    app = App(settings=Settings(secret_key=SECRET_KEY))
    database.init_app(app)

    def page(form: ArticleForm, status: int = 200) -> HTMLResponse:
        return HTMLResponse(f'<form method="post">{form}</form>', status_code=status)

    @app.get("/articles/new")
    async def new(request: Request) -> HTMLResponse:
        return page(await ArticleForm.from_request(request))

    @app.post("/articles")
    async def create(request: Request, db: Session) -> HTMLResponse | RedirectResponse:
        form = await ArticleForm.from_request(request)
        if not form.validate():
            return page(form, 422)
        article: FormsArticle = await form.save(db)
        return RedirectResponse(f"/articles/{article.id}", status_code=303)

    @app.get("/articles/{article_id:int}/edit")
    async def edit(request: Request, article_id: int, db: Session) -> HTMLResponse:
        article = await db.get_or_404(FormsArticle, article_id)
        return page(await ArticleForm.from_request(request, obj=article))

    @app.post("/articles/{article_id:int}")
    async def update(
        request: Request, article_id: int, db: Session
    ) -> HTMLResponse | RedirectResponse:
        article = await db.get_or_404(FormsArticle, article_id)
        form = await ArticleForm.from_request(request, obj=article)
        if not form.validate():
            return page(form, 422)
        await form.save(db)
        return RedirectResponse(f"/articles/{article_id}", status_code=303)

    @app.get("/articles/count")
    async def count(db: Session) -> int:
        return await db.count(FormsArticle)

    @app.get("/articles/{article_id:int}")
    async def show(article_id: int, db: Session) -> dict[str, Any]:
        return article_json(await db.get_or_404(FormsArticle, article_id))

    return app


@pytest.fixture
def client(database: Database) -> Iterator[TestClient]:
    with TestClient(make_app(database), headers=BROWSER_HEADERS) as client:
        yield client


def post(client: TestClient, path: str, data: dict[str, Any]) -> httpx.Response:
    token = csrf_token_in(client.get("/articles/new").text)
    return client.post(path, data={**data, "csrf_token": token})


def test_create_then_edit(client: TestClient) -> None:
    created = post(
        client,
        "/articles",
        {
            "slug": "hello",
            "title": "Hello",
            "body": "Text",
            "published": "on",
            "status": "published",
            "price": "12.50",
            "rating": "4.5",
            "day": "2024-05-01",
            "rank": "3",
            "code": "b",
        },
    )
    assert created.status_code == 303, created.text
    location = created.headers["location"]
    assert client.get(location).json() == {
        "slug": "hello",
        "title": "Hello",
        "body": "Text",
        "published": True,
        "status": "published",
        "views": 0,  # left empty: the column's default
        "price": "12.50",
        "rating": 4.5,
        "day": "2024-05-01",
        "rank": 3,
        "code": "b",
    }
    edit_page = client.get(f"{location}/edit").text
    assert 'value="Hello"' in edit_page
    assert '<option value="published" selected>' in edit_page
    assert 'name="published" id="id_published" checked' in edit_page

    edited = post(client, location, {"slug": "hello", "title": "Hello again", "views": "5"})
    assert edited.status_code == 303, edited.text
    after = client.get(location).json()
    assert (after["title"], after["published"], after["views"], after["body"]) == (
        "Hello again",
        False,  # an unticked box is False
        5,
        None,  # emptied: the nullable column is cleared
    )
    assert after["status"] == "published"  # left empty: a NOT NULL column keeps its value


def test_values_the_column_cannot_hold_are_field_errors_not_database_errors(
    client: TestClient,
) -> None:
    too_much = {
        "slug": "s" * 41,
        "title": "T",
        "views": str(2**31),
        "rank": "40000",
        "price": "1234567.5",
    }
    response = post(client, "/articles", too_much)
    assert response.status_code == 422
    assert "at most 40 characters (it has 41)" in response.text
    assert "less than or equal to 2147483647" in response.text
    assert "less than or equal to 32767" in response.text
    assert "no more than 6 digits before the decimal point" in response.text
    nul = post(client, "/articles", {"slug": "nul", "title": "a\x00b"})
    assert nul.status_code == 422  # PostgreSQL cannot store NUL in text
    assert "Remove the control characters" in nul.text


def test_a_duplicate_is_a_409_and_nothing_is_saved(client: TestClient) -> None:
    first = post(client, "/articles", {"slug": "dup", "title": "First"})
    assert first.status_code == 303
    again = post(client, "/articles", {"slug": "dup", "title": "Second"})
    assert again.status_code == 409
    assert client.get(first.headers["location"]).json()["title"] == "First"
    assert client.get("/articles/count").json() == 1

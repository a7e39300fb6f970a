"""Autoescaping: always on for HTML, XML and SVG, in text and attribute contexts alike."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from satchel import ConfigurationError, HTMLResponse
from satchel.templates import Markup, Templates, render
from satchel.testing import TestClient
from tests.templates.support import make_app, write_templates

HOSTILE = "\"'><script>alert(1)</script>&"
ESCAPED = "&#34;&#39;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;"


@pytest.fixture
def templates(tmp_path: Path) -> Templates:
    return Templates(tmp_path, bytecode_cache=False)


def test_text_and_quoted_attributes_are_escaped(tmp_path: Path) -> None:
    source = (
        '<p>{{ x }}</p><a title="{{ x }}" data-x=\'{{ x }}\' href="/?q={{ x|urlencode }}">a</a>'
    )
    app, _ = make_app(tmp_path, {"page.html": source})

    @app.get("/")
    async def page(x: str) -> HTMLResponse:
        return await render("page.html", {"x": x})

    with TestClient(app) as client:
        text = client.get("/", params={"x": HOSTILE}).text
    assert "<script>" not in text
    assert text == (
        f"<p>{ESCAPED}</p><a title=\"{ESCAPED}\" data-x='{ESCAPED}' "
        'href="/?q=%22%27%3E%3Cscript%3Ealert%281%29%3C/script%3E%26">a</a>'
    )


@pytest.mark.parametrize("name", ["page.html", "page.htm", "feed.xml", "icon.svg", "PAGE.HTML"])
def test_every_markup_extension_is_escaped(templates: Templates, tmp_path: Path, name: str) -> None:
    write_templates(tmp_path, {name: "<t>{{ x }}</t>"})
    assert templates.env.get_template(name).render(x=HOSTILE) == f"<t>{ESCAPED}</t>"


def test_templates_from_strings_and_other_names_are_escaped(
    templates: Templates, tmp_path: Path
) -> None:
    write_templates(tmp_path, {"page.jinja": "{{ x }}", "page.html.j2": "{{ x }}"})
    assert templates.env.from_string("{{ x }}").render(x=HOSTILE) == ESCAPED
    assert templates.env.get_template("page.jinja").render(x=HOSTILE) == ESCAPED
    assert templates.env.get_template("page.html.j2").render(x=HOSTILE) == ESCAPED


def test_plain_text_templates_are_not_escaped(templates: Templates, tmp_path: Path) -> None:
    write_templates(tmp_path, {"mail.txt": "Hello {{ name }}"})
    assert templates.env.get_template("mail.txt").render(name="<Ada & Bob>") == "Hello <Ada & Bob>"


def test_safe_and_markup_are_the_explicit_opt_outs(templates: Templates) -> None:
    template = templates.env.from_string("{{ a|safe }} {{ b }} {{ c }}")
    text = template.render(a="<b>a</b>", b=Markup("<i>b</i>"), c="<u>c</u>")
    assert text == "<b>a</b> <i>b</i> &lt;u&gt;c&lt;/u&gt;"


def test_no_setting_switches_autoescaping_off(templates: Templates) -> None:
    with pytest.raises(ConfigurationError, match="cannot be switched off"):
        templates.env.autoescape = False
    with pytest.raises(ConfigurationError, match="cannot be switched off"):
        templates.env.overlay(autoescape=False)
    assert templates.env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"


def test_xmlattr_escapes_values_and_refuses_hostile_keys(templates: Templates) -> None:
    template = templates.env.from_string("<a{{ attrs|xmlattr }}>a</a>")
    text = template.render(attrs={"title": HOSTILE, "data-id": 7, "hidden": None})
    assert text == f'<a title="{ESCAPED}" data-id="7">a</a>'
    for key in ("onclick x", 'x="1" onclick', "a>b", "a/b", "a=b", "a\tb"):
        with pytest.raises(ValueError, match="Invalid character"):
            template.render(attrs={key: "alert(1)"})


def test_tojson_is_safe_inside_a_script(templates: Templates) -> None:
    template = templates.env.from_string("<script>const data = {{ data|tojson }};</script>")
    data = {"name": "</script><script>alert(1)</script>", "quote": "it's & <b>"}
    text = template.render(data=data)
    inner = re.fullmatch(r"<script>const data = (.*);</script>", text)
    assert inner is not None
    for forbidden in ("<", ">", "&", "'"):
        assert forbidden not in inner.group(1)
    assert json.loads(inner.group(1)) == data


def test_a_hostile_attribute_key_never_reaches_the_page(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, {"page.html": "<a{{ {key: 'x'}|xmlattr }}>a</a>"})

    @app.get("/")
    async def page(key: str) -> HTMLResponse:
        return await render("page.html", {"key": key})

    with TestClient(app) as client:
        response = client.get("/", params={"key": "onmouseover=alert(1) x"})
    assert response.status_code == 500
    assert "alert" not in response.text

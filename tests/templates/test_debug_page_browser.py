"""A template error on the debug page, served by Granian and read by headless Chromium."""

from __future__ import annotations

from pathlib import Path

from tests.browser import dump_dom
from tests.servers import serve_source
from tests.templates.support import write_templates

SERVED_APP = """
from satchel import App, HTMLResponse, Settings
from satchel.templates import Templates, render

app = App(settings=Settings(debug=True, secret_key="browser-test-" + "k" * 40))
Templates("templates").init_app(app)


@app.get("/orders/{order_id}")
async def order(order_id: int) -> HTMLResponse:
    return await render("order.html", {"order_id": order_id, "lines": [1, 2]})
"""

ORDER = """\
{% extends "base.html" %}
{% block content %}
<h1>Order {{ order_id }}</h1>
<p>Total: {{ lines | sum(attribute="price") }}</p>
{% endblock %}
"""


def test_debug_page_points_into_the_template(tmp_path: Path) -> None:
    write_templates(
        tmp_path / "templates",
        {"base.html": "<main>{% block content %}{% endblock %}</main>", "order.html": ORDER},
    )
    with serve_source("granian-rsgi", SERVED_APP, tmp_path) as base_url:
        dom = dump_dom(f"{base_url}/orders/42")
    template = tmp_path / "templates" / "order.html"
    assert "<h1>jinja2.exceptions.UndefinedError</h1>" in dom
    assert "'int object' has no attribute 'price'" in dom
    assert f'<span class="where">{template}, line 4</span>' in dom
    assert "<code class=\"function\">block 'content'</code>" in dom
    assert '<code>&lt;p&gt;Total: {{ lines | sum(attribute="price") }}&lt;/p&gt;</code>' in dom
    assert "<code>order_id</code>" in dom

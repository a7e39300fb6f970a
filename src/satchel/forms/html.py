"""The few HTML-writing helpers the forms need: escaped attributes and elements.

Every value that goes into an attribute is escaped, ``Markup`` included (markup
that is safe between tags can still end an attribute with a quote); text between
tags is escaped unless it is ``Markup`` the application built on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from markupsafe import Markup, escape

__all__ = ["Attrs", "attribute_name", "element", "render_attrs", "void_element"]

#: Attribute values: ``True`` renders the bare name, ``False`` and ``None`` leave it out.
Attrs = Mapping[str, Any]

# What HTML allows in an attribute name, minus characters no sane name needs:
# a name cannot be escaped, so anything else is refused.
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]*")
_TAG_NAME = re.compile(r"[a-z][a-z0-9]*")


def attribute_name(name: str) -> str:
    """The HTML name of a keyword argument: ``class_`` -> ``class``, ``data_id`` -> ``data-id``.

    Raises:
        ValueError: the name is not a plain attribute name (it could not be escaped).

    >>> attribute_name("class_"), attribute_name("aria_label"), attribute_name("hx-post")
    ('class', 'aria-label', 'hx-post')
    """
    html = name[:-1] if name.endswith("_") else name
    html = html.replace("_", "-")
    if _ATTRIBUTE_NAME.fullmatch(html) is None:
        raise ValueError(f"{name!r} is not a valid HTML attribute name")
    return html


def render_attrs(attrs: Attrs) -> Markup:
    """The attributes as `` name="value"`` pairs, each value escaped.

    >>> render_attrs({"class_": "a", "title": 'say "hi"', "required": True, "hidden": False})
    Markup(' class="a" title="say &#34;hi&#34;" required')
    """
    parts: list[str] = []
    for name, value in attrs.items():
        if value is None or value is False:
            continue
        html_name = attribute_name(name)
        if value is True:
            parts.append(f" {html_name}")
        else:
            parts.append(f' {html_name}="{escape(str(value))}"')
    # Checked names and escaped values: nothing in it is unescaped input.
    return Markup("".join(parts))  # noqa: S704


def void_element(tag: str, attrs: Attrs) -> Markup:
    """An element without content, like ``<input ...>``.

    >>> void_element("input", {"type": "text", "value": "<b>"})
    Markup('<input type="text" value="&lt;b&gt;">')
    """
    return Markup(f"<{_tag(tag)}{render_attrs(attrs)}>")  # noqa: S704  (checked tag, escaped attributes)


def element(tag: str, attrs: Attrs, content: str | Iterable[str] = "") -> Markup:
    """``<tag ...>content</tag>``; text content is escaped, ``Markup`` kept as it is.

    >>> element("label", {"for": "id_q"}, "Q&A")
    Markup('<label for="id_q">Q&amp;A</label>')
    """
    parts = [content] if isinstance(content, str) else content
    inner = Markup("").join(escape(part) for part in parts)
    name = _tag(tag)
    # A checked tag name, escaped attributes and content escaped above.
    return Markup(f"<{name}{render_attrs(attrs)}>{inner}</{name}>")  # noqa: S704


def _tag(tag: str) -> str:
    if _TAG_NAME.fullmatch(tag) is None:
        raise ValueError(f"{tag!r} is not an HTML tag name")
    return tag

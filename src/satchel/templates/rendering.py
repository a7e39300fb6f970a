"""Rendering templates into HTML responses, from async handlers and from sync ones.

The request is found without passing it (the middleware ``Templates.init_app``
installs keeps it in a context variable); ``request=`` passes it explicitly, for
code that runs outside the app's middleware.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, cast

from jinja2 import Template
from jinja2.runtime import Context

from satchel.requests import Request
from satchel.responses import HeadersInput, HTMLResponse
from satchel.templates.current import current, current_request, rendering_for
from satchel.templates.environment import templates_of

__all__ = ["render", "render_block", "render_block_sync", "render_sync"]

BlockRenderer = Callable[[Context], AsyncIterator[str]]


async def render(
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: HeadersInput = None,
    request: Request | None = None,
) -> HTMLResponse:
    """Render the template ``name`` with ``context`` into an HTML response.

    The template also sees ``request`` and the app's globals (``url_for``,
    ``static``, ``csrf_input``, ...). Async functions in ``context`` may be called
    from the template: their results are awaited.

    Args:
        name: The template, e.g. ``"items/list.html"``.
        context: The template's variables (``request`` is set by Satchel).
        status: The response status.
        headers: Extra response headers.
        request: The request rendered for; the one being answered when None.

    Raises:
        RuntimeError: no request is given and none is being answered.
        jinja2.TemplateNotFound: no template has that name.
    """
    text = await _render_text(request or current_request(), name, context, None)
    return HTMLResponse(text, status, headers)


async def render_block(
    name: str,
    block: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: HeadersInput = None,
    request: Request | None = None,
) -> HTMLResponse:
    """Render only the block ``block`` of the template ``name``: a fragment for htmx.

    The block sees ``context`` and the globals, not variables the template sets
    outside it. It must be defined (or overridden) in ``name`` itself.

    Raises:
        LookupError: the template defines no such block.
    """
    text = await _render_text(request or current_request(), name, context, block)
    return HTMLResponse(text, status, headers)


def render_sync(
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: HeadersInput = None,
    request: Request | None = None,
) -> HTMLResponse:
    """:func:`render` for sync handlers, which run in worker threads.

    The template renders on the app's event loop (async functions in ``context``
    run there, with the app's connections) while the thread waits.

    Raises:
        RuntimeError: called from async code, where it would block the event loop.
    """
    return HTMLResponse(_run_from_thread(request, name, context, None), status, headers)


def render_block_sync(
    name: str,
    block: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: HeadersInput = None,
    request: Request | None = None,
) -> HTMLResponse:
    """:func:`render_block` for sync handlers (see :func:`render_sync`)."""
    return HTMLResponse(_run_from_thread(request, name, context, block), status, headers)


def _run_from_thread(
    request: Request | None, name: str, context: Mapping[str, Any] | None, block: str | None
) -> str:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError(
            "render_sync() would block the event loop: use 'await render(...)' in async code"
        )
    found = current()
    rendering = _render_text(request or current_request(), name, context, block)
    if found is None:  # no app loop to use (a script, a thread of the user's own)
        return asyncio.run(rendering)
    return asyncio.run_coroutine_threadsafe(rendering, found.loop).result()


async def _render_text(
    request: Request, name: str, context: Mapping[str, Any] | None, block: str | None
) -> str:
    template = templates_of(request.app).env.get_template(name)
    variables = {**(context or {}), "request": request}
    with rendering_for(request):
        if block is None:
            return await template.render_async(variables)
        return await _block_text(template, block, variables)


async def _block_text(template: Template, block: str, variables: dict[str, Any]) -> str:
    found = template.blocks.get(block)
    if found is None:
        raise LookupError(f"template {template.name!r} has no block {block!r}")
    # An async environment compiles blocks to async generators.
    renderer = cast(BlockRenderer, found)
    context = template.new_context(variables)
    try:
        return "".join([part async for part in renderer(context)])
    except Exception:
        # As Template.render_async does: the traceback then points into the template.
        template.environment.handle_exception()

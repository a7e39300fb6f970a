"""Running blocking work off the event loop.

``asyncio`` is imported on first use rather than with the package: by the time
a request needs a worker thread the server has loaded it, while ``import
satchel`` (a CLI command, a cold start) does not pay for it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

__all__ = ["run_in_thread", "run_in_thread_shielded"]

P = ParamSpec("P")
R = TypeVar("R")


def run_in_thread(
    func: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs
) -> Coroutine[Any, Any, R]:
    """Run ``func(*args, **kwargs)`` in a worker thread, with the caller's context variables."""
    import asyncio

    return asyncio.to_thread(func, *args, **kwargs)


async def run_in_thread_shielded(func: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Like :func:`run_in_thread`, but a cancelled caller still waits for the thread to return.

    A thread cannot be stopped: without this, a cancelled caller would go on (to
    close a file, to tear down the database session a handler is using) while the
    thread still works with it. The cancellation is raised once the thread is done.
    """
    import asyncio

    work = asyncio.ensure_future(asyncio.to_thread(func, *args, **kwargs))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        await asyncio.wait([work])
        if not work.cancelled():
            work.exception()  # retrieved: the caller is cancelled and will not see it
        raise

"""Running blocking work off the event loop.

``asyncio`` is imported on first use rather than with the package: by the time
a request needs a worker thread the server has loaded it, while ``import
satchel`` (a CLI command, a cold start) does not pay for it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

__all__ = ["run_in_thread"]

P = ParamSpec("P")
R = TypeVar("R")


def run_in_thread(
    func: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs
) -> Coroutine[Any, Any, R]:
    """Run ``func(*args, **kwargs)`` in a worker thread, with the caller's context variables."""
    import asyncio

    return asyncio.to_thread(func, *args, **kwargs)

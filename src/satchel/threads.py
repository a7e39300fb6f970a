"""Running blocking work off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

__all__ = ["run_in_thread"]

P = ParamSpec("P")
R = TypeVar("R")


def run_in_thread(
    func: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs
) -> Coroutine[Any, Any, R]:
    """Run ``func(*args, **kwargs)`` in a worker thread, with the caller's context variables."""
    return asyncio.to_thread(func, *args, **kwargs)

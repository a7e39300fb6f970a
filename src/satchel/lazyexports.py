"""Names a package exports but imports only on first use (PEP 562 module ``__getattr__``)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, namespace: dict[str, Any], modules: Mapping[str, str]
) -> Callable[[str], object]:
    """A module ``__getattr__`` that imports ``name`` from ``modules[name]`` when first asked.

    The value is then stored in ``namespace`` (the package's ``globals()``), so later
    look-ups never come back here. Assign it inside ``if not TYPE_CHECKING:`` and import
    the names under ``if TYPE_CHECKING:``, so type checkers see them and a typo stays a
    typing error::

        if not TYPE_CHECKING:
            __getattr__ = lazy_exports(__name__, globals(), {"RedisStore": "pkg.redis"})
    """

    def __getattr__(name: str) -> object:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__

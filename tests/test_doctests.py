"""The examples in every module's docstrings run."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from types import ModuleType

import pytest

import satchel


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(satchel.__path__, "satchel."))


@pytest.mark.parametrize("name", ["satchel", *_modules()])
def test_docstring_examples(name: str) -> None:
    module: ModuleType = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0

"""The satchel.forms package: its names, and its optional dependencies."""

from __future__ import annotations

import importlib
import sys

import pytest

import satchel.forms
from satchel.errors import MissingDependencyError


def test_every_exported_name_exists() -> None:
    for name in satchel.forms.__all__:
        assert getattr(satchel.forms, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'DateTimeField'"):
        satchel.forms.DateTimeField  # type: ignore[attr-defined]  # noqa: B018


def test_without_markupsafe_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "markupsafe", None)
    monkeypatch.delitem(sys.modules, "satchel.forms")
    with pytest.raises(MissingDependencyError, match=r"pip install 'satchel\[templates\]'"):
        importlib.import_module("satchel.forms")


def test_model_forms_without_sqlalchemy_name_the_db_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    monkeypatch.delitem(sys.modules, "satchel.forms.models", raising=False)
    with pytest.raises(MissingDependencyError, match=r"pip install 'satchel\[db\]'"):
        importlib.import_module("satchel.forms.models")

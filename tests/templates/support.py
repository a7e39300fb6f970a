"""An app with templates written into a temporary folder, shared by the template tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from satchel import App, Settings
from satchel.templates import Templates

__all__ = ["SECRET", "make_app", "write_templates"]

SECRET = "templates-test-secret-" + "k" * 40


def write_templates(folder: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (name: source) under ``folder``, creating subfolders; return ``folder``."""
    for name, source in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return folder


def make_app(
    folder: Path, files: dict[str, str], *, debug: bool = False, **options: Any
) -> tuple[App[Any], Templates]:
    """An app serving ``files`` as templates from ``folder`` (no bytecode cache by default)."""
    app = App(settings=Settings(secret_key=SECRET, debug=debug))
    options.setdefault("bytecode_cache", False)
    templates = Templates(write_templates(folder, files), **options)
    templates.init_app(app)
    return app, templates

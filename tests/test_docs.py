"""Every ```python block in README.md and docs/*.md runs, page by page, in order."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env or files from the repository
    # A real module, so dataclasses and get_type_hints can resolve the page's names.
    module = types.ModuleType(f"docs_{page.stem.replace('-', '_')}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for number, match in enumerate(BLOCK.finditer(page.read_text()), start=1):
        name = f"{page.name}[block {number}]"
        code = compile(match.group(1), name, "exec", dont_inherit=True)
        exec(code, module.__dict__)  # the documentation is our own code


def test_docs_have_examples() -> None:
    with_code = [p for p in PAGES if BLOCK.search(p.read_text())]
    assert ROOT / "docs" / "quickstart.md" in with_code

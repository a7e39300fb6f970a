"""Every ```python block in README.md and docs/*.md runs, page by page, in order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env or files from the repository
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for number, match in enumerate(BLOCK.finditer(page.read_text()), start=1):
        code = compile(match.group(1), f"{page.name}[block {number}]", "exec")
        exec(code, namespace)  # noqa: S102 - the documentation is our own code


def test_docs_have_examples() -> None:
    with_code = [p for p in PAGES if BLOCK.search(p.read_text())]
    assert ROOT / "docs" / "quickstart.md" in with_code

"""The package's public surface and its import cost."""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys

import pytest

import satchel

HEAVY = ("sqlalchemy", "jinja2", "alembic", "redis", "pydantic", "click", "granian", "httpx")


def test_all_names_exist_once() -> None:
    for name in satchel.__all__:
        assert hasattr(satchel, name), name
    assert len(set(satchel.__all__)) == len(satchel.__all__)


def test_every_public_name_is_exported() -> None:
    public = {
        name
        for name, value in vars(satchel).items()
        if not name.startswith("_") and not isinstance(value, type(satchel))
    }
    assert public <= set(satchel.__all__)


@pytest.mark.parametrize(
    "name", sorted(m.name for m in pkgutil.walk_packages(satchel.__path__, "satchel."))
)
def test_every_module_declares_all(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    for attr in exported:
        assert hasattr(module, attr), f"{name}.__all__ names missing {attr!r}"


def test_import_satchel_stays_light() -> None:
    code = "import sys, satchel; print(' '.join(sorted(sys.modules)))"
    loaded = set(subprocess.check_output([sys.executable, "-c", code], text=True).split())
    assert not {m for m in loaded for h in HEAVY if m == h or m.startswith(h + ".")}


def _import_time_us(module: str) -> int:
    """Cumulative import time of ``module`` in a fresh interpreter (best of 5)."""
    best = None
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            check=True,
        ).stderr
        match = re.search(rf"^import time:\s+\d+ \|\s+(\d+) \| {module}$", out, re.MULTILINE)
        assert match, out[-500:]
        value = int(match.group(1))
        best = value if best is None else min(best, value)
    assert best is not None
    return best


def test_import_time_compared_with_flask(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("flask")
    ours, flask = _import_time_us("satchel"), _import_time_us("flask")
    # Reported, not asserted: timings are for benchmarks, the module set is the guard.
    with capsys.disabled():
        print(f"\nimport time: satchel {ours} us, flask {flask} us, ratio {ours / flask:.2f}")


def test_asyncio_loads_with_the_server_not_with_satchel() -> None:
    # Streaming and worker threads load it on first use; CLI commands and cold starts
    # that never stream do not pay for it.
    code = "import sys, satchel; print('asyncio' in sys.modules)"
    assert subprocess.check_output([sys.executable, "-c", code], text=True).strip() == "False"


def test_files_and_websockets_load_on_first_use() -> None:
    code = (
        "import sys, satchel\n"
        "print('satchel.websockets' in sys.modules, 'satchel.files' in sys.modules)\n"
        "from satchel import FileResponse, WebSocket\n"
        "print(WebSocket.__module__, FileResponse.__module__)"
    )
    out = subprocess.check_output([sys.executable, "-c", code], text=True).split("\n")
    assert out[0] == "False False"
    assert out[1] == "satchel.websockets satchel.files"


def test_unknown_attributes_still_raise() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        satchel.Nope  # type: ignore[attr-defined]  # noqa: B018

"""The demo app (examples/demo): its API works, and schemathesis finds nothing wrong with it.

schemathesis generates requests from the demo's own OpenAPI document, valid and
invalid, and sends them to the demo served by a real Granian server; it fails
on any 5xx and on any response the document does not allow (status, content
type, body schema, headers).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from satchel.testing import TestClient
from tests.servers import BIN, serve

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo"


def _load_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("satchel_demo_app", DEMO / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # so type hints resolve against the module
    spec.loader.exec_module(module)
    return module


def test_notes_api_round_trip() -> None:
    demo = _load_demo()
    with TestClient(demo.app) as client:
        assert client.get("/").status_code == 200
        assert [n["title"] for n in client.get("/api/notes").json()] == ["Welcome"]
        created = client.post("/api/notes", json={"title": "Buy milk", "tags": ["home"]})
        assert created.status_code == 201
        note = created.json()
        assert note == {"title": "Buy milk", "body": "", "tags": ["home"], "id": 2}
        assert client.get(f"/api/notes/{note['id']}").json() == note
        assert client.get("/api/notes?tag=home").json() == [note]
        assert client.delete(f"/api/notes/{note['id']}").status_code == 204
        assert client.get(f"/api/notes/{note['id']}").status_code == 404


def test_notes_api_refuses_bad_input_with_every_reason() -> None:
    demo = _load_demo()
    with TestClient(demo.app) as client:
        refused = client.post(
            "/api/notes?", json={"title": "", "tags": ["Not A Tag"], "colour": "red"}
        )
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["location"] == "body"
        listed = client.get("/api/notes?limit=0&offset=-1")
        assert [e["name"] for e in listed.json()["errors"]] == ["limit", "offset"]


def test_the_store_is_bounded() -> None:
    demo = _load_demo()
    demo.__dict__["MAX_NOTES"] = 2
    with TestClient(demo.app) as client:
        assert client.post("/api/notes", json={"title": "two"}).status_code == 201
        assert client.post("/api/notes", json={"title": "three"}).status_code == 409


def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path: Path) -> None:
    with serve("granian-rsgi", "app:app", cwd=DEMO, log=tmp_path / "server.log") as url:
        result = subprocess.run(
            [
                str(BIN / "st"),
                "run",
                f"{url}/openapi.json",
                "--checks",
                "all",
                "--max-examples",
                "15",
                "--max-time",
                "60",
                "--workers",
                "1",
                "--request-timeout",
                "10",
                "--wait-for-schema",
                "10",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,
            env={**os.environ, "NO_COLOR": "1"},
            check=False,
        )
    if result.returncode != 0:
        report = f"{result.stdout[-8000:]}\n{result.stderr[-2000:]}"
        pytest.fail(f"schemathesis found problems:\n{report}")

"""Accept-Encoding parsing and the choice of a precompressed variant."""

from __future__ import annotations

import pytest

from satchel.staticfiles.encodings import accepted_codings, preferred_coding


@pytest.mark.parametrize(
    ("header", "codings"),
    [
        ("gzip", {"gzip": 1.0}),
        ("gzip;q=0.5", {"gzip": 0.5}),
        ("GZip ; Q=0.25", {"gzip": 0.25}),
        ("gzip;q=0", {"gzip": 0.0}),
        ("gzip;q=0.000", {"gzip": 0.0}),
        ("gzip;q=1.000", {"gzip": 1.0}),
        ("gzip;q=1.5", {"gzip": 0.0}),
        ("gzip;q=0.1234", {"gzip": 0.0}),
        ("gzip;q=", {"gzip": 0.0}),
        ("gzip;q=-1", {"gzip": 0.0}),
        ("gzip;level=9", {"gzip": 1.0}),
        ("x-gzip;q=0.5", {"gzip": 0.5}),
        ("*;q=0, identity", {"*": 0.0, "identity": 1.0}),
        (" , ,gzip,, ", {"gzip": 1.0}),
        ("", {}),
    ],
)
def test_accepted_codings(header: str, codings: dict[str, float]) -> None:
    assert accepted_codings(header) == codings


@pytest.mark.parametrize(
    ("headers", "coding"),
    [
        ([], None),
        ([""], None),
        (["gzip", "br"], "br"),
        (["gzip"], "gzip"),
        (["br;q=0.1, gzip;q=0.2"], "gzip"),
        (["br;q=0.2, gzip;q=0.2"], "br"),
        (["gzip, identity;q=0.5"], "gzip"),
        (["gzip;q=0.5, identity"], None),
        (["gzip, identity"], "gzip"),
        (["*"], "br"),
        (["*;q=0.3, gzip;q=0.4"], "gzip"),
        (["*;q=0"], None),
    ],
)
def test_preferred_coding(headers: list[str], coding: str | None) -> None:
    assert preferred_coding(headers, ["br", "gzip"]) == coding


def test_only_available_codings_are_chosen() -> None:
    assert preferred_coding(["br"], ["gzip"]) is None
    assert preferred_coding(["br, gzip"], []) is None

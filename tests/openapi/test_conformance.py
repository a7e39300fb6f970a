"""The document tells the truth: requests generated from it are served as it says.

Schemathesis generates requests from the rich app's document and checks each
response: a request the document calls valid is never refused with 422, no
response is a 5xx, and every body and content type matches its documented
schema. Generation is derandomized, so a run is repeatable.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok

from tests.openapi.shop import make_app

CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            # The document declares security schemes; checking credentials is the app's job.
            "ignored_auth": {"enabled": False},
            # Any route answers 404 and 400 (a path no route matches, a malformed
            # request) without documenting them.
            "status_code_conformance": {"enabled": False},
            "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "404"]},
        }
    }
)
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", make_app(), config=CONFIG)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations() if isinstance(result, Ok)]


def test_every_operation_is_checked() -> None:
    assert len(OPERATIONS) == 13


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_requests_from_the_document_are_served_as_documented(operation: Any) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        case.call_and_validate()

    check()

"""The central service's published OpenAPI document holds against schemathesis, signed as a kiosk.

Every operation gets generated valid and invalid requests (examples, coverage and fuzzing
phases), sent over a real loopback socket to the reference service with a real kiosk signature,
and each answer is checked against the document (see contract_support). Run more examples with
`CONTRACT_MAX_EXAMPLES=1000 .venv/bin/pytest -p no:cacheprovider tests/contracts`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import given, settings
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode

from central.api_refusals import is_signed
from central.app import create_app
from central.auth import AuthSettings
from central.server import RunningServer, start_background
from tests.contracts.contract_support import (
    act_as,
    bounded,
    checks,
    load_schema,
    signed_session,
)
from tests.support.kiosk_keys import test_registry, test_signer

KIOSK_ID = "KIOSK-CONTRACT-001"
# Well-formed requests the service refuses with 422 for reasons no schema can state.
BUSINESS_REFUSALS = {
    # 16 digits whose last is a Luhn check digit: a typo is told apart from an unknown case.
    "GET /api/v1/cases/{receipt_no}": frozenset({"invalid_receipt_no"}),
    # An application names registry persons (and a face check of theirs); generated ones are not.
    "POST /api/v1/applications": frozenset(
        {
            "application_invalid",
            "applicant_not_verified",
            "agent_not_allowed",
            "agent_not_verified",
            "face_check_required",
            "face_check_failed",
        }
    ),
}
CHECKS = checks(BUSINESS_REFUSALS)


KIOSK = test_signer(KIOSK_ID)
# Built at import, because schemathesis generates its tests from the document at collection; the
# same app is then served on a real socket. Rate limits are set out of the way of the volume.
APP = create_app(
    "sqlite://",
    kiosk_registry=test_registry(KIOSK),
    auth_settings=AuthSettings(identity_limits="100000/second", rating_limits="100000/second"),
)
schema = load_schema(APP.openapi())


@pytest.fixture(scope="module")
def central() -> Iterator[RunningServer]:
    with start_background(app=APP) as running:
        yield running


@pytest.fixture(scope="module")
def signed() -> Iterator[requests.Session]:
    with signed_session(KIOSK) as session:
        yield session


@schema.parametrize()
@bounded
def test_central_holds_its_published_contract(
    case: Any, central: RunningServer, signed: requests.Session
) -> None:
    act_as(case, KIOSK_ID)
    case.call_and_validate(base_url=central.base_url, session=signed, checks=CHECKS)


def test_every_signed_operation_documents_its_refusals() -> None:
    document = schema.raw_schema
    signed_ops = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if is_signed(path):
                signed_ops += 1
                assert {"401", "403"} <= set(responses), (method, path)
                assert responses["401"]["content"]["application/json"]["schema"]["$ref"].endswith(
                    "/ErrorResponse"
                )
            else:
                assert "401" not in responses, (method, path)
    assert signed_ops >= 15
    rating = document["paths"]["/api/v1/ratings"]["post"]["responses"]
    assert "429" in rating


def _operations(schema: schemathesis.schemas.BaseSchema) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def test_an_unsigned_request_is_refused_401_on_every_signed_operation(
    central: RunningServer,
) -> None:
    signed_ops = [op for op in _operations(schema) if is_signed(op.path)]
    assert len(signed_ops) >= 15
    with requests.Session() as plain:
        for operation in signed_ops:

            @given(case=operation.as_strategy())
            @settings(bounded, max_examples=2)
            def unsigned(case: Any) -> None:
                act_as(case, KIOSK_ID)
                response = case.call(base_url=central.base_url, session=plain)
                assert response.status_code == 401, (case.operation.label, response.text)
                assert response.json()["error"]["code"] == "unauthenticated"
                # ...and the document lists that answer for this operation.
                case.validate_response(response, checks=CHECKS[:4])

            unsigned()


def test_a_request_signed_by_an_unknown_kiosk_is_refused_401(central: RunningServer) -> None:
    stranger = test_signer("KIOSK-NOT-ENROLLED")
    with signed_session(stranger) as session:
        response = session.get(f"{central.base_url}/api/v1/catalogue")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unknown_kiosk"


@pytest.mark.parametrize("path", ["/api/v1/health", "/guides/shebao.insured-cert"])
def test_public_pages_need_no_signature(central: RunningServer, path: str) -> None:
    # Opened by people's phones and by probes, not by kiosks: there is no credential to ask for.
    response = requests.get(f"{central.base_url}{path}", timeout=5)
    assert response.status_code == 200


def test_the_tester_finds_a_rule_the_schema_does_not_state(central: RunningServer) -> None:
    # The run above finding nothing means something only if it would find this: the document as
    # it was before, with Idempotency-Key optional, while the service refuses a request without it.
    document = copy.deepcopy(APP.openapi())
    rating = document["paths"]["/api/v1/ratings"]["post"]
    rating["parameters"] = [p for p in rating["parameters"] if p["name"] != "Idempotency-Key"]
    operation = load_schema(document)["/api/v1/ratings"]["POST"]
    found: list[str] = []

    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(bounded, max_examples=30)
    def run(case: Any) -> None:
        act_as(case, KIOSK_ID)
        with signed_session(KIOSK) as session:
            try:
                case.call_and_validate(base_url=central.base_url, session=session, checks=CHECKS)
            except FailureGroup as failures:
                found.extend(failure.title for failure in failures.exceptions)

    run()
    assert "Schema-valid request rejected" in found

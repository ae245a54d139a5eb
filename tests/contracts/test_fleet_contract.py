"""The fleet server's published OpenAPI document holds against schemathesis, signed as a kiosk.

The same checks as the central service's (see contract_support), on `fleet.app.create_app` over
a SQLite file and a real loopback socket. More examples:
`CONTRACT_MAX_EXAMPLES=1000 .venv/bin/pytest -p no:cacheprovider tests/contracts`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from schemathesis.generation import GenerationMode

from fleet.app import create_app
from fleet.server import RunningFleetServer, start_background
from fleet.settings import FleetSettings
from tests.contracts.contract_support import (
    act_as,
    bounded,
    checks,
    load_schema,
    signed_session,
)
from tests.support.kiosk_keys import test_registry, test_signer

KIOSK_ID = "KIOSK-CONTRACT-002"
CHECKS = checks({})

KIOSK = test_signer(KIOSK_ID)
_DB_DIR = tempfile.TemporaryDirectory(prefix="fleet-contract-")
# Built at import: schemathesis generates its tests from the document at collection time. The
# sweeper stays off so that the only writes are the generated requests'.
APP = create_app(
    f"sqlite:///{Path(_DB_DIR.name) / 'fleet.db'}",
    kiosk_registry=test_registry(KIOSK),
    settings=FleetSettings(run_sweeper=False),
)
schema = load_schema(APP.openapi())


@pytest.fixture(scope="module")
def fleet() -> Iterator[RunningFleetServer]:
    with start_background(app=APP) as running:
        yield running


@pytest.fixture(scope="module")
def signed() -> Iterator[requests.Session]:
    with signed_session(KIOSK) as session:
        yield session


@schema.parametrize()
@bounded
def test_fleet_holds_its_published_contract(
    case: Any, fleet: RunningFleetServer, signed: requests.Session
) -> None:
    act_as(case, KIOSK_ID)
    case.call_and_validate(base_url=fleet.base_url, session=signed, checks=CHECKS)


def test_an_unsigned_request_is_refused_401_on_every_kiosk_operation(
    fleet: RunningFleetServer,
) -> None:
    operations = [result.ok() for result in schema.get_all_operations()]
    kiosk_ops = [op for op in operations if op.path != "/api/v1/health"]
    assert {op.path for op in kiosk_ops} >= {"/api/v1/heartbeats", "/api/v1/events"}
    with requests.Session() as plain:
        for operation in kiosk_ops:

            @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
            @settings(bounded, max_examples=2)
            def unsigned(case: Any) -> None:
                act_as(case, KIOSK_ID)
                response = case.call(base_url=fleet.base_url, session=plain)
                assert response.status_code == 401, (case.operation.label, response.text)
                # ...and the document lists that answer for this operation.
                case.validate_response(response, checks=CHECKS[:4])

            unsigned()

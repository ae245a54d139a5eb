"""Fixtures: the reference central service on a real loopback port, and an HTTP client for it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from central.server import RunningServer, start_background
from tests.support.central_auth import UNLIMITED
from tests.support.kiosk_keys import TEST_KIOSKS


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    """One in-memory central service per test module, admitting the test kiosks."""
    running = start_background(
        db_url="sqlite://", kiosk_registry=TEST_KIOSKS.registry, auth_settings=UNLIMITED
    )
    yield running
    running.stop()


@pytest.fixture()
def http(server: RunningServer) -> Iterator[httpx.Client]:
    """An HTTP client rooted at /api/v1, signing as the kiosk each request names."""
    with httpx.Client(
        base_url=f"{server.base_url}/api/v1", timeout=5.0, auth=TEST_KIOSKS
    ) as client:
        yield client

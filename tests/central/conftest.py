"""Fixtures: the reference central service on a real loopback port, and an HTTP client for it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from central.server import RunningServer, start_background


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    """One in-memory central service per test module."""
    running = start_background(db_url="sqlite://")
    yield running
    running.stop()


@pytest.fixture()
def http(server: RunningServer) -> Iterator[httpx.Client]:
    """A plain HTTP client rooted at /api/v1."""
    with httpx.Client(base_url=f"{server.base_url}/api/v1", timeout=5.0) as client:
        yield client

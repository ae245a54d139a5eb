"""Shared pieces of the fleet tests: a settable clock, beat bodies, a signed app client."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from fleet.app import create_app
from fleet.settings import FleetSettings
from tests.support.kiosk_keys import test_registry, test_signer
from trust.keys import KioskRegistry
from trust.signing import KioskSigner

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Clock:
    """The server's clock in tests: starts at T0 and moves only when told."""

    def __init__(self, start: datetime = T0) -> None:
        self.at = start

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def beat(kiosk_id: str, seq: int = 1, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kiosk_id": kiosk_id,
        "site": "SITE-A",
        "version": "1.4.0",
        "seq": seq,
        "sent_at": "2026-12-01T09:00:00+00:00",
        "uptime_s": 60 * seq,
        "in_service": True,
        "devices": {"receipt_printer": "online", "idcard": "online"},
        "paper": {"receipt_printer": "full"},
        "outbox_backlog": 0,
        "sessions": 2,
        "completions": 1,
        "last_error": "",
    }
    body.update(changes)
    return body


def test_settings(clock: Clock | None = None, **changes: Any) -> FleetSettings:
    settings = FleetSettings(run_sweeper=False, clock=clock or Clock())
    for name, value in changes.items():
        setattr(settings, name, value)
    return settings


test_settings.__test__ = False  # type: ignore[attr-defined]


@contextlib.contextmanager
def fleet_client(
    db_url: str,
    *signers: KioskSigner,
    settings: FleetSettings | None = None,
    registry: KioskRegistry | None = None,
) -> Iterator[TestClient]:
    """A TestClient on a fresh app (lifespan running); sign requests with `auth=signer`."""
    app = create_app(
        db_url,
        kiosk_registry=registry if registry is not None else test_registry(*signers),
        settings=settings or test_settings(),
    )
    with TestClient(app) as client:
        yield client


def sweep(client: TestClient) -> Any:
    """Run one sweeper pass inside the app's event loop."""
    return client.portal.call(client.app.state.fleet.sweeper.sweep_once)  # type: ignore[attr-defined,union-attr]


__all__ = [
    "Clock",
    "beat",
    "fleet_client",
    "sweep",
    "test_registry",
    "test_settings",
    "test_signer",
]

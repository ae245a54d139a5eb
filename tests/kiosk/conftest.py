"""Fixtures for the kiosk core: a fake clock, a real store, and a core wired to the real client
against the reference central service in-process (no hand-made fakes of its shape)."""

from __future__ import annotations

import httpx
import pytest

from kiosk.catalogue_cache import CatalogueCache
from kiosk.clock import FakeClock
from kiosk.config import parse_config
from kiosk.core import KioskCore, Services
from kiosk.offline import OfflineCatalogue
from kiosk.outbox import Outbox, load_or_create_key
from kiosk.store import open_store
from kiosk.tasks import InlineTaskRunner
from tests.support.fakes import FakePrinter
from tests.support.inprocess import central_client


class Outage(httpx.BaseTransport):
    """Forwards to the real service, or fails to connect while `down` (central unreachable)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.down = False
        self.requests: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return self.inner.handle_request(request)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def store(tmp_path, clock):
    s = open_store(f"sqlite:///{tmp_path / 'kiosk.db'}", clock.now)
    yield s
    s.close()


@pytest.fixture
def central():
    """The real client, the reference service behind it, and a switch to take it down."""
    with central_client("KIOSK-T-1") as (client, http):
        outage = Outage(http._transport)
        client._http._transport = outage
        client.outage = outage  # type: ignore[attr-defined]
        client.test_http = http  # type: ignore[attr-defined]  # for dev endpoints (minting)
        yield client


@pytest.fixture
def make_kiosk(store, clock, tmp_path, central):
    """Build a core (optionally with other config); started and pumped once."""

    def build(**config) -> KioskCore:
        cfg = parse_config({"kiosk_id": "KIOSK-T-1", **config})
        outbox = Outbox(store, load_or_create_key(tmp_path / "outbox.key"))
        services = Services(
            central=central,
            printer=FakePrinter(),
            journal=store,
            outbox=outbox,
            catalogue_cache=OfflineCatalogue(CatalogueCache(store)),
        )
        core = KioskCore(cfg, services, clock, runner_factory=InlineTaskRunner)
        core.start()
        core.pump()
        return core

    return build


@pytest.fixture
def kiosk(make_kiosk):
    return make_kiosk()

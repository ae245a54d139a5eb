"""Fixtures for the kiosk core: a fake clock, a real store, and a core with fake service and printer."""

from __future__ import annotations

import pytest

from kiosk.clock import FakeClock
from kiosk.config import parse_config
from kiosk.core import KioskCore, Services
from kiosk.outbox import Outbox, load_or_create_key
from kiosk.store import open_store
from kiosk.tasks import InlineTaskRunner
from tests.support.fakes import FakeCentral, FakePrinter


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def store(tmp_path, clock):
    s = open_store(f"sqlite:///{tmp_path / 'kiosk.db'}", clock.now)
    yield s
    s.close()


@pytest.fixture
def kiosk(store, clock, tmp_path):
    config = parse_config({"kiosk_id": "KIOSK-T-1"})
    outbox = Outbox(store, load_or_create_key(tmp_path / "outbox.key"))
    services = Services(central=FakeCentral(), printer=FakePrinter(), journal=store, outbox=outbox)
    core = KioskCore(config, services, clock, runner_factory=InlineTaskRunner)
    core.start()
    core.pump()
    return core

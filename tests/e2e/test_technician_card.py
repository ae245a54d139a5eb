"""A technician card signs in to the maintenance menu through the real PC/SC stack: pyscard ->
libpcsclite -> a private pcscd -> vpcd -> a virtual technician card (challenge-response)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from drivers.smartcard import open_smartcard
from drivers.smartcard.sim_cards import TechnicianCardSim
from drivers.smartcard.technician import encode_public_key
from kiosk.maintenance.auth import TechnicianCards
from kiosk.tasks import UserFacingError
from tests.support.pcsc import PcscDaemon, shared_pcscd


@pytest.fixture
def daemon() -> Iterator[PcscDaemon]:
    pcscd = shared_pcscd()
    yield pcscd
    pcscd.remove_all()
    for reader in pcscd.readers:
        pcscd.wait_card(reader.name, present=False)


def _registry(tmp_path, *entries: tuple[str, ed25519.Ed25519PrivateKey, str | None]):
    path = tmp_path / "staff.json"
    technicians = []
    for tech_id, key, role in entries:
        entry = {
            "id": tech_id,
            "public_key": encode_public_key(key.public_key()),
            "valid_until": "2099-12-31",
        }
        if role:
            entry["role"] = role
        technicians.append(entry)
    path.write_text(json.dumps({"technicians": technicians}))
    return path


@contextlib.contextmanager
def _reader(url: str):
    device = open_smartcard(url)
    device.open()
    try:
        yield device
    finally:
        device.close()


def test_a_technician_card_proves_its_id_to_this_kiosk(daemon, tmp_path):
    key = ed25519.Ed25519PrivateKey.generate()
    registry = _registry(tmp_path, ("T0001", key, "technician"))
    daemon.insert(TechnicianCardSim(key, "T0001"))
    cards = TechnicianCards(registry, lambda: _reader(daemon.url(0)))
    assert cards.read_technician_id("KIOSK-T-1") == "T0001"


def test_a_staff_card_without_the_technician_role_does_not_open_the_menu(daemon, tmp_path):
    key = ed25519.Ed25519PrivateKey.generate()
    registry = _registry(tmp_path, ("S0100", key, None), ("S0101", key, "staff"))
    daemon.insert(TechnicianCardSim(key, "S0100"))
    cards = TechnicianCards(registry, lambda: _reader(daemon.url(0)))
    with pytest.raises(UserFacingError, match="staff_card_not_accepted"):
        cards.read_technician_id("KIOSK-T-1")


def test_a_card_signed_by_another_key_is_refused(daemon, tmp_path):
    registered, forged = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    registry = _registry(tmp_path, ("T0001", registered, "technician"))
    daemon.insert(TechnicianCardSim(forged, "T0001"))
    cards = TechnicianCards(registry, lambda: _reader(daemon.url(0)))
    with pytest.raises(UserFacingError):
        cards.read_technician_id("KIOSK-T-1")


def test_the_core_signs_a_technician_in_by_card(daemon, tmp_path, clock_and_core):
    key = ed25519.Ed25519PrivateKey.generate()
    registry = _registry(tmp_path, ("T0042", key, "technician"))
    core, store = clock_and_core
    core.services.maintenance.cards = TechnicianCards(registry, lambda: _reader(daemon.url(0)))
    from kiosk.events import Intent, SmartCardInserted
    from kiosk.ids import StateId
    from kiosk.maintenance.audit import AuditLog

    core.touch(Intent.MAINTENANCE)
    core.pump()
    daemon.insert(TechnicianCardSim(key, "T0042"))
    core.post(SmartCardInserted(daemon.readers[0].name))
    core.pump()
    assert core.state == StateId.MAINTENANCE_MENU
    assert [(r.actor, r.action) for r in AuditLog(store).recent()] == [
        ("technician:T0042", "sign_in")
    ]


@pytest.fixture
def clock_and_core(tmp_path):
    from kiosk.clock import FakeClock
    from kiosk.config import parse_config
    from kiosk.core import KioskCore, Services
    from kiosk.maintenance.tools import build_tools
    from kiosk.store import open_store
    from kiosk.tasks import InlineTaskRunner
    from tests.support.fakes import FakePrinter
    from tests.support.inprocess import central_client

    clock = FakeClock()
    store = open_store(f"sqlite:///{tmp_path / 'k.db'}", clock.now)
    config = parse_config({"kiosk_id": "KIOSK-T-1"})
    with central_client("KIOSK-T-1") as (client, _http):
        services = Services(
            central=client, printer=FakePrinter(), maintenance=build_tools(config, store=store)
        )
        core = KioskCore(config, services, clock, InlineTaskRunner)
        core.start()
        core.pump()
        yield core, store
        core.stop()
    store.close()

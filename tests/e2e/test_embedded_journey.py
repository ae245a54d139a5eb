"""The embedded default, every part real: the reference service over HTTP, the GA 467 simulator on a
pty, the ESC/POS simulator over TCP, the SQLite store. Only the screens are left out."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from drivers.idcard.sim_cards import FOREIGN_2023, HK_RESIDENCE_PERMIT
from drivers.printer import Qr, Text
from kiosk import simulation
from kiosk.config import parse_config
from kiosk.events import Intent
from kiosk.runtime import build_runtime
from tests.support.pumping import pump_until


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_HOME", str(tmp_path))
    monkeypatch.setattr(simulation, "CARD_PLACING_DELAY_S", 0.1)
    config = parse_config(
        {"kiosk_id": "KIOSK-E2E-1", "central": {"embedded_db": "sqlite:///var/central.db"}}
    )
    with build_runtime(config) as rt:
        yield rt


def test_resident_prints_a_certificate_through_real_devices_and_service(runtime, tmp_path):
    core = runtime.core
    pump_until(core, lambda c: c.catalogue is not None)
    assert len([i for c in core.catalogue.categories for i in c.items]) >= 30

    core.touch(Intent.START)
    # the simulated resident lays the demo card on the GA 467 reader; the poller reads it
    pump_until(core, lambda c: c.state == "categories")
    assert core.session.identity.person_ref

    def on_receipt(i):
        return i.flow == "print" and core.item_prints(i.code) == "receipt"

    category = next(c for c in core.catalogue.categories if any(map(on_receipt, c.items)))
    item = next(i for i in category.items if on_receipt(i))
    core.touch(Intent.PICK_CATEGORY, category.code)
    pump_until(core, lambda c: c.state == "items")
    core.touch(Intent.PICK_ITEM, item.code)
    pump_until(core, lambda c: c.session.item is not None)
    core.touch(Intent.PRINT)
    pump_until(core, lambda c: c.state == "rate")

    receipt = runtime.hall.printer_sim.wait_for_receipt(timeout=5)
    texts = [e.text for e in receipt.elements if isinstance(e, Text)]
    certificate = core.session.certificate
    assert certificate.title in texts
    assert [e.data for e in receipt.elements if isinstance(e, Qr)] == [certificate.verify_url]
    assert list((tmp_path / "var" / "receipts").glob("*.png")), "the simulator saved the receipt"

    core.touch(Intent.RATE, "4")
    pump_until(core, lambda c: c.state == "thanks")
    assert core.services.outbox.backlog() == 1
    core.touch(Intent.BACK)
    pump_until(core, lambda c: c.state == "attract")
    assert core.session.identity is None


@pytest.mark.parametrize(
    "card", [FOREIGN_2023, HK_RESIDENCE_PERMIT], ids=lambda c: c.card_type.value
)
def test_foreign_and_hk_cards_are_verified_by_the_real_service(runtime, monkeypatch, card):
    """GIVEN a foreigner's permanent residence card (or a HK residence permit) on the reader
    WHEN the resident starts THEN the reference service verifies it as that card type."""
    # Keep the demo hand (which would lay the resident card) out of the way.
    monkeypatch.setattr(simulation, "CARD_PLACING_DELAY_S", 3600.0)
    core = runtime.core
    pump_until(core, lambda c: c.catalogue is not None)
    core.touch(Intent.START)
    pump_until(core, lambda c: c.state == "await_identity")
    runtime.hall.idcard_sim.insert(dataclasses.replace(card, valid_to=date(2030, 1, 1)))
    pump_until(core, lambda c: c.state == "categories")
    identity = core.session.identity
    assert identity.card_type == card.card_type.value
    assert identity.person_ref

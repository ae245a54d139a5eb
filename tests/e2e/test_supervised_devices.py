"""Real drivers under the device manager, against their simulators over real ptys and TCP:
input reaches the core as its own events, and an unplugged device comes back by itself."""

from __future__ import annotations

import queue
import time

import pytest

from drivers.idcard.sim_cards import DEMO_CARD
from drivers.idcard.simulator import IdCardSimulator
from drivers.printer.simulator import PrinterSimulator
from drivers.qr.simulator import QrScannerSimulator
from drivers.state import DeviceState
from kiosk.availability import Function
from kiosk.config import parse_config
from kiosk.device_inputs import to_core_event
from kiosk.device_manager import DeviceManager, build_specs
from kiosk.events import CardRead, DeviceChanged, DeviceInput, QrScanned


def wait_for(posted, predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            event = posted.get(timeout=0.05)
        except queue.Empty:
            continue
        seen.append(event)
        if predicate(event):
            return event
    raise AssertionError(f"not seen in {timeout}s; saw {seen[-10:]}")


def core_event(event):
    return to_core_event(event) if isinstance(event, DeviceInput) else event


@pytest.fixture
def posted():
    return queue.SimpleQueue()


def test_card_and_scanner_input_reach_the_core_and_a_replugged_reader_recovers(tmp_path, posted):
    link = tmp_path / "idcard"
    reader_sim = IdCardSimulator(card=None, pacing=False, link=link).start()
    scanner_sim = QrScannerSimulator().start()
    config = parse_config(
        {"devices": {"qr_scanner": {"url": "sim://", "enabled": True, "options": {"baud": 9600}}}}
    )
    enabled = config.devices.enabled()
    urls = {
        "idcard": f"serial://{link}",
        "qr_scanner": scanner_sim.url,
        "receipt_printer": "tcp://127.0.0.1:9",
    }
    manager = DeviceManager(build_specs(enabled, urls), posted.put, status_interval_s=0.2)
    manager.start()
    try:
        wait_for(posted, lambda e: isinstance(e, DeviceChanged) and e.device == "idcard")
        reader_sim.insert(DEMO_CARD)
        read = wait_for(posted, lambda e: isinstance(core_event(e), CardRead))
        assert core_event(read).record.id_number == DEMO_CARD.id_number

        scanner_sim.scan("https://zwfw.example.gov.cn/appt/2026112300042")
        scanned = wait_for(posted, lambda e: isinstance(core_event(e), QrScanned))
        assert core_event(scanned).text.endswith("2026112300042")

        assert Function.PRINT_RECEIPT not in manager.available(), "nothing listens on port 9"
        assert Function.IDENTIFY_BY_ID_CARD in manager.available()

        reader_sim.stop()  # unplug
        wait_for(
            posted,
            lambda e: (
                isinstance(e, DeviceChanged)
                and e.device == "idcard"
                and e.status.state is not DeviceState.ONLINE
            ),
        )
        reader_sim = IdCardSimulator(card=None, pacing=False, link=link).start()  # replug
        wait_for(
            posted,
            lambda e: (
                isinstance(e, DeviceChanged)
                and e.device == "idcard"
                and e.status.state is DeviceState.ONLINE
            ),
            timeout=40,
        )
        reader_sim.insert(DEMO_CARD)
        wait_for(posted, lambda e: isinstance(core_event(e), CardRead))
    finally:
        manager.stop()
        reader_sim.stop()
        scanner_sim.stop()


def test_paper_out_on_the_receipt_printer_disables_printing_only(posted):
    with PrinterSimulator() as printer_sim:
        config = parse_config({})
        urls = {"idcard": "serial:///dev/null-no-reader", "receipt_printer": printer_sim.url}
        manager = DeviceManager(
            build_specs(config.devices.enabled(), urls), posted.put, status_interval_s=0.1
        )
        manager.start()
        try:
            wait_for(
                posted, lambda e: isinstance(e, DeviceChanged) and e.device == "receipt_printer"
            )
            assert Function.PRINT_RECEIPT in manager.available()
            printer_sim.set_paper("out")
            changed = wait_for(
                posted,
                lambda e: (
                    isinstance(e, DeviceChanged)
                    and e.device == "receipt_printer"
                    and not e.status.usable
                ),
            )
            assert changed.status.paper == "out"
            assert Function.PRINT_RECEIPT not in manager.available()
            printer_sim.set_paper("full")
            wait_for(
                posted,
                lambda e: (
                    isinstance(e, DeviceChanged)
                    and e.device == "receipt_printer"
                    and e.status.usable
                ),
            )
        finally:
            manager.stop()

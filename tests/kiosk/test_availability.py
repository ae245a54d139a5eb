"""A lost device disables only the functions that need it, and the screen says so."""

from __future__ import annotations

from drivers.state import DeviceState, DeviceStatus, PaperState
from kiosk.availability import Function, available_functions
from kiosk.events import DeviceChanged, Intent
from tests.support.journey import walk_to_guide

ONLINE = DeviceStatus(DeviceState.ONLINE)


def test_functions_follow_their_devices():
    statuses = {"idcard": ONLINE, "receipt_printer": DeviceStatus(DeviceState.OFFLINE)}
    available = available_functions(statuses)
    assert Function.IDENTIFY_BY_ID_CARD in available
    assert Function.PRINT_RECEIPT not in available
    assert Function.SCAN_QR not in available, "neither a scanner nor a camera"
    assert Function.SCAN_QR in available_functions({"camera": ONLINE})
    paper_out = DeviceStatus(DeviceState.ONLINE, paper=PaperState.OUT)
    assert Function.PRINT_RECEIPT not in available_functions({"receipt_printer": paper_out})


def test_printer_out_of_service_greys_print_and_says_why(kiosk):
    walk_to_guide(kiosk)
    kiosk.post(DeviceChanged("receipt_printer", DeviceStatus(DeviceState.OFFLINE, "unplugged")))
    kiosk.pump()
    view = kiosk.view()
    assert [(o.label, o.enabled) for o in view.options] == [("打印证明", False)]
    assert view.hint == "打印机暂停服务，暂时无法打印。"
    kiosk.touch(Intent.PRINT)
    kiosk.pump()
    assert kiosk.state == "guide" and kiosk.services.printer.receipts == []

    kiosk.post(DeviceChanged("receipt_printer", ONLINE))
    kiosk.pump()
    assert kiosk.view().options[0].enabled
    kiosk.touch(Intent.PRINT)
    kiosk.pump()
    assert kiosk.state == "rate", "a printer that comes back is usable without a restart"


def test_card_reader_out_of_service_keeps_the_kiosk_honest(kiosk):
    kiosk.post(DeviceChanged("idcard", DeviceStatus(DeviceState.HARDWARE_ERROR, "SAM failed")))
    kiosk.pump()
    view = kiosk.view()
    assert not view.options[0].enabled, "no way to identify: the start needs one"
    assert view.options[1].enabled, "guides and tickets need no card"
    assert "身份核验暂停服务" in view.hint and "通知" not in view.hint
    kiosk.touch(Intent.START)
    kiosk.pump()
    assert kiosk.state == "attract"

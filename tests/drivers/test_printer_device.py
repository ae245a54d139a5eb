"""The receipt printer's uniform device face: status mapping, paper counting, and the simulator
running low and out over real TCP."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from escpos.printer import Serial, Usb
from hypothesis import given
from hypothesis import strategies as st

from drivers.printer import (
    Cut,
    Feed,
    PaperLevel,
    PaperOut,
    PaperTracker,
    PrinterConfigError,
    PrinterOffline,
    PrinterStatus,
    Qr,
    Receipt,
    ReceiptLength,
    ReceiptPrinterDevice,
    Text,
    decode_escpos,
    device_status,
    open_escpos,
    open_receipt_printer,
    receipt_length,
    render_escpos,
    selftest_receipt,
)
from drivers.printer.render import MARGIN_TOP, render_receipt
from drivers.printer.simulator import PrinterSimulator
from drivers.state import DeviceState, PaperState

NOW = datetime(2025, 5, 1, 9, 30)
RECEIPT = Receipt((Text("取号凭条 / TICKET"), Text("A012", double=True), Feed(2), Cut()))


@pytest.fixture
def sim() -> Iterator[PrinterSimulator]:
    with PrinterSimulator() as simulator:
        yield simulator


@pytest.fixture
def printer(sim: PrinterSimulator) -> ReceiptPrinterDevice:
    device = open_receipt_printer(sim.url, timeout=2.0, near_end_length_mm=1000.0)
    device.open()
    return device


# -- PrinterStatus -> DeviceStatus -------------------------------------------------------------

READY = PrinterStatus()


@pytest.mark.parametrize(
    ("printer_status", "state", "paper", "cover", "usable"),
    [
        (READY, DeviceState.ONLINE, PaperState.FULL, False, True),
        (
            dataclasses.replace(READY, paper=PaperLevel.LOW),
            DeviceState.ONLINE,
            PaperState.LOW,
            False,
            True,
        ),
        (
            dataclasses.replace(READY, paper=PaperLevel.OUT, online=False),
            DeviceState.ONLINE,
            PaperState.OUT,
            False,
            False,
        ),
        (
            dataclasses.replace(READY, cover_open=True, online=False),
            DeviceState.USER_ERROR,
            PaperState.FULL,
            True,
            False,
        ),
        (
            dataclasses.replace(READY, cutter_error=True, error=True),
            DeviceState.HARDWARE_ERROR,
            PaperState.JAMMED,
            False,
            False,
        ),
        (
            dataclasses.replace(READY, unrecoverable_error=True, paper=PaperLevel.LOW),
            DeviceState.HARDWARE_ERROR,
            PaperState.LOW,
            False,
            False,
        ),
        (
            dataclasses.replace(READY, auto_recoverable_error=True, error=True),
            DeviceState.BUSY,
            PaperState.FULL,
            False,
            True,
        ),
        (
            dataclasses.replace(READY, online=False),
            DeviceState.OFFLINE,
            PaperState.FULL,
            False,
            False,
        ),
        (PrinterStatus.unknown(), DeviceState.ONLINE, PaperState.UNKNOWN, None, True),
    ],
    ids=[
        "ready",
        "low",
        "out",
        "cover",
        "cutter",
        "unrecoverable",
        "overheated",
        "offline",
        "unknown",
    ],
)
def test_status_mapping(
    printer_status: PrinterStatus,
    state: DeviceState,
    paper: PaperState,
    cover: bool | None,
    usable: bool,
) -> None:
    status = device_status(printer_status, {"url": "x"})
    assert (status.state, status.paper, status.cover_open, status.usable) == (
        state,
        paper,
        cover,
        usable,
    )
    assert status.details["url"] == "x"


@given(
    flags=st.fixed_dictionaries(
        {
            name: st.booleans()
            for name in (
                "online",
                "cover_open",
                "feed_button",
                "error",
                "recoverable_error",
                "cutter_error",
                "unrecoverable_error",
                "auto_recoverable_error",
            )
        }
    ),
    paper=st.sampled_from(list(PaperLevel)),
)
def test_any_printer_status_maps_to_a_consistent_device_status(
    flags: dict[str, bool], paper: PaperLevel
) -> None:
    printer_status = PrinterStatus(paper=paper, **flags)
    status = device_status(printer_status)
    if status.usable:
        assert printer_status.ready or status.state is DeviceState.BUSY
    if printer_status.hardware_error:
        assert status.state is DeviceState.HARDWARE_ERROR
    assert status.cover_open == printer_status.cover_open


# -- paper length and counting -----------------------------------------------------------------


def test_receipt_length_matches_the_rendered_paper() -> None:
    """The estimate uses the renderer's metrics: the self-test slip's content height agrees."""
    receipt = selftest_receipt("KIOSK-0042", NOW)
    length = receipt_length(receipt, cutter_feed_mm=0.0)
    rendered_dots = render_receipt(receipt).height - MARGIN_TOP - 40  # 40: the drawn cut mark
    assert abs(length.mm - rendered_dots / 8) <= 0.5
    assert length.lines == 12  # 8 text lines (none wraps) and 4 feed lines


@pytest.mark.parametrize(
    ("text", "double", "rows"),
    [
        ("x" * 48, False, 1),
        ("x" * 49, False, 2),
        ("字" * 24, False, 1),
        ("字" * 25, False, 2),
        ("字" * 12, True, 1),
        ("字" * 13, True, 2),
    ],
)
def test_text_wraps_at_the_paper_edge(text: str, double: bool, rows: int) -> None:
    length = receipt_length(Receipt((Text(text, double=double),)))
    assert length.lines == rows
    assert length.mm == rows * (54 if double else 30) / 8


def test_feed_qr_and_cut_lengths() -> None:
    assert receipt_length(Receipt((Feed(8),))) == ReceiptLength(8, 30.0)
    assert receipt_length(Receipt((Cut(),)), cutter_feed_mm=12.5) == ReceiptLength(0, 12.5)
    qr = receipt_length(Receipt((Qr("KIOSK-SELFTEST", size=6),)))
    assert qr == ReceiptLength(0, (21 + 4) * 6 / 8)  # version 1: 21 modules, quiet zone 2 + 2


def test_tracker_counts_from_the_near_end_point() -> None:
    clock = iter(NOW + timedelta(minutes=m) for m in range(100))
    tracker = PaperTracker(near_end_length_mm=100.0, now=lambda: next(clock))
    slip = ReceiptLength(lines=5, mm=30.0)
    tracker.observe(PaperLevel.FULL)
    tracker.record(slip)
    assert tracker.paper_remaining_estimate is None  # nothing known before the sensor trips
    assert tracker.usage().receipts_since_low == 0
    tracker.observe(PaperLevel.LOW)
    assert tracker.paper_remaining_estimate == 100.0
    tracker.record(slip)
    tracker.observe(PaperLevel.LOW)  # still low: the count goes on
    tracker.record(slip)
    usage = tracker.usage()
    assert (usage.receipts_since_low, usage.lines_since_low, usage.mm_since_low) == (2, 10, 60.0)
    assert usage.remaining_estimate_mm == 40.0 and usage.low_since == NOW
    tracker.record(slip)
    tracker.record(slip)
    assert tracker.paper_remaining_estimate == 0.0  # never negative
    tracker.observe(PaperLevel.OUT)
    assert tracker.paper_remaining_estimate == 0.0
    assert tracker.usage().receipts_since_low == 4  # kept: calibrates the near-end length
    tracker.observe(PaperLevel.FULL)  # a new roll
    assert tracker.usage().receipts_since_low == 0 and tracker.usage().low_since is None


def test_tracker_with_a_known_roll_after_a_paper_change() -> None:
    tracker = PaperTracker(roll_length_mm=1000.0, near_end_length_mm=300.0)
    tracker.record(ReceiptLength(3, 100.0))
    assert tracker.paper_remaining_estimate is None  # how much was on the roll at start?
    tracker.paper_changed()
    assert tracker.paper_remaining_estimate == 1000.0
    tracker.record(ReceiptLength(3, 100.0))
    assert tracker.paper_remaining_estimate == 900.0
    tracker.observe(PaperLevel.LOW)  # the sensor trips early: the smaller estimate wins
    assert tracker.paper_remaining_estimate == 300.0
    for _ in range(8):
        tracker.record(ReceiptLength(3, 100.0))
    assert tracker.paper_remaining_estimate == 0.0
    with pytest.raises(ValueError):
        PaperTracker(roll_length_mm=0)


# -- against the simulator over TCP ------------------------------------------------------------


def test_open_and_status_of_a_healthy_printer(printer: ReceiptPrinterDevice) -> None:
    status = printer.status()
    assert (status.state, status.paper, status.cover_open, status.usable) == (
        DeviceState.ONLINE,
        PaperState.FULL,
        False,
        True,
    )
    assert status.details["paper_remaining_estimate_mm"] is None
    assert status.details["receipts_since_low"] == 0
    assert status.details["url"] == printer.url


def test_status_is_asked_before_and_after_each_job(
    sim: PrinterSimulator, printer: ReceiptPrinterDevice
) -> None:
    printer.print_receipt(RECEIPT)
    assert sim.wait_for_receipt() == RECEIPT
    job = decode_escpos(sim.received, strict=False)
    assert job.status_queries == (1, 2, 3, 4) * 3  # open, then before and after the job
    assert sim.received.endswith(b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04")
    assert render_escpos(RECEIPT) in sim.received


def test_paper_runs_low_then_out(sim: PrinterSimulator, printer: ReceiptPrinterDevice) -> None:
    """GIVEN a roll that reaches its near-end after 2 receipts and its end after 4 WHEN receipts
    are printed THEN the status goes low, the counts and the estimate follow, the 4th receipt is
    reported as paper out after it was sent, and the 5th is refused before anything is sent."""
    sim.run_out_after(low=2, out=4)
    length = receipt_length(RECEIPT)
    for _ in range(2):
        printer.print_receipt(RECEIPT)
    status = printer.status()
    assert status.paper is PaperState.LOW and status.usable
    assert status.details["receipts_since_low"] == 1  # the 2nd receipt tripped the sensor
    assert status.details["lines_since_low"] == length.lines
    assert printer.paper_remaining_estimate == pytest.approx(1000.0 - length.mm)
    printer.print_receipt(RECEIPT)
    with pytest.raises(PaperOut) as info:
        printer.print_receipt(RECEIPT)
    assert info.value.sent
    status = printer.status()
    assert (status.state, status.paper, status.usable) == (
        DeviceState.ONLINE,
        PaperState.OUT,
        False,
    )
    assert status.details["receipts_since_low"] == 3
    assert status.details["paper_remaining_estimate_mm"] == 0.0
    printed = len(sim.jobs)
    with pytest.raises(PaperOut) as info:
        printer.print_receipt(RECEIPT)
    assert not info.value.sent and len(sim.jobs) == printed
    assert printer.status().details["receipts_since_low"] == 3  # refused: not counted
    sim.set_paper("full")  # a technician changes the roll
    status = printer.status()
    assert status.paper is PaperState.FULL and status.details["receipts_since_low"] == 0


def test_paper_changed_with_a_known_roll(sim: PrinterSimulator) -> None:
    device = open_receipt_printer(sim.url, roll_length_mm=50_000)
    device.open()
    assert device.status().details["paper_remaining_estimate_mm"] is None
    device.paper_changed()
    device.print_receipt(RECEIPT)
    expected = 50_000 - receipt_length(RECEIPT).mm
    assert device.status().details["paper_remaining_estimate_mm"] == pytest.approx(expected)


def test_cover_open(sim: PrinterSimulator, printer: ReceiptPrinterDevice) -> None:
    sim.set_cover_open()
    status = printer.status()
    assert (status.state, status.cover_open, status.usable) == (DeviceState.USER_ERROR, True, False)


def test_cutter_jam(sim: PrinterSimulator, printer: ReceiptPrinterDevice) -> None:
    sim.set_error(cutter=True)
    status = printer.status()
    assert (status.state, status.paper) == (DeviceState.HARDWARE_ERROR, PaperState.JAMMED)
    assert "cutter error" in status.reason


def test_printer_offline_but_answering(
    sim: PrinterSimulator, printer: ReceiptPrinterDevice
) -> None:
    sim.set_online(False)
    status = printer.status()
    assert status.state is DeviceState.OFFLINE and "offline" in status.reason


def test_unreachable_then_powered_on_again(
    sim: PrinterSimulator, printer: ReceiptPrinterDevice
) -> None:
    port = sim.port
    sim.stop()
    status = printer.status()
    assert status.state is DeviceState.OFFLINE and "cannot connect" in status.reason
    printer.close()
    with pytest.raises(PrinterOffline, match="Connection refused"):
        printer.open()
    sim.start()
    assert sim.port == port
    printer.open()
    assert printer.status().state is DeviceState.ONLINE


def test_a_printer_that_does_not_answer_status(sim: PrinterSimulator) -> None:
    opened = open_receipt_printer(sim.url, timeout_s=0.3)
    opened.open()
    sim.set_mute()
    status = opened.status()
    assert status.state is DeviceState.OFFLINE and "did not answer" in status.reason
    fresh = open_receipt_printer(sim.url, timeout_s=0.3)
    with pytest.raises(PrinterOffline, match="did not answer"):
        fresh.open()
    assert fresh.status().state is DeviceState.OFFLINE  # never opened


def test_nothing_listening() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    device = open_receipt_printer(f"tcp://127.0.0.1:{port}", timeout=0.5)
    with pytest.raises(PrinterOffline):
        device.open()
    device.close()
    device.close()
    assert device.status().state is DeviceState.OFFLINE


def test_file_printer_does_not_truncate_on_status(tmp_path: Path) -> None:
    out = tmp_path / "receipts.bin"
    device = open_receipt_printer(f"file://{out}")
    device.open()
    status = device.status()
    assert (status.state, status.paper, status.usable) == (
        DeviceState.ONLINE,
        PaperState.UNKNOWN,
        True,
    )
    assert not out.exists()  # asking a write-only transport opens nothing
    device.print_receipt(RECEIPT)
    device.status()
    assert decode_escpos(out.read_bytes()).to_receipt() == RECEIPT


# -- transports by URL -------------------------------------------------------------------------


def test_usb_url_with_endpoints() -> None:
    printer = open_escpos("usb://04B8:0E15?in_ep=0x81&out_ep=2", timeout=1.5)
    assert isinstance(printer, Usb)
    assert printer.usb_args == {"idVendor": 0x04B8, "idProduct": 0x0E15}
    assert (printer.in_ep, printer.out_ep, printer.timeout) == (0x81, 0x02, 1500)
    default = open_escpos("usb://0x0416:0x5011")
    assert (default.in_ep, default.out_ep) == (0x82, 0x01)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("usb://04b8", "VID:PID"),
        ("usb://04b8:0e15:01", "VID:PID"),
        ("usb://0000:0e15", "0001-FFFF"),
        ("usb://1ffff:0e15", "0001-FFFF"),
        ("usb://04b8:0e15?in_ep=0x182", "endpoint"),
        ("usb://04b8:0e15?out_ep=x", "endpoint"),
        ("usb://04b8:0e15?interface=0", "unknown USB option"),
    ],
)
def test_bad_usb_urls(url: str, words: str) -> None:
    with pytest.raises(PrinterConfigError, match=words):
        open_receipt_printer(url)


def test_usb_printer_not_plugged_in_is_offline() -> None:
    device = open_receipt_printer("usb://04b8:0e15", timeout=0.5)
    with pytest.raises(PrinterOffline, match="cannot connect"):
        device.open()
    assert device.status().state is DeviceState.OFFLINE


def test_serial_baud_option_applies_when_the_url_has_none() -> None:
    device = open_receipt_printer("serial:///dev/ttyS0?flow=none", baud=19200)
    escpos = device.printer._opener(device.url)
    assert isinstance(escpos, Serial) and escpos.baudrate == 19200
    url_wins = open_receipt_printer("serial:///dev/ttyS0?baud=38400", baud=19200)
    assert url_wins.printer._opener(url_wins.url).baudrate == 38400  # type: ignore[attr-defined]


def test_factory_refuses_unknown_options() -> None:
    with pytest.raises(TypeError):
        open_receipt_printer("tcp://127.0.0.1:9100", colour="red")


@given(rest=st.text(max_size=40))
def test_usb_url_parsing_returns_a_printer_or_a_config_error(rest: str) -> None:
    try:
        printer = open_escpos("usb://" + rest)
    except PrinterConfigError:
        return
    assert isinstance(printer, Usb)
    assert 0 < printer.usb_args["idVendor"] <= 0xFFFF

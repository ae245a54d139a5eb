"""Receipt -> ESC/POS bytes (byte-exact), URL -> python-escpos transport, and file:// printing."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from escpos.printer import File, Network, Serial, Usb

from drivers.printer import (
    Cut,
    Feed,
    PrinterConfigError,
    PrinterError,
    Qr,
    Receipt,
    ReceiptNotPrintable,
    ReceiptPrinter,
    Text,
    decode_escpos,
    open_escpos,
    render_escpos,
    selftest_receipt,
)
from drivers.printer.escpos_printer import encode_line

ESC_INIT = b"\x1b\x40"
GB18030_DAYIN_CESHI = bytes.fromhex("b4f2 d3a1 b2e2 cad4")  # 打 B4F2, 印 D3A1, 测 B2E2, 试 CAD4


def test_gb18030_of_the_test_words_is_the_gb2312_code_points() -> None:
    assert "打印测试".encode("gb18030") == GB18030_DAYIN_CESHI


def test_small_receipt_bytes_exactly() -> None:
    receipt = Receipt(
        (
            Text("打印测试", bold=True, double=True, align="center"),
            Qr("KIOSK-SELFTEST", size=6),
            Cut(),
        )
    )

    expected = b"".join(
        [
            ESC_INIT,
            b"\x1b\x61\x01",  # ESC a 1: centre
            b"\x1b\x45\x01",  # ESC E 1: bold
            b"\x1d\x21\x11",  # GS ! 0x11: double width and height
            b"\x1c\x26" + GB18030_DAYIN_CESHI + b"\x1c\x2e",  # FS & ... FS .: Chinese mode
            b"\x0a",  # LF
            # QR is centred too, so no ESC a again. GS ( k pL pH cn=49 fn ...:
            b"\x1d\x28\x6b\x04\x00\x31\x41\x32\x00",  # fn 65 (165): model 2
            b"\x1d\x28\x6b\x03\x00\x31\x43\x06",  # fn 67 (167): module size 6
            b"\x1d\x28\x6b\x03\x00\x31\x45\x31",  # fn 69 (169): error correction M
            b"\x1d\x28\x6b\x11\x00\x31\x50\x30KIOSK-SELFTEST",  # fn 80 (180): store 14 bytes
            b"\x1d\x28\x6b\x03\x00\x31\x51\x30",  # fn 81 (181): print
            b"\x1d\x56\x41\x00",  # GS V 65 0: feed to the cutter, full cut
        ]
    )
    assert render_escpos(receipt) == expected


def test_only_style_changes_are_sent_and_ascii_skips_chinese_mode() -> None:
    receipt = Receipt((Text("A"), Text("B"), Text("C", bold=True), Feed(3), Cut(partial=True)))
    assert render_escpos(receipt) == (
        ESC_INIT + b"A\nB\n" + b"\x1b\x45\x01" + b"C\n" + b"\x1b\x64\x03" + b"\x1d\x56\x42\x00"
    )


def test_encode_line_wraps_only_non_ascii_in_chinese_mode() -> None:
    assert encode_line("Kiosk 01") == b"Kiosk 01"
    assert encode_line("时间 09:30") == b"\x1c\x26" + "时间 09:30".encode("gb18030") + b"\x1c\x2e"
    # Four-byte GB18030 (CJK Ext. B, found in names on ID cards) is still encoded:
    # U+20BB7 - 0x10000 = 68535 -> 0x95 0x34 0xB2 0x35 (from 0x90308130 in steps 12600/1260/10).
    assert encode_line("𠮷") == b"\x1c\x26\x95\x34\xb2\x35\x1c\x2e"


def test_profile_without_native_qr_or_cutter_gets_a_raster_qr_and_a_feed() -> None:
    receipt = Receipt((Qr("KIOSK-SELFTEST", size=4), Cut()))
    data = render_escpos(receipt, profile="simple")
    assert b"\x1d(k" not in data
    job = decode_escpos(data)
    assert len([i for i in job.items if type(i).__name__ == "RasterImage"]) == 1
    assert data.endswith(b"\x1b\x64\x06")  # ESC d 6 instead of a cut


def test_qr_wider_than_the_paper_is_refused_before_any_io() -> None:
    receipt = Receipt((Qr("x" * 600, size=16),))
    with pytest.raises(ReceiptNotPrintable, match="dots wide"):
        render_escpos(receipt)


def test_unknown_profile_is_a_config_error() -> None:
    with pytest.raises(PrinterConfigError, match="profile"):
        render_escpos(Receipt(()), profile="no-such-printer")


# -- transports --------------------------------------------------------------------------------


def test_tcp_url_opens_a_network_printer() -> None:
    printer = open_escpos("tcp://192.0.2.7:9100", timeout=2.5)
    assert isinstance(printer, Network)
    assert (printer.host, printer.port, printer.timeout) == ("192.0.2.7", 9100, 2.5)


def test_serial_url_opens_a_serial_printer_with_its_baud_rate() -> None:
    printer = open_escpos("serial:///dev/ttyUSB0?baud=19200&flow=none")
    assert isinstance(printer, Serial)
    assert (printer.devfile, printer.baudrate, printer.dsrdtr) == ("/dev/ttyUSB0", 19200, False)


@pytest.mark.skipif(not Usb.is_usable(), reason="pyusb is not installed")
def test_usb_url_opens_a_usb_printer_by_vendor_and_product() -> None:
    printer = open_escpos("usb://04b8:0e15")
    assert isinstance(printer, Usb)
    assert printer.usb_args == {"idVendor": 0x04B8, "idProduct": 0x0E15}


def test_usb_url_without_pyusb_is_a_config_error_naming_it(monkeypatch) -> None:
    # a kiosk image built without pyusb: python-escpos reports its Usb printer unusable
    monkeypatch.setattr(Usb, "is_usable", staticmethod(lambda: False))
    with pytest.raises(PrinterConfigError, match="pyusb"):
        open_escpos("usb://04b8:0e15")


def test_file_url_opens_a_file_printer() -> None:
    printer = open_escpos("file:///tmp/receipt.bin")
    assert isinstance(printer, File)
    assert printer.devfile == "/tmp/receipt.bin"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("sim://", "device manager"),
        ("pcsc://reader", "tcp://"),
        ("tcp://host-without-port", "host and port"),
        ("not a url", "not a device URL"),
        ("usb://epson", "VID:PID"),
        ("serial:///dev/ttyS0?baud=fast", "whole number"),
        ("serial:///dev/ttyS0?flow=magic", "flow"),
    ],
)
def test_bad_urls_fail_at_construction_with_a_readable_config_error(url: str, words: str) -> None:
    with pytest.raises(PrinterConfigError, match=words):
        ReceiptPrinter(url)


def test_usb_printer_that_is_not_there_is_a_printer_error_not_a_traceback() -> None:
    with pytest.raises(PrinterError, match="04b8:0e15"):
        ReceiptPrinter("usb://04b8:0e15", timeout=0.5).status()


def test_file_url_writes_the_exact_bytes_and_reports_unknown_status(tmp_path: Path) -> None:
    receipt = selftest_receipt("KIOSK-FILE", datetime(2025, 5, 1, 9, 30))
    out = tmp_path / "out.bin"

    status = ReceiptPrinter(f"file://{out}").print_receipt(receipt)

    assert not status.known
    data = out.read_bytes()
    assert data == render_escpos(receipt)  # no DLE EOT queries on a write-only transport
    assert decode_escpos(data).to_receipt() == receipt


def test_file_url_in_a_missing_directory_is_offline_not_a_traceback(tmp_path: Path) -> None:
    printer = ReceiptPrinter(f"file://{tmp_path}/missing/dir/out.bin")
    with pytest.raises(PrinterError, match="cannot connect"):
        printer.print_receipt(Receipt((Text("x"),)))


def test_importing_the_driver_leaves_root_logging_unconfigured() -> None:
    """python-escpos calls logging.basicConfig() on import; the driver undoes it for the app."""
    code = "import logging, drivers.printer; assert not logging.getLogger().handlers"
    subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2]
    )

"""The driver over a real serial line: a pty pair, with an ESC/POS responder on the far end."""

from __future__ import annotations

import os
import pty
import select
import threading
import time
import tty
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from drivers.printer import (
    Cut,
    PrinterOffline,
    PrinterTimeout,
    Receipt,
    ReceiptPrinter,
    Text,
    decode_escpos,
    open_receipt_printer,
)
from drivers.printer.escpos_decode import EscPosStreamDecoder, StatusRequest
from drivers.printer.status import PrinterStatus, encode_status
from drivers.state import DeviceState, PaperState


@dataclass
class SerialPrinter:
    """The printer's end of the line: decodes what arrives and answers DLE EOT unless muted."""

    master: int
    url: str
    answer: bool = True
    received: bytearray = field(default_factory=bytearray)
    stop: threading.Event = field(default_factory=threading.Event)

    def serve(self) -> None:
        decoder = EscPosStreamDecoder()
        while not self.stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            self.received += data
            for event in decoder.feed(data):
                if isinstance(event, StatusRequest) and self.answer:
                    os.write(self.master, bytes([encode_status(event.n, PrinterStatus())]))


@pytest.fixture
def serial_printer() -> Iterator[SerialPrinter]:
    master, slave = pty.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    device = SerialPrinter(master, f"serial://{os.ttyname(slave)}?baud=19200&flow=none")
    thread = threading.Thread(target=device.serve, daemon=True)
    thread.start()
    yield device
    device.stop.set()
    thread.join(timeout=2)
    os.close(master)
    os.close(slave)


def test_receipt_over_serial_checks_status_and_prints(serial_printer: SerialPrinter) -> None:
    receipt = Receipt((Text("串口打印"), Cut()))

    started = time.monotonic()
    status = ReceiptPrinter(serial_printer.url, timeout=2).print_receipt(receipt)

    # Eight one-byte answers must not each wait out the read timeout (pyserial read(16) would).
    assert time.monotonic() - started < 2
    assert status.ready
    job = decode_escpos(bytes(serial_printer.received))
    assert job.status_queries == (1, 2, 3, 4) * 2
    assert job.to_receipt() == receipt


def test_silent_serial_printer_times_out(serial_printer: SerialPrinter) -> None:
    serial_printer.answer = False
    with pytest.raises(PrinterTimeout, match="did not answer status query DLE EOT 1"):
        ReceiptPrinter(serial_printer.url, timeout=0.3).print_receipt(Receipt((Text("x"),)))
    assert decode_escpos(bytes(serial_printer.received)).items == ()


def test_missing_serial_port_is_offline() -> None:
    with pytest.raises(
        PrinterOffline, match="cannot connect to the printer at serial:///dev/nonexistent"
    ):
        ReceiptPrinter("serial:///dev/nonexistent-printer", timeout=0.3).status()


def test_device_face_over_serial(serial_printer: SerialPrinter) -> None:
    url = serial_printer.url.replace("baud=19200&", "")
    device = open_receipt_printer(url, baud=19200, timeout=2)
    device.open()
    status = device.status()
    assert (status.state, status.paper, status.usable) == (
        DeviceState.ONLINE,
        PaperState.FULL,
        True,
    )
    device.print_receipt(Receipt((Text("串口设备"), Cut())))
    job = decode_escpos(bytes(serial_printer.received))
    assert job.to_receipt() == Receipt((Text("串口设备"), Cut()))
    assert job.status_queries == (1, 2, 3, 4) * 4  # open, status, before and after the job
    serial_printer.answer = False
    quick = open_receipt_printer(url, timeout=0.3)
    with pytest.raises(PrinterTimeout):
        quick.open()

"""Serial QR scanners against the pty simulator: framing on a real tty, unplug and replug."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.qr import ScannedCode, ScannerUnavailableError, Terminator, open_qr_scanner
from drivers.qr.serial_scanner import SerialQrScanner
from drivers.qr.simulator import QrScannerSimulator
from drivers.state import DeviceState
from drivers.url import DeviceUrlError

URL = "https://zwfw.gd.gov.cn/qr/v1?c=AbC_x-9&t=1715990400"
APPOINTMENT = "预约号:A20240518-0037 地点:广州市政务服务中心3号窗口"


@pytest.fixture
def link(tmp_path: Path) -> Path:
    return tmp_path / "qrscanner"


@pytest.fixture
def sim(link: Path) -> Iterator[QrScannerSimulator]:
    with QrScannerSimulator(terminator=Terminator.CR, link=link) as simulator:
        yield simulator


@pytest.fixture
def scanner(sim: QrScannerSimulator) -> Iterator[SerialQrScanner]:
    device = SerialQrScanner(sim.url)
    device.open()
    yield device
    device.close()


def poll_until(scanner: SerialQrScanner, count: int, timeout: float = 2.0) -> list[str]:
    texts: list[str] = []
    for _ in range(int(timeout / 0.1)):
        texts += [code.text for code in scanner.poll(0.1)]
        if len(texts) >= count:
            break
    return texts


def test_reads_a_scan(sim: QrScannerSimulator, scanner: SerialQrScanner) -> None:
    sim.scan(URL)
    [code] = scanner.poll(1.0)
    assert code.text == URL
    assert code.raw == URL.encode()
    assert code.symbology == "unknown"
    assert code.source == f"serial:{sim.link}"


def test_gbk_and_utf8_scans(sim: QrScannerSimulator, scanner: SerialQrScanner) -> None:
    sim.scan(APPOINTMENT, encoding="gbk")
    sim.scan(APPOINTMENT)
    assert poll_until(scanner, 2) == [APPOINTMENT, APPOINTMENT]


def test_fragments_across_reads(sim: QrScannerSimulator, scanner: SerialQrScanner) -> None:
    """GIVEN a code arriving in 7 pieces 20 ms apart WHEN polled meanwhile THEN one code."""
    writer = threading.Thread(
        target=sim.scan, args=(APPOINTMENT,), kwargs={"fragments": 7, "gap_s": 0.02}
    )
    writer.start()
    texts = poll_until(scanner, 1)
    writer.join()
    assert texts == [APPOINTMENT]


@pytest.mark.parametrize("terminator", ["CR", "LF", "CRLF"])
def test_each_terminator(link: Path, terminator: str) -> None:
    sim = QrScannerSimulator(terminator=terminator, link=link)
    with sim, SerialQrScanner(sim.start().url) as scanner:
        assert scanner.terminator is Terminator(terminator)
        sim.scan("A20240518-0037", fragments=[5, 10])  # the terminator itself split off
        sim.scan(URL)
        assert poll_until(scanner, 2) == ["A20240518-0037", URL]


def test_default_terminator_accepts_all(link: Path) -> None:
    sim = QrScannerSimulator(terminator="CRLF", link=link).start()
    with sim, SerialQrScanner(f"serial://{link}") as scanner:
        assert scanner.terminator is Terminator.ANY and scanner.baud == 9600
        sim.scan("one")
        sim.send(b"two\rthree\n")
        assert poll_until(scanner, 3) == ["one", "two", "three"]


def test_garbage_and_overlong_lines_are_dropped(
    sim: QrScannerSimulator, scanner: SerialQrScanner, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="drivers.qr"):
        sim.send_garbage()
        sim.send_overlong(5000)
        sim.scan(URL)
        assert poll_until(scanner, 1) == [URL]
    details = scanner.status().details
    assert details["codes_refused"] == 1 and details["lines_discarded"] == 1
    assert details["codes_read"] == 1
    assert sum("refused a code" in r.message for r in caplog.records) == 1


def test_stale_partial_line_is_dropped(link: Path) -> None:
    with QrScannerSimulator(link=link) as sim, SerialQrScanner(sim.url, line_gap_s=0.05) as scanner:
        sim.send_garbage(b"noise-without-end", terminated=False)
        assert scanner.poll(0.2) == []
        sim.scan(URL)  # comes after a pause: the noise is not glued to it
        assert poll_until(scanner, 1) == [URL]


def test_aim_prefix(link: Path) -> None:
    sim = QrScannerSimulator(link=link).start()
    with sim, SerialQrScanner(sim.url + "&aim=1") as scanner:
        sim.scan("]Q1" + URL)
        [code] = poll_until_codes(scanner)
        assert (code.symbology, code.text) == ("QRCODE", URL)


def poll_until_codes(scanner: SerialQrScanner) -> list[ScannedCode]:
    for _ in range(20):
        codes = scanner.poll(0.1)
        if codes:
            return codes
    return []


def test_quiet_line_returns_nothing_in_time(scanner: SerialQrScanner) -> None:
    assert scanner.poll(0.05) == []


def test_close_and_reopen_mid_stream(sim: QrScannerSimulator, scanner: SerialQrScanner) -> None:
    """GIVEN half a code read WHEN the port is closed and reopened THEN the half is forgotten."""
    sim.send(b"half-of-a-co")
    assert scanner.poll(0.1) == []
    scanner.close()
    sim.send(b"de\r")  # the rest arrives while nobody listens: stale, flushed on open
    scanner.open()
    assert scanner.framer.pending == 0
    sim.scan(URL)
    assert poll_until(scanner, 1) == [URL]
    scanner.close()
    scanner.close()  # idempotent


def test_unplug_and_replug(
    link: Path, sim: QrScannerSimulator, scanner: SerialQrScanner, caplog: pytest.LogCaptureFixture
) -> None:
    sim.scan("before")
    assert poll_until(scanner, 1) == ["before"]
    with caplog.at_level(logging.INFO, logger="drivers.qr"):
        sim.stop()  # unplugged
        with pytest.raises(ScannerUnavailableError):
            scanner.poll(0.5)
        status = scanner.status()
        assert status.state is DeviceState.OFFLINE and status.reason
        with pytest.raises(ScannerUnavailableError, match="cannot open"):
            scanner.poll(0.1)  # still gone: poll tries to reopen and says so
        with QrScannerSimulator(link=link) as replugged:
            assert scanner.poll(0.05) == []  # reopened by poll itself
            assert scanner.status().state is DeviceState.ONLINE
            replugged.scan("after")
            assert poll_until(scanner, 1) == ["after"]
    outage = [r for r in caplog.records if "unavailable" in r.message]
    recovery = [r for r in caplog.records if "back online" in r.message]
    assert len(outage) == 1 and len(recovery) == 1  # one line each, not one per poll


def test_open_failure_is_typed_and_close_is_safe(tmp_path: Path) -> None:
    scanner = SerialQrScanner(f"serial://{tmp_path}/missing")
    with pytest.raises(ScannerUnavailableError, match="No such file or directory"):
        scanner.open()
    scanner.close()
    assert scanner.status().state is DeviceState.OFFLINE


@pytest.mark.parametrize(
    "url",
    [
        "serial:///dev/ttyACM0?baud=fast",
        "serial:///dev/ttyACM0?terminator=TAB",
        "serial:///dev/ttyACM0?baud=-5",
        "serial:///dev/ttyACM0?aim=maybe",
        "tcp://127.0.0.1:9100",
        "ttyACM0",
    ],
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(DeviceUrlError):
        open_qr_scanner(url)


def test_factory_picks_the_kind() -> None:
    serial_scanner = open_qr_scanner("serial:///dev/ttyACM0?baud=115200&terminator=crlf")
    assert isinstance(serial_scanner, SerialQrScanner)
    assert (serial_scanner.baud, serial_scanner.terminator) == (115200, Terminator.CRLF)
    assert type(open_qr_scanner("pty:///dev/pts/3")).__name__ == "SerialQrScanner"
    assert type(open_qr_scanner("/dev/ttyUSB0")).__name__ == "SerialQrScanner"
    assert (
        type(open_qr_scanner("hid:///dev/input/by-id/usb-x-event-kbd")).__name__ == "EvdevScanner"
    )
    assert type(open_qr_scanner("/dev/input/event3")).__name__ == "EvdevScanner"

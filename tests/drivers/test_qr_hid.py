"""Keyboard-wedge scanners: the US keymap, input_event parsing, recorded streams, the loop."""

from __future__ import annotations

import io
import json
import logging
import os
import runpy
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.qr import ScannerUnavailableError, open_qr_scanner
from drivers.qr.evdev_events import (
    EV_KEY,
    EV_SYN,
    EVENT_FORMAT_64,
    NATIVE_FORMAT,
    EventParser,
    InputEvent,
    encode_events,
    parse_events,
    read_events,
    write_events,
)
from drivers.qr.hid_scanner import EvdevScanner, FdSource, InputSource
from drivers.qr.keymap import CHAR_KEYS, KeyDecoder, events_for_text
from drivers.state import DeviceState
from drivers.url import DeviceUrlError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "qr"
STREAMS = json.loads((FIXTURES / "hid_streams.json").read_text("utf-8"))
US_TEXT = st.text(alphabet=sorted(CHAR_KEYS), min_size=1, max_size=80)


def key(code: int, value: int) -> InputEvent:
    return InputEvent(0, 0, EV_KEY, code, value)


# -- input_event bytes --------------------------------------------------------------------


def test_event_layout_matches_the_kernel() -> None:
    assert struct.calcsize(EVENT_FORMAT_64) == 24
    assert struct.calcsize(NATIVE_FORMAT) in (16, 24)  # 32-bit or 64-bit time


def test_encode_and_parse_round_trip() -> None:
    events = events_for_text("Ab1")
    data = encode_events(events, EVENT_FORMAT_64)
    assert len(data) == 24 * len(events)
    assert parse_events(data, EVENT_FORMAT_64) == events


def test_parser_keeps_partial_events() -> None:
    data = encode_events(events_for_text("xyz"), EVENT_FORMAT_64)
    parser = EventParser(EVENT_FORMAT_64)
    got = parser.feed(data[:30]) + parser.feed(data[30:31])
    assert parser.pending == 31 - 24
    got += parser.feed(data[31:])
    assert got == parse_events(data, EVENT_FORMAT_64) and parser.pending == 0


def test_read_events_from_a_file_object() -> None:
    buffer = io.BytesIO()
    write_events(buffer, events_for_text("hello"), EVENT_FORMAT_64)
    buffer.write(b"\x01\x02\x03")  # a truncated last event is ignored
    buffer.seek(0)
    assert KeyDecoder().feed_all(list(read_events(buffer, EVENT_FORMAT_64, chunk=7))) == ["hello"]


# -- keymap -------------------------------------------------------------------------------


@given(US_TEXT)
def test_every_us_string_round_trips(text: str) -> None:
    assert KeyDecoder().feed_all(events_for_text(text)) == ([text] if text else [])


@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), max_size=20))
def test_chinese_alt_codes_round_trip(text: str) -> None:
    for mode in ("gbk", "unicode"):
        decoded = KeyDecoder(alt_codes=mode).feed_all(events_for_text(text, alt_codes=mode))
        assert decoded == ([text] if text else [])


@given(st.lists(st.tuples(st.integers(0, 0x1FF), st.integers(-1, 3)), max_size=300))
def test_arbitrary_key_events_never_fail(pairs: list[tuple[int, int]]) -> None:
    decoder = KeyDecoder(max_chars=50)
    for code, value in pairs:
        line = decoder.feed(key(code, value))
        assert line is None or 0 < len(line) <= 50
    assert decoder.pending <= 50


def test_shift_caps_ctrl_and_repeat() -> None:
    events = [key(42, 1), key(30, 1), key(30, 0), key(42, 0), key(30, 1), key(30, 2), key(30, 0)]
    events += [key(58, 1), key(58, 0), key(30, 1), key(2, 1), key(29, 1), key(36, 1), key(29, 0)]
    events += [key(96, 1)]
    assert KeyDecoder().feed_all(events) == ["AaaA1"]


def test_unknown_keys_and_other_events_are_skipped() -> None:
    decoder = KeyDecoder()
    events = [InputEvent(0, 0, EV_SYN, 0, 0), InputEvent(0, 0, 0x11, 1, 1), key(63, 1), key(500, 1)]
    events += events_for_text("ok")
    assert decoder.feed_all(events) == ["ok"]
    assert decoder.unknown_keys == 2


def test_overlong_typed_line_is_dropped_and_resyncs(caplog: pytest.LogCaptureFixture) -> None:
    decoder = KeyDecoder(max_chars=10)
    with caplog.at_level(logging.WARNING, logger="drivers.qr"):
        lines = decoder.feed_all(events_for_text("x" * 25) + events_for_text("fine"))
    assert lines == ["fine"] and decoder.discarded == 1
    assert sum("overlong" in r.message for r in caplog.records) == 1


def test_bad_alt_code_is_skipped() -> None:
    events = [key(56, 1), key(79, 1), key(82, 1), key(82, 1), key(82, 1), key(82, 1), key(82, 1)]
    events += [key(82, 1), key(82, 1), key(56, 0)] + events_for_text("ok")  # Alt+100000000
    assert KeyDecoder().feed_all(events) == ["ok"]


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_recorded_fixture(name: str) -> None:
    entry = STREAMS[name]
    data = (FIXTURES / name).read_bytes()
    assert KeyDecoder().feed_all(parse_events(data, entry["format"])) == entry["texts"]


def test_fixtures_are_what_the_generator_makes() -> None:
    module = runpy.run_path(str(FIXTURES / "make_hid_fixtures.py"))
    for name, (events, texts, _) in module["fixtures"]().items():
        assert (FIXTURES / name).read_bytes() == encode_events(events, EVENT_FORMAT_64), name
        assert STREAMS[name]["texts"] == texts


# -- the scanner loop over a pipe (a stand-in for /dev/input/eventN) ----------------------


class PipeDevice:
    """Opens as a fresh pipe each time, like a device node that comes and goes."""

    def __init__(self) -> None:
        self.writer = -1
        self.opens = 0
        self.present = True

    def __call__(self, path: str, *, grab: bool) -> InputSource:
        if not self.present:
            raise ScannerUnavailableError(f"cannot open {path}: No such device")
        read_end, self.writer = os.pipe()
        os.set_blocking(read_end, False)
        self.opens += 1
        return FdSource(read_end, name="Pipe Scanner", grabbed=grab)

    def send(self, data: bytes) -> None:
        os.write(self.writer, data)

    def unplug(self) -> None:
        os.close(self.writer)
        self.present = False


@pytest.fixture
def device() -> Iterator[PipeDevice]:
    pipe = PipeDevice()
    yield pipe
    if pipe.present and pipe.writer >= 0:
        os.close(pipe.writer)


def hid_scanner(device: PipeDevice, url: str = "hid:///dev/input/event7") -> EvdevScanner:
    return EvdevScanner(url, opener=device, event_format=EVENT_FORMAT_64)


def test_scanner_reads_a_recorded_stream(device: PipeDevice) -> None:
    scanner = hid_scanner(device)
    scanner.open()
    data = (FIXTURES / "hid_two_codes.events").read_bytes()
    device.send(data[:1000])  # cut mid-event and mid-code
    first = scanner.poll(0.2)
    device.send(data[1000:])
    codes = first + scanner.poll(0.2) + scanner.poll(0.05)
    assert [c.text for c in codes] == STREAMS["hid_two_codes.events"]["texts"]
    assert codes[0].source == "hid:/dev/input/event7" and codes[0].raw == codes[0].text.encode()
    status = scanner.status()
    assert status.state is DeviceState.ONLINE
    assert status.details["grabbed"] is True and status.details["name"] == "Pipe Scanner"
    scanner.close()


def test_scanner_unplug_and_replug(device: PipeDevice, caplog: pytest.LogCaptureFixture) -> None:
    scanner = hid_scanner(device)
    with caplog.at_level(logging.INFO, logger="drivers.qr"):
        scanner.open()
        device.send(encode_events(events_for_text("partial", enter=False), EVENT_FORMAT_64))
        assert scanner.poll(0.05) == []  # half a code typed
        device.unplug()
        with pytest.raises(ScannerUnavailableError, match="went away"):
            scanner.poll(0.5)
        assert scanner.status().state is DeviceState.OFFLINE
        with pytest.raises(ScannerUnavailableError, match="No such device"):
            scanner.poll(0.05)
        device.present = True
        assert scanner.poll(0.05) == []  # replugged: the half-typed code is forgotten
        device.send(encode_events(events_for_text("after"), EVENT_FORMAT_64))
        assert [c.text for c in scanner.poll(0.5)] == ["after"]
    assert device.opens == 2
    assert sum("unavailable" in r.message for r in caplog.records) == 1
    assert sum("back online" in r.message for r in caplog.records) == 1
    scanner.close()


def test_refused_payload_is_counted(device: PipeDevice) -> None:
    scanner = hid_scanner(device, "hid:///dev/input/event7?max_bytes=8")
    scanner.open()
    device.send(
        encode_events(events_for_text("way-too-long") + events_for_text("ok"), EVENT_FORMAT_64)
    )
    assert [c.text for c in scanner.poll(0.3)] == ["ok"]
    assert scanner.status().details["lines_discarded"] == 1


def test_aim_prefix_over_hid(device: PipeDevice) -> None:
    scanner = hid_scanner(device, "evdev:///dev/input/event7?aim=1&grab=0")
    scanner.open()
    device.send(encode_events(events_for_text("]Q1HELLO"), EVENT_FORMAT_64))
    [code] = scanner.poll(0.3)
    assert (code.symbology, code.text) == ("QRCODE", "HELLO")
    assert scanner.status().details["grabbed"] is False


# -- real files: a recording replayed, a FIFO as a device that goes away -----------------


def test_replaying_a_recording_file() -> None:
    if struct.calcsize(NATIVE_FORMAT) != 24:
        pytest.skip("fixtures are in the 64-bit layout")
    scanner = open_qr_scanner(f"hid://{FIXTURES / 'hid_messy.events'}")
    texts = [c.text for c in scanner.poll(0.2)]
    assert texts == STREAMS["hid_messy.events"]["texts"]
    assert scanner.poll(0.05) == []  # the end of a recording is quiet, not an unplug
    assert scanner.status().state is DeviceState.ONLINE
    assert scanner.status().details["unknown_keys"] == 2
    scanner.close()


def test_fifo_writer_closing_is_an_unplug(tmp_path: Path) -> None:
    fifo = tmp_path / "event9"
    os.mkfifo(fifo)
    scanner = EvdevScanner(f"evdev://{fifo}", event_format=EVENT_FORMAT_64)
    scanner.open()
    writer = os.open(fifo, os.O_WRONLY)
    os.write(writer, encode_events(events_for_text("via fifo"), EVENT_FORMAT_64))
    assert [c.text for c in scanner.poll(0.3)] == ["via fifo"]
    os.close(writer)
    with pytest.raises(ScannerUnavailableError):
        scanner.poll(0.3)


def test_missing_device() -> None:
    scanner = open_qr_scanner("hid:///dev/input/by-id/usb-nothing-event-kbd")
    with pytest.raises(ScannerUnavailableError, match="No such file"):
        scanner.open()
    scanner.close()


@pytest.mark.parametrize(
    "url", ["hid://", "evdev:///dev/input/event1?alt_codes=big5", "hid:///dev/input/e?grab=perhaps"]
)
def test_bad_hid_urls(url: str) -> None:
    with pytest.raises(DeviceUrlError):
        open_qr_scanner(url)


def test_evdev_package_is_importable() -> None:
    evdev = pytest.importorskip("evdev")
    # Our keymap's codes are the kernel's: check a few against the evdev package's table.
    codes = evdev.ecodes
    assert (codes.KEY_A, codes.KEY_ENTER, codes.KEY_KPENTER) == (30, 28, 96)
    assert (codes.KEY_LEFTSHIFT, codes.KEY_LEFTALT, codes.KEY_KP0) == (42, 56, 82)
    assert CHAR_KEYS["/"] == (codes.KEY_SLASH, False) and CHAR_KEYS["?"] == (codes.KEY_SLASH, True)

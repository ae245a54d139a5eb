"""The ID card reader's uniform device face against the simulator over a real pty.

One read per placement, removal and re-presentation, failures reported once, SAM faults as
hardware errors, and the reader unplugged and plugged back in while a card lies on it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.idcard import (
    FIND_CARD,
    READ_TEXT_PHOTO,
    READ_WITH_FINGERPRINT,
    SAM_STATUS,
    CardPayload,
    CardPresented,
    CardReadFailed,
    CardRemoved,
    IdCardDevice,
    ReaderUnavailableError,
    Status,
    build_text_block,
    encode_response,
    open_idcard_reader,
)
from drivers.idcard.codec import Command
from drivers.idcard.sim_cards import (
    FOREIGN_2017,
    FOREIGN_2023,
    HK_RESIDENCE_PERMIT,
    LI_XIUYING,
    WANG_JIANGUO,
    ZHAO_MIN,
    demo_photo,
)
from drivers.idcard.simulator import IdCardSimulator
from drivers.state import DeviceState

FAST = {"timeout": 0.3, "poll_interval_s": 0.01}


@pytest.fixture
def sim() -> Iterator[IdCardSimulator]:
    with IdCardSimulator(None, pacing=False) as simulator:
        yield simulator


@pytest.fixture
def device(sim: IdCardSimulator) -> Iterator[IdCardDevice]:
    dev = open_idcard_reader(sim.url, **FAST)
    dev.open()
    yield dev
    dev.close()


def reads(sim: IdCardSimulator) -> int:
    return sum(1 for c in sim.commands if c in (READ_TEXT_PHOTO, READ_WITH_FINGERPRINT))


def test_open_reports_online_with_the_sam_id(sim: IdCardSimulator, device: IdCardDevice) -> None:
    status = device.status()
    assert status.state is DeviceState.ONLINE and status.usable
    assert status.details["sam_id"] == "05.01-20101010-0000012345-0123456789"
    assert status.details["port"] == sim.port
    assert status.reason == ""


def test_nothing_on_the_reader(device: IdCardDevice) -> None:
    started = time.monotonic()
    assert device.poll(0.1) == []
    assert 0.1 <= time.monotonic() - started < 0.5
    assert device.status().media_present is False


def test_one_read_per_placement(sim: IdCardSimulator, device: IdCardDevice) -> None:
    """GIVEN a card put down WHEN polled repeatedly THEN it is read once, reported once; lifted,
    it is reported removed; put down again, it is read again."""
    sim.insert(LI_XIUYING)
    assert device.poll(0.5) == [CardPresented(LI_XIUYING)]
    assert device.status().media_present is True
    for _ in range(3):
        assert device.poll(0.05) == []
    assert reads(sim) == 1
    sim.remove()
    assert device.poll(0.5) == [CardRemoved()]
    assert device.status().media_present is False
    assert device.poll(0.05) == []
    sim.insert(LI_XIUYING)
    assert device.poll(0.5) == [CardPresented(LI_XIUYING)]
    assert reads(sim) == 2


def test_a_card_swapped_between_polls(sim: IdCardSimulator, device: IdCardDevice) -> None:
    sim.insert(LI_XIUYING)
    assert device.poll(0.5) == [CardPresented(LI_XIUYING)]
    sim.insert(WANG_JIANGUO)  # lifted and another put down faster than a poll
    assert device.poll(0.5) == [CardRemoved(), CardPresented(WANG_JIANGUO)]


def test_one_missed_answer_does_not_end_a_placement(
    sim: IdCardSimulator, device: IdCardDevice
) -> None:
    sim.insert(LI_XIUYING)
    device.poll(0.5)
    sim.remove()
    assert device.poll(0) == []  # one look, one "no card": not yet removed
    sim.insert(LI_XIUYING)
    assert device.poll(0.05) == []  # the same card, no second read
    assert reads(sim) == 1


@pytest.mark.parametrize(
    "card",
    [LI_XIUYING, HK_RESIDENCE_PERMIT, FOREIGN_2017, FOREIGN_2023],
    ids=lambda c: c.card_type.value,
)
def test_every_card_type_is_presented(
    sim: IdCardSimulator, device: IdCardDevice, card: object
) -> None:
    sim.insert(card)  # type: ignore[arg-type]
    [event] = device.poll(0.5)
    assert isinstance(event, CardPresented) and event.record == card
    assert type(event.record) is type(card)


def test_read_with_fingerprint(sim: IdCardSimulator) -> None:
    sim.insert(ZHAO_MIN)
    with_fp = open_idcard_reader(sim.url, with_fingerprint=True, **FAST)
    with_fp.open()
    try:
        [event] = with_fp.poll(0.5)
    finally:
        with_fp.close()
    assert isinstance(event, CardPresented)
    assert event.record == ZHAO_MIN and len(event.record.fingerprint) == 1024
    assert sim.commands[-1] == READ_WITH_FINGERPRINT


def test_a_card_that_cannot_be_read_is_reported_once(
    sim: IdCardSimulator, device: IdCardDevice
) -> None:
    sim.card_fault = Status.READ_FAILED
    sim.insert(WANG_JIANGUO)
    [event] = device.poll(0.5)
    assert isinstance(event, CardReadFailed)
    assert event.reason == "CardReadError" and "0x41" in event.detail
    assert device.poll(0.05) == []  # not again while it lies there
    sim.card_fault = None
    assert device.poll(0.05) == []  # still the same placement: lift it and place it again
    sim.remove()
    assert device.poll(0.5) == [CardRemoved()]
    sim.insert(WANG_JIANGUO)
    assert device.poll(0.5) == [CardPresented(WANG_JIANGUO)]


def test_a_read_failing_once_is_tried_again_at_once(
    sim: IdCardSimulator, device: IdCardDevice
) -> None:
    """GIVEN a card whose first read fails (still sliding into place) THEN the device reads it
    again in the same look and presents it; no failure is reported."""
    sim.fail_reads(times=1)
    sim.insert(LI_XIUYING)
    assert device.poll(0.5) == [CardPresented(LI_XIUYING)]
    assert reads(sim) == 2


def test_reads_failing_every_attempt_are_one_failure(sim: IdCardSimulator) -> None:
    sim.fail_reads(Status.SAM_AUTH_CARD_FAILED, times=3)
    dev = open_idcard_reader(sim.url, read_attempts=3, **FAST)
    dev.open()
    try:
        sim.insert(LI_XIUYING)
        [event] = dev.poll(0.5)
        assert isinstance(event, CardReadFailed) and "0x32" in event.detail
        assert reads(sim) == 3
        assert dev.poll(0.05) == []  # reads work now, but this placement was reported
        sim.insert(WANG_JIANGUO)  # another card: its chip differs, so it is read
        assert dev.poll(0.5) == [CardRemoved(), CardPresented(WANG_JIANGUO)]
    finally:
        dev.close()


def test_a_card_with_invalid_data_is_reported_without_personal_data(
    sim: IdCardSimulator, device: IdCardDevice
) -> None:
    text = bytearray(build_text_block(LI_XIUYING))
    text[122 + 34 : 122 + 36] = "9".encode("utf-16-le")  # wrong check character
    sim.insert(CardPayload(bytes(text), demo_photo("bad")))
    [event] = device.poll(0.5)
    assert isinstance(event, CardReadFailed) and event.reason == "InvalidIdNumberError"
    assert LI_XIUYING.id_number[:17] not in event.detail and "1101" in event.detail


def test_something_that_is_not_an_id_card(sim: IdCardSimulator, device: IdCardDevice) -> None:
    """A find answered "unknown card type" (a bus card on the reader) is one failed placement."""
    sim.insert(LI_XIUYING)
    original = sim._respond

    def bus_card(command: Command) -> bytes:
        if command == FIND_CARD:
            return encode_response(Status.UNKNOWN_CARD_TYPE)
        return original(command)

    sim._respond = bus_card  # type: ignore[method-assign]
    [event] = device.poll(0.5)
    assert isinstance(event, CardReadFailed) and "0x40" in event.detail
    assert device.poll(0.05) == []
    assert device.status().state is DeviceState.ONLINE


def test_sam_self_test_failure_is_a_hardware_error(
    sim: IdCardSimulator, device: IdCardDevice
) -> None:
    sim.sam_fault = Status.SAM_SELF_TEST_FAILED
    sim.insert(LI_XIUYING)
    assert device.poll(0.1) == []
    status = device.status()
    assert status.state is DeviceState.HARDWARE_ERROR and not status.usable
    assert "self-test" in status.reason and "0x60" in status.reason
    status = device.reset_sam()  # the simulated fault clears on a reset
    assert status.state is DeviceState.ONLINE
    assert device.poll(0.5) == [CardPresented(LI_XIUYING)]


def test_a_sam_fault_at_open_still_opens(sim: IdCardSimulator) -> None:
    sim.sam_fault = Status.SAM_NOT_AUTHORISED
    dev = open_idcard_reader(sim.url, **FAST)
    dev.open()
    try:
        status = dev.status()
        assert status.state is DeviceState.HARDWARE_ERROR and "not authorised" in status.reason
        assert "sam_id" not in status.details
    finally:
        dev.close()


def test_status_asks_the_sam_when_nothing_was_heard_lately(sim: IdCardSimulator) -> None:
    dev = open_idcard_reader(sim.url, status_max_age_s=0.0, **FAST)
    dev.open()
    try:
        assert dev.status().state is DeviceState.ONLINE
        assert sim.commands[-1] == SAM_STATUS
        sim.sam_fault = Status.SAM_SELF_TEST_FAILED
        assert dev.status().state is DeviceState.HARDWARE_ERROR
    finally:
        dev.close()


def test_line_noise_is_survived(sim: IdCardSimulator, device: IdCardDevice) -> None:
    sim.inject_garbage(times=5)
    sim.corrupt_checksum(times=1)
    sim.insert(WANG_JIANGUO)
    assert device.poll(1.0) == [CardPresented(WANG_JIANGUO)]


def test_a_silent_reader_goes_offline_then_unavailable(sim: IdCardSimulator) -> None:
    dev = open_idcard_reader(sim.url, timeout=0.1, poll_interval_s=0.01, max_silent_polls=3)
    dev.open()
    try:
        sim.silent = True
        assert dev.poll(0.0) == []
        status = dev.status()
        assert status.state is DeviceState.OFFLINE and "does not answer" in status.reason
        with pytest.raises(ReaderUnavailableError, match="stopped answering"):
            dev.poll(1.0)
        assert dev.status().state is DeviceState.OFFLINE
        with pytest.raises(ReaderUnavailableError, match="not open"):
            dev.poll(0.1)
        sim.silent = False
        dev.open()
        assert dev.status().state is DeviceState.ONLINE
    finally:
        dev.close()


def test_a_reader_that_never_answers_does_not_open(sim: IdCardSimulator) -> None:
    sim.silent = True
    dev = open_idcard_reader(sim.url, timeout=0.1)
    with pytest.raises(ReaderUnavailableError, match="does not answer"):
        dev.open()
    assert dev.status().state is DeviceState.OFFLINE
    dev.close()


def test_a_missing_port_does_not_open(tmp_path: Path) -> None:
    dev = open_idcard_reader(f"serial://{tmp_path}/ttyUSB9")
    with pytest.raises(ReaderUnavailableError, match="cannot open"):
        dev.open()
    dev.close()
    dev.close()
    status = dev.status()
    assert status.state is DeviceState.OFFLINE and status.media_present is None


# -- unplugged and plugged back in, with a card on the reader ----------------------------------


@pytest.fixture
def link(tmp_path: Path) -> Path:
    return tmp_path / "idcard"


def unplug_with_card_read(link: Path) -> tuple[IdCardDevice, IdCardSimulator]:
    first = IdCardSimulator(LI_XIUYING, pacing=False, link=link).start()
    dev = open_idcard_reader(first.url, **FAST)
    dev.open()
    assert dev.poll(0.5) == [CardPresented(LI_XIUYING)]
    first.stop()  # unplugged: the pty and the link are gone
    with pytest.raises(ReaderUnavailableError):
        dev.poll(0.5)
    status = dev.status()
    assert status.state is DeviceState.OFFLINE and status.media_present is None
    dev.close()
    with pytest.raises(ReaderUnavailableError, match="cannot open"):
        dev.open()  # still unplugged
    return dev, first


def test_replugged_with_the_same_card_still_on_it(link: Path) -> None:
    """GIVEN a card read, WHEN the reader is unplugged and plugged back in with the card still
    there THEN it is not read again; lifted, it is reported removed."""
    dev, _ = unplug_with_card_read(link)
    with IdCardSimulator(LI_XIUYING, pacing=False, link=link) as again:
        dev.open()
        try:
            assert dev.status().state is DeviceState.ONLINE
            assert dev.poll(0.1) == []
            assert reads(again) == 0
            again.remove()
            assert dev.poll(0.5) == [CardRemoved()]
        finally:
            dev.close()


def test_replugged_with_another_card(link: Path) -> None:
    dev, _ = unplug_with_card_read(link)
    with IdCardSimulator(WANG_JIANGUO, pacing=False, link=link):
        dev.open()
        try:
            assert dev.poll(0.5) == [CardRemoved(), CardPresented(WANG_JIANGUO)]
        finally:
            dev.close()


def test_replugged_with_no_card(link: Path) -> None:
    dev, _ = unplug_with_card_read(link)
    with IdCardSimulator(None, pacing=False, link=link):
        dev.open()
        try:
            assert dev.poll(0.5) == [CardRemoved()]
            assert dev.poll(0.05) == []
        finally:
            dev.close()


# -- the face itself ---------------------------------------------------------------------------


def test_close_wakes_a_waiting_poll(sim: IdCardSimulator, device: IdCardDevice) -> None:
    threading.Timer(0.1, device.close).start()
    started = time.monotonic()
    assert device.poll(5.0) == []
    assert time.monotonic() - started < 1.0


def test_factory_options(sim: IdCardSimulator) -> None:
    dev = open_idcard_reader(sim.url, baud=9600, timeout_s=0.7, retries=0)
    assert isinstance(dev, IdCardDevice)
    assert dev.reader.transport.timeout == 0.7 and dev.reader.retries == 0
    assert dev.reader.transport.address.baud == 115200  # the URL's ?baud= wins
    with pytest.raises(TypeError):
        open_idcard_reader(sim.url, colour="red")


def test_events_and_logs_carry_no_personal_data(
    sim: IdCardSimulator, device: IdCardDevice, caplog: pytest.LogCaptureFixture
) -> None:
    sim.insert(FOREIGN_2023)
    with caplog.at_level(logging.DEBUG, logger="drivers"):
        events = device.poll(0.5)
        sim.remove()
        events += device.poll(0.5)
    text = repr(events) + caplog.text
    assert "CardPresented(<foreign_permanent_2023, redacted>)" in repr(events)
    for secret in (FOREIGN_2023.english_name, FOREIGN_2023.chinese_name, FOREIGN_2023.id_number):
        assert secret not in text

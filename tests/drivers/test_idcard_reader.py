"""The reader driver against the simulator over a real pty (pacing off unless a test says so)."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.idcard import (
    FIND_CARD,
    FINGERPRINT_SIZE,
    READ_TEXT_PHOTO,
    READ_WITH_FINGERPRINT,
    SAM_ID,
    SAM_RESET,
    SAM_STATUS,
    SELECT_CARD,
    CardReadError,
    CardRecord,
    ChecksumError,
    IdCardReader,
    NoCardError,
    ProtocolError,
    ReaderStatusError,
    ReaderTimeoutError,
    ReaderUnavailableError,
    SamFaultError,
    Status,
    build_text_block,
    check_response,
    resolve_port,
)
from drivers.idcard.codec import PREAMBLE, Command, Response
from drivers.idcard.sim_cards import (
    FOREIGN_2017,
    FOREIGN_2023,
    GONG_YAN,
    HK_RESIDENCE_PERMIT,
    LI_XIUYING,
    WANG_JIANGUO,
    ZHAO_MIN,
)
from drivers.idcard.simulator import BITS_PER_BYTE, IdCardSimulator
from drivers.url import DeviceUrlError

READ_SEQUENCE = [FIND_CARD, SELECT_CARD, READ_TEXT_PHOTO]


@pytest.fixture
def sim() -> Iterator[IdCardSimulator]:
    with IdCardSimulator(LI_XIUYING, pacing=False) as simulator:
        yield simulator


@pytest.fixture
def reader(sim: IdCardSimulator) -> Iterator[IdCardReader]:
    with IdCardReader(sim.url, timeout=0.5) as r:
        yield r


def test_reads_a_card(sim: IdCardSimulator, reader: IdCardReader) -> None:
    assert reader.read_card() == LI_XIUYING
    assert sim.commands == READ_SEQUENCE


def test_reads_a_rare_character_name(sim: IdCardSimulator, reader: IdCardReader) -> None:
    sim.insert(GONG_YAN)
    assert reader.read_card().name == "龚䶮"


def test_no_card(sim: IdCardSimulator, reader: IdCardReader) -> None:
    sim.remove()
    with pytest.raises(NoCardError) as info:
        reader.read_card()
    assert info.value.status == Status.FIND_FAILED
    assert "no card on the reader" in str(info.value)


def test_card_removed_and_another_placed(sim: IdCardSimulator, reader: IdCardReader) -> None:
    assert reader.read_card() == LI_XIUYING
    sim.remove()
    with pytest.raises(NoCardError):
        reader.read_card()
    sim.insert(WANG_JIANGUO)
    assert reader.read_card() == WANG_JIANGUO
    sim.insert(LI_XIUYING)
    assert reader.read_card() == LI_XIUYING


def test_step_by_step_and_out_of_order(sim: IdCardSimulator, reader: IdCardReader) -> None:
    with pytest.raises(CardReadError) as info:
        reader.select_card()  # nothing found yet
    assert info.value.status == Status.SELECT_FAILED
    assert reader.find_card() == bytes(4)
    assert len(reader.select_card()) == 8
    payload = reader.read_text_photo()
    assert (len(payload.text), len(payload.photo)) == (256, 1024)
    with_fp = reader.read_text_photo_fingerprint()
    assert with_fp.text == payload.text and with_fp.fingerprint == b""


@pytest.mark.parametrize(
    "card", [HK_RESIDENCE_PERMIT, FOREIGN_2017, FOREIGN_2023], ids=lambda c: c.card_type.value
)
def test_reads_every_card_type(
    sim: IdCardSimulator, reader: IdCardReader, card: CardRecord
) -> None:
    sim.insert(card)
    assert reader.read_card() == card
    assert reader.read_payload().text == build_text_block(card)


def test_read_with_fingerprint_end_to_end(sim: IdCardSimulator, reader: IdCardReader) -> None:
    """GIVEN a card with fingerprints WHEN read with 30 10 THEN the record carries the 1024
    opaque bytes; a 30 01 read of the same card carries none."""
    sim.insert(ZHAO_MIN)
    record = reader.read_card(with_fingerprint=True)
    assert record == ZHAO_MIN and len(record.fingerprint) == FINGERPRINT_SIZE
    assert sim.commands[-1] == READ_WITH_FINGERPRINT
    plain = reader.read_card()
    assert plain.fingerprint == b"" and plain == dataclasses.replace(ZHAO_MIN, fingerprint=b"")
    assert sim.commands[-1] == READ_TEXT_PHOTO


def test_fingerprint_read_of_a_card_without_fingerprints(
    sim: IdCardSimulator, reader: IdCardReader
) -> None:
    assert reader.read_card(with_fingerprint=True) == LI_XIUYING


def test_fingerprints_are_never_logged(
    sim: IdCardSimulator, reader: IdCardReader, caplog: pytest.LogCaptureFixture
) -> None:
    sim.insert(ZHAO_MIN)
    with caplog.at_level(logging.DEBUG):
        record = reader.read_card(with_fingerprint=True)
    assert "<2310 data bytes redacted>" in caplog.text  # lengths 6 + 256 + 1024 + 1024
    assert record.fingerprint[:8].hex(" ") not in caplog.text
    assert record.fingerprint[:8].hex() not in caplog.text


def test_sam_commands(sim: IdCardSimulator, reader: IdCardReader) -> None:
    assert reader.sam_id() == "05.01-20101010-0000012345-0123456789"
    reader.sam_status()
    reader.sam_reset()
    assert sim.commands[-3:] == [SAM_ID, SAM_STATUS, SAM_RESET]
    assert sim.sam_resets == 1


@pytest.mark.parametrize("fault", [0x60, 0x61, 0x66])
def test_sam_faults_are_their_own_error(
    sim: IdCardSimulator, reader: IdCardReader, fault: int
) -> None:
    sim.sam_fault = fault
    for call in (reader.sam_status, reader.sam_id, reader.read_card):
        with pytest.raises(SamFaultError) as info:
            call()
        assert info.value.status == fault
    reader.sam_reset()  # a reset clears a fault that is not sticky
    assert reader.read_card() == LI_XIUYING


def test_a_sticky_sam_fault_survives_a_reset(sim: IdCardSimulator, reader: IdCardReader) -> None:
    sim.sam_fault, sim.sam_fault_sticky = Status.SAM_SELF_TEST_FAILED, True
    with pytest.raises(SamFaultError, match="self-test"):
        reader.sam_reset()


def test_a_card_that_cannot_be_read(sim: IdCardSimulator, reader: IdCardReader) -> None:
    sim.card_fault = Status.READ_FAILED
    with pytest.raises(CardReadError) as info:
        reader.read_card()
    assert info.value.status == Status.READ_FAILED
    assert "读证/卡操作失败" in str(info.value)


@pytest.mark.parametrize(
    "noise",
    [
        b"\x00\xff\x13\x37",
        b"\xaa\xaa\x96\xaa\xaa\xaa\x96",  # broken preambles
        PREAMBLE + b"\xff\xff",  # a preamble with an impossible length
        PREAMBLE + b"\x00\x10\x01",  # a preamble whose length swallows the real answer
    ],
    ids=["noise", "partial-preambles", "absurd-length", "swallowing"],
)
def test_garbage_before_every_answer(
    sim: IdCardSimulator, reader: IdCardReader, noise: bytes
) -> None:
    sim.inject_garbage(noise, times=3)
    assert reader.read_card() == LI_XIUYING
    assert sim.commands == READ_SEQUENCE


def test_corrupt_checksum_is_resent_once(sim: IdCardSimulator, reader: IdCardReader) -> None:
    sim.corrupt_checksum(times=1)
    assert reader.read_card() == LI_XIUYING
    assert sim.commands == [FIND_CARD, FIND_CARD, SELECT_CARD, READ_TEXT_PHOTO]


def test_corrupt_checksum_without_retries_then_recovery(sim: IdCardSimulator) -> None:
    with IdCardReader(sim.url, timeout=1.0, retries=0) as reader:
        sim.corrupt_checksum(times=1)
        started = time.monotonic()
        with pytest.raises(ChecksumError) as info:
            reader.read_card()
        # A complete corrupt answer followed by silence fails fast, not at the deadline.
        assert time.monotonic() - started < 0.8
        assert isinstance(info.value, ProtocolError)
        assert reader.read_card() == LI_XIUYING


def test_timeout_when_the_reader_stays_silent(sim: IdCardSimulator) -> None:
    with IdCardReader(sim.url, timeout=0.2) as reader:
        sim.silent = True
        started = time.monotonic()
        with pytest.raises(ReaderTimeoutError, match="did not answer within 0.2 s"):
            reader.read_card()
        assert 0.2 <= time.monotonic() - started < 1.0
        sim.silent = False
        assert reader.read_card() == LI_XIUYING


def test_a_late_answer_is_not_taken_for_the_next_one(sim: IdCardSimulator) -> None:
    with IdCardReader(sim.url, timeout=0.2) as reader:
        sim.delay_s = 0.3
        with pytest.raises(ReaderTimeoutError):
            reader.find_card()
        time.sleep(0.3)  # the late "card found" answer is now waiting in the port
        sim.delay_s = 0
        sim.remove()
        with pytest.raises(NoCardError):
            reader.find_card()


def test_close_and_reopen_mid_session(sim: IdCardSimulator, reader: IdCardReader) -> None:
    assert reader.read_card() == LI_XIUYING
    reader.close()
    reader.close()  # twice is fine
    assert not reader.transport.is_open
    reader.open()
    assert reader.read_card() == LI_XIUYING
    reader.close()
    assert reader.read_card() == LI_XIUYING  # a closed port is opened again on demand


def test_unplug_and_replug(tmp_path: Path) -> None:
    link = tmp_path / "idcard"
    first = IdCardSimulator(LI_XIUYING, pacing=False, link=link).start()
    reader = IdCardReader(first.url, timeout=0.3)
    try:
        assert reader.read_card() == LI_XIUYING
        first.stop()  # unplugged: the pty and the link are gone
        with pytest.raises(ReaderUnavailableError):
            reader.read_card()
        with pytest.raises(ReaderUnavailableError, match="cannot open"):
            reader.read_card()
        with IdCardSimulator(WANG_JIANGUO, pacing=False, link=link):  # plugged back in
            assert reader.read_card() == WANG_JIANGUO
    finally:
        reader.close()
        first.stop()


def test_port_cannot_be_opened(tmp_path: Path) -> None:
    reader = IdCardReader(str(tmp_path / "no-such-tty"))
    with pytest.raises(ReaderUnavailableError, match="cannot open the reader port"):
        reader.open()
    with pytest.raises(ReaderUnavailableError):
        reader.read_card()


def test_a_second_reader_on_the_same_port_is_refused(sim: IdCardSimulator) -> None:
    with (
        IdCardReader(sim.url),
        pytest.raises(ReaderUnavailableError, match="in use by another program"),
    ):
        IdCardReader(sim.url).open()


def test_reader_status_errors_are_typed(sim: IdCardSimulator, reader: IdCardReader) -> None:
    with pytest.raises(ReaderStatusError) as info:
        reader.command(Command(0x61, 0xFF))  # a command the simulator does not know
    assert info.value.status == Status.COMMAND_ERROR
    assert not isinstance(info.value, CardReadError | NoCardError)


@pytest.mark.parametrize(
    ("url", "path", "baud"),
    [
        ("/dev/ttyUSB0", "/dev/ttyUSB0", 115200),
        ("serial:///dev/ttyUSB0", "/dev/ttyUSB0", 115200),
        ("serial:///dev/ttyUSB0?baud=9600", "/dev/ttyUSB0", 9600),
        ("pty:///dev/pts/3", "/dev/pts/3", 115200),
    ],
)
def test_resolve_port(url: str, path: str, baud: int) -> None:
    address = resolve_port(url)
    assert (address.path, address.baud) == (path, baud)


@pytest.mark.parametrize(
    "url", ["tcp://127.0.0.1:9100", "ttyUSB0", "serial://", "serial:///dev/x?baud=fast", "sim://"]
)
def test_bad_urls_are_refused_early(url: str) -> None:
    with pytest.raises(DeviceUrlError):
        IdCardReader(url)


def test_traffic_log_carries_no_personal_data(
    sim: IdCardSimulator, reader: IdCardReader, caplog: pytest.LogCaptureFixture
) -> None:
    sim.insert(WANG_JIANGUO)
    with caplog.at_level(logging.DEBUG, logger="drivers.idcard"):
        reader.read_card()
    log = caplog.text
    assert "aa aa aa 96 69 00 03 30 01 32" in log  # the traffic is there
    assert "<1284 data bytes redacted>" in log
    card = WANG_JIANGUO
    for secret in (card.name, card.id_number, card.address, card.issuer):
        assert secret not in log
        assert secret.encode("utf-16-le").hex(" ")[:20] not in log
    assert card.id_number[6:14] not in log


def test_an_outage_is_logged_once_and_its_recovery_once(
    sim: IdCardSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    with IdCardReader(sim.url, timeout=0.1) as reader, caplog.at_level(logging.INFO):
        sim.silent = True
        for _ in range(3):
            with pytest.raises(ReaderTimeoutError):
                reader.find_card()
        sim.silent = False
        reader.find_card()
        reader.find_card()
    records = [r for r in caplog.records if r.name == "drivers.idcard"]
    assert [r.levelno for r in records] == [logging.WARNING, logging.INFO]
    assert "failing" in records[0].getMessage() and "recovered" in records[1].getMessage()


def test_paced_read_takes_at_least_the_wire_time() -> None:
    """GIVEN a simulator paced at 115200 baud WHEN a card is read THEN the read takes no less
    than the bytes need on the wire (1359 bytes both ways), and not much more."""
    with (
        IdCardSimulator(LI_XIUYING, baud=115200, pacing=True) as sim,
        IdCardReader(sim.url, timeout=2.0) as reader,
    ):
        started = time.monotonic()
        assert reader.read_card() == LI_XIUYING
        elapsed = time.monotonic() - started
    floor = 1359 * BITS_PER_BYTE / 115200
    assert floor <= elapsed < floor + 1.0


# -- SW3: every status has its typed error -----------------------------------------------------

# SW3 values published by reader SDKs (sdtapi and clones), plus 0x34, 0x50, 0x61 from older SDK
# tables. Host-side return codes (0x01-0x09) are not SW3 and are not here.
PUBLISHED_SW3 = {
    0x90, 0x91, 0x9F, 0x10, 0x11, 0x21, 0x23, 0x24, 0x31, 0x32, 0x33, 0x34, 0x37, 0x3F, 0x40,
    0x41, 0x47, 0x50, 0x60, 0x61, 0x66, 0x80, 0x81,
}  # fmt: skip
EXPECTED_ERRORS: dict[int, type[ReaderStatusError]] = {
    0x80: NoCardError,
    **{
        sw3: CardReadError
        for sw3 in (0x34, 0x81, 0x41, 0x31, 0x32, 0x33, 0x37, 0x3F, 0x40, 0x47, 0x91)
    },
    **{sw3: SamFaultError for sw3 in (0x60, 0x61, 0x66)},
    **{sw3: ReaderStatusError for sw3 in (0x10, 0x11, 0x21, 0x23, 0x24, 0x50, 0x9F)},
}


def test_the_status_table_is_the_published_one() -> None:
    assert {int(status) for status in Status} == PUBLISHED_SW3
    assert set(EXPECTED_ERRORS) == PUBLISHED_SW3 - {0x90}


@pytest.mark.parametrize("sw3", sorted(EXPECTED_ERRORS), ids=lambda v: f"{v:02X}")
def test_every_failure_status_maps_to_its_error(sw3: int) -> None:
    with pytest.raises(ReaderStatusError) as info:
        check_response(Command(0x30, 0x01), Response(0, 0, sw3))
    assert type(info.value) is EXPECTED_ERRORS[sw3]
    assert info.value.status == sw3
    assert f"(0x{sw3:02X})" in str(info.value)


@given(sw3=st.integers(0, 255), sw1=st.integers(0, 255), sw2=st.integers(0, 255))
def test_any_status_byte_returns_or_raises_a_reader_status_error(
    sw3: int, sw1: int, sw2: int
) -> None:
    response = Response(sw1, sw2, sw3)
    try:
        assert check_response(SELECT_CARD, response) is response
        assert sw3 == Status.OK
    except ReaderStatusError as exc:
        assert (exc.status, exc.sw1, exc.sw2) == (sw3, sw1, sw2)
        assert "unknown reader status" in str(exc) or sw3 in PUBLISHED_SW3


@given(url=st.text(max_size=40) | st.builds(lambda s: "serial://" + s, st.text(max_size=30)))
def test_resolve_port_returns_an_address_or_a_url_error(url: str) -> None:
    try:
        address = resolve_port(url)
    except DeviceUrlError:
        return
    assert address.path and address.baud > 0

"""DLE EOT status codec: query bytes, answer bytes, and the round trip through the simulator side."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.printer.status import (
    DeviceState,
    PaperLevel,
    PrinterStatus,
    StatusDecodeError,
    decode_status,
    encode_status,
    is_status_byte,
    status_query,
)


def test_query_bytes_are_dle_eot_n() -> None:
    assert status_query(1) == b"\x10\x04\x01"
    assert status_query(4) == b"\x10\x04\x04"
    with pytest.raises(ValueError):
        status_query(5)


@pytest.mark.parametrize(
    ("paper_byte", "level"),
    [
        (0x12, PaperLevel.FULL),
        (0x1E, PaperLevel.LOW),
        (0x72, PaperLevel.OUT),
        (0x32, PaperLevel.OUT),
    ],
)
def test_paper_sensor_bits(paper_byte: int, level: PaperLevel) -> None:
    # 0x0C near end, 0x60 end (python-escpos's RT_MASK_LOWPAPER 30 and RT_MASK_NOPAPER 114).
    assert decode_status({4: paper_byte}).paper is level


def test_offline_causes_and_errors() -> None:
    status = decode_status({1: 0x1A, 2: 0x16, 3: 0x1A, 4: 0x12})
    assert not status.online
    assert status.cover_open
    assert status.cutter_error
    assert status.state is DeviceState.HARDWARE_ERROR
    assert not status.ready


def test_paper_end_stop_in_offline_cause_means_out_even_without_the_sensor_byte() -> None:
    assert decode_status({1: 0x1A, 2: 0x32}).paper is PaperLevel.OUT


def test_all_clear_is_ready_and_online() -> None:
    status = decode_status({1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12})
    assert status.ready
    assert status.state is DeviceState.ONLINE
    assert status.warnings == ()


def test_paper_low_is_ready_with_a_warning() -> None:
    status = decode_status({1: 0x12, 2: 0x12, 3: 0x12, 4: 0x1E})
    assert status.ready
    assert status.warnings == ("paper low",)


def test_unknown_status_counts_as_ready() -> None:
    status = PrinterStatus.unknown()
    assert status.ready
    assert status.state is DeviceState.UNKNOWN
    assert "unknown" in status.describe()


@pytest.mark.parametrize("value", [0x00, 0xFF, 0x13, 0x92, 0x02])
def test_bytes_without_the_fixed_bits_are_rejected(value: int) -> None:
    assert not is_status_byte(value)
    with pytest.raises(StatusDecodeError, match="not a DLE EOT"):
        decode_status({1: value})


statuses = st.builds(
    PrinterStatus,
    online=st.booleans(),
    paper=st.sampled_from([PaperLevel.FULL, PaperLevel.LOW, PaperLevel.OUT]),
    cover_open=st.booleans(),
    feed_button=st.booleans(),
    error=st.booleans(),
    recoverable_error=st.booleans(),
    cutter_error=st.booleans(),
    unrecoverable_error=st.booleans(),
    auto_recoverable_error=st.booleans(),
)


@given(statuses)
def test_encode_then_decode_keeps_what_matters(status: PrinterStatus) -> None:
    answers = {n: encode_status(n, status) for n in (1, 2, 3, 4)}
    assert all(is_status_byte(v) for v in answers.values())
    decoded = decode_status(answers)
    assert decoded.paper is status.paper
    assert decoded.cover_open == status.cover_open
    assert decoded.cutter_error == status.cutter_error
    assert decoded.unrecoverable_error == status.unrecoverable_error
    assert decoded.ready == status.ready

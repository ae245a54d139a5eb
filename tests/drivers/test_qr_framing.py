"""Line framing for serial scanners: fragments, terminators, overlong lines."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.qr import LineFramer, Terminator


def feed_all(framer: LineFramer, *chunks: bytes) -> list[bytes]:
    lines: list[bytes] = []
    for chunk in chunks:
        lines += framer.feed(chunk)
    return lines


@pytest.mark.parametrize(
    ("terminator", "stream"),
    [
        (Terminator.CR, b"one\rtwo\r"),
        (Terminator.LF, b"one\ntwo\n"),
        (Terminator.CRLF, b"one\r\ntwo\r\n"),
        (Terminator.ANY, b"one\rtwo\n"),
        (Terminator.ANY, b"one\r\ntwo\r\n"),
    ],
)
def test_terminators(terminator: Terminator, stream: bytes) -> None:
    assert LineFramer(terminator).feed(stream) == [b"one", b"two"]


def test_partial_lines_wait_for_their_terminator() -> None:
    framer = LineFramer(Terminator.CR)
    assert framer.feed(b"https://zw") == []
    assert framer.pending == 10
    assert framer.feed(b"fw.gov.cn\rnext") == [b"https://zwfw.gov.cn"]
    assert framer.feed(b"\r") == [b"next"]
    assert framer.pending == 0


def test_crlf_split_between_reads() -> None:
    framer = LineFramer(Terminator.CRLF)
    assert feed_all(framer, b"abc\r", b"\ndef\r", b"\n") == [b"abc", b"def"]


def test_strict_terminator_keeps_the_other_inside_the_line() -> None:
    # With CR configured, a stray LF is data: the payload check refuses the line later.
    assert LineFramer(Terminator.CR).feed(b"a\nb\r") == [b"a\nb"]


def test_empty_lines_are_skipped() -> None:
    assert LineFramer(Terminator.ANY).feed(b"\r\n\r\nabc\r\r") == [b"abc"]


def test_overlong_line_is_discarded_once_and_framing_resyncs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    framer = LineFramer(Terminator.CR, max_line=8)
    with caplog.at_level(logging.WARNING, logger="drivers.qr"):
        lines = feed_all(framer, b"ok\r0123", b"456789", b"abcdef", b"ghij\rgood\r")
    assert lines == [b"ok", b"good"]
    assert framer.discarded == 1
    assert len([r for r in caplog.records if "overlong" in r.message]) == 1


def test_overlong_complete_line_in_one_read() -> None:
    framer = LineFramer(Terminator.LF, max_line=4)
    assert framer.feed(b"12345\nabcd\n") == [b"abcd"]
    assert framer.discarded == 1


def test_overlong_crlf_line_keeps_the_cr_of_its_terminator() -> None:
    framer = LineFramer(Terminator.CRLF, max_line=4)
    assert feed_all(framer, b"123456\r", b"\nok\r\n") == [b"ok"]


def test_reset_drops_the_partial_line() -> None:
    framer = LineFramer(Terminator.CR)
    framer.feed(b"half of a co")
    framer.reset()
    assert framer.feed(b"whole\r") == [b"whole"]


def test_parse_terminator() -> None:
    assert Terminator.parse("crlf") is Terminator.CRLF
    with pytest.raises(ValueError, match="not one of CR, LF, CRLF, ANY"):
        Terminator.parse("TAB")


LINES = st.lists(
    st.binary(min_size=1, max_size=40).filter(lambda b: b"\r" not in b and b"\n" not in b),
    max_size=10,
)


@pytest.mark.parametrize("terminator", [Terminator.CR, Terminator.LF, Terminator.CRLF])
@given(lines=LINES, cuts=st.lists(st.integers(min_value=0, max_value=500), max_size=12))
def test_any_fragmentation_gives_the_same_lines(
    terminator: Terminator, lines: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(line + terminator.wire for line in lines)
    points = sorted({c % (len(stream) + 1) for c in cuts})
    chunks = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    for framer in (LineFramer(terminator), LineFramer(Terminator.ANY)):
        assert feed_all(framer, *chunks) == lines
        assert framer.pending == 0


@given(st.binary(max_size=300), st.integers(min_value=1, max_value=50))
def test_never_holds_more_than_a_line(noise: bytes, max_line: int) -> None:
    framer = LineFramer(Terminator.ANY, max_line=max_line)
    for line in feed_all(framer, noise, noise):
        assert 0 < len(line) <= max_line
    assert framer.pending <= max_line

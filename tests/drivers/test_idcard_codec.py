"""GA 467 framing: byte-exact frames from published reader documentation, and robustness."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.idcard.codec import (
    FIND_CARD,
    MAX_LENGTH,
    PREAMBLE,
    READ_TEXT_PHOTO,
    READ_WITH_FINGERPRINT,
    SAM_ID,
    SAM_RESET,
    SAM_STATUS,
    SELECT_CARD,
    CardPayload,
    Command,
    Frame,
    FrameDecoder,
    Response,
    Status,
    checksum,
    decode_card_payload,
    decode_frame,
    describe_status,
    encode_card_payload,
    encode_command,
    encode_frame,
    encode_response,
    format_sam_id,
    redact_frame,
)
from drivers.idcard.errors import (
    ChecksumError,
    FrameError,
    FrameLengthError,
    ProtocolError,
)


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# Commands as printed in reader vendors' protocol notes (e.g. the SAM module UART protocol).
PUBLISHED_COMMANDS = [
    (FIND_CARD, "AA AA AA 96 69 00 03 20 01 22"),
    (SELECT_CARD, "AA AA AA 96 69 00 03 20 02 21"),
    (READ_TEXT_PHOTO, "AA AA AA 96 69 00 03 30 01 32"),
    (READ_WITH_FINGERPRINT, "AA AA AA 96 69 00 03 30 10 23"),
    (SAM_RESET, "AA AA AA 96 69 00 03 10 FF EC"),
    (SAM_STATUS, "AA AA AA 96 69 00 03 11 FF ED"),
    (SAM_ID, "AA AA AA 96 69 00 03 12 FF EE"),
]


@pytest.mark.parametrize(("command", "published"), PUBLISHED_COMMANDS)
def test_commands_match_published_frames(command: Command, published: str) -> None:
    assert command.encode() == h(published)
    assert encode_command(command.cmd, command.param) == h(published)


def test_find_card_checksum_is_the_xor_of_length_through_data() -> None:
    """GIVEN the find-card frame WHEN its check byte is recomputed by hand THEN it is 0x22."""
    assert 0x00 ^ 0x03 ^ 0x20 ^ 0x01 == 0x22
    assert checksum(h("00 03 20 01")) == 0x22
    assert FIND_CARD.encode()[-1] == 0x22


# Answers as printed in the same notes.
PUBLISHED_RESPONSES = [
    (Response(0, 0, 0x9F, bytes(4)), "AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97"),
    (Response(0, 0, 0x80), "AA AA AA 96 69 00 04 00 00 80 84"),
    (Response(0, 0, 0x90, bytes(8)), "AA AA AA 96 69 00 0C 00 00 90" + " 00" * 8 + " 9C"),
    (Response(0, 0, 0x41), "AA AA AA 96 69 00 04 00 00 41 45"),
    (Response(0, 0, 0x32), "AA AA AA 96 69 00 04 00 00 32 36"),
]


@pytest.mark.parametrize(("response", "published"), PUBLISHED_RESPONSES)
def test_responses_match_published_frames(response: Response, published: str) -> None:
    assert response.encode() == h(published)
    assert decode_frame(h(published)).as_response() == response


def test_read_answer_has_the_published_header_and_size() -> None:
    payload = CardPayload(text=bytes(256), photo=bytes(1024))
    frame = encode_response(Status.OK, encode_card_payload(payload))
    assert frame[:14] == h("AA AA AA 96 69 05 08 00 00 90 01 00 04 00")
    assert len(frame) == 5 + 2 + 3 + 4 + 256 + 1024 + 1 == 1295


def test_fingerprint_answer_has_the_published_header_and_size() -> None:
    payload = CardPayload(text=bytes(256), photo=bytes(1024), fingerprint=bytes(1024))
    frame = encode_response(Status.OK, encode_card_payload(payload, with_fingerprint=True))
    assert frame[:16] == h("AA AA AA 96 69 09 0A 00 00 90 01 00 04 00 04 00")
    assert len(frame) == 2321


def test_card_payload_round_trip_and_validation() -> None:
    payload = CardPayload(text=bytes(range(256)), photo=b"\x01" * 1024, fingerprint=b"\x02" * 512)
    data = encode_card_payload(payload, with_fingerprint=True)
    assert decode_card_payload(data, with_fingerprint=True) == payload
    assert decode_card_payload(encode_card_payload(payload)).fingerprint == b""
    with pytest.raises(ProtocolError, match="do not add up"):
        decode_card_payload(data[:-1], with_fingerprint=True)
    with pytest.raises(ProtocolError, match="shorter than its length fields"):
        decode_card_payload(b"\x01")
    short_text = CardPayload(text=bytes(100), photo=bytes(1024))
    with pytest.raises(ProtocolError, match="expected 256"):
        decode_card_payload(encode_card_payload(short_text))
    assert repr(payload) == (
        "CardPayload(text=<256 bytes>, photo=<1024 bytes>, fingerprint=<512 bytes>)"
    )


@pytest.mark.parametrize(
    ("data", "error", "match"),
    [
        (h("00 03 20 01 22"), FrameError, "preamble"),
        (h("AA AA AA 96 69 00"), FrameLengthError, "shorter than its header"),
        (h("AA AA AA 96 69 00 02 20 22"), FrameLengthError, "below the minimum"),
        (h("AA AA AA 96 69 00 03 20 01"), FrameLengthError, "says 10 bytes"),
        (h("AA AA AA 96 69 00 03 20 01 22 00"), FrameLengthError, "says 10 bytes"),
        (h("AA AA AA 96 69 00 03 20 01 23"), ChecksumError, "expected 0x22"),
    ],
)
def test_decode_frame_rejects_malformed_frames(data: bytes, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        decode_frame(data)


def test_frame_bodies_too_short_for_their_role() -> None:
    with pytest.raises(FrameLengthError):
        Frame(b"\x20").as_command()
    with pytest.raises(FrameLengthError):
        Frame(b"\x00\x00").as_response()
    assert Frame(b"\x20\x01").as_command() == FIND_CARD


def test_decoder_byte_by_byte() -> None:
    decoder = FrameDecoder()
    frames: list[Frame] = []
    for byte in FIND_CARD.encode():
        frames += decoder.feed(bytes([byte]))
    assert frames == [Frame(b"\x20\x01")]
    assert decoder.pending == 0


def test_decoder_several_frames_in_one_chunk() -> None:
    decoder = FrameDecoder()
    data = FIND_CARD.encode() + SELECT_CARD.encode() + READ_TEXT_PHOTO.encode()
    frames = decoder.feed(data)
    assert [f.as_command() for f in frames] == [FIND_CARD, SELECT_CARD, READ_TEXT_PHOTO]


def test_decoder_skips_garbage_and_keeps_a_partial_preamble() -> None:
    decoder = FrameDecoder()
    frame = FIND_CARD.encode()
    assert decoder.feed(b"\x00\x13noise" + frame[:3]) == []
    assert decoder.pending == 3  # AA AA AA might be the start of a preamble
    assert decoder.feed(frame[3:]) == [Frame(b"\x20\x01")]
    assert decoder.garbage_bytes == 7
    assert decoder.take_errors() == []


def test_decoder_reports_an_absurd_length_and_recovers() -> None:
    decoder = FrameDecoder()
    absurd = PREAMBLE + (MAX_LENGTH + 1).to_bytes(2, "big")
    frames = decoder.feed(absurd + b"\x00" * 5 + FIND_CARD.encode())
    assert frames == [Frame(b"\x20\x01")]
    errors = decoder.take_errors()
    assert len(errors) == 1 and isinstance(errors[0], FrameLengthError)
    assert decoder.take_errors() == []


def test_decoder_reports_a_bad_checksum_and_recovers_for_the_next_frame() -> None:
    decoder = FrameDecoder()
    bad = bytearray(FIND_CARD.encode())
    bad[-1] ^= 0xFF
    frames = decoder.feed(bytes(bad) + SELECT_CARD.encode())
    assert frames == [Frame(b"\x20\x02")]
    assert [type(e) for e in decoder.take_errors()] == [ChecksumError]


def test_decoder_finds_a_frame_swallowed_by_a_fake_preamble() -> None:
    """GIVEN noise holding a preamble with a plausible length WHEN the real answer follows
    THEN the fake frame fails its checksum and the real one inside it is still decoded."""
    decoder = FrameDecoder()
    fake = PREAMBLE + h("00 10") + b"\x01\x02"
    real = encode_response(Status.CARD_FOUND, bytes(4))
    frames = decoder.feed(fake + real + b"\x00" * 8)
    assert [f.as_response().sw3 for f in frames] == [0x9F]


def test_decoder_abandons_an_incomplete_frame_when_a_later_one_is_complete() -> None:
    decoder = FrameDecoder()
    fake = PREAMBLE + h("04 00") + b"\x01"  # waits for 1024 bytes that never come
    real = encode_response(Status.FIND_FAILED)
    assert [f.as_response().sw3 for f in decoder.feed(fake + real)] == [0x80]
    assert len(decoder.take_errors()) == 1


def test_decoder_reset_forgets_everything() -> None:
    decoder = FrameDecoder()
    decoder.feed(b"junk" + FIND_CARD.encode()[:6])
    decoder.reset()
    assert decoder.pending == 0 and decoder.garbage_bytes == 0
    assert decoder.feed(FIND_CARD.encode()[6:]) == []


def test_every_status_has_both_messages() -> None:
    for status in Status:
        assert status.message_zh and status.message_en
        assert f"(0x{status.value:02X})" in describe_status(status.value)
    assert describe_status(0x80) == "寻找证/卡失败 / no card on the reader (0x80)"
    assert "unknown reader status 0x55" in describe_status(0x55)
    assert Response(0x6A, 0x82, 0x41).describe().endswith("[SW1 SW2 6A 82]")
    assert Response(0, 0, 0x55).status is None


def test_sam_id_format() -> None:
    data = (5).to_bytes(2, "little") + (1).to_bytes(2, "little")
    data += (20101010).to_bytes(4, "little") + (12345).to_bytes(4, "little")
    data += (123456789).to_bytes(4, "little")
    assert format_sam_id(data) == "05.01-20101010-0000012345-0123456789"
    with pytest.raises(ProtocolError):
        format_sam_id(b"\x00" * 15)


def test_redact_frame_hides_card_data_but_not_status() -> None:
    text = "李秀英".encode("utf-16-le").ljust(256, b" ")
    frame = encode_response(Status.OK, encode_card_payload(CardPayload(text, bytes(1024))))
    shown = redact_frame(frame, outgoing=False)
    assert shown.startswith("aa aa aa 96 69 05 08 00 00 90 <1284 data bytes redacted>")
    assert text[:6].hex(" ") not in shown
    assert redact_frame(FIND_CARD.encode(), outgoing=True) == "aa aa aa 96 69 00 03 20 01 22"
    assert redact_frame(encode_response(0x80), outgoing=False).endswith("80 84")


def test_encode_frame_refuses_bodies_beyond_sixteen_bits() -> None:
    with pytest.raises(FrameLengthError):
        encode_frame(bytes(0xFFFF))


def test_command_names() -> None:
    assert FIND_CARD.name == "find_card"
    assert Command(0x61, 0xFF).name == "cmd_61ff"


# -- properties ------------------------------------------------------------------------------

bodies = st.binary(min_size=2, max_size=300)
garbage = st.binary(max_size=64).filter(lambda g: PREAMBLE not in g)


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False)]


@given(body=bodies, noise=garbage, cuts=st.lists(st.integers(min_value=0), max_size=8))
def test_round_trip_through_noise_and_any_chunking(
    body: bytes, noise: bytes, cuts: list[int]
) -> None:
    decoder = FrameDecoder()
    frames: list[Frame] = []
    for chunk in chunked(noise + encode_frame(body), cuts):
        frames += decoder.feed(chunk)
    assert frames == [Frame(body)]
    assert decode_frame(encode_frame(body)) == Frame(body)


@given(
    sw=st.tuples(*[st.integers(0, 255)] * 3),
    data=st.binary(max_size=64),
)
def test_response_round_trip(sw: tuple[int, int, int], data: bytes) -> None:
    response = Response(*sw, data)
    assert decode_frame(response.encode()).as_response() == response


@given(cmd=st.integers(0, 255), param=st.integers(0, 255), data=st.binary(max_size=64))
def test_command_round_trip(cmd: int, param: int, data: bytes) -> None:
    command = Command(cmd, param, data)
    assert decode_frame(command.encode()).as_command() == command


@given(data=st.binary(max_size=600), cuts=st.lists(st.integers(min_value=0), max_size=10))
def test_decoder_never_raises_and_only_yields_checked_frames(data: bytes, cuts: list[int]) -> None:
    decoder = FrameDecoder()
    for chunk in chunked(data, cuts):
        for frame in decoder.feed(chunk):
            assert encode_frame(frame.body) in data
    for error in decoder.take_errors():
        assert isinstance(error, FrameError)


@given(data=st.binary(max_size=64))
def test_decode_frame_raises_only_frame_errors(data: bytes) -> None:
    try:
        frame = decode_frame(data)
    except FrameError:
        return
    assert encode_frame(frame.body) == data


@given(body=bodies, position=st.integers(min_value=0), flip=st.integers(1, 255))
def test_any_single_corruption_is_never_accepted_as_the_original(
    body: bytes, position: int, flip: int
) -> None:
    frame = bytearray(encode_frame(body))
    index = 5 + position % (len(frame) - 5)  # corrupt anything after the preamble
    frame[index] ^= flip
    decoder = FrameDecoder()
    assert Frame(body) not in decoder.feed(bytes(frame))


@given(data=st.binary(max_size=3000), with_fingerprint=st.booleans())
def test_decode_card_payload_returns_or_raises_protocol_error(
    data: bytes, with_fingerprint: bool
) -> None:
    try:
        payload = decode_card_payload(data, with_fingerprint=with_fingerprint)
    except ProtocolError:
        return
    assert len(payload.text) == 256
    assert encode_card_payload(payload, with_fingerprint=with_fingerprint) == data
    if with_fingerprint:
        assert len(payload.fingerprint) in (0, 512, 1024)

"""ISO 7816-4 APDUs, status words, BER-TLV and answer chaining: pure, byte-exact, property-based."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.smartcard.apdu import CommandApdu, ResponseApdu, error_for_sw
from drivers.smartcard.channel import DirectChannel, read_record
from drivers.smartcard.errors import (
    ApduError,
    AuthenticationBlockedError,
    AuthenticationFailedError,
    CardFileNotFoundError,
    CardProtocolError,
    RecordNotFoundError,
    SecurityStatusError,
    SmartCardError,
)
from drivers.smartcard.status import describe_sw
from drivers.smartcard.tlv import Tlv, encode_length, encode_tlv, parse_tlvs, tlv_dict

# -- command APDUs: the four ISO cases, short and extended, byte for byte ----------------------


@pytest.mark.parametrize(
    ("command", "encoded"),
    [
        (CommandApdu(0x00, 0xA4, 0x00, 0x0C), "00A4000C"),  # case 1
        (CommandApdu(0x00, 0x84, 0x00, 0x00, le=8), "0084000008"),  # case 2S
        (CommandApdu(0x00, 0xB2, 0x01, 0x2C, le=256), "00B2012C00"),  # Le 256 is 00
        (CommandApdu(0x00, 0xA4, 0x00, 0x0C, b"\xef\x05"), "00A4000C02EF05"),  # case 3S
        (
            CommandApdu(
                0x00, 0xA4, 0x04, 0x00, bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF"), le=256
            ),
            "00A404000F7378312E73682EC9E7BBE1B1A3D5CF00",
        ),  # case 4S: the SSSE select that real readers send
        (CommandApdu(0x00, 0xB0, 0x00, 0x00, le=257), "00B00000000101"),  # case 2E
        (CommandApdu(0x00, 0xB0, 0x00, 0x00, le=65536), "00B00000000000"),  # Le 65536 is 0000
        (CommandApdu(0x00, 0xD6, 0x00, 0x00, bytes(256)), "00D6000000" + "0100" + "00" * 256),
        (
            CommandApdu(0x00, 0x88, 0x00, 0x00, b"\x01", le=300),
            "0088000000000101012C",
        ),  # case 4E
    ],
)
def test_command_encoding_is_byte_exact(command: CommandApdu, encoded: str) -> None:
    assert command.encode().hex().upper() == encoded.upper()
    assert CommandApdu.decode(bytes.fromhex(encoded)) == command


def test_forced_extended_form_round_trips() -> None:
    command = CommandApdu(0x00, 0xB0, 0x00, 0x00, le=10, extended=True)
    assert command.encode().hex().upper() == "00B0000000000A"
    assert CommandApdu.decode(command.encode()) == command
    # nothing to extend: the flag falls away, so equality with the decoded value holds
    assert CommandApdu(0, 0xA4, 0, 0, extended=True) == CommandApdu.decode(b"\x00\xa4\x00\x00")


@pytest.mark.parametrize(
    "raw",
    ["", "00A400", "00A4000C05EF05", "00A4000C0001", "00A400000000", "00A4000000000300"],
)
def test_malformed_commands_raise_protocol_errors(raw: str) -> None:
    with pytest.raises(CardProtocolError):
        CommandApdu.decode(bytes.fromhex(raw))


@pytest.mark.parametrize(
    "kwargs",
    [{"cla": 256}, {"p1": -1}, {"le": 0}, {"le": 65537}, {"data": bytes(65536)}],
)
def test_invalid_command_values_are_rejected(kwargs: dict) -> None:
    fields = {"cla": 0, "ins": 0xA4, "p1": 0, "p2": 0, **kwargs}
    with pytest.raises(ValueError):
        CommandApdu(**fields)


def test_command_repr_never_shows_data() -> None:
    command = CommandApdu(0x00, 0x20, 0x00, 0x00, b"123456")  # a PIN
    assert "123456" not in repr(command) and "313233" not in repr(command)
    assert "data[6]" in repr(command)


commands = st.builds(
    CommandApdu,
    cla=st.integers(0, 255),
    ins=st.integers(0, 255),
    p1=st.integers(0, 255),
    p2=st.integers(0, 255),
    data=st.one_of(st.binary(max_size=300), st.binary(min_size=250, max_size=260)),
    le=st.one_of(st.none(), st.integers(1, 256), st.integers(1, 65536)),
    extended=st.booleans(),
)


@given(commands)
def test_command_encode_decode_round_trip(command: CommandApdu) -> None:
    assert CommandApdu.decode(command.encode()) == command


@given(st.binary(max_size=600))
def test_command_decoder_raises_only_protocol_errors(raw: bytes) -> None:
    try:
        command = CommandApdu.decode(raw)
    except CardProtocolError:
        return
    assert command.encode() == raw  # whatever decodes, re-encodes to the same bytes


# -- responses and status words ----------------------------------------------------------------


def test_response_parse_and_check() -> None:
    response = ResponseApdu.parse(bytes.fromhex("0110AABB9000"))
    assert response == ResponseApdu(bytes.fromhex("0110AABB"), 0x90, 0x00)
    assert response.ok and response.sw == 0x9000 and response.check() == bytes.fromhex("0110AABB")
    assert response.encode() == bytes.fromhex("0110AABB9000")
    assert "AABB" not in repr(response).upper()


@pytest.mark.parametrize("raw", [b"", b"\x90"])
def test_response_shorter_than_a_status_word_is_a_protocol_error(raw: bytes) -> None:
    with pytest.raises(CardProtocolError):
        ResponseApdu.parse(raw)


@pytest.mark.parametrize(
    ("sw", "error"),
    [
        (0x6A82, CardFileNotFoundError),
        (0x6A83, RecordNotFoundError),
        (0x6982, SecurityStatusError),
        (0x6983, AuthenticationBlockedError),
        (0x6300, AuthenticationFailedError),
        (0x63C2, AuthenticationFailedError),
        (0x6D00, ApduError),
        (0x1234, ApduError),
    ],
)
def test_status_words_map_to_typed_errors(sw: int, error: type) -> None:
    with pytest.raises(error) as caught:
        ResponseApdu(b"secret", sw >> 8, sw & 0xFF).check()
    assert type(caught.value) is error
    assert caught.value.sw == sw
    assert "secret" not in str(caught.value)
    assert f"{sw:04X}" in str(caught.value)


def test_pin_tries_left_come_from_63cx() -> None:
    assert error_for_sw(0x63, 0xC2).tries_left == 2  # type: ignore[attr-defined]
    assert AuthenticationFailedError(0x63, 0x00).tries_left is None


def test_warning_6282_still_delivers_data() -> None:
    assert ResponseApdu(b"ab", 0x62, 0x82).check() == b"ab"


@pytest.mark.parametrize(
    ("sw", "text"),
    [
        (0x9000, "success"),
        (0x6A82, "file or application not found"),
        (0x6110, "16 response bytes still available"),
        (0x6C12, "exact length is 18"),
        (0x63C1, "1 tries left"),
        (0x6999, "command not allowed"),
        (0x1234, "unknown status"),
    ],
)
def test_describe_sw(sw: int, text: str) -> None:
    assert text in describe_sw(sw >> 8, sw & 0xFF)


@given(st.binary(max_size=300))
def test_response_parser_raises_only_protocol_errors(raw: bytes) -> None:
    try:
        response = ResponseApdu.parse(raw)
    except CardProtocolError:
        assert len(raw) < 2
        return
    assert response.encode() == raw
    with contextlib.suppress(ApduError):
        response.check()


@given(st.binary(), st.integers(0, 255), st.integers(0, 255))
def test_response_round_trip(data: bytes, sw1: int, sw2: int) -> None:
    response = ResponseApdu(data, sw1, sw2)
    assert ResponseApdu.parse(response.encode()) == response


# -- BER-TLV -----------------------------------------------------------------------------------


def test_tlv_social_security_record_and_long_forms() -> None:
    record = bytes.fromhex("0110") + bytes.fromhex("330300D15600000599110145FFFFFFFF")
    assert parse_tlvs(record) == [Tlv(0x01, bytes.fromhex("330300D15600000599110145FFFFFFFF"))]
    assert encode_length(200) == b"\x81\xc8" and encode_length(0x1234) == b"\x82\x12\x34"
    nested = encode_tlv(0x5F20, b"x" * 130) + b"\x00\xff" + encode_tlv(0x9E, b"sig")
    assert tlv_dict(nested) == {0x5F20: b"x" * 130, 0x9E: b"sig"}  # 00/FF padding skipped
    assert "xxx" not in repr(Tlv(0x5F20, b"xxx"))


@pytest.mark.parametrize(
    "raw", ["0105AABB", "5F", "5F2081", "01840000000001", "9F8181", "9F818101"]
)
def test_truncated_tlvs_raise_protocol_errors(raw: str) -> None:
    with pytest.raises(CardProtocolError):
        parse_tlvs(bytes.fromhex(raw))


tags = st.one_of(
    st.integers(0x01, 0xFE).filter(lambda t: t & 0x1F != 0x1F),
    # 00 and FF never start a tag: 7816-4 makes them padding
    st.integers(0x1F, 0xFE).filter(lambda t: t & 0x1F == 0x1F).map(lambda t: (t << 8) | 0x20),
)


@given(st.lists(st.tuples(tags, st.binary(max_size=300)), max_size=5))
def test_tlv_round_trip(items: list[tuple[int, bytes]]) -> None:
    encoded = b"".join(encode_tlv(tag, value) for tag, value in items)
    assert [(item.tag, item.value) for item in parse_tlvs(encoded)] == items


@given(st.binary(max_size=200))
def test_tlv_parser_raises_only_protocol_errors(raw: bytes) -> None:
    with contextlib.suppress(CardProtocolError):
        parse_tlvs(raw)


# -- answer chaining (61xx, 6Cxx) --------------------------------------------------------------


class ScriptedCard:
    """Answers from a script and records what it was sent."""

    def __init__(self, *answers: str) -> None:
        self.answers = [bytes.fromhex(a) for a in answers]
        self.sent: list[str] = []

    def __call__(self, raw: bytes) -> bytes:
        self.sent.append(raw.hex().upper())
        return self.answers.pop(0) if self.answers else bytes.fromhex("6F00")


def test_61xx_fetches_the_rest_with_get_response() -> None:
    card = ScriptedCard("6104", "AABB6102", "CCDD9000")
    channel = DirectChannel(card)
    response = channel.transmit(CommandApdu(0x00, 0x88, 0, 0, b"\x01", le=256))
    assert response == ResponseApdu(bytes.fromhex("AABBCCDD"), 0x90, 0x00)
    assert card.sent == ["008800000101" + "00", "00C0000004", "00C0000002"]


def test_6cxx_resends_with_the_exact_length() -> None:
    card = ScriptedCard("6C12", "01" * 18 + "9000")
    assert read_record(DirectChannel(card), 1, sfi=5, le=4) == bytes.fromhex("01" * 18)
    assert card.sent == ["00B2012C04", "00B2012C12"]


def test_endless_61xx_is_a_protocol_error_not_a_hang() -> None:
    card = ScriptedCard(*["6101"] * 100)
    with pytest.raises(CardProtocolError):
        DirectChannel(card).transmit(CommandApdu(0, 0xB0, 0, 0, le=1))


def test_error_tree_has_one_base() -> None:
    for error in (CardProtocolError, ApduError, CardFileNotFoundError):
        assert issubclass(error, SmartCardError)

"""GA 467 framing for second-generation ID card readers: pure functions over bytes.

Host to reader: ``AA AA AA 96 69 | LEN(2, big-endian) | CMD | PARA | DATA | CHK``.
Reader to host: ``AA AA AA 96 69 | LEN(2, big-endian) | SW1 | SW2 | SW3 | DATA | CHK``.
LEN counts everything after itself, checksum included; CHK is the XOR of the LEN bytes through
the last DATA byte (the preamble is left out). The find-card command is therefore
``AA AA AA 96 69 00 03 20 01 22``: 0x00 ^ 0x03 ^ 0x20 ^ 0x01 = 0x22.

Both directions share the framing, so one `FrameDecoder` serves the driver (responses) and the
simulator (commands).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from functools import reduce

from drivers.idcard.errors import ChecksumError, FrameError, FrameLengthError, ProtocolError

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_SIZE = len(PREAMBLE) + 2
# A command carries at least CMD PARA CHK; a response at least SW1 SW2 SW3 CHK.
MIN_LENGTH = 3
# The longest real answer is text + photo + two fingerprints: 3 + 6 + 256 + 1024 + 1024 + 1.
# Anything far beyond it is line noise that happens to follow a preamble.
MAX_LENGTH = 4096
TEXT_SIZE = 256
PHOTO_SIZE = 1024
# Two fingerprint templates of 512 bytes each; a card without fingerprints sends none, and one
# enrolled with a single finger is accepted rather than refused.
FINGERPRINT_SIZE = 1024
FINGERPRINT_SIZES = frozenset({0, 512, FINGERPRINT_SIZE})


def checksum(data: bytes | bytearray | memoryview) -> int:
    """XOR of all bytes: the GA 467 check byte over LEN..DATA."""
    return reduce(lambda acc, byte: acc ^ byte, bytes(data), 0)


def encode_frame(body: bytes) -> bytes:
    """Wrap a frame body (CMD PARA DATA, or SW1 SW2 SW3 DATA) with preamble, length and checksum."""
    length = len(body) + 1
    if length > 0xFFFF:
        raise FrameLengthError(f"frame body of {len(body)} bytes does not fit a 16-bit length")
    head = length.to_bytes(2, "big")
    return PREAMBLE + head + body + bytes([checksum(head + body)])


class Status(IntEnum):
    """SW3, the reader's own status byte, as listed in the SAM module interface specification.

    The table is the one reader SDKs publish (sdtapi and its clones: 0x90 through 0x66); 0x34,
    0x50 and 0x61 come from older SDK tables and are kept so such a reader is understood.
    Host-side SDK return codes (0x01-0x09: port, timeout, PC checksum, file) are not SW3 values.
    """

    OK = 0x90
    NO_CONTENT = 0x91
    CARD_FOUND = 0x9F
    CHECKSUM_ERROR = 0x10
    LENGTH_ERROR = 0x11
    COMMAND_ERROR = 0x21
    NOT_PERMITTED = 0x23
    UNRECOGNISED_ERROR = 0x24
    CARD_AUTH_SAM_FAILED = 0x31
    SAM_AUTH_CARD_FAILED = 0x32
    VERIFY_FAILED = 0x33
    CARD_NOT_FOUND_YET = 0x34
    FINGERPRINT_VERIFY_FAILED = 0x37
    INFO_LENGTH_ERROR = 0x3F
    UNKNOWN_CARD_TYPE = 0x40
    READ_FAILED = 0x41
    RANDOM_FAILED = 0x47
    WRITE_FAILED = 0x50
    SAM_SELF_TEST_FAILED = 0x60
    LOGIN_FAILED = 0x61
    SAM_NOT_AUTHORISED = 0x66
    FIND_FAILED = 0x80
    SELECT_FAILED = 0x81

    @property
    def message_zh(self) -> str:
        """The Chinese wording used by reader documentation."""
        return _MESSAGES[self][0]

    @property
    def message_en(self) -> str:
        """An English explanation."""
        return _MESSAGES[self][1]


_MESSAGES: dict[Status, tuple[str, str]] = {
    Status.OK: ("操作成功", "OK"),
    Status.NO_CONTENT: ("证/卡中此项无内容", "the card holds nothing for this item"),
    Status.CARD_FOUND: ("寻找证/卡成功", "card found"),
    Status.CHECKSUM_ERROR: ("接收业务终端数据的校验和错", "the reader received a bad checksum"),
    Status.LENGTH_ERROR: ("接收业务终端数据的长度错", "the reader received a bad length"),
    Status.COMMAND_ERROR: ("接收业务终端的命令错误", "command or parameters not recognised"),
    Status.NOT_PERMITTED: ("越权操作", "operation not permitted"),
    Status.UNRECOGNISED_ERROR: ("无法识别的错误", "unrecognised reader error"),
    Status.CARD_AUTH_SAM_FAILED: ("证/卡认证SAM失败", "the card rejected the reader's SAM"),
    Status.SAM_AUTH_CARD_FAILED: ("SAM认证证/卡失败", "the reader's SAM rejected the card"),
    Status.VERIFY_FAILED: ("信息验证错误", "card data failed verification"),
    Status.CARD_NOT_FOUND_YET: (
        "尚未找卡，不能进行对卡的操作",
        "no card was found before this command",
    ),
    Status.FINGERPRINT_VERIFY_FAILED: ("指纹信息验证错误", "fingerprint data failed verification"),
    Status.INFO_LENGTH_ERROR: ("信息长度错误", "card data has a wrong length"),
    Status.UNKNOWN_CARD_TYPE: ("无法识别的卡类型", "card type not recognised"),
    Status.READ_FAILED: ("读证/卡操作失败", "reading the card failed"),
    Status.RANDOM_FAILED: ("取随机数失败", "the card did not give a random challenge"),
    Status.WRITE_FAILED: ("写卡操作失败", "writing to the card failed"),
    Status.SAM_SELF_TEST_FAILED: ("SAM自检失败，不能接收命令", "the SAM failed its self-test"),
    Status.LOGIN_FAILED: ("用户登录失败", "the SAM refused the login"),
    Status.SAM_NOT_AUTHORISED: ("SAM没经过授权，无法使用", "the SAM is not authorised"),
    Status.FIND_FAILED: ("寻找证/卡失败", "no card on the reader"),
    Status.SELECT_FAILED: ("选取证/卡失败", "selecting the card failed"),
}


def describe_status(sw3: int) -> str:
    """A bilingual one-line explanation of an SW3 byte, known or not."""
    try:
        status = Status(sw3)
    except ValueError:
        return f"未知状态 / unknown reader status 0x{sw3:02X}"
    return f"{status.message_zh} / {status.message_en} (0x{sw3:02X})"


@dataclass(frozen=True)
class Command:
    """One host-to-reader command: CMD, PARA and optional DATA."""

    cmd: int
    param: int
    data: bytes = b""

    def encode(self) -> bytes:
        """The complete frame, checksum computed."""
        return encode_command(self.cmd, self.param, self.data)

    @property
    def name(self) -> str:
        """A short name for logs (``find_card``), or the hex pair for unknown commands."""
        return COMMAND_NAMES.get((self.cmd, self.param), f"cmd_{self.cmd:02x}{self.param:02x}")


SAM_RESET = Command(0x10, 0xFF)
SAM_STATUS = Command(0x11, 0xFF)
SAM_ID = Command(0x12, 0xFF)
FIND_CARD = Command(0x20, 0x01)
SELECT_CARD = Command(0x20, 0x02)
READ_TEXT_PHOTO = Command(0x30, 0x01)
READ_NEW_ADDRESS = Command(0x30, 0x03)
READ_WITH_FINGERPRINT = Command(0x30, 0x10)

COMMAND_NAMES: dict[tuple[int, int], str] = {
    (0x10, 0xFF): "sam_reset",
    (0x11, 0xFF): "sam_status",
    (0x12, 0xFF): "sam_id",
    (0x20, 0x01): "find_card",
    (0x20, 0x02): "select_card",
    (0x30, 0x01): "read_text_photo",
    (0x30, 0x03): "read_new_address",
    (0x30, 0x10): "read_with_fingerprint",
}


@dataclass(frozen=True)
class Response:
    """One reader-to-host answer: the three status bytes and the data."""

    sw1: int
    sw2: int
    sw3: int
    data: bytes = b""

    @property
    def status(self) -> Status | None:
        """SW3 as a `Status`, or None for a value outside the known table."""
        try:
            return Status(self.sw3)
        except ValueError:
            return None

    def describe(self) -> str:
        """Bilingual explanation of SW3 (with SW1 SW2 when the reader relays the card's)."""
        text = describe_status(self.sw3)
        if self.sw1 or self.sw2:
            text += f" [SW1 SW2 {self.sw1:02X} {self.sw2:02X}]"
        return text

    def encode(self) -> bytes:
        """The complete frame, checksum computed."""
        return encode_response(self.sw3, self.data, sw1=self.sw1, sw2=self.sw2)


@dataclass(frozen=True)
class Frame:
    """A checked frame's body: everything between the length field and the checksum."""

    body: bytes

    def as_command(self) -> Command:
        """Read the body as a command; a body shorter than CMD PARA is a `FrameError`."""
        if len(self.body) < 2:
            raise FrameLengthError(f"a command needs CMD and PARA, got {len(self.body)} bytes")
        return Command(self.body[0], self.body[1], bytes(self.body[2:]))

    def as_response(self) -> Response:
        """Read the body as a response; a body shorter than SW1 SW2 SW3 is a `FrameError`."""
        if len(self.body) < 3:
            raise FrameLengthError(f"a response needs SW1 SW2 SW3, got {len(self.body)} bytes")
        return Response(self.body[0], self.body[1], self.body[2], bytes(self.body[3:]))


def encode_command(cmd: int, param: int, data: bytes = b"") -> bytes:
    """Encode a host-to-reader frame."""
    return encode_frame(bytes([cmd, param]) + bytes(data))


def encode_response(sw3: int, data: bytes = b"", *, sw1: int = 0, sw2: int = 0) -> bytes:
    """Encode a reader-to-host frame (used by the simulator and by tests)."""
    return encode_frame(bytes([sw1, sw2, sw3]) + bytes(data))


def decode_frame(data: bytes) -> Frame:
    """Decode exactly one complete frame, raising a `FrameError` subclass for anything else."""
    data = bytes(data)
    if not data.startswith(PREAMBLE):
        raise FrameError("frame does not start with the AA AA AA 96 69 preamble")
    if len(data) < HEADER_SIZE:
        raise FrameLengthError(f"frame of {len(data)} bytes is shorter than its header")
    length = int.from_bytes(data[5:7], "big")
    if length < MIN_LENGTH:
        raise FrameLengthError(f"length field {length} is below the minimum of {MIN_LENGTH}")
    if len(data) != HEADER_SIZE + length:
        raise FrameLengthError(
            f"length field says {HEADER_SIZE + length} bytes in all, got {len(data)}"
        )
    if checksum(data[5:-1]) != data[-1]:
        raise ChecksumError(f"checksum 0x{data[-1]:02X}, expected 0x{checksum(data[5:-1]):02X}")
    return Frame(data[HEADER_SIZE:-1])


class FrameDecoder:
    """Incremental decoder: feed it bytes as they arrive, get back the complete, checked frames.

    It never raises on bad input. Bytes before a preamble are skipped (counted in
    `garbage_bytes`); a frame with an impossible length or a wrong checksum is dropped, recorded
    as a `FrameError` (see `take_errors`), and decoding resumes right after that frame's
    preamble, so a real frame hidden behind a corrupt one is still found.
    """

    def __init__(self, *, max_length: int = MAX_LENGTH) -> None:
        self.max_length = max_length
        self.garbage_bytes = 0
        self._buffer = bytearray()
        self._errors: list[FrameError] = []

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the rest of a frame."""
        return len(self._buffer)

    def reset(self) -> None:
        """Forget buffered bytes and recorded errors (before a new command)."""
        self._buffer.clear()
        self._errors.clear()
        self.garbage_bytes = 0

    def take_errors(self) -> list[FrameError]:
        """Return and clear the errors recorded since the last call."""
        errors, self._errors = self._errors, []
        return errors

    def feed(self, data: bytes) -> list[Frame]:
        """Add received bytes; return every frame they complete, in order."""
        self._buffer.extend(data)
        frames: list[Frame] = []
        while True:
            start = self._buffer.find(PREAMBLE)
            if start < 0:
                self._drop(len(self._buffer) - _partial_preamble(self._buffer))
                return frames
            self._drop(start)
            if len(self._buffer) < HEADER_SIZE:
                return frames
            length = int.from_bytes(self._buffer[5:7], "big")
            if not MIN_LENGTH <= length <= self.max_length:
                self._reject(FrameLengthError(f"length field {length} is impossible"))
                continue
            total = HEADER_SIZE + length
            if len(self._buffer) < total:
                later = self._complete_frame_after_start()
                if later is None:
                    return frames
                # A checked frame further on proves this preamble was noise.
                self._errors.append(FrameError("incomplete frame abandoned for a later one"))
                self._drop(later)
                continue
            if checksum(self._buffer[5 : total - 1]) != self._buffer[total - 1]:
                self._reject(ChecksumError("frame checksum does not match"))
                continue
            frames.append(Frame(bytes(self._buffer[HEADER_SIZE : total - 1])))
            del self._buffer[:total]

    def _drop(self, count: int) -> None:
        if count > 0:
            self.garbage_bytes += count
            del self._buffer[:count]

    def _reject(self, error: FrameError) -> None:
        # Skip only the preamble: if the length was corrupted, the next frame may start inside.
        self._errors.append(error)
        self._drop(len(PREAMBLE))

    def _complete_frame_after_start(self) -> int | None:
        """Offset of a complete, checksum-valid frame after the buffer's first preamble."""
        offset = self._buffer.find(PREAMBLE, 1)
        while offset > 0:
            if len(self._buffer) - offset < HEADER_SIZE:
                return None
            length = int.from_bytes(self._buffer[offset + 5 : offset + 7], "big")
            end = offset + HEADER_SIZE + length
            if (
                MIN_LENGTH <= length <= self.max_length
                and end <= len(self._buffer)
                and checksum(self._buffer[offset + 5 : end - 1]) == self._buffer[end - 1]
            ):
                return offset
            offset = self._buffer.find(PREAMBLE, offset + 1)
        return None


def _partial_preamble(buffer: bytearray) -> int:
    """Length of the longest buffer suffix that could be the start of a preamble."""
    for size in range(min(len(PREAMBLE) - 1, len(buffer)), 0, -1):
        if buffer.endswith(PREAMBLE[:size]):
            return size
    return 0


@dataclass(frozen=True, repr=False)
class CardPayload:
    """The raw card files as the reader returns them: text block, WLT photo, fingerprints."""

    text: bytes
    photo: bytes
    fingerprint: bytes = b""

    def __repr__(self) -> str:
        # The text block is personal data; show sizes only.
        return (
            f"CardPayload(text=<{len(self.text)} bytes>, photo=<{len(self.photo)} bytes>, "
            f"fingerprint=<{len(self.fingerprint)} bytes>)"
        )


def encode_card_payload(payload: CardPayload, *, with_fingerprint: bool = False) -> bytes:
    """DATA of a read answer: lengths (2 bytes each, big-endian) then the blocks."""
    lengths = [len(payload.text), len(payload.photo)]
    blocks = [payload.text, payload.photo]
    if with_fingerprint:
        lengths.append(len(payload.fingerprint))
        blocks.append(payload.fingerprint)
    return struct.pack(f">{len(lengths)}H", *lengths) + b"".join(blocks)


def decode_card_payload(data: bytes, *, with_fingerprint: bool = False) -> CardPayload:
    """Split the DATA of a read answer (30 01, or 30 10 with fingerprints) into its blocks."""
    count = 3 if with_fingerprint else 2
    if len(data) < 2 * count:
        raise ProtocolError(f"card data of {len(data)} bytes is shorter than its length fields")
    lengths = struct.unpack(f">{count}H", data[: 2 * count])
    if len(data) != 2 * count + sum(lengths):
        raise ProtocolError(
            f"card data lengths {list(lengths)} do not add up to the {len(data)} bytes received"
        )
    if lengths[0] != TEXT_SIZE:
        raise ProtocolError(f"text block of {lengths[0]} bytes, expected {TEXT_SIZE}")
    if with_fingerprint and lengths[2] not in FINGERPRINT_SIZES:
        raise ProtocolError(
            f"fingerprint data of {lengths[2]} bytes, expected 0, 512 or {FINGERPRINT_SIZE}"
        )
    blocks: list[bytes] = []
    offset = 2 * count
    for size in lengths:
        blocks.append(bytes(data[offset : offset + size]))
        offset += size
    return CardPayload(*blocks)


def format_sam_id(data: bytes) -> str:
    """The SAM's printed number, ``05.01-20100101-0000012345-0123456789``, from its 16 bytes."""
    if len(data) < 16:
        raise ProtocolError(f"SAM id of {len(data)} bytes, expected 16")
    major, minor, date, serial, check = struct.unpack("<HHIII", data[:16])
    return f"{major:02d}.{minor:02d}-{date:08d}-{serial:010d}-{check:010d}"


def redact_frame(frame: bytes, *, outgoing: bool) -> str:
    """Hex for the traffic log. Commands are shown whole; response data is replaced by its size.

    Response data holds the card's text block, photo, fingerprints and chip numbers, all
    personal; the status bytes are what a technician needs from the log.
    """
    if outgoing or len(frame) <= HEADER_SIZE + 4:
        return frame.hex(" ")
    head = frame[: HEADER_SIZE + 3].hex(" ")
    return f"{head} <{len(frame) - HEADER_SIZE - 4} data bytes redacted> {frame[-1]:02x}"

"""ISO/IEC 7816-4 APDUs as values: command encoding and decoding, response parsing. Pure.

    CommandApdu(0x00, 0xA4, 0x04, 0x00, aid, le=256).encode()   # SELECT by name
    ResponseApdu.parse(raw).check()                              # data, or a typed ApduError

Short form carries up to 255 data bytes and Le up to 256; anything larger switches to the
extended form (ISO 7816-3 12.1.3), as does `extended=True`. `CommandApdu.decode` is the
inverse of `encode` and is what the virtual cards use to read commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from drivers.smartcard.errors import (
    ApduError,
    AuthenticationBlockedError,
    AuthenticationFailedError,
    CardFileNotFoundError,
    CardProtocolError,
    RecordNotFoundError,
    SecurityStatusError,
)
from drivers.smartcard.status import describe_sw, is_success

SHORT_MAX_DATA = 255
SHORT_MAX_LE = 256
EXTENDED_MAX = 65535  # Lc; Le goes to 65536 (encoded 0000)
EXTENDED_MAX_LE = 65536


def _check_byte(name: str, value: int) -> None:
    if not isinstance(value, int) or not 0 <= value <= 0xFF:
        raise ValueError(f"{name} must be a byte (0..255), not {value!r}")


@dataclass(frozen=True)
class CommandApdu:
    """A command APDU. `le` is the number of answer bytes expected (None: no Le field).

    `le=256` is the short form's ``00`` ("up to 256"), `le=65536` the extended ``0000``.
    `extended` is normalised to the form `encode` will actually use, so decoding an encoded
    command gives back an equal value.
    """

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None
    extended: bool = field(default=False)

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            _check_byte(name, getattr(self, name))
        object.__setattr__(self, "data", bytes(self.data))
        if len(self.data) > EXTENDED_MAX:
            raise ValueError(f"command data is {len(self.data)} bytes; at most {EXTENDED_MAX}")
        if self.le is not None and not 1 <= self.le <= EXTENDED_MAX_LE:
            raise ValueError(f"Le must be 1..{EXTENDED_MAX_LE} or None, not {self.le!r}")
        needs_extended = len(self.data) > SHORT_MAX_DATA or (
            self.le is not None and self.le > SHORT_MAX_LE
        )
        has_body = bool(self.data) or self.le is not None
        object.__setattr__(self, "extended", has_body and (self.extended or needs_extended))

    @property
    def header(self) -> bytes:
        """CLA INS P1 P2."""
        return bytes((self.cla, self.ins, self.p1, self.p2))

    def encode(self) -> bytes:
        """The command's bytes, in short or extended form."""
        out = bytearray(self.header)
        if self.extended:
            if self.data:
                out += b"\x00" + len(self.data).to_bytes(2, "big") + self.data
            if self.le is not None:
                if not self.data:
                    out += b"\x00"  # case 2E opens with a zero byte; 4E shares Lc's
                out += (self.le % EXTENDED_MAX_LE).to_bytes(2, "big")
            return bytes(out)
        if self.data:
            out += bytes((len(self.data),)) + self.data
        if self.le is not None:
            out.append(self.le % SHORT_MAX_LE)
        return bytes(out)

    @classmethod
    def decode(cls, raw: bytes) -> CommandApdu:
        """Parse a command APDU (cases 1, 2S/E, 3S/E, 4S/E); `CardProtocolError` if malformed."""
        raw = bytes(raw)
        if len(raw) < 4:
            raise CardProtocolError(f"a command APDU needs 4 header bytes, got {len(raw)}")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        size = len(body)
        if size == 0:
            return cls(cla, ins, p1, p2)
        if size == 1:
            return cls(cla, ins, p1, p2, le=body[0] or SHORT_MAX_LE)
        if body[0] != 0:
            lc = body[0]
            if size == 1 + lc:
                return cls(cla, ins, p1, p2, body[1:])
            if size == 2 + lc:
                return cls(cla, ins, p1, p2, body[1:-1], le=body[-1] or SHORT_MAX_LE)
            raise CardProtocolError(f"short APDU: Lc={lc} does not fit a {size}-byte body")
        if size == 3:
            le = int.from_bytes(body[1:3], "big") or EXTENDED_MAX_LE
            return cls(cla, ins, p1, p2, le=le, extended=True)
        lc = int.from_bytes(body[1:3], "big")
        if lc == 0:
            raise CardProtocolError("extended APDU with Lc=0")
        if size == 3 + lc:
            return cls(cla, ins, p1, p2, body[3:], extended=True)
        if size == 5 + lc:
            le = int.from_bytes(body[-2:], "big") or EXTENDED_MAX_LE
            return cls(cla, ins, p1, p2, body[3:-2], le=le, extended=True)
        raise CardProtocolError(f"extended APDU: Lc={lc} does not fit a {size}-byte body")

    def with_le(self, le: int | None) -> CommandApdu:
        """The same command asking for `le` answer bytes (for a 6Cxx retry)."""
        return CommandApdu(self.cla, self.ins, self.p1, self.p2, self.data, le, self.extended)

    def __repr__(self) -> str:
        # Data may be personal (a PIN, a name being written): show its size, never its bytes.
        le = "" if self.le is None else f" le={self.le}"
        return (
            f"CommandApdu({self.cla:02X} {self.ins:02X} {self.p1:02X} {self.p2:02X}"
            f" data[{len(self.data)}]{le})"
        )


@dataclass(frozen=True)
class ResponseApdu:
    """A response APDU: data then the status word SW1 SW2."""

    data: bytes
    sw1: int
    sw2: int

    def __post_init__(self) -> None:
        _check_byte("sw1", self.sw1)
        _check_byte("sw2", self.sw2)
        object.__setattr__(self, "data", bytes(self.data))

    @classmethod
    def parse(cls, raw: bytes) -> ResponseApdu:
        """Split an answer into data and status; `CardProtocolError` if under 2 bytes."""
        raw = bytes(raw)
        if len(raw) < 2:
            raise CardProtocolError(f"a response APDU needs 2 status bytes, got {len(raw)}")
        return cls(raw[:-2], raw[-2], raw[-1])

    def encode(self) -> bytes:
        """Data followed by SW1 SW2."""
        return self.data + bytes((self.sw1, self.sw2))

    @property
    def sw(self) -> int:
        """Both status bytes as one number, e.g. 0x9000."""
        return (self.sw1 << 8) | self.sw2

    @property
    def ok(self) -> bool:
        """Whether the command succeeded (9000, or a warning that still delivered data)."""
        return is_success(self.sw1, self.sw2)

    def describe(self) -> str:
        """``6A82 file or application not found``: safe to log (no data)."""
        return f"{self.sw:04X} {describe_sw(self.sw1, self.sw2)}"

    def check(self) -> bytes:
        """The data if the command succeeded, else raise the `ApduError` its status maps to."""
        if self.ok:
            return self.data
        raise error_for_sw(self.sw1, self.sw2)

    def __repr__(self) -> str:
        return f"ResponseApdu(data[{len(self.data)}] sw={self.sw:04X})"


_ERRORS: dict[int, type[ApduError]] = {
    0x6A82: CardFileNotFoundError,
    0x6A83: RecordNotFoundError,
    0x6982: SecurityStatusError,
    0x6983: AuthenticationBlockedError,
    0x6300: AuthenticationFailedError,
}


def error_for_sw(sw1: int, sw2: int) -> ApduError:
    """The typed error for a failure status word (not raised, so callers can add context)."""
    sw = (sw1 << 8) | sw2
    if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
        return AuthenticationFailedError(sw1, sw2)
    return _ERRORS.get(sw, ApduError)(sw1, sw2)

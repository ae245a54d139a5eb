"""Virtual cards: the card side of the protocols, as plain objects with no I/O.

A `VirtualCard` answers APDU bytes with APDU bytes; `drivers.smartcard.simulator.VpcdClient`
puts one into pcscd's vpcd reader over TCP, and `DirectChannel(card.process)` talks to one
in-process. Like real cards they answer case-4 commands T=0 style when asked (61xx, then
GET RESPONSE), insist on the exact Le for records (6Cxx), and forget their security state on
reset. Fault knobs (`inject`) make them answer garbage, truncated or wrong status words.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import deque
from datetime import date

from drivers.smartcard.apdu import CommandApdu, ResponseApdu
from drivers.smartcard.channel import (
    INS_EXTERNAL_AUTHENTICATE,
    INS_GET_CHALLENGE,
    INS_GET_RESPONSE,
    INS_INTERNAL_AUTHENTICATE,
    INS_READ_RECORD,
    INS_SELECT,
)
from drivers.smartcard.errors import CardProtocolError
from drivers.smartcard.socialsecurity import (
    EF05_FID,
    EF05_SFI,
    EF05_SIZES,
    EF06_FID,
    EF06_SFI,
    EF06_SIZES,
    EXTERNAL_AUTH_KEY_ID,
    SSSE_DF_NAME,
    Ef05,
    Ef06,
    auth_cryptogram,
    diversify_key,
    encode_bcd_date,
    encode_text,
)
from drivers.smartcard.status import (
    SW_AUTH_BLOCKED,
    SW_CLA_NOT_SUPPORTED,
    SW_CONDITIONS_NOT_SATISFIED,
    SW_FILE_NOT_FOUND,
    SW_INS_NOT_SUPPORTED,
    SW_RECORD_NOT_FOUND,
    SW_SECURITY_STATUS,
    SW_UNKNOWN,
    SW_WRONG_DATA,
    SW_WRONG_LENGTH,
    SW_WRONG_P1P2,
)
from drivers.smartcard.technician import (
    CHALLENGE_SIZE,
    MAX_KIOSK_ID,
    TECHNICIAN_AID,
    PrivateKey,
    encode_auth_response,
    sign,
    signed_message,
)
from drivers.smartcard.tlv import encode_tlv

log = logging.getLogger("drivers.smartcard.simulator")


def make_atr(historical: bytes) -> bytes:
    """A T=1 ATR (``3B 8n 80 01 <historical> TCK``) with a correct check byte."""
    if len(historical) > 15:
        raise ValueError("at most 15 historical bytes")
    body = bytes((0x80 | len(historical), 0x80, 0x01)) + historical
    tck = 0
    for byte in body:
        tck ^= byte
    return b"\x3b" + body + bytes((tck,))


def status(sw: int, data: bytes = b"") -> ResponseApdu:
    """A response with `data` and the status word `sw`."""
    return ResponseApdu(data, sw >> 8, sw & 0xFF)


OK = 0x9000


class VirtualCard:
    """Base of the virtual cards: ATR, power, answer chaining, logging and fault injection.

    Subclasses implement `handle(command) -> ResponseApdu`. Thread-safe: the vpcd client calls
    `process` from its thread while a test changes knobs from another.
    """

    atr: bytes = make_atr(b"KIOSK-VCARD")
    t0_style = False  # answer case-4 commands with 61xx + GET RESPONSE, as T=0 cards do

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._injected: deque[bytes] = deque()
        self._pending = b""  # data waiting for GET RESPONSE
        self.commands: deque[CommandApdu] = deque(maxlen=1000)
        self.powered = False

    # -- power ---------------------------------------------------------------------------

    def power_on(self) -> None:
        """The reader powered the card: a cold reset."""
        with self._lock:
            self.powered = True
            self.reset()

    def power_off(self) -> None:
        """The reader cut power: all session state is lost."""
        with self._lock:
            self.powered = False
            self.reset()

    def reset(self) -> None:
        """Warm reset: forget selections, security state and pending answers."""
        with self._lock:
            self._pending = b""
            self.on_reset()

    def on_reset(self) -> None:
        """Subclasses clear their session state here."""

    # -- fault knobs ---------------------------------------------------------------------

    def inject(self, *answers: bytes) -> None:
        """Answer the next commands with these raw bytes instead (garbage, truncated, b"")."""
        with self._lock:
            self._injected.extend(bytes(answer) for answer in answers)

    # -- the wire ------------------------------------------------------------------------

    def process(self, raw: bytes) -> bytes:
        """Answer one command APDU's bytes (what the vpcd client calls)."""
        with self._lock:
            try:
                command = CommandApdu.decode(raw)
            except (CardProtocolError, ValueError):
                return status(SW_WRONG_LENGTH).encode()
            self.commands.append(command)
            if self._injected:
                return self._injected.popleft()
            try:
                return self._dispatch(command).encode()
            except Exception:
                # A bug in a virtual card must look like a sick card, not kill the reader.
                log.exception("virtual card failed on %r", command)
                return status(SW_UNKNOWN).encode()

    def _dispatch(self, command: CommandApdu) -> ResponseApdu:
        if command.cla not in (0x00, 0x80):
            return status(SW_CLA_NOT_SUPPORTED)
        if command.ins == INS_GET_RESPONSE:
            return self._get_response(command)
        self._pending = b""
        response = self.handle(command)
        if self.t0_style and command.data and command.le is not None and response.data:
            # T=0 cannot send data in answer to a command that carried data: announce it.
            self._pending = response.data
            return status(0x6100 | min(len(response.data), 256) % 256)
        return response

    def _get_response(self, command: CommandApdu) -> ResponseApdu:
        if not self._pending:
            return status(SW_CONDITIONS_NOT_SATISFIED)
        size = command.le or 256
        chunk, self._pending = self._pending[:size], self._pending[size:]
        if self._pending:
            return status(0x6100 | min(len(self._pending), 256) % 256, chunk)
        return status(OK, chunk)

    def handle(self, command: CommandApdu) -> ResponseApdu:
        """Answer a command (no chaining, no faults); subclasses override."""
        return status(SW_INS_NOT_SUPPORTED)


class BlankCard(VirtualCard):
    """A card with no applications: answers every SELECT with 6A82 (an "unknown" card)."""

    atr = make_atr(b"BLANK")

    def handle(self, command: CommandApdu) -> ResponseApdu:
        """6A82 to SELECT, 6D00 to the rest."""
        if command.ins == INS_SELECT:
            return status(SW_FILE_NOT_FOUND)
        return status(SW_INS_NOT_SUPPORTED)


def _record(number: int, value: bytes) -> bytes:
    return encode_tlv(number, value)


# The master key the simulated cards' keys are diversified from; the simulated hall's software
# PSAM holds the same one. A test key, never a real card's.
SIM_PSAM_MASTER_KEY = bytes(range(16))


class SocialSecurityCardSim(VirtualCard):
    """A social security card (2.x/3.x layout) with EF05 public and EF06 behind external auth.

    External authentication follows `drivers.smartcard.socialsecurity`: GET CHALLENGE (8 bytes),
    then EXTERNAL AUTHENTICATE with SM4(diversified key, challenge || zeros); three wrong
    cryptograms block the key (6983). A challenge is good for one attempt only.
    """

    atr = make_atr(b"SSSE-SIM-3.00")
    t0_style = True
    MAX_TRIES = 3

    def __init__(
        self,
        *,
        master_key: bytes = SIM_PSAM_MASTER_KEY,
        region_code: str = "330300",
        serial: bytes = bytes.fromhex("99110145FFFFFFFF"),
        card_type: str = "3",
        spec_version: str = "3.00",
        init_org: bytes = bytes.fromhex("330300000000000000000001"),
        issue_date: date | None = date(2021, 7, 1),
        expiry_date: date | None = date(2031, 7, 1),
        card_number: str = "A12345678",
        ssn: str = "330302199001011234",
        name: str = "李秀英",
        sex: str = "2",
        nation: str = "01",
        birthplace: str = "330302",
        birth_date: date | None = date(1990, 1, 1),
    ) -> None:
        super().__init__()
        self.card_id = bytes.fromhex(region_code) + bytes.fromhex("D156000005") + serial
        if len(self.card_id) != 16:
            raise ValueError("region code (3 bytes) + RID + serial (8 bytes) make 16 bytes")
        self._key = diversify_key(master_key, self.card_id)
        self.ef05: dict[int, bytes] = {
            Ef05.CARD_ID: self.card_id,
            Ef05.CARD_TYPE: card_type.encode("ascii"),
            Ef05.SPEC_VERSION: spec_version.encode("ascii"),
            Ef05.INIT_ORG: init_org,
            Ef05.ISSUE_DATE: encode_bcd_date(issue_date),
            Ef05.EXPIRY_DATE: encode_bcd_date(expiry_date),
            Ef05.CARD_NUMBER: card_number.encode("ascii"),
        }
        self.ef06: dict[int, bytes] = {
            Ef06.SSN: ssn.encode("ascii"),
            Ef06.NAME: encode_text(name, EF06_SIZES[Ef06.NAME], "name"),
            Ef06.SEX: sex.encode("ascii"),
            Ef06.NATION: bytes.fromhex(nation),
            Ef06.BIRTHPLACE: bytes.fromhex(birthplace),
            Ef06.BIRTH_DATE: encode_bcd_date(birth_date),
        }
        for number, value in self.ef05.items():
            if len(value) != EF05_SIZES[number]:
                raise ValueError(f"EF05 record {number} must be {EF05_SIZES[number]} bytes")
        self.tries_left = self.MAX_TRIES
        self.on_reset()

    def on_reset(self) -> None:
        """Back to the MF, unauthenticated, no challenge."""
        self.ssse_selected = False
        self.current_sfi = 0
        self.authenticated = False
        self.challenge = b""

    def handle(self, command: CommandApdu) -> ResponseApdu:
        """SELECT, READ RECORD, GET CHALLENGE, EXTERNAL AUTHENTICATE."""
        if command.ins == INS_SELECT:
            return self._select(command)
        if command.ins == INS_READ_RECORD:
            return self._read_record(command)
        if command.ins == INS_GET_CHALLENGE:
            size = command.le or 8
            if size not in (4, 8):
                return status(SW_WRONG_LENGTH)
            self.challenge = secrets.token_bytes(size)
            return status(OK, self.challenge)
        if command.ins == INS_EXTERNAL_AUTHENTICATE:
            return self._external_authenticate(command)
        return status(SW_INS_NOT_SUPPORTED)

    def _select(self, command: CommandApdu) -> ResponseApdu:
        if command.p1 == 0x04:
            if command.data != SSSE_DF_NAME:
                return status(SW_FILE_NOT_FOUND)
            self.ssse_selected = True
            self.current_sfi = 0
            self.authenticated = False  # a new DF selection leaves the old security state
            # FCI: 84 DF name, A5 proprietary (empty) - enough for a reader to log
            fci = encode_tlv(0x6F, encode_tlv(0x84, SSSE_DF_NAME) + encode_tlv(0xA5, b""))
            return status(OK, fci if command.p2 & 0x0C == 0 else b"")
        if command.p1 in (0x00, 0x02) and len(command.data) == 2:
            fid = int.from_bytes(command.data, "big")
            if fid == 0x3F00:
                self.on_reset()
                return status(OK)
            if self.ssse_selected and fid in (EF05_FID, EF06_FID):
                self.current_sfi = EF05_SFI if fid == EF05_FID else EF06_SFI
                return status(OK)
            return status(SW_FILE_NOT_FOUND)
        return status(SW_WRONG_P1P2)

    def _read_record(self, command: CommandApdu) -> ResponseApdu:
        if command.p2 & 0x07 != 0x04:
            return status(SW_WRONG_P1P2)  # only "record number in P1"
        sfi = command.p2 >> 3 or self.current_sfi
        if not self.ssse_selected or sfi not in (EF05_SFI, EF06_SFI):
            return status(SW_FILE_NOT_FOUND)
        if sfi == EF06_SFI and not self.authenticated:
            return status(SW_SECURITY_STATUS)
        self.current_sfi = sfi
        records = self.ef05 if sfi == EF05_SFI else self.ef06
        if command.p1 not in records:
            return status(SW_RECORD_NOT_FOUND)
        record = _record(command.p1, records[command.p1])
        if command.le is not None and command.le != 256 and command.le != len(record):
            return status(0x6C00 | len(record))  # real cards want the exact length
        return status(OK, record)

    def _external_authenticate(self, command: CommandApdu) -> ResponseApdu:
        if command.p2 != EXTERNAL_AUTH_KEY_ID:
            return status(0x6A88)
        if self.tries_left == 0:
            return status(SW_AUTH_BLOCKED)
        if not self.challenge:
            return status(SW_CONDITIONS_NOT_SATISFIED)
        expected = auth_cryptogram(self._key, self.challenge)
        self.challenge = b""  # one attempt per challenge: no replays, no guessing in a loop
        if len(command.data) != len(expected):
            return status(SW_WRONG_LENGTH)
        if not secrets.compare_digest(command.data, expected):
            self.tries_left -= 1
            return status(0x63C0 | self.tries_left) if self.tries_left else status(SW_AUTH_BLOCKED)
        self.tries_left = self.MAX_TRIES
        self.authenticated = True
        return status(OK)


class TechnicianCardSim(VirtualCard):
    """Our maintenance applet: signs (domain, kiosk id, challenge) with the technician's key."""

    atr = make_atr(b"KIOSK-TECH")
    t0_style = True

    def __init__(self, private_key: PrivateKey, tech_id: str) -> None:
        super().__init__()
        self.private_key = private_key
        self.tech_id = tech_id
        self.on_reset()

    def on_reset(self) -> None:
        """Applet deselected."""
        self.selected = False

    def handle(self, command: CommandApdu) -> ResponseApdu:
        """SELECT by AID and INTERNAL AUTHENTICATE."""
        if command.ins == INS_SELECT:
            self.selected = command.p1 == 0x04 and command.data == TECHNICIAN_AID
            return status(OK) if self.selected else status(SW_FILE_NOT_FOUND)
        if command.ins == INS_INTERNAL_AUTHENTICATE:
            if not self.selected:
                return status(SW_CONDITIONS_NOT_SATISFIED)
            challenge, kiosk_id = command.data[:CHALLENGE_SIZE], command.data[CHALLENGE_SIZE:]
            if len(challenge) != CHALLENGE_SIZE or not 1 <= len(kiosk_id) <= MAX_KIOSK_ID:
                return status(SW_WRONG_DATA)
            signature = sign(self.private_key, signed_message(kiosk_id, challenge))
            return status(OK, encode_auth_response(self.tech_id, signature))
        return status(SW_INS_NOT_SUPPORTED)


class ReplayingTechnicianCard(TechnicianCardSim):
    """An attacker's card: answers every challenge with one answer recorded earlier."""

    def __init__(self, recorded_answer: bytes) -> None:
        super().__init__(private_key=_throwaway_key(), tech_id="")
        self.recorded_answer = recorded_answer

    def handle(self, command: CommandApdu) -> ResponseApdu:
        """Like the real applet, but with a canned signature."""
        if command.ins == INS_INTERNAL_AUTHENTICATE and self.selected:
            return status(OK, self.recorded_answer)
        return super().handle(command)


def _throwaway_key() -> PrivateKey:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519.Ed25519PrivateKey.generate()

"""Talking to a card: `transmit` with ISO 7816-4 answer chaining, and the common commands.

A `CardChannel` needs one method from its transport, `transmit_raw(bytes) -> bytes`; the PC/SC
connection provides it over pcscd, `DirectChannel` calls a virtual card in-process (unit tests).
Everything above it (social security reads, technician challenge-response) is written against
the small `ApduTransport` protocol, so it runs the same over either.

Answer chaining, as T=0 cards and many readers need:
- ``61xx``: xx more bytes wait; fetch them with GET RESPONSE until the status is final;
- ``6Cxx``: wrong Le; send the same command again with Le = xx (once).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Protocol

from drivers.smartcard.apdu import CommandApdu, ResponseApdu
from drivers.smartcard.errors import CardProtocolError

traffic = logging.getLogger("drivers.smartcard.traffic")

INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
INS_READ_RECORD = 0xB2
INS_GET_RESPONSE = 0xC0
INS_GET_CHALLENGE = 0x84
INS_EXTERNAL_AUTHENTICATE = 0x82
INS_INTERNAL_AUTHENTICATE = 0x88
INS_VERIFY = 0x20

# A card that keeps answering 61xx forever must not hang the kiosk.
MAX_GET_RESPONSE = 64


class ApduTransport(Protocol):
    """Anything that can send a command APDU and return the card's final answer."""

    def transmit(self, command: CommandApdu) -> ResponseApdu:
        """Send `command`; follow 61xx/6Cxx; return the final answer (any status)."""
        ...


class CardChannel(ABC):
    """A command/answer channel to one card; subclasses supply `transmit_raw`."""

    @abstractmethod
    def transmit_raw(self, apdu: bytes) -> bytes:
        """Send one command APDU's bytes and return the answer's bytes, with no chaining."""

    def transmit(self, command: CommandApdu) -> ResponseApdu:
        """Send `command` and follow 61xx / 6Cxx until the card gives a final status."""
        response = self._exchange(command)
        if response.sw1 == 0x6C:
            # The card names the exact length it wants; ask again with it, once.
            response = self._exchange(command.with_le(response.sw2 or 256))
        data = bytearray()
        rounds = 0
        while response.sw1 == 0x61:
            rounds += 1
            if rounds > MAX_GET_RESPONSE:
                raise CardProtocolError("the card kept answering 61xx: answer chaining aborted")
            data += response.data
            get_response = CommandApdu(
                command.cla & 0x03, INS_GET_RESPONSE, 0, 0, le=response.sw2 or 256
            )
            response = self._exchange(get_response)
        if data:
            response = ResponseApdu(bytes(data) + response.data, response.sw1, response.sw2)
        return response

    def _exchange(self, command: CommandApdu) -> ResponseApdu:
        raw = self.transmit_raw(command.encode())
        response = ResponseApdu.parse(raw)
        # Traffic log: headers and status words only. Data can be a name or an ID number.
        traffic.debug("> %r  < %s data[%d]", command, response.describe(), len(response.data))
        return response

    # -- the common commands ---------------------------------------------------------------

    def send(self, command: CommandApdu) -> bytes:
        """Transmit and return the data, or raise the typed `ApduError` for the status."""
        return self.transmit(command).check()


def select_by_name(transport: ApduTransport, name: bytes, *, fci: bool = True) -> bytes:
    """SELECT a DF/application by name (AID); returns the FCI bytes (empty if none)."""
    p2 = 0x00 if fci else 0x0C
    return transport.transmit(
        CommandApdu(0x00, INS_SELECT, 0x04, p2, name, le=256 if fci else None)
    ).check()


def select_file(transport: ApduTransport, fid: int) -> None:
    """SELECT an elementary or dedicated file by its two-byte identifier (e.g. 0xEF05)."""
    command = CommandApdu(0x00, INS_SELECT, 0x00, 0x0C, fid.to_bytes(2, "big"))
    transport.transmit(command).check()


def read_record(transport: ApduTransport, record: int, *, sfi: int = 0, le: int = 256) -> bytes:
    """READ RECORD `record` of the file with short identifier `sfi` (0: the current file)."""
    if not 1 <= record <= 0xFE or not 0 <= sfi <= 30:
        raise ValueError(f"record {record} / SFI {sfi} out of range")
    p2 = (sfi << 3) | 0x04  # b3=1: P1 is a record number
    return transport.transmit(CommandApdu(0x00, INS_READ_RECORD, record, p2, le=le)).check()


def read_binary(transport: ApduTransport, offset: int = 0, *, le: int = 256) -> bytes:
    """READ BINARY from the current transparent file at `offset` (15 bits)."""
    if not 0 <= offset <= 0x7FFF:
        raise ValueError(f"offset {offset} out of range")
    command = CommandApdu(0x00, INS_READ_BINARY, offset >> 8, offset & 0xFF, le=le)
    return transport.transmit(command).check()


def get_challenge(transport: ApduTransport, length: int = 8) -> bytes:
    """GET CHALLENGE: a fresh random number from the card, for external authentication."""
    data = transport.transmit(CommandApdu(0x00, INS_GET_CHALLENGE, 0, 0, le=length)).check()
    if len(data) != length:
        raise CardProtocolError(f"GET CHALLENGE returned {len(data)} bytes, not {length}")
    return data


def external_authenticate(transport: ApduTransport, key_id: int, cryptogram: bytes) -> None:
    """EXTERNAL AUTHENTICATE with key `key_id`; raises `AuthenticationFailedError` if refused."""
    command = CommandApdu(0x00, INS_EXTERNAL_AUTHENTICATE, 0x00, key_id, cryptogram)
    transport.transmit(command).check()


class DirectChannel(CardChannel):
    """A channel straight into an in-process card function: for tests without pcscd."""

    def __init__(self, process: Callable[[bytes], bytes]) -> None:
        self._process = process

    def transmit_raw(self, apdu: bytes) -> bytes:
        """Hand the bytes to the card and return its answer as is."""
        return self._process(apdu)

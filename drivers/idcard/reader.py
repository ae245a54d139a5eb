"""The ID card reader: GA 467 commands over a `SerialTransport`, answers turned into records.

A read is three commands: find the card (20 01), select it (20 02), read text and photo
(30 01), or text, photo and fingerprints (30 10). `IdCardReader.read_card` does all three and
returns a validated record of the card's type (`CardRecord`). The uniform device face with
card events is `drivers.idcard.device`.

Logging: ``drivers.idcard`` carries events (an outage once, its recovery once, card types);
``drivers.idcard.traffic`` carries raw frames at DEBUG with all card data redacted. Neither
ever carries personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

from drivers.idcard.codec import (
    FIND_CARD,
    READ_TEXT_PHOTO,
    READ_WITH_FINGERPRINT,
    SAM_ID,
    SAM_RESET,
    SAM_STATUS,
    SELECT_CARD,
    CardPayload,
    Command,
    Response,
    Status,
    decode_card_payload,
    format_sam_id,
)
from drivers.idcard.errors import (
    CardReadError,
    FrameError,
    IdCardError,
    NoCardError,
    ReaderStatusError,
    ReaderTimeoutError,
    ReaderUnavailableError,
    SamFaultError,
)
from drivers.idcard.textblock import CardRecord, detect_card_type, parse_text_block
from drivers.idcard.transport import DEFAULT_BAUD, SerialTransport

log = logging.getLogger("drivers.idcard")
T = TypeVar("T")

# Statuses that mean "a card is there but this attempt failed": the resident should place it again.
CARD_FAULTS = frozenset(
    {
        Status.CARD_NOT_FOUND_YET,
        Status.SELECT_FAILED,
        Status.READ_FAILED,
        Status.CARD_AUTH_SAM_FAILED,
        Status.SAM_AUTH_CARD_FAILED,
        Status.VERIFY_FAILED,
        Status.FINGERPRINT_VERIFY_FAILED,
        Status.INFO_LENGTH_ERROR,
        Status.UNKNOWN_CARD_TYPE,
        Status.RANDOM_FAILED,
        Status.NO_CONTENT,
    }
)
# The reader's security module cannot work: a technician has to look at the reader.
SAM_FAULTS = frozenset(
    {Status.SAM_SELF_TEST_FAILED, Status.LOGIN_FAILED, Status.SAM_NOT_AUTHORISED}
)
# The reader saw a garbled command: line noise, worth sending again.
LINE_FAULTS = frozenset({Status.CHECKSUM_ERROR, Status.LENGTH_ERROR})


def decode_payload(payload: CardPayload, port: str = "") -> CardRecord:
    """Decode the raw files of a read into a record (logs the card type, nothing personal)."""
    card_type = detect_card_type(payload.text)
    log.info("card read from %s (%s)", port or "reader", card_type.value)
    return parse_text_block(payload.text, payload.photo, payload.fingerprint)


def check_response(command: Command, response: Response, expected: Status = Status.OK) -> Response:
    """Return `response` if SW3 is `expected`, else raise the typed error its status maps to."""
    if response.sw3 == expected:
        return response
    message = f"{command.name}: {response.describe()}"
    kwargs = {"sw1": response.sw1, "sw2": response.sw2}
    if response.sw3 == Status.FIND_FAILED:
        raise NoCardError(response.sw3, message, **kwargs)
    if response.sw3 in CARD_FAULTS:
        raise CardReadError(response.sw3, message, **kwargs)
    if response.sw3 in SAM_FAULTS:
        raise SamFaultError(response.sw3, message, **kwargs)
    raise ReaderStatusError(response.sw3, message, **kwargs)


class IdCardReader:
    """A GA 467 ID card reader on a serial port, addressed by URL.

    Use as a context manager, or call `open`/`close`. Every command opens the port again if
    it was closed (after an unplug), so a supervisor can simply keep calling `read_card`.
    `retries` resends a command whose answer, or whose command, was garbled on the line.
    """

    def __init__(
        self,
        url: str,
        baud: int = DEFAULT_BAUD,
        timeout: float = 2.0,
        *,
        retries: int = 1,
    ) -> None:
        self.transport = SerialTransport(url, baud=baud, timeout=timeout)
        self.retries = max(0, retries)
        self._failing = False

    @property
    def port(self) -> str:
        """The device path the reader is opened at."""
        return self.transport.address.path

    def open(self) -> None:
        """Open the port; `ReaderUnavailableError` if it cannot be opened."""
        self._guard(self.transport.open)

    def close(self) -> None:
        """Close the port; safe to call twice."""
        self.transport.close()

    def __enter__(self) -> IdCardReader:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def find_card(self) -> bytes:
        """Look for a card (20 01); return its management number, or raise `NoCardError`."""
        return self.command(FIND_CARD, expected=Status.CARD_FOUND).data

    def select_card(self) -> bytes:
        """Select the found card (20 02); return its serial number bytes (the chip's number)."""
        return self.command(SELECT_CARD).data

    def read_text_photo(self) -> CardPayload:
        """Read the selected card's text block and photo (30 01)."""
        return decode_card_payload(self.command(READ_TEXT_PHOTO).data)

    def read_text_photo_fingerprint(self) -> CardPayload:
        """Read text, photo and fingerprint data (30 10); fingerprints are 1024 bytes or none."""
        data = self.command(READ_WITH_FINGERPRINT).data
        return decode_card_payload(data, with_fingerprint=True)

    def read_selected(self, *, with_fingerprint: bool = False) -> CardPayload:
        """Read the selected card's files (30 10 with fingerprints, else 30 01)."""
        if with_fingerprint:
            return self.read_text_photo_fingerprint()
        return self.read_text_photo()

    def read_payload(self, *, with_fingerprint: bool = False) -> CardPayload:
        """Find, select and read: the card's raw files, not yet decoded."""
        self.find_card()
        self.select_card()
        return self.read_selected(with_fingerprint=with_fingerprint)

    def read_card(self, *, with_fingerprint: bool = False) -> CardRecord:
        """Find, select and read a card, and decode it into a validated record of its type.

        With `with_fingerprint` the card is read with 30 10 and the record's `fingerprint` holds
        the card's fingerprint data (opaque, empty if the card has none). Raises `NoCardError`
        when the reader is empty, `CardReadError` when the card could not be read,
        `CardDataError` subclasses when its contents cannot be decoded, `SamFaultError` when
        the reader's SAM is broken, and transport errors as `ReaderTimeoutError`,
        `ProtocolError` or `ReaderUnavailableError`.
        """
        return decode_payload(self.read_payload(with_fingerprint=with_fingerprint), self.port)

    def sam_id(self) -> str:
        """The reader's SAM number, ``05.01-20100101-0000012345-0123456789``."""
        return format_sam_id(self.command(SAM_ID).data)

    def sam_status(self) -> None:
        """Ask the SAM whether it works (11 FF); raise `ReaderStatusError` if not."""
        self.command(SAM_STATUS)

    def sam_reset(self) -> None:
        """Reset the SAM module (10 FF)."""
        self.command(SAM_RESET)

    def command(self, command: Command, *, expected: Status = Status.OK) -> Response:
        """Send any command and return its answer, raising the typed error for a failure SW3.

        For maintenance commands this class has no method for (e.g. 30 03, new address).
        """
        return self._guard(lambda: check_response(command, self._send(command), expected))

    def _send(self, command: Command) -> Response:
        frame = command.encode()
        attempt = 0
        while True:
            try:
                response = self.transport.transact(frame)
            except FrameError as exc:
                if attempt >= self.retries:
                    raise
                log.debug("%s: garbled answer (%s), sending again", command.name, exc)
            else:
                if response.sw3 not in LINE_FAULTS or attempt >= self.retries:
                    return response
                log.debug("%s: reader saw a garbled command, sending again", command.name)
            attempt += 1

    def _guard(self, action: Callable[[], T]) -> T:
        try:
            result = action()
        except (NoCardError, CardReadError):
            self._recovered()  # the reader answered sensibly: it works
            raise
        except (ReaderUnavailableError, ReaderTimeoutError, FrameError, ReaderStatusError) as exc:
            self._failed(exc)
            raise
        self._recovered()
        return result

    def _failed(self, exc: IdCardError) -> None:
        # One line when the reader breaks, not one per poll.
        if not self._failing:
            self._failing = True
            log.warning("ID card reader on %s failing: %s", self.port, exc)
        else:
            log.debug("ID card reader on %s still failing: %s", self.port, exc)

    def _recovered(self) -> None:
        if self._failing:
            self._failing = False
            log.info("ID card reader on %s recovered", self.port)

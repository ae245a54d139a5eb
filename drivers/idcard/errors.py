"""The ID card driver's exception tree, in one place so every layer raises the same types.

```
IdCardError
├── ReaderUnavailableError      the port cannot be opened, or the device went away
├── ReaderTimeoutError          the reader did not answer in time (also a TimeoutError)
├── ProtocolError               the bytes on the line make no sense
│   └── FrameError              one frame is malformed (also a ValueError)
│       ├── ChecksumError
│       └── FrameLengthError
├── ReaderStatusError(status)   the reader answered with a failure status (SW3)
│   ├── NoCardError             0x80: nothing on the reader, the normal idle answer
│   ├── CardReadError           a card is there but could not be read: place it again
│   └── SamFaultError           0x60, 0x61, 0x66: the reader's security module is broken or
│                               not authorised: a technician must look at the reader
└── CardDataError               the card was read but its contents are invalid (also a ValueError)
    ├── InvalidIdNumberError    GB 11643 check digit, date or region wrong
    ├── InvalidFieldError       a field of the text block (sex, nation, dates, lengths)
    └── UnsupportedCardTypeError  a layout this driver does not decode (none today; kept so
                                  callers handling it keep working)
```

Messages never contain personal data: values are masked or left out, so an error can be logged.
"""

from __future__ import annotations


class IdCardError(Exception):
    """Base of every error raised by the ID card driver."""


class ReaderUnavailableError(IdCardError):
    """The reader's port cannot be opened or stopped working (unplugged, busy, no permission)."""


class ReaderTimeoutError(IdCardError, TimeoutError):
    """The reader did not send a complete answer before the deadline."""


class ProtocolError(IdCardError):
    """The reader's answer does not follow GA 467 framing or does not fit the command."""


class FrameError(ProtocolError, ValueError):
    """One frame is malformed; the decoder skips it and resynchronises on the next preamble."""


class ChecksumError(FrameError):
    """A frame's XOR checksum does not match its contents."""


class FrameLengthError(FrameError):
    """A frame's length field is impossible (too short to hold a status, or absurdly long)."""


class ReaderStatusError(IdCardError):
    """The reader answered with a failure status; `status` is the SW3 byte."""

    def __init__(self, status: int, message: str, *, sw1: int = 0, sw2: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.sw1 = sw1
        self.sw2 = sw2


class NoCardError(ReaderStatusError):
    """No card on the reader (SW3 0x80). The normal answer while waiting for a resident."""


class CardReadError(ReaderStatusError):
    """A card is on the reader but could not be selected, authenticated or read."""


class SamFaultError(ReaderStatusError):
    """The SAM failed its self-test, refused the login or is not authorised: needs a technician."""


class CardDataError(IdCardError, ValueError):
    """The card was read but its text block cannot be decoded into a valid record."""


class InvalidIdNumberError(CardDataError):
    """The citizen ID number fails GB 11643 (length, characters, date, region or check digit)."""


class InvalidFieldError(CardDataError):
    """A text block field is missing, too long, or holds a code outside its table."""


class UnsupportedCardTypeError(CardDataError):
    """The card uses a layout this driver does not decode yet; `card_type` says which."""

    def __init__(self, card_type: str, message: str) -> None:
        super().__init__(message)
        self.card_type = card_type

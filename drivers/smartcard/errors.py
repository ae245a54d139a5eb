"""The smart card driver's exception tree, in one place so every layer raises the same types.

```
SmartCardError
├── SmartCardUnavailableError   no PC/SC service, or no reader at the address: back off, reopen
├── NoCardError                 the reader is empty
├── CardRemovedError            the card left (or was reset) during a session: start again
├── CardProtocolError           bytes that break ISO 7816-4: a short answer, a bad TLV, a bad APDU
├── ApduError(sw1, sw2)         the card refused a command with an error status word
│   ├── CardFileNotFoundError       6A82: no such file or application
│   ├── RecordNotFoundError         6A83
│   ├── SecurityStatusError         6982: access condition not met (authenticate first)
│   ├── AuthenticationFailedError   6300 / 63Cx: wrong cryptogram or PIN; `tries_left`
│   └── AuthenticationBlockedError  6983: the key or PIN is blocked
├── UnsupportedCardError        the card has no application this driver knows
├── CardDataError               a file was read but its contents cannot be decoded
└── TechnicianAuthError         a technician card was read but must not be trusted
    ├── NotTechnicianCardError      (also an UnsupportedCardError) no technician applet
    ├── UnknownTechnicianError      the card's technician id is not in the registry
    ├── TechnicianRevokedError
    ├── TechnicianExpiredError
    └── TechnicianSignatureError    the signature does not verify: replay, wrong kiosk, forged
TechnicianRegistryError         the registry file itself is unusable (also a ValueError)
```

Messages never contain personal data (names, ID numbers, card numbers), so errors can be logged
and shown to a technician as they are.
"""

from __future__ import annotations

from drivers.smartcard.status import describe_sw


class SmartCardError(Exception):
    """Base of every error raised by the smart card driver."""


class SmartCardUnavailableError(SmartCardError):
    """The PC/SC service is not running, or no reader matches the configured address."""


class NoCardError(SmartCardError):
    """There is no card in the reader: the normal answer while waiting for a resident."""


class CardRemovedError(SmartCardError):
    """The card was removed or reset while in use; whatever was under way is lost."""


class CardProtocolError(SmartCardError, ValueError):
    """Bytes that do not follow ISO 7816-4: too short, an impossible length, a broken TLV."""


class ApduError(SmartCardError):
    """The card answered a command with an error status word (`sw1`, `sw2`)."""

    def __init__(self, sw1: int, sw2: int, message: str = "") -> None:
        self.sw1 = sw1
        self.sw2 = sw2
        super().__init__(message or f"{sw1:02X}{sw2:02X} {describe_sw(sw1, sw2)}")

    @property
    def sw(self) -> int:
        """Both status bytes as one number, e.g. 0x6A82."""
        return (self.sw1 << 8) | self.sw2


class CardFileNotFoundError(ApduError):
    """6A82: the file or application does not exist on this card."""


class RecordNotFoundError(ApduError):
    """6A83: the file has no record with that number."""


class SecurityStatusError(ApduError):
    """6982: the file is protected and the session has not met its access condition."""


class AuthenticationFailedError(ApduError):
    """6300 or 63Cx: the card rejected a cryptogram or PIN; `tries_left` if the card said."""

    @property
    def tries_left(self) -> int | None:
        """Remaining attempts from 63Cx, or None when the card did not say."""
        if self.sw1 == 0x63 and self.sw2 & 0xF0 == 0xC0:
            return self.sw2 & 0x0F
        return None


class AuthenticationBlockedError(ApduError):
    """6983: the key or PIN is blocked after too many failures."""


class UnsupportedCardError(SmartCardError):
    """The card does not carry the application that was asked for."""


class CardDataError(SmartCardError, ValueError):
    """A file was read but its contents are invalid (bad text encoding, impossible date)."""


class TechnicianAuthError(SmartCardError):
    """A technician card was presented but cannot be trusted; the message says why."""


class NotTechnicianCardError(TechnicianAuthError, UnsupportedCardError):
    """The card has no technician applet: it is some other card."""


class UnknownTechnicianError(TechnicianAuthError):
    """The card names a technician the registry does not know."""


class TechnicianRevokedError(TechnicianAuthError):
    """The technician's key was revoked in the registry."""


class TechnicianExpiredError(TechnicianAuthError):
    """The technician's registry entry is past its `valid_until` date."""


class TechnicianSignatureError(TechnicianAuthError):
    """The card's signature does not verify for this challenge, kiosk and technician key."""


class TechnicianRegistryError(SmartCardError, ValueError):
    """The technician registry file is missing, malformed or holds an invalid entry."""

"""PC/SC smart cards: social security cards and technician cards, through pcscd.

    from drivers.smartcard import open_smartcard, read_social_security_card, verify_technician

    with open_smartcard("pcsc://") as device:
        events = device.poll(1.0)                      # CardInserted(reader, atr), ...
        card = read_social_security_card(device)       # public data; psam=... for personal data
        who = verify_technician(device, registry, kiosk_id="K-0001")

Layers: `apdu`/`status`/`tlv` are pure ISO 7816-4; `channel` adds answer chaining; `pcsc` is the
only module that touches pyscard; `reader` is the uniform device face; `socialsecurity` and
`technician` are the card applications. Virtual cards live in `sim_cards` and go into pcscd's
vpcd reader through `simulator.VpcdClient` (not imported here).
"""

from drivers.smartcard.apdu import CommandApdu, ResponseApdu, error_for_sw
from drivers.smartcard.channel import ApduTransport, CardChannel, DirectChannel
from drivers.smartcard.errors import (
    ApduError,
    AuthenticationBlockedError,
    AuthenticationFailedError,
    CardDataError,
    CardFileNotFoundError,
    CardProtocolError,
    CardRemovedError,
    NoCardError,
    NotTechnicianCardError,
    RecordNotFoundError,
    SecurityStatusError,
    SmartCardError,
    SmartCardUnavailableError,
    TechnicianAuthError,
    TechnicianExpiredError,
    TechnicianRegistryError,
    TechnicianRevokedError,
    TechnicianSignatureError,
    UnknownTechnicianError,
    UnsupportedCardError,
)
from drivers.smartcard.reader import (
    CardInserted,
    CardRemoved,
    ReaderAdded,
    ReaderRemoved,
    ReaderSelector,
    SmartCardDevice,
    SmartCardEvent,
    open_smartcard,
)
from drivers.smartcard.socialsecurity import (
    Psam,
    SocialSecurityCard,
    SocialSecurityCardInfo,
    SocialSecurityHolder,
    SoftPsam,
    read_social_security_card,
)
from drivers.smartcard.status import describe_sw
from drivers.smartcard.technician import (
    TechnicianEntry,
    TechnicianIdentity,
    TechnicianRegistry,
    read_technician_id,
    verify_technician,
)

__all__ = [
    "ApduError",
    "ApduTransport",
    "AuthenticationBlockedError",
    "AuthenticationFailedError",
    "CardChannel",
    "CardDataError",
    "CardFileNotFoundError",
    "CardInserted",
    "CardProtocolError",
    "CardRemoved",
    "CardRemovedError",
    "CommandApdu",
    "DirectChannel",
    "NoCardError",
    "NotTechnicianCardError",
    "Psam",
    "ReaderAdded",
    "ReaderRemoved",
    "ReaderSelector",
    "RecordNotFoundError",
    "ResponseApdu",
    "SecurityStatusError",
    "SmartCardDevice",
    "SmartCardError",
    "SmartCardEvent",
    "SmartCardUnavailableError",
    "SocialSecurityCard",
    "SocialSecurityCardInfo",
    "SocialSecurityHolder",
    "SoftPsam",
    "TechnicianAuthError",
    "TechnicianEntry",
    "TechnicianExpiredError",
    "TechnicianIdentity",
    "TechnicianRegistry",
    "TechnicianRegistryError",
    "TechnicianRevokedError",
    "TechnicianSignatureError",
    "UnknownTechnicianError",
    "UnsupportedCardError",
    "describe_sw",
    "error_for_sw",
    "open_smartcard",
    "read_social_security_card",
    "read_technician_id",
    "verify_technician",
]

"""Second-generation ID card readers (GA 467 serial protocol): resident ID cards, HK/Macau/Taiwan
residence permits and foreigner's permanent residence cards (2017 and 2023).

    from drivers.idcard import open_idcard_reader, CardPresented

    device = open_idcard_reader("serial:///dev/ttyUSB0?baud=115200")
    device.open()
    for event in device.poll(0.3):      # the uniform device face (docs/DEVICES.md)
        if isinstance(event, CardPresented):
            record = event.record        # a CardRecord, validated; repr is masked

    with IdCardReader("serial:///dev/ttyUSB0?baud=115200") as reader:
        record = reader.read_card()      # one read, for tools and tests

The simulator lives in `drivers.idcard.simulator` (not imported here, so importing the driver
never touches pty handling), and its demo cards in `drivers.idcard.sim_cards`.
"""

from drivers.idcard.codec import (
    FIND_CARD,
    FINGERPRINT_SIZE,
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
)
from drivers.idcard.device import (
    CardEvent,
    CardPresented,
    CardReadFailed,
    CardRemoved,
    IdCardDevice,
    open_idcard_reader,
)
from drivers.idcard.errors import (
    CardDataError,
    CardReadError,
    ChecksumError,
    FrameError,
    FrameLengthError,
    IdCardError,
    InvalidFieldError,
    InvalidIdNumberError,
    NoCardError,
    ProtocolError,
    ReaderStatusError,
    ReaderTimeoutError,
    ReaderUnavailableError,
    SamFaultError,
    UnsupportedCardTypeError,
)
from drivers.idcard.foreign import ForeignResident2017Record, ForeignResident2023Record
from drivers.idcard.permit import ResidencePermitRecord
from drivers.idcard.reader import IdCardReader, check_response, decode_payload
from drivers.idcard.textblock import (
    NATION_CODES,
    NATIONS,
    CardRecord,
    CardType,
    IdCardRecord,
    Sex,
    build_text_block,
    card_type_label,
    detect_card_type,
    encode_text_fields,
    gb11643_check_char,
    parse_text_block,
    validate_id_number,
)
from drivers.idcard.transport import PortAddress, SerialTransport, resolve_port

__all__ = [
    "FINGERPRINT_SIZE",
    "FIND_CARD",
    "NATIONS",
    "NATION_CODES",
    "READ_TEXT_PHOTO",
    "READ_WITH_FINGERPRINT",
    "SAM_ID",
    "SAM_RESET",
    "SAM_STATUS",
    "SELECT_CARD",
    "CardDataError",
    "CardEvent",
    "CardPayload",
    "CardPresented",
    "CardReadError",
    "CardReadFailed",
    "CardRecord",
    "CardRemoved",
    "CardType",
    "ChecksumError",
    "Command",
    "Frame",
    "FrameDecoder",
    "FrameError",
    "ForeignResident2017Record",
    "ForeignResident2023Record",
    "FrameLengthError",
    "IdCardDevice",
    "IdCardError",
    "IdCardReader",
    "IdCardRecord",
    "InvalidFieldError",
    "InvalidIdNumberError",
    "NoCardError",
    "PortAddress",
    "ProtocolError",
    "ReaderStatusError",
    "ReaderTimeoutError",
    "ReaderUnavailableError",
    "ResidencePermitRecord",
    "Response",
    "SamFaultError",
    "SerialTransport",
    "Sex",
    "Status",
    "UnsupportedCardTypeError",
    "build_text_block",
    "card_type_label",
    "check_response",
    "checksum",
    "decode_card_payload",
    "decode_frame",
    "decode_payload",
    "describe_status",
    "detect_card_type",
    "encode_card_payload",
    "encode_command",
    "encode_frame",
    "encode_response",
    "encode_text_fields",
    "format_sam_id",
    "gb11643_check_char",
    "open_idcard_reader",
    "parse_text_block",
    "resolve_port",
    "validate_id_number",
]

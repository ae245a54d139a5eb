"""ISO/IEC 7816-4 status words (SW1 SW2): what a card's last two answer bytes mean. Pure data.

The table covers the words a kiosk meets reading files and authenticating; anything else is
described by its SW1 class, so a technician still sees a readable hint.
"""

from __future__ import annotations

SW_OK = 0x9000
SW_AUTH_FAILED = 0x6300
SW_WRONG_LENGTH = 0x6700
SW_SECURITY_STATUS = 0x6982
SW_AUTH_BLOCKED = 0x6983
SW_CONDITIONS_NOT_SATISFIED = 0x6985
SW_COMMAND_NOT_ALLOWED = 0x6986
SW_WRONG_DATA = 0x6A80
SW_FUNCTION_NOT_SUPPORTED = 0x6A81
SW_FILE_NOT_FOUND = 0x6A82
SW_RECORD_NOT_FOUND = 0x6A83
SW_WRONG_P1P2 = 0x6A86
SW_DATA_NOT_FOUND = 0x6A88
SW_WRONG_PARAMETERS = 0x6B00
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
SW_UNKNOWN = 0x6F00

_EXACT: dict[int, str] = {
    0x9000: "success",
    0x6200: "no information given (warning)",
    0x6281: "part of the returned data may be corrupted",
    0x6282: "end of file or record reached before reading Le bytes",
    0x6283: "selected file deactivated",
    0x6300: "verification or authentication failed",
    0x6581: "memory failure",
    0x6700: "wrong length",
    0x6881: "logical channel not supported",
    0x6882: "secure messaging not supported",
    0x6981: "command incompatible with file structure",
    0x6982: "security status not satisfied",
    0x6983: "authentication method blocked",
    0x6984: "reference data not usable",
    0x6985: "conditions of use not satisfied",
    0x6986: "command not allowed (no current EF)",
    0x6987: "expected secure messaging data objects missing",
    0x6988: "incorrect secure messaging data objects",
    0x6A80: "incorrect parameters in the data field",
    0x6A81: "function not supported",
    0x6A82: "file or application not found",
    0x6A83: "record not found",
    0x6A84: "not enough memory space in the file",
    0x6A86: "incorrect parameters P1-P2",
    0x6A88: "referenced data not found",
    0x6B00: "wrong parameters P1-P2 (offset outside the file)",
    0x6D00: "instruction code not supported",
    0x6E00: "class not supported",
    0x6F00: "no precise diagnosis",
}

_BY_SW1: dict[int, str] = {
    0x61: "response bytes still available",
    0x62: "warning: state unchanged",
    0x63: "warning: state changed",
    0x64: "execution error: state unchanged",
    0x65: "execution error: state changed",
    0x66: "security-related error",
    0x67: "wrong length",
    0x68: "functions in CLA not supported",
    0x69: "command not allowed",
    0x6A: "wrong parameters P1-P2",
    0x6C: "wrong Le field",
}


def describe_sw(sw1: int, sw2: int) -> str:
    """A short English description of a status word, for logs and technicians."""
    sw = (sw1 << 8) | sw2
    if sw in _EXACT:
        return _EXACT[sw]
    if sw1 == 0x61:
        return f"{sw2 or 256} response bytes still available"
    if sw1 == 0x6C:
        return f"wrong Le field; the exact length is {sw2 or 256}"
    if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
        return f"verification failed, {sw2 & 0x0F} tries left"
    return _BY_SW1.get(sw1, "unknown status")


def is_success(sw1: int, sw2: int) -> bool:
    """True for 9000 and the warnings (62xx, 63xx other than failed checks) that still deliver."""
    if (sw1, sw2) == (0x90, 0x00):
        return True
    # 6282 "end of file before Le" still returns the data that exists; other warnings do not
    return (sw1, sw2) == (0x62, 0x82)

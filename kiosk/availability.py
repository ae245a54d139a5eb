"""Which kiosk functions can be offered now, from the devices' states.

A lost device disables only the functions that need it; everything else keeps working, and the
screen says in plain words what is unavailable.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from drivers.state import DeviceStatus


class Function(StrEnum):
    """What a resident (or technician) can do that needs hardware."""

    IDENTIFY_BY_ID_CARD = "identify_by_id_card"
    IDENTIFY_BY_EID = "identify_by_eid"
    IDENTIFY_BY_SOCIAL_SECURITY_CARD = "identify_by_social_security_card"
    PRINT_RECEIPT = "print_receipt"
    PRINT_DOCUMENT = "print_document"
    SCAN_QR = "scan_qr"
    FACE_CAPTURE = "face_capture"
    DOCUMENT_CAPTURE = "document_capture"
    TECHNICIAN_CARD = "technician_card"


# Each function needs one device from every group (any of the names within a group).
REQUIREMENTS: dict[Function, tuple[tuple[str, ...], ...]] = {
    Function.IDENTIFY_BY_ID_CARD: (("idcard",),),
    Function.IDENTIFY_BY_EID: (("qr_scanner", "camera"),),
    Function.IDENTIFY_BY_SOCIAL_SECURITY_CARD: (("smartcard",),),
    Function.PRINT_RECEIPT: (("receipt_printer",),),
    Function.PRINT_DOCUMENT: (("document_printer",),),
    Function.SCAN_QR: (("qr_scanner", "camera"),),
    Function.FACE_CAPTURE: (("camera",),),
    Function.DOCUMENT_CAPTURE: (("camera",),),
    Function.TECHNICIAN_CARD: (("smartcard",),),
}


def available_functions(statuses: Mapping[str, DeviceStatus]) -> frozenset[Function]:
    """The functions whose devices are all usable; a device missing from `statuses` is not."""

    def usable(name: str) -> bool:
        status = statuses.get(name)
        return status is not None and status.usable

    return frozenset(
        function
        for function, groups in REQUIREMENTS.items()
        if all(any(usable(name) for name in group) for group in groups)
    )


IDENTIFY_FUNCTIONS = frozenset(
    {
        Function.IDENTIFY_BY_ID_CARD,
        Function.IDENTIFY_BY_EID,
        Function.IDENTIFY_BY_SOCIAL_SECURITY_CARD,
    }
)

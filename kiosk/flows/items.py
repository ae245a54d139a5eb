"""What an item needs and offers, read from its catalogue data (flows as data).

Each catalogue item names its flow kind, the identity it needs and what it prints. From that and
from what works now (devices, the central service), `item_action` says what the guide screen
offers and, when it cannot, why, in one reason key the view models translate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kiosk.availability import IDENTIFY_FUNCTIONS, Function
from kiosk.ids import FlowKind, IdentityNeed


@dataclass(frozen=True)
class ItemAction:
    """The main action of an item's guide screen."""

    kind: str  # print_receipt, print_a4, lookup, ticket, apply, checklist, none
    enabled: bool = True
    reason: str = ""  # a notice key when not enabled
    needs_identity: bool = False


def prints(item: Any) -> str:
    """`receipt`, `a4` or `none`; an older catalogue without the field: print items on receipt."""
    value = getattr(item, "prints", None)
    if value in ("receipt", "a4", "none"):
        return str(value)
    return "receipt" if item.flow == FlowKind.PRINT else "none"


def lookup_kind(item: Any) -> str:
    """`cases`, `records` or `certificate` for lookup items."""
    value = getattr(item, "lookup", None)
    if value in ("cases", "records", "certificate"):
        return str(value)
    return "records" if item.identity != IdentityNeed.NONE else "cases"


def identity_need(item: Any) -> IdentityNeed:
    try:
        return IdentityNeed(item.identity)
    except ValueError:
        return IdentityNeed.ID_CARD


def can_identify(functions: frozenset[Function]) -> bool:
    """Any way to identify works: ID card, an e-ID code, or the social security card."""
    return bool(IDENTIFY_FUNCTIONS & functions)


def item_action(
    item: Any, functions: frozenset[Function], *, central_up: bool, identified: bool
) -> ItemAction:
    """What the guide of `item` offers now."""
    flow = item.flow
    need = identity_need(item)
    needs_id = need != IdentityNeed.NONE and not identified
    if flow == FlowKind.PRINT:
        a4 = prints(item) == "a4"
        kind = "print_a4" if a4 else "print_receipt"
        printer = Function.PRINT_DOCUMENT if a4 else Function.PRINT_RECEIPT
        if printer not in functions:
            return ItemAction(kind, False, "printer_out_of_service")
    elif flow == FlowKind.LOOKUP:
        kind = "lookup"
        if lookup_kind(item) != "records":
            needs_id = False  # by receipt number or QR; identity is one option among them
    elif flow == FlowKind.TICKET:
        kind = "ticket"
        if Function.PRINT_RECEIPT not in functions:
            return ItemAction(kind, False, "printer_out_of_service")
    elif flow == FlowKind.SUBMIT:
        kind = "apply"
        face = need == IdentityNeed.ID_CARD_FACE
        if face and Function.FACE_CAPTURE not in functions:
            return ItemAction(kind, False, "camera_out_of_service")
        if needs_id and not can_identify(functions):
            return ItemAction(kind, False, "identify_out_of_service")
        if not central_up and face:
            return ItemAction(kind, False, "face_check_needs_service", needs_id)
        # Offline, an application is taken into the outbox and sent when the service is back.
        return ItemAction(kind, True, "", needs_id)
    else:  # guide: the checklist to take away
        if Function.PRINT_RECEIPT not in functions:
            return ItemAction("none", False, "")
        return ItemAction("checklist", True, "")
    if needs_id and not can_identify(functions):
        return ItemAction(kind, False, "identify_out_of_service")
    if not central_up:
        return ItemAction(kind, False, "service_unreachable", needs_id)
    return ItemAction(kind, True, "", needs_id)

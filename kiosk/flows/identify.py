"""Identify a resident from an ID card read, and fetch item guides."""

from __future__ import annotations

from typing import Any

from kiosk.central import CentralError, CentralRejected, CentralUnavailable
from kiosk.session import Identity
from kiosk.tasks import UserFacingError


def identity_from_record(record: Any) -> Identity:
    """Keep only what the session needs from a card read (the photo stays on the card)."""
    card_type = getattr(record, "card_type", "resident")
    return Identity(
        name=record.name,
        id_number=record.id_number,
        sex=record.sex,
        birth_date=record.birth_date,
        card_type=str(getattr(card_type, "value", card_type)),
    )


def user_error(exc: CentralError) -> UserFacingError:
    """A central service failure as a message a resident can be shown."""
    if isinstance(exc, CentralUnavailable):
        return UserFacingError("service_unavailable", retryable=True)
    if isinstance(exc, CentralRejected):
        return UserFacingError("service_rejected")
    return UserFacingError("service_error")


def verify(central: Any, identity: Identity) -> str:
    """Ask the central service who this is; returns the opaque person reference."""
    try:
        result = central.verify_identity(
            identity.id_number, identity.name, card_type=identity.card_type
        )
    except CentralError as exc:
        raise user_error(exc) from None
    if not result.verified or not result.person_ref:
        raise UserFacingError("identity_not_found")
    return str(result.person_ref)


def fetch_item(central: Any, code: str) -> Any:
    """The full guide of one service item."""
    try:
        return central.item(code)
    except CentralError as exc:
        raise user_error(exc) from None

"""Identify a resident: an ID card read (all four layouts), an electronic ID's QR code, or the
social security card; and fetch item guides."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from kiosk.central import CentralClient, CentralError, CentralRejected, CentralUnavailable
from kiosk.ids import IdentityMethod
from kiosk.session import Identity
from kiosk.tasks import UserFacingError

log = logging.getLogger(__name__)


def identity_from_record(record: Any) -> Identity:
    """Keep only what the session needs from a card read (the photo stays on the card)."""
    card_type = getattr(record, "card_type", "resident")
    return Identity(
        name=record.name,
        id_number=record.id_number,
        sex=str(getattr(record.sex, "value", record.sex)),
        birth_date=record.birth_date,
        card_type=str(getattr(card_type, "value", card_type)),
        valid_until=getattr(record, "valid_to", None),
        method=IdentityMethod.ID_CARD,
    )


def is_expired(identity: Identity, today: date) -> bool:
    """An expired card is refused: its last valid day is before today (长期 never expires)."""
    return identity.valid_until is not None and identity.valid_until < today


def verify_eid(central: CentralClient, token: str) -> Identity:
    """Ask the central service whose e-ID this is; the kiosk never sees the number."""
    try:
        result = central.verify_eid(token.strip())
    except CentralError as exc:
        raise user_error(exc) from None
    if not result.verified or not result.person_ref:
        reason = getattr(result, "reason", "")
        if reason in ("token_expired", "token_used"):
            raise UserFacingError("eid_expired")
        raise UserFacingError("eid_invalid")
    return Identity(
        name=getattr(result, "name_masked", None) or "",
        id_number="",
        sex="",
        birth_date=None,
        person_ref=str(result.person_ref),
        card_type=getattr(result, "card_type", None) or "resident",
        method=IdentityMethod.EID,
    )


def user_error(exc: CentralError) -> UserFacingError:
    """A central service failure as a message a resident can be shown."""
    if isinstance(exc, CentralUnavailable):
        return UserFacingError("service_unavailable", retryable=True)
    if isinstance(exc, CentralRejected):
        return UserFacingError("service_rejected")
    return UserFacingError("service_error")


def verify(central: CentralClient, identity: Identity) -> str:
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


def fetch_item(central: CentralClient, code: str) -> Any:
    """The full guide of one service item."""
    try:
        return central.item(code)
    except CentralError as exc:
        raise user_error(exc) from None


def read_social_security_card(smartcard: Any, central: CentralClient, today: date) -> Identity:
    """Read the social security card in the reader and ask the central service who it is.

    Its 社会保障号码 is the holder's citizen ID number. An expired card is refused like an
    expired ID card; a card the kiosk cannot read is a plain "take it out and insert it again".
    """
    try:
        card = smartcard.read_social_security()
    except Exception as exc:  # the driver's errors, a missing PSAM, a card pulled out mid-read
        log.warning("social security card not read: %s", type(exc).__name__)
        raise UserFacingError("social_security_card_unreadable") from None
    holder = card.holder
    if holder is None:
        raise UserFacingError("social_security_card_unreadable")
    if card.info.expiry_date is not None and card.info.expiry_date < today:
        raise UserFacingError("social_security_card_expired")
    identity = Identity(
        name=holder.name,
        id_number=holder.social_security_number,
        sex=holder.sex,
        birth_date=holder.birth_date,
        card_type="resident",
        valid_until=card.info.expiry_date,
        method=IdentityMethod.SOCIAL_SECURITY_CARD,
    )
    try:
        result = central.verify_identity(
            identity.id_number,
            identity.name,
            card_type="resident",
            method="social_security_card",
            valid_until=identity.valid_until,
        )
    except CentralError as exc:
        raise user_error(exc) from None
    if not result.verified or not result.person_ref:
        raise UserFacingError("identity_not_found")
    identity.person_ref = str(result.person_ref)
    return identity

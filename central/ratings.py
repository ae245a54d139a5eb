"""好差评: ratings from kiosks, applied exactly once per Idempotency-Key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central.db import ItemRow, RatingRow
from central.errors import ApiError
from central.models import RatingReason, RatingReceipt, RatingRequest
from central.rating_reasons import RATING_REASONS
from central.service import check_same_request, content_hash


def reasons() -> list[RatingReason]:
    """The 差评 reasons a kiosk may offer, in display order."""
    return [RatingReason(**reason._asdict()) for reason in RATING_REASONS]


def _receipt(row: RatingRow) -> RatingReceipt:
    return RatingReceipt(rating_id=row.id, received_at=row.received_at)


def _find(session: Session, key: str) -> RatingRow | None:
    return session.scalars(select(RatingRow).where(RatingRow.idempotency_key == key)).one_or_none()


def _replay(row: RatingRow, request_hash: str) -> RatingReceipt:
    check_same_request(row.request_hash, request_hash)
    return _receipt(row)


def record_rating(
    session: Session, request: RatingRequest, idempotency_key: str, now: Callable[[], datetime]
) -> tuple[RatingReceipt, bool]:
    """Store a rating once; returns its receipt and whether it was new."""
    request_hash = content_hash(request.model_dump(mode="json"))
    existing = _find(session, idempotency_key)
    if existing is not None:
        return _replay(existing, request_hash), False
    if request.item_code is not None and session.get(ItemRow, request.item_code) is None:
        raise ApiError(404, "item_not_found", f"no service item with code {request.item_code!r}")
    received_at = now()
    row = RatingRow(
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        kiosk_id=request.kiosk_id,
        item_code=request.item_code,
        level=request.level,
        rated_at=received_at,
        received_at=received_at,
        client_rated_at=request.rated_at,
        reasons=list(request.reasons),
        case_no=request.case_no,
        flow=request.flow,
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()  # a concurrent delivery of the same message won; answer as its replay
        winner = _find(session, idempotency_key)
        if winner is None:
            raise
        return _replay(winner, request_hash), False
    return _receipt(row), True

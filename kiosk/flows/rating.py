"""好差评: a resident's rating of the service, queued in the outbox for the central service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}


@dataclass(frozen=True)
class Rating:
    """One rating; anonymous (the session id is random and holds no personal data)."""

    session_id: str
    kiosk_id: str
    item_code: str | None
    level: int
    rated_at: datetime

    def payload(self) -> dict[str, Any]:
        return {
            "kiosk_id": self.kiosk_id,
            "item_code": self.item_code,
            "level": self.level,
            "level_name": LEVELS[self.level],
            "rated_at": self.rated_at.isoformat(),
        }


def queue_rating(outbox: Any, rating: Rating) -> None:
    """Put a rating in the outbox, keyed so a retry of the same session is one rating."""
    outbox.put("rating", rating.payload(), idempotency_key=f"rating-{rating.session_id}")

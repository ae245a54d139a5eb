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
    reasons: tuple[str, ...] = ()
    case_no: str | None = None
    flow: str | None = None

    def payload(self) -> dict[str, Any]:
        return {
            "kiosk_id": self.kiosk_id,
            "item_code": self.item_code,
            "level": self.level,
            "level_name": LEVELS[self.level],
            "rated_at": self.rated_at.isoformat(),
            "reasons": list(self.reasons),
            "case_no": self.case_no,
            "flow": self.flow,
        }


# Lower two levels ask why (the national 好差评 reasons; the service's list wins when reachable).
REASONS_FOR = frozenset({1, 2})
DEFAULT_REASONS = (
    ("guide_unclear", "办事指南不准确、不清晰", "The guide was unclear or wrong"),
    ("too_many_trips", "多次跑动", "I had to come more than once"),
    ("long_wait", "等候时间长", "The wait was too long"),
    ("hard_to_use", "系统操作复杂", "The kiosk was hard to use"),
    ("overdue", "办理超时", "It took longer than promised"),
    ("needless_materials", "要求提供不必要材料", "Unnecessary documents were asked for"),
    ("attitude", "服务态度差", "Poor service attitude"),
    ("other", "其他", "Other"),
)


def queue_rating(outbox: Any, rating: Rating) -> None:
    """Put a rating in the outbox, keyed so a retry of the same session is one rating."""
    outbox.put("rating", rating.payload(), idempotency_key=f"rating-{rating.session_id}")

"""取号: window queues and their tickets, kept in the database (one site).

Numbers are a queue letter and three digits (`A023`), counted per queue per service day; the day is
the Beijing (Asia/Shanghai, UTC+8, no DST) date of the service clock, so numbers start again at
001 each morning. Appointment holders (预约) get a number in the same queue, marked `priority`:
they are called before every walk-in ticket still waiting, so their `people_ahead` counts only
priority tickets waiting before them, and a walk-in's counts every ticket waiting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from central.catalogue_extras import ItemExtras, QueueSpec, parse_queue
from central.db import Base, ItemRow, UtcDateTime
from central.errors import ApiError
from central.service import BEIJING

log = logging.getLogger(__name__)

MAX_NUMBER = 999
DEFAULT_AVG_MINUTES = 8

# Before the catalogue names queues, a ticket item's queue follows its category.
CATEGORY_QUEUES: dict[str, QueueSpec] = {
    "huji": QueueSpec("A", "户政业务", "Household registration", 10),
    "budongchan": QueueSpec("B", "不动产登记", "Real estate registration", 15),
    "minzheng": QueueSpec("C", "民政业务", "Civil affairs", 12),
    "shuiwu": QueueSpec("D", "税务业务", "Taxation", 8),
    "churujing": QueueSpec("E", "出入境业务", "Exit and entry", 10),
    "shebao": QueueSpec("F", "社会保障", "Social security", 8),
    "yibao": QueueSpec("G", "医疗保障", "Medical insurance", 8),
    "gongjijin": QueueSpec("H", "住房公积金", "Housing provident fund", 8),
}
_FALLBACK = QueueSpec("Z", "综合业务", "General services", DEFAULT_AVG_MINUTES)


class QueueRow(Base):
    """A window queue of the site."""

    __tablename__ = "queues"

    code: Mapped[str] = mapped_column(String(1), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    avg_minutes: Mapped[int] = mapped_column(Integer)


class ItemQueueRow(Base):
    """Which queue a ticket item's tickets go to."""

    __tablename__ = "item_queues"

    item_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    queue_code: Mapped[str] = mapped_column(ForeignKey("queues.code"))


class TicketRow(Base):
    """An issued ticket, with the request it answered for idempotent replay."""

    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("queue_code", "service_day", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue_code: Mapped[str] = mapped_column(ForeignKey("queues.code"), index=True)
    service_day: Mapped[date] = mapped_column(Date, index=True)
    number: Mapped[int] = mapped_column(Integer)
    ticket_no: Mapped[str] = mapped_column(String(8))
    priority: Mapped[bool] = mapped_column(Boolean)
    called_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    item_code: Mapped[str] = mapped_column(String(64))
    kiosk_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


def service_day(now: datetime) -> date:
    """The service hall's calendar day at `now` (Beijing time)."""
    return now.astimezone(BEIJING).date()


def _named_spec(item: ItemRow, extras: ItemExtras | None) -> QueueSpec | None:
    """The catalogue's own queue: on the item row once the seed keeps it, else in the seed file."""
    named = parse_queue(getattr(item, "queue", None), item.code)
    if named is None and extras is not None:
        named = extras.queue
    return named


def _derived_spec(item: ItemRow, taken: dict[str, QueueSpec]) -> QueueSpec:
    spec = CATEGORY_QUEUES.get(item.category_code, _FALLBACK)
    if spec.code in taken and taken[spec.code].name != spec.name:
        # The catalogue gave this letter to another queue: join a same-named queue, else take
        # the last free letter.
        same = next((code for code, other in taken.items() if other.name == spec.name), None)
        free = same or next(
            chr(c) for c in range(ord("Z"), ord("A") - 1, -1) if chr(c) not in taken
        )
        spec = QueueSpec(free, spec.name, spec.name_en, spec.avg_minutes)
    return spec


def sync_queues(session: Session, extras: dict[str, ItemExtras]) -> None:
    """Give every ticket item a queue: the catalogue's, else its category's. Commits."""
    items = list(session.scalars(select(ItemRow).where(ItemRow.flow == "ticket")))
    named = {item.code: _named_spec(item, extras.get(item.code)) for item in items}
    # Queues the catalogue names are placed first, so derived ones avoid their letters.
    items.sort(key=lambda row: named[row.code] is None)
    taken: dict[str, QueueSpec] = {}
    for item in items:
        spec = named[item.code] or _derived_spec(item, taken)
        if spec.code in taken and taken[spec.code].name != spec.name:
            log.warning("queue %s named twice (%s); keeping the first", spec.code, spec.name)
        taken.setdefault(spec.code, spec)
        row = session.get(QueueRow, spec.code) or QueueRow(code=spec.code)
        first = taken[spec.code]
        row.name, row.name_en = first.name, first.name_en
        row.avg_minutes = first.avg_minutes or _category_minutes(item) or DEFAULT_AVG_MINUTES
        session.add(row)
        link = session.get(ItemQueueRow, item.code) or ItemQueueRow(item_code=item.code)
        link.queue_code = spec.code
        session.add(link)
    session.commit()


def _category_minutes(item: ItemRow) -> int | None:
    spec = CATEGORY_QUEUES.get(item.category_code)
    return spec.avg_minutes if spec else None


def queue_of(session: Session, item_code: str) -> QueueRow:
    """The queue of a ticket item; 404 `item_not_found`, 422 `item_not_ticketed`."""
    item = session.get(ItemRow, item_code)
    if item is None:
        raise ApiError(404, "item_not_found", f"no service item with code {item_code!r}")
    link = session.get(ItemQueueRow, item_code)
    if item.flow != "ticket" or link is None:
        raise ApiError(422, "item_not_ticketed", f"item {item_code!r} has no queue tickets")
    queue = session.get(QueueRow, link.queue_code)
    assert queue is not None  # the foreign key guarantees it
    return queue


def _waiting(queue_code: str, day: date) -> Any:
    return select(func.count(TicketRow.id)).where(
        TicketRow.queue_code == queue_code,
        TicketRow.service_day == day,
        TicketRow.called_at.is_(None),
    )


def people_ahead(session: Session, queue_code: str, day: date, *, priority: bool) -> int:
    """How many waiting tickets will be called before a new one of this kind."""
    query = _waiting(queue_code, day)
    if priority:
        query = query.where(TicketRow.priority.is_(True))
    return int(session.scalar(query) or 0)


@dataclass(frozen=True)
class NewTicket:
    """What a new ticket needs besides its number."""

    item_code: str
    kiosk_id: str
    person_id: int | None
    priority: bool
    idempotency_key: str
    request_hash: str


def find_by_key(session: Session, key: str) -> TicketRow | None:
    """The ticket issued for an Idempotency-Key, if any."""
    return session.scalars(select(TicketRow).where(TicketRow.idempotency_key == key)).one_or_none()


def issue(session: Session, queue: QueueRow, new: NewTicket, now: datetime) -> TicketRow:
    """Number a ticket in `queue` for today and add it to the session (not committed).

    The unique (queue, day, number) constraint catches two kiosks taking the same number at once;
    the caller commits and, on IntegrityError, retries.
    """
    day = service_day(now)
    last = session.scalar(
        select(func.max(TicketRow.number)).where(
            TicketRow.queue_code == queue.code, TicketRow.service_day == day
        )
    )
    number = int(last or 0) + 1
    if number > MAX_NUMBER:
        raise ApiError(409, "queue_full", f"queue {queue.code} has issued every number today")
    ahead = people_ahead(session, queue.code, day, priority=new.priority)
    issued_at = now.astimezone(BEIJING).replace(microsecond=0)
    ticket_no = f"{queue.code}{number:03d}"
    body = {
        "ticket_no": ticket_no,
        "queue_code": queue.code,
        "queue_name": queue.name,
        "queue_name_en": queue.name_en,
        "item_code": new.item_code,
        "people_ahead": ahead,
        "estimated_wait_min": ahead * queue.avg_minutes,
        "issued_at": issued_at.isoformat(),
        "priority": new.priority,
    }
    row = TicketRow(
        queue_code=queue.code,
        service_day=day,
        number=number,
        ticket_no=ticket_no,
        priority=new.priority,
        issued_at=now,
        item_code=new.item_code,
        kiosk_id=new.kiosk_id,
        person_id=new.person_id,
        idempotency_key=new.idempotency_key,
        request_hash=new.request_hash,
        body=body,
    )
    session.add(row)
    session.flush()
    return row


def commit_with_retry(
    session: Session, attempt: Any, key: str, attempts: int = 3
) -> tuple[TicketRow, bool]:
    """Run `attempt()` (which adds a ticket) and commit, retrying a lost race for a number.

    When the race was for the Idempotency-Key itself, the winner's ticket is returned (with
    False: not created by this call).
    """
    for remaining in range(attempts, 0, -1):
        try:
            row: TicketRow = attempt()
            session.commit()
            return row, True
        except IntegrityError:
            session.rollback()
            winner = find_by_key(session, key)
            if winner is not None:
                return winner, False
            if remaining == 1:
                raise
    raise AssertionError("unreachable")


def call_next(session: Session, queue_code: str, now: datetime) -> TicketRow:
    """叫号: mark the next waiting ticket of today called (priority first, then by number)."""
    if session.get(QueueRow, queue_code) is None:
        raise ApiError(404, "queue_not_found", f"no queue with code {queue_code!r}")
    row = session.scalars(
        select(TicketRow)
        .where(
            TicketRow.queue_code == queue_code,
            TicketRow.service_day == service_day(now),
            TicketRow.called_at.is_(None),
        )
        .order_by(TicketRow.priority.desc(), TicketRow.number)
        .limit(1)
    ).first()
    if row is None:
        raise ApiError(404, "queue_empty", f"nobody is waiting in queue {queue_code}")
    row.called_at = now
    session.commit()
    return row

"""预约签到: appointments of registry persons for ticket items, and checking in to them.

An appointment's QR code carries `APPT:<code>`, the code 12 characters from an alphabet without
0/O and 1/I. Checking in on the appointment's day gives a priority ticket in the item's queue
(see `central.queues`); the seed file `seed/appointments.json` books the test persons, dated
relative to the day the seed is loaded so there is always something to check in to today.
"""

from __future__ import annotations

import json
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Date, ForeignKey, Integer, String, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from central import queues
from central.db import Base, ItemRow, PersonRow
from central.errors import ApiError
from central.seed import SEED_DIR, SeedError
from central.service import check_same_request, content_hash, person_for_ref
from central.ticket_models import (
    APPOINTMENT_CODE_ALPHABET,
    APPOINTMENT_QR_PREFIX,
    Appointment,
    CheckInRequest,
    MintAppointmentRequest,
    Ticket,
)
from rules.masking import mask_name

APPOINTMENTS_FILE = SEED_DIR / "appointments.json"
DEFAULT_SLOT = "09:00"


class AppointmentRow(Base):
    """A booked appointment; `ticket_id` is set once the holder has checked in."""

    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    slot: Mapped[str] = mapped_column(String(5))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))


class _AppointmentSeed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[2-9A-HJ-NP-Z]{10,12}$")
    person_no: str
    item_code: str
    day_offset: int = Field(ge=-30, le=30)
    slot: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class _AppointmentsSeed(BaseModel):
    model_config = ConfigDict(frozen=True)

    appointments: list[_AppointmentSeed]


def new_code() -> str:
    """A fresh random appointment code (12 characters, about 60 bits)."""
    return "".join(secrets.choice(APPOINTMENT_CODE_ALPHABET) for _ in range(12))


def sync_appointments(session: Session, now: datetime, path: Path = APPOINTMENTS_FILE) -> None:
    """Upsert the seeded appointments, dated from today; ones already checked in stay as they are."""
    try:
        seed = _AppointmentsSeed.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        raise SeedError(f"{path}: {exc}") from exc
    today = queues.service_day(now)
    for entry in seed.appointments:
        person = session.scalars(
            select(PersonRow).where(PersonRow.person_no == entry.person_no)
        ).one_or_none()
        if person is None or session.get(ItemRow, entry.item_code) is None:
            raise SeedError(f"{path}: {entry.code} names an unknown person or item")
        row = session.scalars(
            select(AppointmentRow).where(AppointmentRow.code == entry.code)
        ).one_or_none() or AppointmentRow(code=entry.code)
        if row.ticket_id is not None:
            continue
        row.person_id, row.item_code = person.id, entry.item_code
        row.day, row.slot = today + timedelta(days=entry.day_offset), entry.slot
        session.add(row)
    session.commit()


def _find_person(session: Session, person: str) -> PersonRow:
    rows = list(
        session.scalars(
            select(PersonRow).where(or_(PersonRow.person_no == person, PersonRow.name == person))
        )
    )
    exact = [row for row in rows if row.person_no == person]
    if exact:
        return exact[0]
    if not rows:
        raise ApiError(404, "person_not_found", "no test person with that number or name")
    if len(rows) > 1:
        raise ApiError(
            409, "person_ambiguous", "several test persons have that name; use person_no"
        )
    return rows[0]


def _appointment(session: Session, row: AppointmentRow) -> Appointment:
    person = session.get(PersonRow, row.person_id)
    item = session.get(ItemRow, row.item_code)
    assert person is not None and item is not None  # foreign keys / checked on creation
    return Appointment(
        code=row.code,
        qr_payload=APPOINTMENT_QR_PREFIX + row.code,
        item_code=row.item_code,
        item_name=item.name,
        holder_name_masked=mask_name(person.name),
        date=row.day,
        slot=row.slot,
    )


def mint(session: Session, request: MintAppointmentRequest, now: datetime) -> Appointment:
    """Book an appointment for a test person (development and demos)."""
    person = _find_person(session, request.person)
    queues.queue_of(session, request.item_code)  # 404 / 422 unless a ticket item
    local = now.astimezone(queues.BEIJING)
    row = AppointmentRow(
        code=new_code(),
        person_id=person.id,
        item_code=request.item_code,
        day=request.date or local.date(),
        slot=DEFAULT_SLOT if request.date else f"{local.hour:02d}:{local.minute:02d}",
    )
    session.add(row)
    session.commit()
    return _appointment(session, row)


def _by_code(session: Session, code: str) -> AppointmentRow:
    row = session.scalars(select(AppointmentRow).where(AppointmentRow.code == code)).one_or_none()
    if row is None:
        raise ApiError(404, "appointment_not_found", "no appointment with that code")
    return row


def _for_person(session: Session, request: CheckInRequest, today: date, now: datetime) -> Any:
    assert request.person_ref is not None
    person = person_for_ref(session, request.person_ref, request.kiosk_id, now)
    query = select(AppointmentRow).where(AppointmentRow.person_id == person.id)
    if request.item_code is not None:
        query = query.where(AppointmentRow.item_code == request.item_code)
    rows = list(session.scalars(query.order_by(AppointmentRow.day, AppointmentRow.slot)))
    if not rows:
        raise ApiError(404, "appointment_not_found", "this person has no appointment")
    open_today = [row for row in rows if row.day == today and row.ticket_id is None]
    if open_today:
        return open_today[0]
    # Nothing to check in to today: report the most telling one (today's used one, else the
    # next open one, else the latest).
    used_today = [row for row in rows if row.day == today]
    upcoming = [row for row in rows if row.day > today and row.ticket_id is None]
    return (used_today or upcoming or rows[-1:])[0]


def check_in(
    session: Session,
    request: CheckInRequest,
    idempotency_key: str,
    now: datetime,
) -> tuple[Ticket, bool]:
    """Check in to an appointment once; returns its priority ticket and whether it was new."""
    request_hash = content_hash({"check_in": request.model_dump(mode="json")})
    existing = queues.find_by_key(session, idempotency_key)
    if existing is not None:
        check_same_request(existing.request_hash, request_hash)
        return Ticket.model_validate(existing.body), False
    today = queues.service_day(now)
    if request.code is not None:
        appointment = _by_code(session, request.code)
    else:
        appointment = _for_person(session, request, today, now)
    if appointment.ticket_id is not None:
        raise ApiError(409, "already_checked_in", "this appointment was already checked in to")
    if appointment.day != today:
        raise ApiError(
            422,
            "appointment_not_today",
            f"the appointment is for {appointment.day.isoformat()}, not today "
            f"({today.isoformat()})",
        )
    queue = queues.queue_of(session, appointment.item_code)
    appointment_id = appointment.id
    new = queues.NewTicket(
        item_code=appointment.item_code,
        kiosk_id=request.kiosk_id,
        person_id=appointment.person_id,
        priority=True,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
    )

    def attempt() -> queues.TicketRow:
        ticket = queues.issue(session, queue, new, now)
        booked = session.get(AppointmentRow, appointment_id)
        assert booked is not None
        booked.ticket_id = ticket.id
        return ticket

    row, created = queues.commit_with_retry(session, attempt, idempotency_key)
    check_same_request(row.request_hash, request_hash)
    return Ticket.model_validate(row.body), created


def take_ticket(
    session: Session,
    item_code: str,
    kiosk_id: str,
    person_ref: str | None,
    idempotency_key: str,
    now: datetime,
) -> tuple[Ticket, bool]:
    """取号 once per Idempotency-Key; returns the ticket and whether it was new."""
    request_hash = content_hash(
        {"ticket": {"item_code": item_code, "kiosk_id": kiosk_id, "person_ref": person_ref}}
    )
    existing = queues.find_by_key(session, idempotency_key)
    if existing is not None:
        check_same_request(existing.request_hash, request_hash)
        return Ticket.model_validate(existing.body), False
    queue = queues.queue_of(session, item_code)
    person = person_for_ref(session, person_ref, kiosk_id, now) if person_ref else None
    new = queues.NewTicket(
        item_code=item_code,
        kiosk_id=kiosk_id,
        person_id=person.id if person else None,
        priority=False,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
    )
    row, created = queues.commit_with_retry(
        session, lambda: queues.issue(session, queue, new, now), idempotency_key
    )
    check_same_request(row.request_hash, request_hash)
    return Ticket.model_validate(row.body), created


def mint_in_database(
    db_url: str, person: str, item_code: str, day: date | None, now: datetime
) -> Appointment:
    """`kiosk central mint-appointment`: book in the service's database directly (seeded first)."""
    from central import db, features
    from central.seed import load_seed

    engine = db.make_engine(db_url)
    try:
        db.create_schema(engine)
        with db.make_sessionmaker(engine)() as session:
            load_seed(session)
            features.prepare(session, now, seeded=True)
            request = MintAppointmentRequest(person=person, item_code=item_code, date=day)
            return mint(session, request, now)
    finally:
        engine.dispose()

"""HTTP routes of 取号 (queue tickets) and 预约签到 (appointment check-in), with dev helpers."""

from __future__ import annotations

from fastapi import APIRouter, Response

from central import appointments, queues
from central.api_common import (
    IDEMPOTENCY_KEY_HEADER,
    RequiredIdempotencyKey,
    SessionDep,
    StateDep,
    errors,
)
from central.ticket_models import (
    Appointment,
    CalledTicket,
    CheckInRequest,
    MintAppointmentRequest,
    Ticket,
    TicketRequest,
)

router = APIRouter(prefix="/api/v1")
# Development stand-ins (calling numbers, booking appointments); only with dev_endpoints.
dev_router = APIRouter(prefix="/api/v1")


@router.post(
    "/tickets",
    tags=["tickets"],
    summary="Take a queue ticket (取号)",
    description=(
        "A number in the queue of a `ticket` item: the queue letter and three digits, counted "
        "per queue per day (Beijing time). `people_ahead` counts the tickets waiting before it; "
        "`estimated_wait_min` is that times the queue's average minutes. Requires "
        "`Idempotency-Key`: a replay returns the same ticket (200)."
    ),
    status_code=201,
    responses={200: {"model": Ticket, "description": "Replay."}, **errors(400, 404, 409, 422)},
    openapi_extra=IDEMPOTENCY_KEY_HEADER,
)
def take_ticket(
    body: TicketRequest,
    response: Response,
    session: SessionDep,
    state: StateDep,
    key: RequiredIdempotencyKey,
) -> Ticket:
    """Issue (or replay) a walk-in ticket."""
    ticket, created = appointments.take_ticket(
        session, body.item_code, body.kiosk_id, body.person_ref, key, state.settings.clock()
    )
    if not created:
        response.status_code = 200
    return ticket


@router.post(
    "/appointments/check-in",
    tags=["tickets"],
    summary="Check in to an appointment (预约签到)",
    description=(
        "By the appointment QR code (`code`: the code or the whole `APPT:<code>` payload) or by "
        "the identified resident (`person_ref`, optionally `item_code`). Gives a priority ticket "
        "in the item's queue, called before waiting walk-in tickets. Errors: 404 "
        "`appointment_not_found`, 422 `appointment_not_today` (the message names its date), 409 "
        "`already_checked_in`. A replay with the same `Idempotency-Key` returns the ticket."
    ),
    status_code=201,
    responses={200: {"model": Ticket, "description": "Replay."}, **errors(400, 404, 409, 422)},
    openapi_extra=IDEMPOTENCY_KEY_HEADER,
)
def check_in(
    body: CheckInRequest,
    response: Response,
    session: SessionDep,
    state: StateDep,
    key: RequiredIdempotencyKey,
) -> Ticket:
    """Check in (or replay the check-in)."""
    ticket, created = appointments.check_in(session, body, key, state.settings.clock())
    if not created:
        response.status_code = 200
    return ticket


@dev_router.post(
    "/dev/queues/{code}/call",
    tags=["dev"],
    summary="Call the next number (叫号, development)",
    description="Marks the next waiting ticket of today called: priority tickets first.",
    responses=errors(404, 422),
)
def call_next(code: str, session: SessionDep, state: StateDep) -> CalledTicket:
    """Stand-in for the hall's calling system, so queues move in tests and demos."""
    row = queues.call_next(session, code.upper(), state.settings.clock())
    return CalledTicket(ticket_no=row.ticket_no, queue_code=row.queue_code, priority=row.priority)


@dev_router.post(
    "/dev/appointments",
    tags=["dev"],
    summary="Book an appointment for a test person (development)",
    description=(
        "`person` is a seed person's registry number or unique name; `date` defaults to today. "
        "The answer's `qr_payload` is what the appointment QR code carries."
    ),
    status_code=201,
    responses=errors(404, 409, 422),
)
def mint_appointment(
    body: MintAppointmentRequest, session: SessionDep, state: StateDep
) -> Appointment:
    """Book an appointment (the embedded simulator's demo phone uses this)."""
    return appointments.mint(session, body, state.settings.clock())

"""ticket: 取号 for a window queue and 预约签到 (appointment check-in); both print a ticket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drivers.printer import Cut, Feed, Receipt, Text
from kiosk.central import CentralClient, CentralError, CentralRejected
from kiosk.flows.identify import user_error
from kiosk.flows.receipts import print_or_explain
from kiosk.i18n import translator
from kiosk.tasks import UserFacingError

# Rejections a resident can act on, by the service's error code.
_CHECK_IN_ERRORS = {
    "appointment_not_found": "appointment_not_found",
    "appointment_not_today": "appointment_not_today",
    "already_checked_in": "already_checked_in",
}


@dataclass(frozen=True)
class TicketJob:
    """A ticket to take (item_code) or an appointment to check in to (code or person_ref)."""

    idempotency_key: str
    site_name: str
    kiosk_id: str
    now: datetime
    item_code: str | None = None
    appointment_code: str | None = None
    person_ref: str | None = None
    language: str = "zh_CN"


def build_ticket(ticket: Any, job: TicketJob) -> Receipt:
    """A queue ticket: the number large, then the queue, the people ahead and the wait."""
    _ = translator(job.language)
    queue = (
        (getattr(ticket, "queue_name_en", "") or ticket.queue_name)
        if job.language == "en"
        else (ticket.queue_name)
    )
    return Receipt(
        (
            Text(job.site_name, align="center"),
            Text(queue, align="center"),
            Feed(1),
            Text(ticket.ticket_no, bold=True, double=True, align="center"),
            Feed(1),
            Text(_("{n} people ahead of you").format(n=ticket.people_ahead), align="center"),
            Text(
                _("About {m} minutes to wait").format(m=ticket.estimated_wait_min),
                align="center",
            ),
            Text(
                _("Listen for your number; if it has passed, please take a new ticket"),
                align="center",
            ),
            Text(
                _("Kiosk: {kiosk}  {time}").format(
                    kiosk=job.kiosk_id, time=f"{job.now:%Y-%m-%d %H:%M}"
                ),
                align="center",
            ),
            Feed(3),
            Cut(),
        )
    )


@dataclass(frozen=True)
class TicketOutcome:
    """The ticket, and why it was not printed if it was not (the number is on screen anyway)."""

    ticket: Any
    print_problem: str | None = None


def take(central: CentralClient, printer: Any, job: TicketJob) -> TicketOutcome:
    """Take (or check in for) a ticket at the central service, then print it."""
    try:
        if job.item_code is not None:
            ticket = central.take_ticket(
                job.item_code, job.idempotency_key, person_ref=job.person_ref
            )
        else:
            ticket = central.check_in(
                job.idempotency_key, code=job.appointment_code, person_ref=job.person_ref
            )
    except CentralRejected as exc:
        if exc.code in _CHECK_IN_ERRORS:
            raise UserFacingError(_CHECK_IN_ERRORS[exc.code]) from None
        raise user_error(exc) from None
    except CentralError as exc:
        raise user_error(exc) from None
    try:
        print_or_explain(printer, build_ticket(ticket, job))
    except UserFacingError as exc:
        return TicketOutcome(ticket, str(exc))
    return TicketOutcome(ticket)

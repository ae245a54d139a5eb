"""Start-up work of the ticket, appointment and document features, run by `create_app`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from central import appointments, queues
from central.catalogue_extras import read_extras


def prepare(session: Session, now: datetime, *, seeded: bool) -> None:
    """Give ticket items their queues and, on a seeded service, book the seed appointments."""
    queues.sync_queues(session, read_extras())
    if seeded:
        appointments.sync_appointments(session, now)

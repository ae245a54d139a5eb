"""Remote commands: queued by an operator, handed out with a heartbeat answer, acknowledged.

Handing out happens inside the heartbeat's group commit (fleet.ingest), so a command is marked
`sent` in the same transaction as the beat whose answer carries it. A command sent but not
acknowledged within `command_resend_s` is handed out again: kiosks act on a command id once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from fleet.db import CommandRow

ACTIONS = ("out_of_service", "back_in_service", "reload_config", "restart")


class UnknownCommand(LookupError):
    """No such command for this kiosk (another kiosk's command is unknown too)."""


def queue_command(
    session: Session, kiosk_id: str, action: str, *, issued_by: str, at: datetime, reason: str = ""
) -> CommandRow:
    """Queue `action` for `kiosk_id`; it leaves with the kiosk's next heartbeat answer."""
    if action not in ACTIONS:
        raise ValueError(f"unknown command action {action!r}")
    row = CommandRow(
        kiosk_id=kiosk_id,
        action=action,
        reason=reason,
        issued_by=issued_by,
        issued_at=at,
        state="queued",
    )
    session.add(row)
    session.flush()
    return row


def record_ack(
    session: Session, kiosk_id: str, command_id: int, result: str, detail: str, at: datetime
) -> CommandRow:
    """Record the kiosk's answer to its command. A repeated ack changes nothing."""
    row = session.get(CommandRow, command_id)
    if row is None or row.kiosk_id != kiosk_id:
        raise UnknownCommand(command_id)
    if row.state in ("done", "failed"):
        return row
    row.state = result
    row.result = detail
    row.acked_at = at
    return row

"""Store-and-forward delivery: durable before the resident is told, delivered at least once.

Payloads are encrypted at rest (Fernet) and purged once delivered; the central service
deduplicates by idempotency key, so each message is applied exactly once.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from kiosk.store import OutboxMessage, Store

log = logging.getLogger(__name__)


class PermanentDeliveryError(Exception):
    """The receiver rejected the message for good; retrying cannot help."""


class TransientDeliveryError(Exception):
    """The receiver could not be reached or was busy; try again later."""


def load_or_create_key(path: str | Path) -> bytes:
    """The outbox key, created on first use, readable by the kiosk user only."""
    path = Path(path)
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


@dataclass(frozen=True)
class Pending:
    """A message ready to be sent, decrypted in memory only for the delivery attempt."""

    id: int
    kind: str
    idempotency_key: str
    payload: dict[str, Any]
    attempts: int


Sender = Callable[[str, dict[str, Any], str], None]


class Outbox:
    """The outbox table, with encryption and a back-off schedule."""

    def __init__(self, store: Store, key: bytes, *, max_backoff_s: float = 600) -> None:
        self._store = store
        self._fernet = Fernet(key)
        self._max_backoff_s = max_backoff_s

    def put(self, kind: str, payload: dict[str, Any], idempotency_key: str) -> bool:
        """Durably queue a message; False if that key was already queued (a duplicate)."""
        now = self._store.now()
        token = self._fernet.encrypt(json.dumps(payload, ensure_ascii=False).encode())
        message = OutboxMessage(
            idempotency_key=idempotency_key,
            kind=kind,
            created_at=now,
            payload=token,
            attempts=0,
            next_attempt_at=now,
            last_error="",
        )
        try:
            with self._store.sessions.begin() as s:
                s.add(message)
        except IntegrityError:
            return False
        return True

    def due(self, limit: int = 20) -> list[Pending]:
        """Undelivered messages whose next attempt is now or past, oldest first."""
        now = self._store.now()
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        pending = []
        with self._store.session() as s:
            for row in s.scalars(query):
                try:
                    payload = json.loads(self._fernet.decrypt(row.payload or b""))
                except (InvalidToken, ValueError):
                    log.error("outbox message %s cannot be decrypted; kept for inspection", row.id)
                    continue
                pending.append(
                    Pending(row.id, row.kind, row.idempotency_key, payload, row.attempts)
                )
        return pending

    def backlog(self) -> int:
        """How many messages still wait for delivery."""
        with self._store.session() as s:
            query = select(func.count()).where(OutboxMessage.delivered_at.is_(None))
            return int(s.scalar(query) or 0)

    def mark_delivered(self, message_id: int) -> None:
        """Delivered: purge the payload, keep the row as a receipt."""
        with self._store.sessions.begin() as s:
            row = s.get(OutboxMessage, message_id)
            if row is not None:
                row.delivered_at = self._store.now()
                row.payload = None
                row.last_error = ""

    def mark_failed(self, message_id: int, error: str, *, permanent: bool = False) -> None:
        """Schedule the next attempt with exponential back-off (or park it for a technician)."""
        with self._store.sessions.begin() as s:
            row = s.get(OutboxMessage, message_id)
            if row is None:
                return
            row.attempts += 1
            row.last_error = error[:500]
            delay = (
                self._max_backoff_s if permanent else min(2.0**row.attempts, self._max_backoff_s)
            )
            row.next_attempt_at = self._store.now() + timedelta(seconds=delay)

    def deliver_due(self, senders: dict[str, Sender]) -> int:
        """Try every due message once; returns how many were delivered."""
        delivered = 0
        for message in self.due():
            sender = senders.get(message.kind)
            if sender is None:
                self.mark_failed(message.id, f"no sender for kind {message.kind!r}", permanent=True)
                continue
            try:
                sender(message.kind, message.payload, message.idempotency_key)
            except PermanentDeliveryError as exc:
                log.error("outbox message %s rejected: %s", message.id, exc)
                self.mark_failed(message.id, str(exc), permanent=True)
            except TransientDeliveryError as exc:
                self.mark_failed(message.id, str(exc))
            else:
                self.mark_delivered(message.id)
                delivered += 1
        return delivered


class OutboxWorker:
    """Delivers due outbox messages from a background thread, every `interval_s`."""

    def __init__(self, outbox: Outbox, senders: dict[str, Sender], interval_s: float = 5.0) -> None:
        self._outbox = outbox
        self._senders = senders
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._outbox.deliver_due(self._senders)
            except Exception:  # the store itself failed; keep the thread, try again later
                log.exception("outbox delivery round failed")
            self._stop.wait(self._interval_s)

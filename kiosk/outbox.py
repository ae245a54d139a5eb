"""Store-and-forward delivery: durable before the resident is told, delivered at least once.

Payloads are encrypted at rest (Fernet) and purged once delivered; the central service
deduplicates by idempotency key, so each message is applied exactly once.

A message that cannot succeed by retrying (rejected by the receiver, no sender for its kind, or
undecryptable) is *parked*: never retried automatically, counted apart from the backlog, and
kept with its reason and last error for a technician, who may release it (`retry_parked`).
Logs name messages by id and kind only, never their payload.

Most kinds are delivered one message at a time, each on its own back-off. A *stream* (`Stream`,
used by fleet telemetry) is delivered strictly in order, in batches: nothing of its kind is sent
while its oldest message waits for its next attempt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from kiosk.store import OutboxMessage, Store, StoreMeta, StoreWriteError

log = logging.getLogger(__name__)

KEY_FINGERPRINT = "outbox_key_fingerprint"
REJECTED = "rejected"
NO_SENDER = "no_sender"
UNDECRYPTABLE = "undecryptable"


class PermanentDeliveryError(Exception):
    """The receiver rejected the message for good; retrying cannot help."""


class TransientDeliveryError(Exception):
    """The receiver could not be reached or was busy; try again later."""


def key_fingerprint(key: bytes) -> str:
    """Names a key (in the store, in logs) without revealing it."""
    return hashlib.sha256(key).hexdigest()[:16]


def _is_key(key: bytes) -> bool:
    try:
        Fernet(key)
    except ValueError:
        return False
    return True


def load_or_create_key(path: str | Path) -> bytes:
    """The outbox key, created on first use, readable by the kiosk user only.

    Created atomically (a private temporary file, synced, then linked into place), so a power cut
    leaves either no key file or a whole one. A damaged key file is moved aside, not overwritten:
    it may be worth recovering, and `Outbox` parks what the new key cannot read.
    """
    path = Path(path)
    try:
        key = path.read_bytes().strip()
    except FileNotFoundError:
        pass
    else:
        if _is_key(key):
            return key
        aside = path.with_name(f"{path.name}.invalid-{int(time.time())}")
        os.replace(path, aside)
        log.error(
            "outbox key file %s is not a valid key: moved to %s, a new key is made", path, aside
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # fails if another process made the key meanwhile: use theirs
        except FileExistsError:
            return path.read_bytes().strip()
    finally:
        os.unlink(tmp)
    _fsync_directory(path.parent)
    log.warning("outbox key created at %s (fingerprint %s)", path, key_fingerprint(key))
    return key


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Pending:
    """A message ready to be sent, decrypted in memory only for the delivery attempt."""

    id: int
    kind: str
    idempotency_key: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class Parked:
    """A parked message as a technician sees it: what, when, why; never its payload."""

    id: int
    kind: str
    idempotency_key: str
    created_at: datetime
    parked_at: datetime
    reason: str  # rejected | no_sender | undecryptable
    last_error: str
    attempts: int


@dataclass(frozen=True)
class Waiting:
    """The waiting messages at a glance: the oldest's age and the error it is being retried on."""

    oldest_created_at: datetime | None
    kind: str  # of the oldest waiting message that failed; "" when none has
    last_error: str


Sender = Callable[[str, dict[str, Any], str], None]
# Sends a batch of one kind at once: all of it is delivered, or it raises and none of it is.
BatchSender = Callable[[str, list[Pending]], None]
# Folds an older payload into the next one when old messages of a kind are capped.
Merge = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Stream:
    """A kind delivered in order, up to `batch` messages a request (fleet heartbeats, events).

    The oldest waiting message decides: while it waits for its back-off, the ones behind it wait
    too, so the receiver sees them in the order they were queued.
    """

    send: BatchSender
    batch: int = 1


class Outbox:
    """The outbox table, with encryption, a back-off schedule and parking.

    Every write raises `kiosk.store.StoreWriteError` when the store cannot save it.
    """

    def __init__(self, store: Store, key: bytes, *, max_backoff_s: float = 600) -> None:
        self._store = store
        self._fernet = Fernet(key)
        self._max_backoff_s = max_backoff_s
        self.key_fingerprint = key_fingerprint(key)
        try:
            self._adopt_key()
        except StoreWriteError as exc:
            # The kiosk still starts; undecryptable rows are parked as `due()` meets them.
            log.error("outbox key check not saved (%s); tried again at the next start", exc)

    # ---- the key -----------------------------------------------------------------------------

    def _adopt_key(self) -> None:
        """Compare the key with the one the store last saw; park what this key cannot read.

        Parked rather than refused: a kiosk whose key file was lost must go on taking new
        messages. The old rows keep their ciphertext, so restoring the old key file and
        releasing them (`retry_parked`) still delivers them.
        """
        with self._store.writing("outbox key fingerprint") as s:
            meta = s.get(StoreMeta, KEY_FINGERPRINT)
            known = None if meta is None else meta.value
            if known == self.key_fingerprint:
                return
            if meta is None:
                s.add(StoreMeta(key=KEY_FINGERPRINT, value=self.key_fingerprint))
            else:
                meta.value = self.key_fingerprint
            waiting = s.scalars(select(OutboxMessage).where(*self._waiting()))
            lost = [row for row in waiting if self._decrypt(row.payload) is None]
            now = self._store.now()
            for row in lost:
                self._park_row(row, UNDECRYPTABLE, f"encrypted with another key ({known})", now)
        if lost:
            log.error(
                "outbox key changed (store knew %s, key file is %s): %d undelivered messages "
                "encrypted with the old key are parked as undecryptable; restore the old key "
                "file and release them to deliver them",
                known or "no key",
                self.key_fingerprint,
                len(lost),
            )
        elif known is not None:
            log.warning(
                "outbox key changed (%s -> %s); nothing was waiting", known, self.key_fingerprint
            )

    def _decrypt(self, token: bytes | None) -> dict[str, Any] | None:
        try:
            payload = json.loads(self._fernet.decrypt(token or b""))
        except (InvalidToken, ValueError):
            return None
        return payload if isinstance(payload, dict) else None

    # ---- queueing ----------------------------------------------------------------------------

    def put(
        self,
        kind: str,
        payload: dict[str, Any],
        idempotency_key: str,
        *,
        meta: Mapping[str, str] | None = None,
    ) -> bool:
        """Durably queue a message; False if that key was already queued (a duplicate).

        `meta` is saved to `store_meta` in the same transaction (a counter the message's
        content depends on, such as the fleet heartbeat's sequence number).
        """
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
            park_reason="",
        )
        try:
            with self._store.writing(f"outbox {kind}") as s:
                s.add(message)
                for key, value in (meta or {}).items():
                    s.merge(StoreMeta(key=key, value=value))
        except IntegrityError as exc:
            if self._known(idempotency_key):
                return False
            raise StoreWriteError(f"outbox {kind} not saved: constraint failed") from exc
        return True

    def known(self, idempotency_key: str) -> bool:
        """Whether a message with this key was ever queued (delivered ones are kept as receipts)."""
        return self._known(idempotency_key)

    def _known(self, idempotency_key: str) -> bool:
        with self._store.session() as s:
            query = select(OutboxMessage.id).where(OutboxMessage.idempotency_key == idempotency_key)
            return s.scalar(query) is not None

    # ---- what waits --------------------------------------------------------------------------

    @staticmethod
    def _waiting() -> tuple[Any, ...]:
        return (OutboxMessage.delivered_at.is_(None), OutboxMessage.parked_at.is_(None))

    def due(self, limit: int = 20, *, exclude: Collection[str] = ()) -> list[Pending]:
        """Undelivered, unparked messages whose next attempt is now or past, oldest first.

        A row that cannot be decrypted is parked on the way, so it never hides the ones behind.
        Kinds in `exclude` (streams, delivered on their own) are left out.
        """
        now = self._store.now()
        pending: list[Pending] = []
        after = 0
        while len(pending) < limit:
            query = (
                select(OutboxMessage)
                .where(*self._waiting(), OutboxMessage.next_attempt_at <= now)
                .where(OutboxMessage.id > after)
                .order_by(OutboxMessage.id)
                .limit(limit)
            )
            if exclude:
                query = query.where(OutboxMessage.kind.not_in(list(exclude)))
            with self._store.session() as s:
                rows = list(s.scalars(query))
            if not rows:
                break
            unreadable = []
            for row in rows:
                after = row.id
                payload = self._decrypt(row.payload)
                if payload is None:
                    unreadable.append(row.id)
                    continue
                pending.append(
                    Pending(row.id, row.kind, row.idempotency_key, payload, row.attempts)
                )
                if len(pending) == limit:
                    break
            for message_id in unreadable:
                log.error("outbox message %s cannot be decrypted; parked", message_id)
                self.park(message_id, UNDECRYPTABLE, "payload cannot be decrypted with this key")
        return pending

    def backlog(self, *, exclude: Collection[str] = ()) -> int:
        """How many messages still wait for delivery (parked ones are counted by `parked()`),
        leaving out the kinds in `exclude`."""
        query = select(func.count()).where(*self._waiting())
        if exclude:
            query = query.where(OutboxMessage.kind.not_in(list(exclude)))
        with self._store.session() as s:
            return int(s.scalar(query) or 0)

    def cap_waiting(self, kind: str, keep: int, merge: Merge) -> int:
        """Keep at most `keep` waiting messages of `kind`: the oldest surplus ones are folded,
        with `merge(older, newer)`, into the oldest one kept, then deleted. Returns how many.

        For kinds whose old messages matter only in sum (heartbeats during a long offline
        period): the outbox stays bounded and no counter is lost. Never use it for messages that
        must each arrive.
        """
        query = (
            select(OutboxMessage)
            .where(*self._waiting(), OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id)
        )
        with self._store.writing(f"outbox cap {kind}") as s:
            rows = list(s.scalars(query))
            surplus = len(rows) - max(keep, 1)
            if surplus <= 0:
                return 0
            folded: dict[str, Any] | None = None
            for row in rows[:surplus]:
                payload = self._decrypt(row.payload)
                if payload is not None:
                    folded = payload if folded is None else merge(folded, payload)
                s.delete(row)
            survivor = rows[surplus]
            newer = self._decrypt(survivor.payload)
            if folded is not None and newer is not None:
                merged = merge(folded, newer)
                survivor.payload = self._fernet.encrypt(
                    json.dumps(merged, ensure_ascii=False).encode()
                )
        return surplus

    def wake(self, kinds: Collection[str]) -> None:
        """Make the waiting messages of these kinds due now (the receiver is back)."""
        query = (
            update(OutboxMessage)
            .where(*self._waiting(), OutboxMessage.kind.in_(list(kinds)))
            .values(next_attempt_at=self._store.now())
        )
        with self._store.writing("outbox wake") as s:
            s.execute(query)

    def waiting(self) -> Waiting:
        """When the oldest waiting message was written, and the error the oldest one that
        failed is retried on (central down, say); never a payload."""
        oldest = select(func.min(OutboxMessage.created_at)).where(*self._waiting())
        failing = (
            select(OutboxMessage.kind, OutboxMessage.last_error)
            .where(*self._waiting(), OutboxMessage.last_error != "")
            .order_by(OutboxMessage.id)
            .limit(1)
        )
        with self._store.session() as s:
            oldest_at = s.scalar(oldest)
            row = s.execute(failing).first()
        return Waiting(oldest_at, row[0] if row else "", row[1] if row else "")

    def parked(self) -> int:
        """How many undelivered messages are parked for a technician."""
        query = select(func.count()).where(
            OutboxMessage.delivered_at.is_(None), OutboxMessage.parked_at.is_not(None)
        )
        with self._store.session() as s:
            return int(s.scalar(query) or 0)

    def parked_messages(self) -> list[Parked]:
        """The parked messages, oldest first, without their payloads."""
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.parked_at.is_not(None))
            .order_by(OutboxMessage.id)
        )
        with self._store.session() as s:
            return [
                Parked(
                    row.id,
                    row.kind,
                    row.idempotency_key,
                    row.created_at,
                    row.parked_at,
                    row.park_reason,
                    row.last_error,
                    row.attempts,
                )
                for row in s.scalars(query)
                if row.parked_at is not None
            ]

    # ---- outcomes ----------------------------------------------------------------------------

    def mark_delivered(self, message_id: int) -> None:
        """Delivered: purge the payload, keep the row as a receipt."""
        with self._store.writing("outbox delivery") as s:
            row = s.get(OutboxMessage, message_id)
            if row is not None:
                row.delivered_at = self._store.now()
                row.payload = None
                row.last_error = ""
                row.parked_at = None
                row.park_reason = ""

    def mark_delivered_many(self, message_ids: Collection[int]) -> None:
        """`mark_delivered` for a whole batch, in one transaction."""
        with self._store.writing("outbox delivery") as s:
            for message_id in message_ids:
                row = s.get(OutboxMessage, message_id)
                if row is not None:
                    row.delivered_at = self._store.now()
                    row.payload = None
                    row.last_error = ""
                    row.parked_at = None
                    row.park_reason = ""

    def mark_delivered_key(self, idempotency_key: str) -> None:
        """Delivered while the resident waited: the same as `mark_delivered`, found by key."""
        with self._store.session() as s:
            query = select(OutboxMessage.id).where(OutboxMessage.idempotency_key == idempotency_key)
            message_id = s.scalar(query)
        if message_id is not None:
            self.mark_delivered(message_id)

    def discard(self, idempotency_key: str) -> bool:
        """Drop an undelivered message the service refused while the resident watched (they were
        told it was not received, and will correct it); True if one was dropped."""
        query = delete(OutboxMessage).where(
            OutboxMessage.idempotency_key == idempotency_key, OutboxMessage.delivered_at.is_(None)
        )
        with self._store.writing("outbox discard") as s:
            dropped = int(cast(CursorResult[Any], s.execute(query)).rowcount or 0)
        return dropped > 0

    def mark_failed(self, message_id: int, error: str, *, permanent: bool = False) -> None:
        """Schedule the next attempt with exponential back-off, or park it if `permanent`."""
        if permanent:
            self.park(message_id, REJECTED, error)
            return
        with self._store.writing("outbox failure") as s:
            row = s.get(OutboxMessage, message_id)
            if row is not None:
                self._back_off(row, error)

    def _back_off(self, row: OutboxMessage, error: str) -> None:
        row.attempts += 1
        row.last_error = error[:500]
        # Exponent capped: 2.0**1024 overflows, after a week offline at a 600 s cap.
        delay = min(2.0 ** min(row.attempts, 64), self._max_backoff_s)
        row.next_attempt_at = self._store.now() + timedelta(seconds=delay)

    def park(self, message_id: int, reason: str, error: str) -> None:
        """Stop retrying a message until a technician releases it."""
        with self._store.writing("outbox parking") as s:
            row = s.get(OutboxMessage, message_id)
            if row is not None and row.delivered_at is None:
                self._park_row(row, reason, error, self._store.now())

    @staticmethod
    def _park_row(row: OutboxMessage, reason: str, error: str, now: datetime) -> None:
        if reason != UNDECRYPTABLE:
            row.attempts += 1
        row.parked_at = now
        row.park_reason = reason
        row.last_error = error[:500]

    def retry_parked(self, message_id: int | None = None) -> int:
        """Release one parked message (or all) for delivery now; returns how many."""
        query = (
            update(OutboxMessage)
            .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.parked_at.is_not(None))
            .values(parked_at=None, park_reason="", next_attempt_at=self._store.now())
        )
        if message_id is not None:
            query = query.where(OutboxMessage.id == message_id)
        with self._store.writing("outbox release") as s:
            released = int(cast(CursorResult[Any], s.execute(query)).rowcount or 0)
        if released:
            log.info("%d parked outbox message(s) released for delivery", released)
        return released

    def deliver_due(
        self, senders: dict[str, Sender], streams: Mapping[str, Stream] | None = None
    ) -> int:
        """Try every due message once, and each stream in order; returns how many were
        delivered."""
        streams = streams or {}
        delivered = 0
        for message in self.due(exclude=streams):
            sender = senders.get(message.kind)
            if sender is None:
                log.error(
                    "outbox message %s: no sender for kind %r; parked", message.id, message.kind
                )
                self.park(message.id, NO_SENDER, f"no sender for kind {message.kind!r}")
                continue
            try:
                sender(message.kind, message.payload, message.idempotency_key)
            except PermanentDeliveryError as exc:
                log.error(
                    "outbox message %s (%s) rejected: %s; parked", message.id, message.kind, exc
                )
                self.park(message.id, REJECTED, str(exc))
            except TransientDeliveryError as exc:
                self.mark_failed(message.id, str(exc))
            except Exception as exc:
                # A sender bug must not block the messages behind; its text may quote the
                # payload, so only the type is kept.
                log.error(
                    "outbox message %s: sender failed (%s); retried later",
                    message.id,
                    type(exc).__name__,
                )
                self.mark_failed(message.id, f"sender failed: {type(exc).__name__}")
            else:
                self.mark_delivered(message.id)
                delivered += 1
        for kind, stream in streams.items():
            delivered += self._deliver_stream(kind, stream)
        return delivered

    def _stream_head(self, kind: str, limit: int) -> tuple[list[Pending], bool]:
        """The oldest waiting messages of a stream, and whether the oldest is due now."""
        query = (
            select(OutboxMessage)
            .where(*self._waiting(), OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        first_due = (
            select(OutboxMessage.id)
            .where(*self._waiting(), OutboxMessage.kind == kind)
            .where(OutboxMessage.next_attempt_at <= self._store.now())
            .order_by(OutboxMessage.id)
            .limit(1)
        )
        with self._store.session() as s:
            rows = list(s.scalars(query))
            due_id = s.scalar(first_due)
        if not rows:
            return [], False
        # compared in SQL, as `due()` does: SQLite hands back naive datetimes
        head_due = due_id == rows[0].id
        batch: list[Pending] = []
        for row in rows:
            payload = self._decrypt(row.payload)
            if payload is None:
                log.error("outbox message %s cannot be decrypted; parked", row.id)
                self.park(row.id, UNDECRYPTABLE, "payload cannot be decrypted with this key")
                continue
            batch.append(Pending(row.id, row.kind, row.idempotency_key, payload, row.attempts))
        return batch, head_due

    def _deliver_stream(self, kind: str, stream: Stream, max_requests: int = 100) -> int:
        delivered = 0
        for _ in range(max_requests):
            batch, head_due = self._stream_head(kind, max(stream.batch, 1))
            if not batch or not head_due:
                break
            ids = [message.id for message in batch]
            try:
                stream.send(kind, batch)
            except PermanentDeliveryError as exc:
                log.error("outbox %s batch %s..%s rejected: %s; parked", kind, ids[0], ids[-1], exc)
                for message_id in ids:
                    self.park(message_id, REJECTED, str(exc))
            except TransientDeliveryError as exc:
                self._fail_many(ids, str(exc))
                break
            except Exception as exc:
                log.error("outbox %s batch: sender failed (%s)", kind, type(exc).__name__)
                self._fail_many(ids, f"sender failed: {type(exc).__name__}")
                break
            else:
                self.mark_delivered_many(ids)
                delivered += len(ids)
        return delivered

    def _fail_many(self, message_ids: list[int], error: str) -> None:
        """`mark_failed` for a whole batch, in one transaction."""
        with self._store.writing("outbox failure") as s:
            for message_id in message_ids:
                row = s.get(OutboxMessage, message_id)
                if row is not None:
                    self._back_off(row, error)


class OutboxWorker:
    """Delivers due outbox messages from a background thread, every `interval_s`."""

    def __init__(
        self,
        outbox: Outbox,
        senders: dict[str, Sender],
        interval_s: float = 5.0,
        streams: Mapping[str, Stream] | None = None,
    ) -> None:
        self._outbox = outbox
        self._senders = senders
        self._streams = dict(streams or {})
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
                self._outbox.deliver_due(self._senders, self._streams)
            except StoreWriteError as exc:  # locked or full: the next round tries again
                log.warning("outbox delivery round stopped: %s", exc)
            except Exception:  # the store itself failed; keep the thread, try again later
                log.exception("outbox delivery round failed")
            self._stop.wait(self._interval_s)

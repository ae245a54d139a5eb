"""Heartbeat ingest with group commit.

Each request hands its beat to `GroupCommit.submit` and awaits it. A few commit workers take
whatever beats are waiting, write them in ONE transaction (the beats, each kiosk's latest summary,
and the commands handed out with the answer) and only then resolve every waiting request. So a
beat is acknowledged only after its commit is done (PostgreSQL with synchronous_commit on), while
the cost of a commit (round trips, the WAL flush) is shared by the whole batch.

Writers: `PgWriter` (asyncpg through SQLAlchemy's async engine; COPY for the beats, one
`unnest` upsert for the kiosks) and `SqliteWriter` (plain batched inserts in a worker thread).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import insert, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session, sessionmaker

from fleet.db import CommandRow, HeartbeatRow, KioskRow
from fleet.metrics import FleetMetrics
from fleet.models import Heartbeat

log = logging.getLogger(__name__)

Commands = dict[str, list[dict[str, Any]]]  # kiosk id -> commands handed out, in id order


class CommitFailed(RuntimeError):
    """The batch this beat was in could not be committed; the kiosk should send it again."""


@dataclass(frozen=True)
class ReceivedBeat:
    """A validated beat with what the server decided: when it arrived and the status it reports."""

    beat: Heartbeat
    received_at: datetime
    status: str


class BatchWriter(Protocol):
    async def commit(self, beats: Sequence[ReceivedBeat], resend_before: datetime) -> Commands:
        """Store the beats and kiosk summaries and hand out commands, in one transaction."""
        ...

    async def close(self) -> None: ...


def latest_per_kiosk(beats: Sequence[ReceivedBeat]) -> list[ReceivedBeat]:
    """Each kiosk's newest beat in a batch, sorted by kiosk id (one lock order: no deadlocks)."""
    latest: dict[str, ReceivedBeat] = {}
    for rb in beats:
        seen = latest.get(rb.beat.kiosk_id)
        if seen is None or rb.received_at >= seen.received_at:
            latest[rb.beat.kiosk_id] = rb
    return [latest[k] for k in sorted(latest)]


class GroupCommit:
    """Batches concurrent heartbeats into shared transactions; see the module docstring."""

    def __init__(
        self,
        writer: BatchWriter,
        metrics: FleetMetrics,
        *,
        batch_max: int = 1000,
        workers: int = 2,
        resend_after_s: float = 120.0,
    ) -> None:
        self._writer = writer
        self._metrics = metrics
        self._batch_max = batch_max
        self._worker_count = workers
        self._resend_after = timedelta(seconds=resend_after_s)
        self._pending: list[tuple[ReceivedBeat, asyncio.Future[list[dict[str, Any]]]]] = []
        self._wakeup = asyncio.Event()
        self._workers: list[asyncio.Task[None]] = []
        self._closing = False

    def start(self) -> None:
        self._workers = [
            asyncio.create_task(self._run(), name=f"fleet-commit-{i}")
            for i in range(self._worker_count)
        ]

    async def submit(self, rb: ReceivedBeat) -> list[dict[str, Any]]:
        """Wait until `rb` is committed; its kiosk's commands handed out in the same transaction."""
        if self._closing:
            raise CommitFailed("server is shutting down")
        future: asyncio.Future[list[dict[str, Any]]] = asyncio.get_running_loop().create_future()
        self._pending.append((rb, future))
        self._wakeup.set()
        self._metrics.beats_received.inc()
        return await future

    async def close(self, drain_timeout_s: float = 10.0) -> None:
        """Commit what is waiting (for at most `drain_timeout_s`), then stop workers and writer."""
        self._closing = True
        deadline = time.monotonic() + drain_timeout_s
        while self._pending and time.monotonic() < deadline:
            self._wakeup.set()
            await asyncio.sleep(0.01)
        for _, future in self._pending:  # the database did not take them: the kiosks resend
            if not future.done():
                future.set_exception(CommitFailed("server is shutting down"))
        self._pending.clear()
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        await self._writer.close()

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            if not self._pending:
                self._wakeup.clear()
                continue
            batch = self._pending[: self._batch_max]
            del self._pending[: self._batch_max]
            if not self._pending:
                self._wakeup.clear()
            await self._commit(batch)

    async def _commit(
        self, batch: list[tuple[ReceivedBeat, asyncio.Future[list[dict[str, Any]]]]]
    ) -> None:
        beats = [rb for rb, _ in batch]
        newest = max(rb.received_at for rb in beats)
        started = time.perf_counter()
        try:
            commands = await self._writer.commit(beats, newest - self._resend_after)
        except asyncio.CancelledError:  # shutting down mid-commit: no beat waits forever
            for _, future in batch:
                if not future.done():
                    future.set_exception(CommitFailed("server is shutting down"))
            raise
        # Any failure: every beat of the batch gets a 503 (the kiosk resends), none is lost silently.
        except Exception as exc:
            log.warning("group commit of %d beats failed: %r", len(beats), exc)
            self._metrics.commit_failures.inc()
            for _, future in batch:
                if not future.done():
                    future.set_exception(CommitFailed(type(exc).__name__))
            return
        self._metrics.commit_seconds.observe(time.perf_counter() - started)
        self._metrics.batch_size.observe(len(beats))
        self._metrics.beats_committed.inc(len(beats))
        # Commands go with the kiosk's newest beat of the batch, once.
        receivers = {id(rb) for rb in latest_per_kiosk(beats)}
        for rb, future in batch:
            if not future.done():  # a client that hung up has a cancelled future
                give = id(rb) in receivers
                future.set_result(commands.get(rb.beat.kiosk_id, []) if give else [])


def _beat_row(rb: ReceivedBeat) -> dict[str, Any]:
    b = rb.beat
    return {
        "kiosk_id": b.kiosk_id,
        "received_at": rb.received_at,
        "sent_at": b.sent_at,
        "seq": b.seq,
        "site": b.site,
        "version": b.version,
        "uptime_s": b.uptime_s,
        "in_service": b.in_service,
        "devices": dict(b.devices),
        "paper": dict(b.paper),
        "outbox_backlog": b.outbox_backlog,
        "sessions": b.sessions,
        "completions": b.completions,
        "last_error": b.last_error,
    }


def _kiosk_row(rb: ReceivedBeat) -> dict[str, Any]:
    b = rb.beat
    return {
        "kiosk_id": b.kiosk_id,
        "site": b.site,
        "version": b.version,
        "first_seen": rb.received_at,
        "last_seen": rb.received_at,
        "uptime_s": b.uptime_s,
        "status": rb.status,
        "in_service": b.in_service,
        "devices": dict(b.devices),
        "paper": dict(b.paper),
        "outbox_backlog": b.outbox_backlog,
        "last_error": b.last_error,
    }


_SUMMARY_COLUMNS = (
    "site",
    "version",
    "last_seen",
    "uptime_s",
    "status",
    "in_service",
    "devices",
    "paper",
    "outbox_backlog",
    "last_error",
)


def _command_dicts(rows: Sequence[Any]) -> Commands:
    out: Commands = {}
    for row in sorted(rows, key=lambda r: r[0]):
        out.setdefault(row[1], []).append({"id": row[0], "action": row[2], "reason": row[3]})
    return out


class SqliteWriter:
    """One site on SQLite: a plain batched insert in a worker thread (SQLite has one writer)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    async def commit(self, beats: Sequence[ReceivedBeat], resend_before: datetime) -> Commands:
        return await asyncio.to_thread(self._commit, beats, resend_before)

    def _commit(self, beats: Sequence[ReceivedBeat], resend_before: datetime) -> Commands:
        latest = latest_per_kiosk(beats)
        at = max(rb.received_at for rb in beats)
        with self._sessions.begin() as session:
            session.execute(insert(HeartbeatRow), [_beat_row(rb) for rb in beats])
            upsert = sqlite_insert(KioskRow)
            upsert = upsert.on_conflict_do_update(
                index_elements=[KioskRow.kiosk_id],
                set_={c: upsert.excluded[c] for c in _SUMMARY_COLUMNS},
                where=KioskRow.last_seen <= upsert.excluded.last_seen,
            )
            session.execute(upsert, [_kiosk_row(rb) for rb in latest])
            rows = session.execute(
                update(CommandRow)
                .where(
                    CommandRow.kiosk_id.in_([rb.beat.kiosk_id for rb in latest]),
                    (CommandRow.state == "queued")
                    | ((CommandRow.state == "sent") & (CommandRow.sent_at < resend_before)),
                )
                .values(state="sent", sent_at=at)
                .returning(CommandRow.id, CommandRow.kiosk_id, CommandRow.action, CommandRow.reason)
            ).all()
        return _command_dicts(rows)

    async def close(self) -> None:
        return None


_PG_BEAT_COLUMNS = (
    "kiosk_id",
    "received_at",
    "sent_at",
    "seq",
    "site",
    "version",
    "uptime_s",
    "in_service",
    "devices",
    "paper",
    "outbox_backlog",
    "sessions",
    "completions",
    "last_error",
)
_PG_INSERT_BEAT = (
    f"INSERT INTO fleet_heartbeats ({', '.join(_PG_BEAT_COLUMNS)}) VALUES "
    "($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11, $12, $13, $14)"
)
_PG_UPSERT_KIOSKS = """
INSERT INTO fleet_kiosks AS k (kiosk_id, site, version, first_seen, last_seen, uptime_s, status,
                               in_service, devices, paper, outbox_backlog, last_error)
SELECT u.kiosk_id, u.site, u.version, u.seen, u.seen, u.uptime_s, u.status, u.in_service,
       u.devices::jsonb, u.paper::jsonb, u.backlog, u.last_error
FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::int[], $6::text[],
            $7::bool[], $8::text[], $9::text[], $10::int[], $11::text[])
     AS u(kiosk_id, site, version, seen, uptime_s, status, in_service, devices, paper, backlog,
          last_error)
ON CONFLICT (kiosk_id) DO UPDATE SET
    site = EXCLUDED.site, version = EXCLUDED.version, last_seen = EXCLUDED.last_seen,
    uptime_s = EXCLUDED.uptime_s, status = EXCLUDED.status, in_service = EXCLUDED.in_service,
    devices = EXCLUDED.devices, paper = EXCLUDED.paper,
    outbox_backlog = EXCLUDED.outbox_backlog, last_error = EXCLUDED.last_error
WHERE k.last_seen <= EXCLUDED.last_seen
"""
_PG_HAND_OUT = """
UPDATE fleet_commands SET state = 'sent', sent_at = $2
WHERE kiosk_id = ANY($1::text[])
  AND (state = 'queued' OR (state = 'sent' AND sent_at < $3))
RETURNING id, kiosk_id, action, reason
"""


# One statement for the whole batch: beats, kiosk summaries and the command hand-out. Outside
# an explicit transaction it is its own transaction: ONE round trip, answered after the commit.
_PG_BATCH = f"""
WITH beats AS (
    INSERT INTO fleet_heartbeats ({", ".join(_PG_BEAT_COLUMNS)})
    SELECT b.kiosk_id, b.received_at, b.sent_at, b.seq, b.site, b.version, b.uptime_s,
           b.in_service, b.devices::jsonb, b.paper::jsonb, b.backlog, b.sessions, b.completions,
           b.last_error
    FROM unnest($12::text[], $13::timestamptz[], $14::timestamptz[], $15::bigint[], $16::text[],
                $17::text[], $18::int[], $19::bool[], $20::text[], $21::text[], $22::int[],
                $23::int[], $24::int[], $25::text[])
         AS b(kiosk_id, received_at, sent_at, seq, site, version, uptime_s, in_service, devices,
              paper, backlog, sessions, completions, last_error)
), kiosks AS ({_PG_UPSERT_KIOSKS})
UPDATE fleet_commands SET state = 'sent', sent_at = $26
WHERE kiosk_id = ANY($1::text[])
  AND (state = 'queued' OR (state = 'sent' AND sent_at < $27))
RETURNING id, kiosk_id, action, reason
"""


class PgWriter:
    """PostgreSQL through asyncpg (SQLAlchemy's async engine gives pooled raw connections).

    insert modes: "statement" (default: the whole batch in one statement, one round trip),
    "copy" (COPY for the beats, then the upsert and hand-out, in a transaction), "executemany".
    bench/fleet_heartbeats.py measures them against each other.
    """

    MODES = ("statement", "copy", "executemany")

    def __init__(self, engine: AsyncEngine, *, insert_mode: str = "statement") -> None:
        if insert_mode not in self.MODES:
            raise ValueError(f"pg_insert must be one of {self.MODES}, not {insert_mode!r}")
        self._engine = engine
        self._mode = insert_mode

    async def commit(self, beats: Sequence[ReceivedBeat], resend_before: datetime) -> Commands:
        latest = latest_per_kiosk(beats)
        at = max(rb.received_at for rb in beats)
        kiosk_arrays = _pg_kiosk_arrays(latest)
        async with self._engine.connect() as conn:
            raw = await conn.get_raw_connection()
            pg = raw.driver_connection
            assert pg is not None
            if self._mode == "statement":
                beat_arrays = [list(column) for column in zip(*map(_pg_record, beats), strict=True)]
                rows = await pg.fetch(_PG_BATCH, *kiosk_arrays, *beat_arrays, at, resend_before)
            else:
                async with pg.transaction():
                    records = [_pg_record(rb) for rb in beats]
                    if self._mode == "copy":
                        await pg.copy_records_to_table(
                            "fleet_heartbeats", records=records, columns=_PG_BEAT_COLUMNS
                        )
                    else:
                        await pg.executemany(_PG_INSERT_BEAT, records)
                    await pg.execute(_PG_UPSERT_KIOSKS, *kiosk_arrays)
                    rows = await pg.fetch(_PG_HAND_OUT, kiosk_arrays[0], at, resend_before)
        return _command_dicts([tuple(r) for r in rows])

    async def close(self) -> None:
        await self._engine.dispose()


def _pg_record(rb: ReceivedBeat) -> tuple[Any, ...]:
    b = rb.beat
    return (
        b.kiosk_id,
        rb.received_at,
        b.sent_at,
        b.seq,
        b.site,
        b.version,
        b.uptime_s,
        b.in_service,
        json.dumps(b.devices),
        json.dumps(b.paper),
        b.outbox_backlog,
        b.sessions,
        b.completions,
        b.last_error,
    )


def _pg_kiosk_arrays(latest: Sequence[ReceivedBeat]) -> list[list[Any]]:
    return [
        [rb.beat.kiosk_id for rb in latest],
        [rb.beat.site for rb in latest],
        [rb.beat.version for rb in latest],
        [rb.received_at for rb in latest],
        [rb.beat.uptime_s for rb in latest],
        [rb.status for rb in latest],
        [rb.beat.in_service for rb in latest],
        [json.dumps(rb.beat.devices) for rb in latest],
        [json.dumps(rb.beat.paper) for rb in latest],
        [rb.beat.outbox_backlog for rb in latest],
        [rb.beat.last_error for rb in latest],
    ]

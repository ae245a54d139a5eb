"""Telemetry for fleet monitoring: heartbeats, events and local metrics (docs/telemetry.md).

The contract other parts of the kiosk rely on is `TelemetrySink.event`: the core and the
maintenance menu report what happened (a fault, a recovery, a maintenance action, a change of
service state) and never personal data. `NullTelemetry` is what a kiosk without telemetry uses.

`Telemetry` is the real sink. It watches the device manager's statuses (faults, recoveries),
counts sessions and completions from the journal, and every `fleet.heartbeat_s` queues a
heartbeat. Heartbeats, events and command acks go through the outbox as streams of their own
(delivered in order, events in batches), so nothing is lost while the fleet server is out of
reach; waiting heartbeats are capped, their counters folded into the oldest one kept. With no
fleet URL nothing is queued, but events are still logged and the local metrics still count.
"""

from __future__ import annotations

import logging
import math
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from importlib import metadata
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import func, select

from drivers.state import DeviceState, DeviceStatus
from kiosk.privacy import redact_text
from kiosk.store import JournalEntry, StoreMeta, StoreWriteError

if TYPE_CHECKING:
    from kiosk.clock import Clock
    from kiosk.config import KioskConfig
    from kiosk.fleet_client import FleetClient
    from kiosk.outbox import Outbox, Pending, Stream
    from kiosk.store import Store
    from kiosk.telemetry_commands import CommandRunner
    from kiosk.telemetry_metrics import Snapshot, TelemetryMetrics

log = logging.getLogger(__name__)

EventValue = str | int | float | bool

HEARTBEAT = "fleet_heartbeat"
EVENTS = "fleet_event"
ACK = "fleet_ack"
FLEET_KINDS = (HEARTBEAT, EVENTS, ACK)
EVENT_KINDS = frozenset({"fault", "recovery", "maintenance", "service_state"})
# One hour of beats at the default 30 s; older waiting beats are folded into the oldest kept.
MAX_WAITING_BEATS = 120
SEQ_KEY = "fleet_heartbeat_seq"
CURSOR_KEY = "fleet_journal_cursor"
# Journal steps that mean a service was delivered to a resident.
COMPLETION_EVENTS = ("printed", "looked_up", "ticketed", "application_sent")
PRINTERS = ("receipt_printer", "document_printer")


class TelemetrySink(Protocol):
    """Where the kiosk reports events for the fleet."""

    def event(self, kind: str, *, device: str = "", **detail: EventValue) -> None:
        """Record one event: kind is fault | recovery | maintenance | service_state."""


class NullTelemetry:
    """Reports nothing: a kiosk with no fleet server configured."""

    def event(self, kind: str, *, device: str = "", **detail: EventValue) -> None:
        del kind, device, detail


def kiosk_version() -> str:
    try:
        return metadata.version("kiosk")
    except metadata.PackageNotFoundError:
        return "unknown"


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _safe_text(value: str, limit: int) -> str:
    """Free text bound for the fleet: ID numbers masked, control characters gone, cut short."""
    text = redact_text(value)
    return "".join(ch if ch.isprintable() else " " for ch in text)[:limit]


def clean_detail(detail: Mapping[str, Any]) -> dict[str, EventValue]:
    """An event's detail as the wire allows it: short keys, scalar values, short texts."""
    out: dict[str, EventValue] = {}
    for key, value in list(detail.items())[:20]:
        if not isinstance(key, str) or not key:
            continue
        key = key[:32]
        if isinstance(value, bool | int):
            out[key] = value
        elif isinstance(value, float):
            out[key] = value if math.isfinite(value) else 0.0  # JSON has no NaN or inf
        elif isinstance(value, str):
            out[key] = _safe_text(value, 200)
        else:
            log.warning("telemetry detail %r dropped: not a plain value", key)
    return out


def merge_beats(older: dict[str, Any], newer: dict[str, Any]) -> dict[str, Any]:
    """Fold a waiting heartbeat into the next one: its counters add up, the rest is newer's."""
    merged = dict(newer)
    for counter in ("sessions", "completions"):
        merged[counter] = int(older.get(counter, 0)) + int(newer.get(counter, 0))
    return merged


def _wire_state(status: DeviceStatus) -> str:
    # The wire knows five states; a configured device that is not found is simply offline.
    return "offline" if status.state is DeviceState.NO_DEVICE else status.state.value


def _healthy(status: DeviceStatus) -> bool | None:
    """Usable now; None while the device manager is still opening it (not news yet)."""
    if status.state is DeviceState.OFFLINE and status.reason == "starting":
        return None
    return status.usable


class Telemetry:
    """Heartbeats, events and metrics of one kiosk (implements `TelemetrySink`)."""

    def __init__(
        self,
        config: KioskConfig,
        *,
        store: Store,
        clock: Clock,
        outbox: Outbox | None = None,
        statuses: Callable[[], Mapping[str, DeviceStatus]] = dict,
        in_service: Callable[[], bool] = lambda: True,
        metrics: TelemetryMetrics | None = None,
        version: str | None = None,
    ) -> None:
        self._config = config
        self._store = store
        self._clock = clock
        self._outbox = outbox
        self._statuses = statuses
        self._in_service = in_service
        self.metrics = metrics
        self.version = version or kiosk_version()
        self.heartbeat_s = config.fleet.heartbeat_s
        self._started = clock.monotonic()
        self._lock = threading.Lock()
        self._health: dict[str, bool | None] = {}
        self._last_error = ""
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_beat = 0.0
        self._metrics_cursor = self._journal_max()
        if self.fleet_on and self._meta(CURSOR_KEY) is None:
            self._set_meta(CURSOR_KEY, str(self._metrics_cursor))  # no history on first start
        if metrics is not None:
            metrics.bind(self.snapshot)

    @property
    def fleet_on(self) -> bool:
        return bool(self._config.fleet.url) and self._outbox is not None

    # ---- events ------------------------------------------------------------------------------

    def event(self, kind: str, *, device: str = "", **detail: EventValue) -> None:
        """Record an event; queued for the fleet when it is on. Never raises."""
        if kind not in EVENT_KINDS:
            log.warning("telemetry event of unknown kind %r dropped", kind[:32])
            return
        event = {
            "event_id": str(uuid.uuid4()),
            "kind": kind,
            "occurred_at": _utc_iso(self._clock.now()),
            "device": _safe_text(device, 32),
            "detail": clean_detail(detail),
        }
        log.info("telemetry event %s %s", kind, event["device"])
        if self.metrics is not None:
            self.metrics.events.labels(kind=kind).inc()
        if not self.fleet_on:
            return
        assert self._outbox is not None
        try:
            self._outbox.put(EVENTS, event, str(event["event_id"]))
        except Exception as exc:  # the caller (the core, a device thread) must go on
            log.error("telemetry event %s not queued: %s", kind, type(exc).__name__)

    def note_error(self, text: str) -> None:
        """The kiosk's latest error, for the next heartbeat (ID numbers masked, 500 chars)."""
        with self._lock:
            self._last_error = _safe_text(text, 500)

    def watch_devices(self) -> None:
        """Compare device statuses with the last look; report faults and recoveries."""
        for name, status in self._statuses().items():
            healthy = _healthy(status)
            with self._lock:
                before = self._health.get(name)
                self._health[name] = healthy if healthy is not None else before
            if healthy is None or healthy == before:
                continue
            if not healthy:
                reason = _safe_text(status.reason, 200)
                self.note_error(f"{name}: {status.state.value}: {reason}".rstrip(": "))
                fault: dict[str, EventValue] = {"state": status.state.value, "reason": reason}
                if status.paper is not None:
                    fault["paper"] = status.paper.value
                self.event("fault", device=name, **fault)
            elif before is False:
                self.event("recovery", device=name, state=status.state.value)

    # ---- heartbeats --------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """What the kiosk looks like now (for metrics and heartbeats)."""
        from kiosk.telemetry_metrics import Snapshot

        backlog = parked = 0
        if self._outbox is not None:
            backlog = self._outbox.backlog(exclude=FLEET_KINDS)
            parked = self._outbox.parked()
        return Snapshot(
            kiosk_id=self._config.kiosk_id,
            site=self._config.site_name,
            version=self.version,
            uptime_s=max(0.0, self._clock.monotonic() - self._started),
            in_service=self._safe_in_service(),
            devices=dict(self._statuses()),
            outbox_backlog=backlog,
            outbox_parked=parked,
        )

    def _safe_in_service(self) -> bool:
        try:
            return bool(self._in_service())
        except Exception:  # the core not built yet (a scrape while starting)
            return True

    def beat(self) -> dict[str, Any] | None:
        """Queue one heartbeat now (fleet on); returns it, or None when the fleet is off."""
        if not self.fleet_on:
            return None
        assert self._outbox is not None
        now = self.snapshot()
        seq = int(self._meta(SEQ_KEY) or 0) + 1
        cursor = int(self._meta(CURSOR_KEY) or 0)
        sessions, completions, last_id = self._count_journal(cursor)
        with self._lock:
            last_error = self._last_error
        beat = {
            "kiosk_id": now.kiosk_id,
            "site": now.site[:64],
            "version": now.version[:32],
            "seq": seq,
            "sent_at": _utc_iso(self._clock.now()),
            "uptime_s": int(now.uptime_s),
            "in_service": now.in_service,
            "devices": {name[:32]: _wire_state(s) for name, s in sorted(now.devices.items())},
            "paper": {
                name[:32]: s.paper.value
                for name, s in sorted(now.devices.items())
                if s.paper is not None and s.paper.value != "unknown"
            },
            "outbox_backlog": now.outbox_backlog,
            "sessions": sessions,
            "completions": completions,
            "last_error": last_error,
        }
        key = f"hb-{now.kiosk_id}-{seq}"[:64]
        # The sequence number and the journal cursor move with the queued beat, in one write.
        meta = {SEQ_KEY: str(seq), CURSOR_KEY: str(last_id)}
        self._outbox.put(HEARTBEAT, beat, key, meta=meta)
        self._outbox.cap_waiting(HEARTBEAT, MAX_WAITING_BEATS, merge_beats)
        # A new beat is tried at once even if older ones back off: the cadence of retries
        # while offline is the heartbeat's, and the server hears from us as soon as it is back.
        self._outbox.wake([HEARTBEAT])
        return beat

    def count_for_metrics(self) -> None:
        """Advance the session and completion counters from the journal."""
        if self.metrics is None:
            return
        sessions, completions, self._metrics_cursor = self._count_journal(self._metrics_cursor)
        self.metrics.sessions.inc(sessions)
        self.metrics.completions.inc(completions)

    def _count_journal(self, after_id: int) -> tuple[int, int, int]:
        """Sessions started and services delivered after journal entry `after_id`, and the
        newest entry's id."""
        newer = JournalEntry.id > after_id
        transition = JournalEntry.kind == "transition"
        with self._store.session() as s:
            last = s.scalar(select(func.max(JournalEntry.id)).where(newer))
            if last is None:
                return 0, 0, after_id
            upto = JournalEntry.id <= last
            sessions = s.scalar(
                select(func.count()).where(
                    newer,
                    upto,
                    transition,
                    JournalEntry.source == "attract",
                    JournalEntry.target != "attract",
                )
            )
            completions = s.scalar(
                select(func.count()).where(
                    newer, upto, transition, JournalEntry.event.in_(COMPLETION_EVENTS)
                )
            )
        return int(sessions or 0), int(completions or 0), int(last)

    def _journal_max(self) -> int:
        with self._store.session() as s:
            return int(s.scalar(select(func.max(JournalEntry.id))) or 0)

    def _meta(self, key: str) -> str | None:
        with self._store.session() as s:
            row = s.get(StoreMeta, key)
            return None if row is None else row.value

    def _set_meta(self, key: str, value: str) -> None:
        try:
            with self._store.writing("telemetry meta") as s:
                s.merge(StoreMeta(key=key, value=value))
        except StoreWriteError as exc:
            log.warning("%s", exc)

    # ---- delivery ----------------------------------------------------------------------------

    def streams(self, client: FleetClient, commands: CommandRunner | None) -> dict[str, Stream]:
        """The outbox streams that deliver heartbeats, events and acks to the fleet server."""
        from kiosk.fleet_client import MAX_EVENTS_PER_REQUEST
        from kiosk.outbox import Stream

        return {
            HEARTBEAT: Stream(lambda _kind, batch: self._send_beat(client, commands, batch)),
            EVENTS: Stream(
                lambda _kind, batch: self._send_events(client, batch), MAX_EVENTS_PER_REQUEST
            ),
            ACK: Stream(lambda _kind, batch: self._send_ack(client, batch)),
        }

    def _send_beat(
        self, client: FleetClient, commands: CommandRunner | None, batch: list[Pending]
    ) -> None:
        from kiosk.fleet_client import FleetRejected, FleetUnavailable
        from kiosk.outbox import PermanentDeliveryError, TransientDeliveryError

        (message,) = batch
        try:
            answer = client.post_heartbeat(message.payload)
        except FleetUnavailable as exc:
            self._count_failure("unavailable")
            raise TransientDeliveryError(str(exc)) from None
        except FleetRejected as exc:
            self._count_failure("rejected")
            raise PermanentDeliveryError(str(exc)) from None
        # The server is back: what waited behind the back-off goes now.
        assert self._outbox is not None
        try:
            self._outbox.wake([EVENTS, ACK])
        except StoreWriteError as exc:
            log.warning("%s", exc)
        if commands is not None and answer:
            try:
                commands.handle(answer)
            except Exception:  # the beat is delivered whatever a command does
                log.exception("fleet commands not handled")

    def _count_failure(self, reason: str) -> None:
        if self.metrics is not None:
            self.metrics.heartbeat_failures.labels(reason=reason).inc()

    @staticmethod
    def _send_events(client: FleetClient, batch: list[Pending]) -> None:
        from kiosk.fleet_client import FleetRejected, FleetUnavailable
        from kiosk.outbox import PermanentDeliveryError, TransientDeliveryError

        try:
            client.post_events([message.payload for message in batch])
        except FleetUnavailable as exc:
            raise TransientDeliveryError(str(exc)) from None
        except FleetRejected as exc:
            raise PermanentDeliveryError(str(exc)) from None

    @staticmethod
    def _send_ack(client: FleetClient, batch: list[Pending]) -> None:
        from kiosk.fleet_client import FleetRejected, FleetUnavailable
        from kiosk.outbox import PermanentDeliveryError, TransientDeliveryError

        (message,) = batch
        payload = message.payload
        try:
            client.ack(int(payload["command_id"]), str(payload["result"]), str(payload["detail"]))
        except FleetUnavailable as exc:
            raise TransientDeliveryError(str(exc)) from None
        except FleetRejected as exc:
            raise PermanentDeliveryError(str(exc)) from None

    # ---- the loop ----------------------------------------------------------------------------

    def start(self, *, poll_s: float = 1.0, first_beat_s: float = 3.0) -> None:
        """Watch devices every `poll_s` and beat every `heartbeat_s`, on a daemon thread."""
        self._thread = threading.Thread(
            target=self._run, args=(poll_s, first_beat_s), name="telemetry", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def beat_soon(self) -> None:
        """Beat at the next poll instead of waiting for the interval (after a reload)."""
        self._next_beat = 0.0
        self._wake.set()

    def _run(self, poll_s: float, first_beat_s: float) -> None:
        self._next_beat = self._clock.monotonic() + first_beat_s
        while not self._stop.is_set():
            try:
                self.watch_devices()
                self.count_for_metrics()
                if self._clock.monotonic() >= self._next_beat:
                    self._next_beat = self._clock.monotonic() + self.heartbeat_s
                    self.beat()
            except Exception as exc:  # a locked store: the next round tries again
                log.warning("telemetry round failed: %s", type(exc).__name__)
            self._wake.wait(poll_s)
            self._wake.clear()


class LastErrorHandler(logging.Handler):
    """Feeds ERROR log records to `Telemetry.note_error` (masked there) for the heartbeat."""

    def __init__(self, telemetry: Telemetry) -> None:
        super().__init__(logging.ERROR)
        self._telemetry = telemetry

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._telemetry.note_error(f"{record.name}: {record.getMessage()}")
        except Exception:
            self.handleError(record)

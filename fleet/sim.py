"""Simulated kiosks for demos and load tests: `kiosk fleet-sim --kiosks N --server URL`.

Each simulated kiosk has its own Ed25519 key (a file under `keys_dir`) and is enrolled in the
registry file the fleet server reads (it re-reads the file when it changes). Kiosks beat every
`heartbeat_s`, with residents arriving in the daily shape of a service hall (busy mornings, a lunch
dip, quiet nights), devices that fail and recover now and then, receipt paper that runs low and
out until a technician replaces it, an outbox backlog that grows when the network flaps, and the
fleet's commands obeyed and acknowledged. Events go out as they happen and are re-sent until
stored. Nothing personal is simulated: there is nothing personal in telemetry.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

from trust.keys import KioskRegistry, generate_key_file, load_private_key
from trust.signing import KioskSigner

DEVICES = ("receipt_printer", "document_printer", "idcard", "smartcard", "qr_scanner", "camera")
PRINTERS = ("receipt_printer", "document_printer")
CHINA = timezone(timedelta(hours=8))
ROLL_RECEIPTS = 400  # receipts on a fresh paper roll


def hall_rate(hour: float) -> float:
    """Residents per hour at a kiosk at local `hour`: opening hours, busiest mid-morning."""
    if not 8.5 <= hour < 17.5:
        return 0.2
    morning = math.exp(-(((hour - 10.0) / 1.3) ** 2))
    afternoon = 0.8 * math.exp(-(((hour - 15.0) / 1.4) ** 2))
    lunch_dip = 0.5 if 12.0 <= hour < 13.5 else 1.0
    return 2.0 + 14.0 * (morning + afternoon) * lunch_dip


@dataclass
class SimKiosk:
    """One simulated kiosk: its devices, paper, outbox and pending events."""

    kiosk_id: str
    site: str
    signer: KioskSigner
    rng: random.Random
    seq: int = 0
    started: float = field(default_factory=time.monotonic)
    in_service: bool = True
    devices: dict[str, str] = field(default_factory=lambda: dict.fromkeys(DEVICES, "online"))
    broken_for: dict[str, int] = field(default_factory=dict)
    paper_left: dict[str, int] = field(default_factory=dict)
    backlog: int = 0
    network_flaky_for: int = 0
    last_error: str = ""
    pending_events: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.paper_left = {p: self.rng.randint(20, ROLL_RECEIPTS) for p in PRINTERS}

    def paper(self) -> dict[str, str]:
        levels = {}
        for printer, left in self.paper_left.items():
            levels[printer] = "out" if left <= 0 else "low" if left < 40 else "full"
        return levels

    def event(self, kind: str, device: str = "", **detail: str | int | bool) -> None:
        self.pending_events.append(
            {
                "event_id": str(uuid.uuid4()),
                "kind": kind,
                "occurred_at": datetime.now(UTC).isoformat(),
                "device": device,
                "detail": detail,
            }
        )

    def step(self, interval_s: float, local_hour: float) -> tuple[int, int]:
        """Advance one heartbeat interval; returns (sessions, completions) in it."""
        rng = self.rng
        for device in DEVICES:
            if device in self.broken_for:
                self.broken_for[device] -= 1
                if self.broken_for[device] <= 0:
                    del self.broken_for[device]
                    self.devices[device] = "online"
                    self.event("recovery", device)
            elif rng.random() < 0.002:
                state = rng.choice(("hardware_error", "offline", "user_error"))
                self.devices[device] = state
                self.broken_for[device] = rng.randint(2, 30)
                self.last_error = f"{device}: {state}"
                self.event("fault", device, state=state)
        sessions = (
            _poisson(rng, hall_rate(local_hour) * interval_s / 3600) if self.in_service else 0
        )
        completions = sum(1 for _ in range(sessions) if rng.random() < 0.8)
        for _ in range(completions):
            printer = "receipt_printer" if rng.random() < 0.85 else "document_printer"
            if self.paper_left[printer] > 0 and self.devices[printer] == "online":
                self.paper_left[printer] -= 1
        for printer, left in self.paper_left.items():
            if left <= 0 and rng.random() < 0.05:  # a technician comes by
                self.paper_left[printer] = ROLL_RECEIPTS
                self.event("maintenance", printer, action="paper_replaced", actor="technician:sim")
        if self.network_flaky_for > 0:
            self.network_flaky_for -= 1
            self.backlog += completions
        else:
            self.backlog = max(0, self.backlog - 5)
            if rng.random() < 0.003:
                self.network_flaky_for = rng.randint(5, 60)
        return sessions, completions

    def heartbeat(self, sessions: int, completions: int) -> dict[str, Any]:
        self.seq += 1
        return {
            "kiosk_id": self.kiosk_id,
            "site": self.site,
            "version": "1.0.0-sim",
            "seq": self.seq,
            "sent_at": datetime.now(UTC).isoformat(),
            "uptime_s": int(time.monotonic() - self.started),
            "in_service": self.in_service,
            "devices": dict(self.devices),
            "paper": self.paper(),
            "outbox_backlog": self.backlog,
            "sessions": sessions,
            "completions": completions,
            "last_error": self.last_error,
        }

    def obey(self, command: dict[str, Any]) -> str:
        action = command["action"]
        if action in ("out_of_service", "back_in_service"):
            self.in_service = action == "back_in_service"
            self.event("service_state", in_service=self.in_service, actor="fleet")
        return f"{action} done"


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: fine for the small means of one heartbeat interval.
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def enroll_kiosks(
    count: int, registry_path: str | Path, keys_dir: str | Path, *, sites: int = 0
) -> list[tuple[str, str, KioskSigner]]:
    """Create (or reuse) N kiosk keys and enroll them; (kiosk id, site, signer) each."""
    registry = KioskRegistry.load(registry_path)
    sites = sites or max(1, count // 20)
    kiosks = []
    for i in range(1, count + 1):
        kiosk_id, site = f"SIM-{i:05d}", f"SITE-{(i - 1) % sites + 1:03d}"
        key_file = Path(keys_dir) / f"{kiosk_id}.pem"
        if not key_file.exists():
            generate_key_file(key_file)
        signer = KioskSigner(kiosk_id, load_private_key(key_file))
        entry = registry.get(kiosk_id)
        if entry is None or entry.public_key != signer.public_key or entry.revoked:
            registry.enroll(kiosk_id, signer.public_key, site)
        kiosks.append((kiosk_id, site, signer))
    return kiosks


@dataclass
class SimStats:
    beats_ok: int = 0
    beats_failed: int = 0
    events_stored: int = 0
    commands_done: int = 0


async def _run_kiosk(
    kiosk: SimKiosk,
    client: httpx.AsyncClient,
    stats: SimStats,
    *,
    heartbeat_s: float,
    speed: float,
    until: float,
) -> None:
    await asyncio.sleep(kiosk.rng.uniform(0, heartbeat_s))  # spread the fleet's beats
    start_wall = datetime.now(CHINA)
    start_mono = time.monotonic()
    while time.monotonic() < until:
        sim_now = start_wall + timedelta(seconds=(time.monotonic() - start_mono) * speed)
        hour = sim_now.hour + sim_now.minute / 60
        sessions, completions = kiosk.step(heartbeat_s * speed, hour)
        try:
            if kiosk.pending_events:
                r = await client.post(
                    "/api/v1/events", json={"events": kiosk.pending_events[:100]}, auth=kiosk.signer
                )
                if r.status_code == 200:
                    stats.events_stored += r.json()["stored"]
                    del kiosk.pending_events[:100]
            r = await client.post(
                "/api/v1/heartbeats",
                json=kiosk.heartbeat(sessions, completions),
                auth=kiosk.signer,
            )
            if r.status_code == 200:
                stats.beats_ok += 1
                for command in r.json()["commands"]:
                    detail = kiosk.obey(command)
                    ack = await client.post(
                        f"/api/v1/commands/{command['id']}/ack",
                        json={"result": "done", "detail": detail},
                        auth=kiosk.signer,
                    )
                    stats.commands_done += ack.status_code == 200
            else:
                stats.beats_failed += 1
        except httpx.HTTPError:
            stats.beats_failed += 1  # the server is away: the kiosk tries again next beat
        await asyncio.sleep(max(0.0, min(heartbeat_s, until - time.monotonic())))


async def run_fleet(
    server: str,
    kiosks: list[tuple[str, str, KioskSigner]],
    *,
    seconds: float,
    heartbeat_s: float = 30.0,
    speed: float = 1.0,
    seed: int = 1,
) -> SimStats:
    """Run the simulated kiosks against `server` for `seconds`; what they achieved."""
    stats = SimStats()
    until = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=min(100, max(1, len(kiosks))))
    async with httpx.AsyncClient(base_url=server, timeout=10, limits=limits) as client:
        sims = [
            SimKiosk(kiosk_id, site, signer, random.Random(seed * 100_003 + i))
            for i, (kiosk_id, site, signer) in enumerate(kiosks)
        ]
        await asyncio.gather(
            *(
                _run_kiosk(k, client, stats, heartbeat_s=heartbeat_s, speed=speed, until=until)
                for k in sims
            )
        )
    return stats


def main_cli(
    count: int,
    server: str,
    *,
    seconds: float,
    registry: str,
    keys_dir: str,
    heartbeat_s: float,
    speed: float,
) -> int:
    kiosks = enroll_kiosks(count, registry, keys_dir)
    print(f"{len(kiosks)} simulated kiosks enrolled in {registry}; beating every {heartbeat_s}s")
    stats = asyncio.run(
        run_fleet(server, kiosks, seconds=seconds, heartbeat_s=heartbeat_s, speed=speed)
    )
    print(
        f"beats stored {stats.beats_ok}, failed {stats.beats_failed}; "
        f"events stored {stats.events_stored}; commands done {stats.commands_done}"
    )
    return 0 if stats.beats_ok else 1

"""Kiosk telemetry against the real fleet server (fleet.app, SQLite, signed requests): nothing
lost across an offline period, remote commands run and acknowledged once, no personal data."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from drivers.idcard.sim_cards import LI_XIUYING
from drivers.idcard.simulator import IdCardSimulator
from fleet.app import create_app
from fleet.commands import queue_command
from fleet.db import CommandRow, EventRow, HeartbeatRow, now
from fleet.settings import FleetSettings
from kiosk.config import DeviceConfig, load_config, parse_config
from kiosk.device_manager import DeviceManager, build_specs
from kiosk.events import Intent, Tick
from kiosk.ids import StateId
from kiosk.outbox import Outbox, load_or_create_key
from kiosk.telemetry import EVENTS, HEARTBEAT
from kiosk.telemetry_wiring import build_telemetry, connect
from tests.support.journey import PRINT_ITEM, step
from tests.support.kiosk_keys import test_registry, test_signer
from tests.support.pumping import pump_until

KIOSK = "KIOSK-T-1"


class Link(httpx.BaseTransport):
    """The network between kiosk and fleet: down, losing answers, or refusing some paths."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.down = False
        self.lose_answers = False
        self.refuse = ""  # a path fragment that cannot be reached
        self.bodies: list[bytes] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.down or (self.refuse and self.refuse in request.url.path):
            raise httpx.ConnectError("connection refused", request=request)
        self.bodies.append(request.read())
        response = self.inner.handle_request(request)
        if self.lose_answers:
            response.read()
            raise httpx.ReadTimeout("answer lost", request=request)
        return response


class Fleet:
    def __init__(self, app, http: TestClient, link: Link, db_path: Path) -> None:
        self.app, self.http, self.link, self.db_path = app, http, link, db_path
        self.signer = None

    def rows(self, table, *order):
        with self.app.state.fleet.sessions() as s:
            return list(s.scalars(select(table).order_by(*order)))

    def queue(self, action: str, reason: str = "") -> int:
        with self.app.state.fleet.sessions.begin() as s:
            row = queue_command(s, KIOSK, action, issued_by="op", at=now(), reason=reason)
            return int(row.id)


@pytest.fixture
def signer():
    return test_signer(KIOSK)


@pytest.fixture
def fleet(tmp_path, signer):
    db_path = tmp_path / "fleet.db"
    settings = FleetSettings(run_sweeper=False, command_resend_s=0.0)
    app = create_app(
        f"sqlite:///{db_path}", kiosk_registry=test_registry(signer), settings=settings
    )
    with TestClient(app) as http:
        yield Fleet(app, http, Link(http._transport), db_path)


class Actions:
    def __init__(self) -> None:
        self.in_service: list[tuple[bool, str]] = []
        self.restarts = 0

    def set_in_service(self, on: bool, reason: str) -> None:
        self.in_service.append((on, reason))

    def restart(self) -> None:
        self.restarts += 1


@pytest.fixture
def outbox(store, tmp_path):
    return Outbox(store, load_or_create_key(tmp_path / "outbox.key"))


@pytest.fixture
def kiosk_side(store, clock, outbox, fleet, signer):
    """Build telemetry as the runtime does (build_telemetry + connect), over the test link."""
    made = []

    def build(config=None, statuses=dict, actions=None):
        config = config or parse_config(
            {"kiosk_id": KIOSK, "fleet": {"url": "http://testserver", "metrics_port": 0}}
        )
        actions = actions or Actions()
        parts = build_telemetry(
            config,
            store=store,
            outbox=outbox,
            clock=clock,
            statuses=statuses,
            in_service=lambda: True,
        )
        streams = connect(
            parts,
            config,
            outbox=outbox,
            set_in_service=actions.set_in_service,
            restart=actions.restart,
            auth=signer,
            transport=fleet.link,
            start=False,
        )
        made.append(parts)
        return parts.telemetry, streams, actions

    yield build
    for parts in made:
        parts.stop()


def test_nothing_is_lost_offline_and_events_arrive_in_order_once(fleet, kiosk_side, outbox, clock):
    telemetry, streams, _ = kiosk_side()
    fleet.link.down = True
    for i in range(150):
        telemetry.event("maintenance", action=f"step-{i:03d}", actor="technician:T-1")
        if i % 50 == 0:
            telemetry.beat()
            outbox.deliver_due({}, streams)
            clock.advance(30)
    assert outbox.backlog() == 153
    failures = telemetry.metrics.registry.get_sample_value(
        "kiosk_heartbeat_failures_total", {"reason": "unavailable"}
    )
    assert failures >= 3

    fleet.link.down = False
    telemetry.beat()  # the new beat is tried at once; its success wakes the rest
    outbox.deliver_due({}, streams)
    assert outbox.backlog() == 0

    expected = [f"step-{i:03d}" for i in range(150)]
    on_the_wire = [
        e["detail"]["action"]
        for body in fleet.link.bodies
        if body.startswith(b'{"events"')
        for e in json.loads(body)["events"]
    ]
    assert on_the_wire == expected, "sent in order, each once"
    # (the server numbers a batch's rows in its own order; the set is what it must keep)
    assert sorted(e.detail["action"] for e in fleet.rows(EventRow, EventRow.id)) == expected
    assert [b.seq for b in fleet.rows(HeartbeatRow, HeartbeatRow.id)] == [1, 2, 3, 4]

    # An answer lost on the way: the kiosk sends again, the server stores each event once.
    fleet.link.lose_answers = True
    telemetry.event("recovery", device="idcard", state="online")
    outbox.deliver_due({}, streams)
    fleet.link.lose_answers = False
    clock.advance(5)
    outbox.deliver_due({}, streams)
    assert outbox.backlog() == 0
    assert len(fleet.rows(EventRow, EventRow.id)) == 151
    resent = [json.loads(b) for b in fleet.link.bodies if b.startswith(b'{"events"')][-2:]
    assert resent[0] == resent[1], "the same event, the same id"


def write_config(path: Path, **fleet) -> None:
    data = {"kiosk_id": KIOSK, "fleet": {"url": "http://testserver", "metrics_port": 0, **fleet}}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_commands_run_once_and_are_acknowledged_once_across_a_restart(
    fleet, kiosk_side, outbox, tmp_path
):
    path = tmp_path / "kiosk.yaml"
    write_config(path)
    config = load_config(path)
    telemetry, streams, actions = kiosk_side(config)
    ids = {
        "out": fleet.queue("out_of_service", "设备维护"),
        "back": fleet.queue("back_in_service"),
        "reload": fleet.queue("reload_config"),
        "restart": fleet.queue("restart"),
    }
    write_config(path, heartbeat_s=10, timeout_s=9)
    fleet.link.refuse = "/ack"  # the acks cannot get through yet

    telemetry.beat()
    outbox.deliver_due({}, streams)
    assert actions.in_service == [(False, "设备维护"), (True, "")]
    assert actions.restarts == 1 and telemetry.heartbeat_s == 10
    assert outbox.backlog() == 4, "four acks wait"

    # The kiosk restarts; the server hands the unacknowledged commands out again.
    fleet.link.refuse = ""
    again, streams, after_restart = kiosk_side(config)
    again.beat()
    outbox.deliver_due({}, streams)
    outbox.wake(["fleet_ack"])
    outbox.deliver_due({}, streams)
    assert after_restart.in_service == [] and after_restart.restarts == 0, "not run again"
    assert outbox.backlog() == 0

    rows = {row.id: row for row in fleet.rows(CommandRow, CommandRow.id)}
    assert {rows[i].state for i in ids.values()} == {"done"}
    assert rows[ids["reload"]].result == (
        "applied: fleet.heartbeat_s; at the next restart: fleet.timeout_s"
    )
    assert rows[ids["restart"]].result == "restarting"
    acks = [b for b in fleet.link.bodies if b.startswith(b'{"result"')]
    assert len(acks) == 4, "each command acknowledged exactly once"


def test_a_bad_configuration_fails_the_reload_and_says_which_key(
    fleet, kiosk_side, outbox, tmp_path
):
    path = tmp_path / "kiosk.yaml"
    write_config(path)
    telemetry, streams, _ = kiosk_side(load_config(path))
    write_config(path, heartbeat_s=-1)
    command = fleet.queue("reload_config")
    telemetry.beat()
    outbox.deliver_due({}, streams)
    [row] = [r for r in fleet.rows(CommandRow, CommandRow.id) if r.id == command]
    assert row.state == "failed" and "fleet.heartbeat_s" in row.result
    assert telemetry.heartbeat_s == 30


def test_no_personal_data_reaches_the_fleet_after_a_real_card_read(
    fleet, kiosk_side, outbox, make_kiosk, store
):
    """GIVEN a resident identified by a real ID card read (GA 467 over a pty) WHEN the kiosk
    reports THEN no name, number, address or photo bytes are in any beat, event or fleet row."""
    kiosk = make_kiosk()
    with IdCardSimulator(card=None) as sim:
        cfg = {"idcard": DeviceConfig(url=sim.url)}
        manager = DeviceManager(build_specs(cfg), kiosk.post)
        telemetry, streams, _ = kiosk_side(statuses=manager.statuses)
        kiosk.services.telemetry = telemetry
        manager.start()
        try:
            pump_until(kiosk, lambda core: core.devices.get("idcard") is not None)
            telemetry.watch_devices()
            assert step(kiosk, Intent.START) == StateId.AWAIT_IDENTITY
            sim.insert(LI_XIUYING)
            pump_until(kiosk, lambda core: core.state == StateId.CATEGORIES)
            assert kiosk.session.identity is not None
            step(kiosk, Intent.PICK_CATEGORY, "shebao")
            step(kiosk, Intent.PICK_ITEM, PRINT_ITEM)
            assert step(kiosk, Intent.ACT) == StateId.RATE
            assert step(kiosk, Intent.RATE, "5") == StateId.THANKS
            telemetry.event("maintenance", action="card_read_test", actor="technician:T-1")
            sim.stop()  # the reader goes away mid-day: a fault with its reason
            pump_until(kiosk, lambda core: not core.devices["idcard"].usable)
            telemetry.watch_devices()
        finally:
            manager.stop()
    kiosk.post(Tick())
    beat = telemetry.beat()
    assert beat["sessions"] == 1 and beat["completions"] == 1
    sent = [m.payload for m in outbox.due(1000) if m.kind in (HEARTBEAT, EVENTS)]
    assert any(p.get("kind") == "fault" for p in sent)
    outbox.deliver_due({}, streams)
    assert outbox.backlog(exclude=["rating"]) == 0

    wire = b"".join(fleet.link.bodies) + json.dumps(sent, ensure_ascii=False).encode()
    stored = b"".join(p.read_bytes() for p in fleet.db_path.parent.glob("fleet.db*"))
    for text in (LI_XIUYING.name, LI_XIUYING.id_number, LI_XIUYING.address, "195603"):
        for form in (text.encode(), json.dumps(text)[1:-1].encode()):
            assert form not in wire and form not in stored, text
    photo = LI_XIUYING.photo_wlt
    for i in range(0, len(photo) - 16, 64):
        assert photo[i : i + 16] not in wire and photo[i : i + 16] not in stored

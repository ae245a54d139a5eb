"""Telemetry on the kiosk: what a heartbeat says, which events device changes make, how the
journal is counted, and that everything queued fits the fleet server's own wire models."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.state import DeviceState, DeviceStatus, PaperState
from fleet.models import Event, Heartbeat
from kiosk.config import parse_config
from kiosk.fleet_client import parse_commands
from kiosk.outbox import Outbox, load_or_create_key
from kiosk.telemetry import (
    EVENTS,
    HEARTBEAT,
    MAX_WAITING_BEATS,
    Telemetry,
    clean_detail,
)
from kiosk.telemetry_metrics import TelemetryMetrics

FLEET_ON = {"kiosk_id": "KIOSK-T-1", "fleet": {"url": "http://fleet.test"}}


class Devices:
    """Statuses as the device manager reports them, changed by the test."""

    def __init__(self, **statuses: DeviceStatus) -> None:
        self.now = dict(statuses)

    def __call__(self) -> dict[str, DeviceStatus]:
        return dict(self.now)


ONLINE = DeviceStatus(DeviceState.ONLINE)
STARTING = DeviceStatus(DeviceState.OFFLINE, "starting")


@pytest.fixture
def outbox(store, tmp_path):
    return Outbox(store, load_or_create_key(tmp_path / "outbox.key"))


@pytest.fixture
def make_telemetry(store, clock, outbox):
    def build(config=FLEET_ON, devices=None, in_service=lambda: True, metrics=None):
        return Telemetry(
            parse_config(config),
            store=store,
            clock=clock,
            outbox=outbox,
            statuses=devices or Devices(),
            in_service=in_service,
            metrics=metrics,
            version="1.2.3",
        )

    return build


def queued(outbox, kind):
    return [m.payload for m in outbox.due(1000) if m.kind == kind]


def journey(store, session, *, served: str | None = "printed"):
    """Journal steps of one resident session, as the core writes them."""
    store.record_transition(session, "start", "attract", "identify")
    store.record_transition(session, "identified", "verifying", "browse")
    if served:
        store.record_transition(session, served, "printing", "rating")
    store.record_transition(session, "finish", "thanks", "attract")


def test_a_heartbeat_carries_the_whole_wire_and_fits_the_servers_model(
    make_telemetry, outbox, store, clock
):
    devices = Devices(
        receipt_printer=DeviceStatus(DeviceState.ONLINE, paper=PaperState.LOW),
        document_printer=DeviceStatus(DeviceState.ONLINE, paper=PaperState.UNKNOWN),
        idcard=ONLINE,
        camera=DeviceStatus(DeviceState.HARDWARE_ERROR, "OSError: [Errno 5] I/O error"),
        qr_scanner=DeviceStatus(DeviceState.NO_DEVICE, "not found"),
    )
    telemetry = make_telemetry(devices=devices, in_service=lambda: False)
    outbox.put("rating", {"level": 5}, "r1")  # a message for the central service
    journey(store, "s1")
    journey(store, "s2", served=None)
    clock.advance(42)

    beat = telemetry.beat()

    Heartbeat.model_validate(beat)  # the fleet server's own model of a heartbeat
    assert beat["kiosk_id"] == "KIOSK-T-1" and beat["version"] == "1.2.3"
    assert beat["site"] == parse_config(FLEET_ON).site_name
    assert beat["seq"] == 1 and beat["uptime_s"] == 42 and beat["in_service"] is False
    assert beat["devices"] == {
        "camera": "hardware_error",
        "document_printer": "online",
        "idcard": "online",
        "qr_scanner": "offline",
        "receipt_printer": "online",
    }
    assert beat["paper"] == {"receipt_printer": "low"}, "unknown paper is not reported"
    assert beat["outbox_backlog"] == 1, "the central backlog, not telemetry's own"
    assert (beat["sessions"], beat["completions"]) == (2, 1)
    assert beat["sent_at"].endswith("Z")
    assert queued(outbox, HEARTBEAT) == [beat]

    journey(store, "s3", served="ticketed")
    second = telemetry.beat()
    assert second["seq"] == 2 and (second["sessions"], second["completions"]) == (1, 1)


def test_counts_and_sequence_survive_a_restart_without_double_counting(make_telemetry, store):
    journey(store, "s1")
    make_telemetry().beat()
    journey(store, "s2")
    again = make_telemetry().beat()  # a new process on the same store
    assert again["seq"] == 2 and again["sessions"] == 1


def test_the_first_start_reports_no_history(store, make_telemetry):
    journey(store, "old")  # sessions before telemetry was installed
    telemetry = make_telemetry()
    journey(store, "new")
    assert telemetry.beat()["sessions"] == 1


def test_device_faults_and_recoveries_become_events(make_telemetry, outbox):
    devices = Devices(receipt_printer=STARTING, idcard=STARTING)
    telemetry = make_telemetry(devices=devices)
    telemetry.watch_devices()
    devices.now.update(receipt_printer=ONLINE, idcard=ONLINE)
    telemetry.watch_devices()
    assert queued(outbox, EVENTS) == [], "coming up at start is not news"

    devices.now["receipt_printer"] = DeviceStatus(DeviceState.ONLINE, paper=PaperState.OUT)
    devices.now["idcard"] = DeviceStatus(DeviceState.OFFLINE, "SerialException: port gone")
    telemetry.watch_devices()
    telemetry.watch_devices()  # no change: no second event
    devices.now["receipt_printer"] = DeviceStatus(DeviceState.ONLINE, paper=PaperState.FULL)
    telemetry.watch_devices()

    events = queued(outbox, EVENTS)
    for event in events:
        Event.model_validate(event)
    assert [(e["kind"], e["device"]) for e in events] == [
        ("fault", "receipt_printer"),
        ("fault", "idcard"),
        ("recovery", "receipt_printer"),
    ]
    assert events[0]["detail"] == {"state": "online", "reason": "", "paper": "out"}
    assert events[1]["detail"]["reason"] == "SerialException: port gone"
    assert len({e["event_id"] for e in events}) == 3
    assert telemetry.beat()["last_error"] == "idcard: offline: SerialException: port gone"


def test_a_device_broken_from_the_start_is_a_fault(make_telemetry, outbox):
    devices = Devices(camera=DeviceStatus(DeviceState.HARDWARE_ERROR, "DriverMissing: cv2"))
    make_telemetry(devices=devices).watch_devices()
    assert [e["kind"] for e in queued(outbox, EVENTS)] == ["fault"]


def test_events_from_the_core_are_cleaned_and_queued_in_order(make_telemetry, outbox):
    telemetry = make_telemetry()
    telemetry.event("maintenance", action="paper_replaced", actor="technician:T-07")
    telemetry.event("service_state", in_service=False, actor="fleet", reason="施工")
    telemetry.event("gossip", device="x")  # not a kind of the wire: dropped
    telemetry.event("maintenance", action="x", note="客户 110101195603121240 来电", blob=b"\x00")
    events = queued(outbox, EVENTS)
    assert [e["kind"] for e in events] == ["maintenance", "service_state", "maintenance"]
    assert events[1]["detail"] == {"in_service": False, "actor": "fleet", "reason": "施工"}
    assert "110101195603121240" not in events[2]["detail"]["note"]
    assert "blob" not in events[2]["detail"]


def test_with_the_fleet_off_nothing_is_queued_but_metrics_count(make_telemetry, outbox, store):
    metrics = TelemetryMetrics()
    telemetry = make_telemetry(config={"kiosk_id": "K"}, metrics=metrics)
    telemetry.event("maintenance", action="paper_replaced")
    journey(store, "s1")
    telemetry.count_for_metrics()
    assert telemetry.beat() is None and outbox.backlog() == 0
    assert metrics.registry.get_sample_value("kiosk_sessions_total") == 1
    assert metrics.registry.get_sample_value("kiosk_completions_total") == 1
    events = metrics.registry.get_sample_value(
        "kiosk_telemetry_events_total", {"kind": "maintenance"}
    )
    assert events == 1


def test_a_long_offline_period_keeps_the_beats_bounded_and_every_session(
    make_telemetry, outbox, store
):
    telemetry = make_telemetry()
    for i in range(MAX_WAITING_BEATS + 30):
        journey(store, f"s{i}")
        telemetry.beat()
    telemetry.event("maintenance", action="still_kept")
    beats = queued(outbox, HEARTBEAT)
    assert len(beats) == MAX_WAITING_BEATS
    assert sum(b["sessions"] for b in beats) == MAX_WAITING_BEATS + 30
    assert [b["seq"] for b in beats] == list(range(31, MAX_WAITING_BEATS + 31))
    assert len(queued(outbox, EVENTS)) == 1, "events are never capped"


scalars = st.one_of(
    st.text(max_size=600), st.integers(), st.floats(), st.booleans(), st.binary(), st.none()
)


@given(st.dictionaries(st.text(max_size=80), scalars, max_size=40))
def test_any_detail_is_cleaned_into_what_the_wire_takes(detail):
    cleaned = clean_detail(detail)
    Event.model_validate(
        {"event_id": "e", "kind": "fault", "occurred_at": "2026-11-23T01:00:00Z", "detail": cleaned}
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries({"commands": json_values}),
        st.fixed_dictionaries(
            {
                "commands": st.lists(
                    st.fixed_dictionaries(
                        {"id": json_values, "action": json_values, "reason": json_values}
                    ),
                    max_size=5,
                )
            }
        ),
    )
)
def test_any_heartbeat_answer_parses_without_raising(answer):
    for command in parse_commands(answer):
        assert isinstance(command.id, int) and not isinstance(command.id, bool)
        assert isinstance(command.action, str) and isinstance(command.reason, str)


def test_well_formed_commands_are_parsed():
    answer = {
        "commands": [
            {"id": 7, "action": "out_of_service", "reason": "装修"},
            {"id": True, "action": "restart"},
            {"id": 8, "action": "reload_config"},
        ],
        "server_time": "2026-11-23T01:00:00Z",
    }
    assert [(c.id, c.action, c.reason) for c in parse_commands(answer)] == [
        (7, "out_of_service", "装修"),
        (8, "reload_config", ""),
    ]

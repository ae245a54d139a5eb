"""Offline detection, alerts raised and cleared, and webhook delivery to a real HTTP receiver."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from fleet.db import AlertRow, KioskRow
from tests.fleet.helpers import Clock, beat, fleet_client, sweep, test_settings, test_signer


def _kiosk(client, kiosk_id="KIOSK-001") -> KioskRow:
    with client.app.state.fleet.sessions() as s:
        return s.get(KioskRow, kiosk_id)


def _alerts(client) -> list[tuple[str, str, str, bool]]:
    """(kind, subject, notified, open) of every alert, in order raised."""
    with client.app.state.fleet.sessions() as s:
        rows = s.scalars(select(AlertRow).order_by(AlertRow.id)).all()
        return [(a.kind, a.subject, a.severity, a.cleared_at is None) for a in rows]


def test_a_kiosk_is_offline_after_the_missed_beats_and_back_with_the_next(fleet_db_url):
    signer = test_signer("KIOSK-001")
    clock = Clock()
    settings = test_settings(clock, heartbeat_s=30, offline_after_missed=3)
    with fleet_client(fleet_db_url, signer, settings=settings) as client:
        client.post("/api/v1/heartbeats", json=beat("KIOSK-001"), auth=signer).raise_for_status()
        clock.advance(90)  # exactly three missed beats' time: not yet
        assert sweep(client).marked_offline == 0
        assert _kiosk(client).status == "ok"
        clock.advance(1)
        assert sweep(client).marked_offline == 1
        assert _kiosk(client).status == "offline"
        assert 'fleet_kiosks{status="offline"} 1.0' in client.get("/metrics").text
        client.post("/api/v1/heartbeats", json=beat("KIOSK-001", 2), auth=signer).raise_for_status()
        assert _kiosk(client).status == "ok"
        sweep(client)
        assert 'fleet_kiosks{status="ok"} 1.0' in client.get("/metrics").text


def test_offline_alert_raised_after_n_minutes_and_cleared_by_a_beat(fleet_db_url):
    signer = test_signer("KIOSK-001")
    clock = Clock()
    settings = test_settings(clock, offline_alert_after_s=300)
    with fleet_client(fleet_db_url, signer, settings=settings) as client:
        client.post("/api/v1/heartbeats", json=beat("KIOSK-001"), auth=signer).raise_for_status()
        clock.advance(200)  # offline already, but not long enough for an alert
        sweep(client)
        assert _kiosk(client).status == "offline" and _alerts(client) == []
        clock.advance(100)
        assert sweep(client).raised == 1
        assert _alerts(client) == [("offline", "", "critical", True)]
        assert 'fleet_alerts_open{kind="offline"} 1.0' in client.get("/metrics").text
        sweep(client)  # still offline: nothing new
        assert len(_alerts(client)) == 1
        client.post("/api/v1/heartbeats", json=beat("KIOSK-001", 2), auth=signer).raise_for_status()
        assert sweep(client).cleared == 1
        assert _alerts(client) == [("offline", "", "critical", False)]


def test_device_fault_and_paper_alerts_follow_the_beats(fleet_db_url):
    signer = test_signer("KIOSK-001")
    clock = Clock()
    with fleet_client(fleet_db_url, signer, settings=test_settings(clock)) as client:
        bad = beat(
            "KIOSK-001",
            devices={"idcard": "hardware_error", "camera": "online"},
            paper={"receipt_printer": "low", "document_printer": "out"},
        )
        client.post("/api/v1/heartbeats", json=bad, auth=signer).raise_for_status()
        assert sweep(client).raised == 3
        assert sorted(_alerts(client)) == [
            ("device_fault", "idcard", "critical", True),
            ("paper_low", "receipt_printer", "warning", True),
            ("paper_out", "document_printer", "critical", True),
        ]
        clock.advance(30)
        fixed = beat(
            "KIOSK-001",
            2,
            devices={"idcard": "online"},
            paper={"receipt_printer": "low", "document_printer": "full"},
        )
        client.post("/api/v1/heartbeats", json=fixed, auth=signer).raise_for_status()
        report = sweep(client)
        assert (report.raised, report.cleared) == (0, 2)
        assert sorted(a for a in _alerts(client) if a[3]) == [
            ("paper_low", "receipt_printer", "warning", True)
        ]
        # gone offline with the paper still low: the paper alert stays, nothing is known anew
        clock.advance(3600)
        sweep(client)
        assert sorted(a[:2] for a in _alerts(client) if a[3]) == [
            ("offline", ""),
            ("paper_low", "receipt_printer"),
        ]


def test_a_growing_backlog_raises_an_alert_that_clears_when_it_drains(fleet_db_url):
    signer = test_signer("KIOSK-001")
    clock = Clock()
    settings = test_settings(clock, backlog_growth_min=20, backlog_window_s=600)
    with fleet_client(fleet_db_url, signer, settings=settings) as client:
        for seq, backlog in enumerate([5, 5, 12, 30], start=1):
            client.post(
                "/api/v1/heartbeats",
                json=beat("KIOSK-001", seq, outbox_backlog=backlog),
                auth=signer,
            ).raise_for_status()
            clock.advance(30)
        sweep(client)
        assert ("backlog_growing", "", "warning", True) in _alerts(client)
        client.post(
            "/api/v1/heartbeats", json=beat("KIOSK-001", 9, outbox_backlog=25), auth=signer
        ).raise_for_status()
        sweep(client)
        assert ("backlog_growing", "", "warning", False) in _alerts(client)


class _Receiver:
    """A real HTTP server that records webhook POSTs; answers 500 to the first `fail_first`."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[dict] = []
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.fail_first > 0:
                    receiver.fail_first -= 1
                    self.send_response(500)
                else:
                    receiver.received.append(json.loads(body))
                    self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = _Receiver(fail_first=1)
    yield r
    r.close()


def test_webhook_gets_the_raise_and_the_clear_retrying_after_a_failure(fleet_db_url, receiver):
    signer = test_signer("KIOSK-001")
    clock = Clock()
    settings = test_settings(clock, webhook_url=receiver.url, webhook_backoff_s=0.0)
    with fleet_client(fleet_db_url, signer, settings=settings) as client:
        client.post(
            "/api/v1/heartbeats", json=beat("KIOSK-001", paper={"p1": "out"}), auth=signer
        ).raise_for_status()
        assert sweep(client).delivered == 0  # the receiver answered 500
        with client.app.state.fleet.sessions() as s:
            alert = s.scalars(select(AlertRow)).one()
            assert (alert.notified, alert.attempts) == ("pending", 1)
        assert sweep(client).delivered == 1
        with client.app.state.fleet.sessions() as s:
            alert = s.scalars(select(AlertRow)).one()
            assert (alert.notified, alert.attempts) == ("delivered", 2)
        assert receiver.received[0]["status"] == "firing"
        assert receiver.received[0]["alert"]["kind"] == "paper_out"
        assert receiver.received[0]["alert"]["subject"] == "p1"
        client.post("/api/v1/heartbeats", json=beat("KIOSK-001", 2), auth=signer).raise_for_status()
        assert sweep(client).delivered == 1
        assert [m["status"] for m in receiver.received] == ["firing", "resolved"]
        assert sweep(client).delivered == 0  # nothing is sent twice
        assert (
            'fleet_webhook_deliveries_total{outcome="delivered"} 2.0' in client.get("/metrics").text
        )


def test_webhook_gives_up_after_the_attempts_and_says_so(fleet_db_url):
    signer = test_signer("KIOSK-001")
    settings = test_settings(
        webhook_url="http://127.0.0.1:9/nothing-listens",
        webhook_backoff_s=0.0,
        webhook_max_attempts=2,
        webhook_timeout_s=1.0,
    )
    with fleet_client(fleet_db_url, signer, settings=settings) as client:
        client.post(
            "/api/v1/heartbeats", json=beat("KIOSK-001", devices={"camera": "offline"}), auth=signer
        ).raise_for_status()
        sweep(client)
        sweep(client)
        sweep(client)
        with client.app.state.fleet.sessions() as s:
            alert = s.scalars(select(AlertRow)).one()
            assert (alert.notified, alert.attempts) == ("failed", 2)


def test_settings_come_from_fleet_environment_variables():
    from fleet.settings import FleetSettings

    env = {
        "FLEET_WEBHOOK_URL": "http://hooks.example/x",
        "FLEET_HEARTBEAT_S": "20",
        "FLEET_RUN_SWEEPER": "no",
        "FLEET_RETENTION_DAYS": "90",
    }
    s = FleetSettings.from_env(env)
    assert (s.webhook_url, s.heartbeat_s, s.run_sweeper, s.retention_days) == (
        "http://hooks.example/x",
        20.0,
        False,
        90,
    )
    assert s.offline_after_s == 60.0
    with pytest.raises(ValueError, match="FLEET_RETENTION_DAYS"):
        FleetSettings.from_env({"FLEET_RETENTION_DAYS": "a month"})

"""Heartbeats and events in, on SQLite and PostgreSQL: stored, summarised, deduplicated."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from fleet.app import create_app
from fleet.db import EventRow, HeartbeatRow, KioskRow
from tests.fleet.helpers import Clock, beat, fleet_client, test_registry, test_settings, test_signer


def test_a_heartbeat_is_stored_and_summarised_before_it_is_answered(fleet_db_url):
    signer = test_signer("KIOSK-001")
    clock = Clock()
    with fleet_client(fleet_db_url, signer, settings=test_settings(clock)) as client:
        r = client.post(
            "/api/v1/heartbeats",
            json=beat("KIOSK-001", paper={"receipt_printer": "low"}),
            auth=signer,
        )
        assert r.status_code == 200, r.text
        assert r.json() == {"commands": [], "server_time": clock.at.isoformat()}
        sessions = client.app.state.fleet.sessions
        with sessions() as s:
            rows = s.scalars(select(HeartbeatRow)).all()
            assert [(b.kiosk_id, b.seq, b.received_at) for b in rows] == [
                ("KIOSK-001", 1, clock.at)
            ]
            kiosk = s.get(KioskRow, "KIOSK-001")
            assert kiosk is not None
            assert (kiosk.status, kiosk.paper, kiosk.site) == (
                "warning",
                {"receipt_printer": "low"},
                "SITE-A",
            )
        metrics = client.get("/metrics").text
        assert "fleet_heartbeats_committed_total 1.0" in metrics


def test_the_latest_beat_wins_the_summary_and_first_seen_stays(fleet_db_url):
    signer = test_signer("KIOSK-001")
    clock = Clock()
    with fleet_client(fleet_db_url, signer, settings=test_settings(clock)) as client:
        first = clock.at
        client.post("/api/v1/heartbeats", json=beat("KIOSK-001", 1), auth=signer).raise_for_status()
        clock.advance(30)
        faulty = beat("KIOSK-001", 2, devices={"idcard": "hardware_error"}, outbox_backlog=7)
        client.post("/api/v1/heartbeats", json=faulty, auth=signer).raise_for_status()
        with client.app.state.fleet.sessions() as s:
            kiosk = s.get(KioskRow, "KIOSK-001")
            assert kiosk.first_seen == first and kiosk.last_seen == clock.at
            assert (kiosk.status, kiosk.outbox_backlog, kiosk.devices) == (
                "fault",
                7,
                {"idcard": "hardware_error"},
            )
            assert s.scalar(select(func.count()).select_from(HeartbeatRow)) == 2


def test_a_body_naming_another_kiosk_is_forbidden(fleet_db_url):
    signer = test_signer("KIOSK-001")
    with fleet_client(fleet_db_url, signer) as client:
        r = client.post("/api/v1/heartbeats", json=beat("KIOSK-999"), auth=signer)
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "wrong_kiosk"
        with client.app.state.fleet.sessions() as s:
            assert s.scalar(select(func.count()).select_from(HeartbeatRow)) == 0


def test_events_resent_are_stored_once(fleet_db_url):
    signer = test_signer("KIOSK-001")
    events = [
        {
            "event_id": f"e-{i}",
            "kind": "fault",
            "occurred_at": "2026-12-01T08:59:00+08:00",
            "device": "idcard",
            "detail": {"code": "E42", "retry": i, "ok": False},
        }
        for i in range(3)
    ]
    with fleet_client(fleet_db_url, signer) as client:
        r = client.post("/api/v1/events", json={"events": events[:2]}, auth=signer)
        assert r.json() == {"stored": 2, "duplicates": 0}
        r = client.post("/api/v1/events", json={"events": events + [events[2]]}, auth=signer)
        assert r.json() == {"stored": 1, "duplicates": 3}
        assert client.post("/api/v1/events", json={"events": []}, auth=signer).json() == {
            "stored": 0,
            "duplicates": 0,
        }
        with client.app.state.fleet.sessions() as s:
            stored = s.scalars(select(EventRow).order_by(EventRow.event_id)).all()
            assert [(e.event_id, e.detail["retry"]) for e in stored] == [
                ("e-0", 0),
                ("e-1", 1),
                ("e-2", 2),
            ]


def test_two_kiosks_may_use_the_same_event_id(fleet_db_url):
    a, b = test_signer("KIOSK-A"), test_signer("KIOSK-B")
    event = {"event_id": "same", "kind": "recovery", "occurred_at": "2026-12-01T09:00:00Z"}
    with fleet_client(fleet_db_url, a, b) as client:
        assert client.post("/api/v1/events", json={"events": [event]}, auth=a).json()["stored"] == 1
        assert client.post("/api/v1/events", json={"events": [event]}, auth=b).json()["stored"] == 1


def test_health_and_metrics_need_no_kiosk(fleet_db_url):
    with fleet_client(fleet_db_url) as client:
        assert client.get("/api/v1/health").json()["status"] == "ok"
        text = client.get("/metrics").text
        assert 'fleet_kiosks{status="offline"} 0.0' in text
        assert "fleet_commit_seconds_bucket" in text
        paths = client.get("/openapi.json").json()["paths"]
        assert {"/api/v1/heartbeats", "/api/v1/events", "/api/v1/commands/{command_id}/ack"} <= set(
            paths
        )
        assert not any("/bench/" in p for p in paths)


@pytest.mark.parametrize("mode", ["statement", "copy", "executemany"])
def test_every_postgresql_write_mode_stores_summarises_and_hands_out(postgres_url, mode):
    from fleet.commands import queue_command
    from tests.fleet.conftest import fresh_postgres_database

    signer = test_signer("KIOSK-001")
    clock = Clock()
    settings = test_settings(clock, pg_insert=mode)
    with fleet_client(fresh_postgres_database(postgres_url), signer, settings=settings) as client:
        fleet = client.app.state.fleet
        with fleet.sessions.begin() as s:
            cid = queue_command(s, "KIOSK-001", "restart", issued_by="op", at=clock.at).id
        r = client.post(
            "/api/v1/heartbeats", json=beat("KIOSK-001", devices={"camera": "offline"}), auth=signer
        )
        assert [c["id"] for c in r.json()["commands"]] == [cid]
        clock.advance(30)
        client.post("/api/v1/heartbeats", json=beat("KIOSK-001", 2), auth=signer).raise_for_status()
        with fleet.sessions() as s:
            assert s.scalars(select(HeartbeatRow.seq).order_by(HeartbeatRow.seq)).all() == [1, 2]
            kiosk = s.get(KioskRow, "KIOSK-001")
            assert (kiosk.status, kiosk.last_seen, kiosk.devices["idcard"]) == (
                "ok",
                clock.at,
                "online",
            )


def test_an_unknown_write_mode_is_refused_at_start(postgres_url):
    from tests.fleet.conftest import fresh_postgres_database

    with pytest.raises(ValueError, match="pg_insert"):
        create_app(
            fresh_postgres_database(postgres_url),
            kiosk_registry=test_registry(),
            settings=test_settings(pg_insert="fast"),
        )


@pytest.mark.parametrize("fleet_db_url", ["sqlite"], indirect=True)
def test_a_beat_whose_commit_failed_is_503_so_the_kiosk_resends_it(fleet_db_url):
    signer = test_signer("KIOSK-001")

    class BrokenWriter:
        async def commit(self, beats, resend_before):
            raise OSError("disk full")

        async def close(self):
            pass

    with fleet_client(fleet_db_url, signer) as client:
        ingest = client.app.state.fleet.ingest
        real, ingest._writer = ingest._writer, BrokenWriter()
        r = client.post("/api/v1/heartbeats", json=beat("KIOSK-001"), auth=signer)
        assert r.status_code == 503 and r.json()["error"]["code"] == "not_stored"
        ingest._writer = real
        assert (
            client.post("/api/v1/heartbeats", json=beat("KIOSK-001"), auth=signer).status_code
            == 200
        )
        assert "fleet_commit_failures_total 1.0" in client.get("/metrics").text

"""Remote commands: queued, handed out once with a heartbeat answer, acknowledged by their kiosk."""

from __future__ import annotations

from fleet.commands import queue_command
from fleet.db import CommandRow
from tests.fleet.helpers import Clock, beat, fleet_client, test_settings, test_signer


def _queue(client, kiosk_id: str, action: str, reason: str = "") -> int:
    fleet = client.app.state.fleet
    with fleet.sessions.begin() as s:
        return queue_command(
            s, kiosk_id, action, issued_by="op1", at=fleet.settings.clock(), reason=reason
        ).id


def _command(client, command_id: int) -> CommandRow:
    with client.app.state.fleet.sessions() as s:
        return s.get(CommandRow, command_id)


def test_command_round_trip(fleet_db_url):
    a, b = test_signer("KIOSK-A"), test_signer("KIOSK-B")
    clock = Clock()
    with fleet_client(fleet_db_url, a, b, settings=test_settings(clock)) as client:
        first = _queue(client, "KIOSK-A", "out_of_service", "lobby renovation")
        second = _queue(client, "KIOSK-A", "reload_config")
        other = _queue(client, "KIOSK-B", "restart")
        answer = client.post("/api/v1/heartbeats", json=beat("KIOSK-A"), auth=a).json()
        assert answer["commands"] == [
            {"id": first, "action": "out_of_service", "reason": "lobby renovation"},
            {"id": second, "action": "reload_config", "reason": ""},
        ]
        assert (_command(client, first).state, _command(client, first).sent_at) == (
            "sent",
            clock.at,
        )
        assert _command(client, other).state == "queued"  # B has not beaten yet
        clock.advance(30)
        assert (
            client.post("/api/v1/heartbeats", json=beat("KIOSK-A", 2), auth=a).json()["commands"]
            == []
        )

        r = client.post(
            f"/api/v1/commands/{first}/ack",
            json={"result": "done", "detail": "out of service"},
            auth=a,
        )
        assert (r.status_code, r.json()) == (200, {})
        done = _command(client, first)
        assert (done.state, done.result, done.acked_at) == ("done", "out of service", clock.at)
        # a repeated ack changes nothing; a failed one is recorded as failed
        client.post(
            f"/api/v1/commands/{first}/ack", json={"result": "failed", "detail": "x"}, auth=a
        ).raise_for_status()
        assert _command(client, first).state == "done"
        client.post(
            f"/api/v1/commands/{second}/ack",
            json={"result": "failed", "detail": "bad yaml"},
            auth=a,
        ).raise_for_status()
        assert _command(client, second).state == "failed"

        # another kiosk's command, or none at all: 404, and B's command is untouched
        for cid in (other, 999_999):
            r = client.post(
                f"/api/v1/commands/{cid}/ack", json={"result": "done", "detail": ""}, auth=a
            )
            assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_command"
        assert _command(client, other).state == "queued"
        assert [
            c["id"]
            for c in client.post("/api/v1/heartbeats", json=beat("KIOSK-B"), auth=b).json()[
                "commands"
            ]
        ] == [other]


def test_a_command_sent_but_never_acknowledged_is_sent_again(fleet_db_url):
    a = test_signer("KIOSK-A")
    clock = Clock()
    with fleet_client(
        fleet_db_url, a, settings=test_settings(clock, command_resend_s=120)
    ) as client:
        cid = _queue(client, "KIOSK-A", "back_in_service")
        assert (
            len(
                client.post("/api/v1/heartbeats", json=beat("KIOSK-A", 1), auth=a).json()[
                    "commands"
                ]
            )
            == 1
        )
        clock.advance(60)
        assert (
            client.post("/api/v1/heartbeats", json=beat("KIOSK-A", 2), auth=a).json()["commands"]
            == []
        )
        clock.advance(121)  # the answer was lost: no ack came
        again = client.post("/api/v1/heartbeats", json=beat("KIOSK-A", 3), auth=a).json()[
            "commands"
        ]
        assert [c["id"] for c in again] == [cid]
        client.post(
            f"/api/v1/commands/{cid}/ack", json={"result": "done", "detail": ""}, auth=a
        ).raise_for_status()
        clock.advance(300)
        assert (
            client.post("/api/v1/heartbeats", json=beat("KIOSK-A", 4), auth=a).json()["commands"]
            == []
        )

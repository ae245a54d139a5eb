"""The dashboard inside the real fleet server: a command from an operator reaches the kiosk."""

from __future__ import annotations

import re

from fleet.db import create_schema, make_engine, make_sessionmaker
from fleet.operators import add_operator
from tests.fleet.dashboard_rows import PASSWORD
from tests.fleet.helpers import beat, fleet_client, test_settings
from tests.support.kiosk_keys import test_signer


def test_a_command_queued_on_the_dashboard_goes_out_with_a_beat_and_its_ack_shows(
    fleet_db_url,
):
    """GIVEN the fleet server of fleet.app with the dashboard installed WHEN an operator sends
    "reload configuration" THEN the kiosk's next heartbeat answer carries it, and after the
    kiosk's ack the dashboard shows it done (on SQLite and on PostgreSQL)."""
    signer = test_signer("KIOSK-RT-1")
    settings = test_settings(dashboard_secret="round-trip-secret-0123456789")
    with fleet_client(fleet_db_url, signer, settings=settings) as client:
        assert (
            client.post("/api/v1/heartbeats", json=beat("KIOSK-RT-1"), auth=signer).status_code
            == 200
        )
        engine = make_engine(fleet_db_url)
        create_schema(engine)
        add_operator(make_sessionmaker(engine), "zhao.op", PASSWORD, "operator")
        engine.dispose()

        login = client.get("/dashboard/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
        client.post(
            "/dashboard/login",
            data={"username": "zhao.op", "password": PASSWORD, "csrf_token": csrf},
        )
        page = client.get("/dashboard/kiosks/KIOSK-RT-1")
        assert page.status_code == 200
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        sent = client.post(
            "/dashboard/kiosks/KIOSK-RT-1/commands",
            data={"csrf_token": csrf, "action": "reload_config", "reason": "新窗口地址"},
            follow_redirects=False,
        )
        assert sent.status_code == 303

        answer = client.post("/api/v1/heartbeats", json=beat("KIOSK-RT-1", 2), auth=signer)
        commands = answer.json()["commands"]
        assert [(c["action"], c["reason"]) for c in commands] == [("reload_config", "新窗口地址")]
        assert client.get("/api/v1/kiosks/KIOSK-RT-1/commands").json()[0]["state"] == "sent"
        ack = client.post(
            f"/api/v1/commands/{commands[0]['id']}/ack",
            json={"result": "done", "detail": "reloaded"},
            auth=signer,
        )
        assert ack.status_code == 200
        shown = client.get("/api/v1/kiosks/KIOSK-RT-1/commands").json()[0]
        assert (shown["state"], shown["result"]) == ("done", "reloaded")

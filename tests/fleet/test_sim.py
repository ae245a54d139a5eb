"""`kiosk fleet-sim`: kiosks with their own keys, enrolled in the file the server reads, beating."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from fleet.commands import queue_command
from fleet.db import CommandRow, HeartbeatRow, KioskRow
from fleet.server import start_background
from fleet.sim import SimKiosk, enroll_kiosks, hall_rate
from kiosk.cli import main as kiosk_main
from tests.fleet.helpers import test_settings, test_signer
from trust.keys import KioskRegistry


def test_the_daily_shape_is_busy_in_opening_hours_and_dips_at_lunch():
    assert hall_rate(3) < 1 < hall_rate(9)
    assert hall_rate(10) > hall_rate(12.5) < hall_rate(15)
    assert hall_rate(20) < 1


def test_simulated_paper_runs_out_and_devices_fail_and_recover():
    kiosk = SimKiosk("SIM-1", "S", test_signer("SIM-1"), random.Random(7))
    kiosk.paper_left["receipt_printer"] = 3
    seen_levels, kinds = set(), set()
    for _ in range(3000):
        kiosk.step(30, 10.0)
        seen_levels.add(kiosk.paper()["receipt_printer"])
    kinds = {e["kind"] for e in kiosk.pending_events}
    assert {"low", "out", "full"} <= seen_levels
    assert {"fault", "recovery", "maintenance"} <= kinds


def test_fleet_sim_cli_enrolls_its_kiosks_and_the_server_stores_their_beats(tmp_path):
    registry_path = tmp_path / "kiosks.yaml"
    keys_dir = tmp_path / "keys"
    enroll_kiosks(3, registry_path, keys_dir)  # so a command can be queued before the run
    db_url = f"sqlite:///{tmp_path / 'fleet.db'}"
    registry = KioskRegistry.load(registry_path)
    with start_background(db_url, kiosk_registry=registry, settings=test_settings()) as server:
        fleet = server.app.state.fleet
        with fleet.sessions.begin() as s:
            command_id = queue_command(
                s, "SIM-00001", "out_of_service", issued_by="op", at=fleet.settings.clock()
            ).id
        args = [
            "fleet-sim",
            "--kiosks",
            "3",
            "--server",
            server.base_url,
            "--seconds",
            "1.5",
            "--heartbeat-s",
            "0.2",
            "--registry",
            str(registry_path),
            "--keys-dir",
            str(keys_dir),
        ]
        assert kiosk_main(args) == 0
        with fleet.sessions() as s:
            assert s.scalar(select(func.count(func.distinct(HeartbeatRow.kiosk_id)))) == 3
            assert s.scalar(select(func.count()).select_from(HeartbeatRow)) >= 9
            assert s.get(KioskRow, "SIM-00001").in_service is False
            assert s.get(CommandRow, command_id).state == "done"
    assert len(KioskRegistry.load(registry_path).all()) == 3
    assert sorted(p.name for p in keys_dir.iterdir()) == [
        "SIM-00001.pem",
        "SIM-00002.pem",
        "SIM-00003.pem",
    ]

"""The touch-count and A4 benchmarks, run once with tiny counts, so they cannot rot."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from kiosk.sim_cups import skip_reason

ROOT = Path(__file__).resolve().parents[2]


def load_bench(name: str) -> ModuleType:
    # bench/ is not an installed package: load the benchmark from its file.
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


touches = load_bench("touches")
a4_print = load_bench("a4_print")
fleet_heartbeats = load_bench("fleet_heartbeats")
fleet_dashboard = load_bench("fleet_dashboard")


def test_touches_bench_counts_every_flow_and_meets_the_goal(capsys):
    """GIVEN the headless core over the reference service WHEN the touch bench runs THEN every
    journey reaches paper or its result, and a certificate takes at most 4 touches."""
    assert touches.main([]) == 0
    out = capsys.readouterr().out
    flows = {"print", "guide", "ticket", "lookup"}
    rows = [line for line in out.splitlines() if line.split()[:1] and line.split()[0] in flows]
    assert len(rows) == len(touches.journeys("1" * touches.RECEIPT_NO_DIGITS))
    assert f"goal <= {touches.GOAL_TOUCHES}: met" in out


def test_a_digit_press_is_a_key_not_a_decision():
    journey = next(j for j in touches.journeys(touches.seeded_receipt_no()) if j.flow == "lookup")
    outcome = touches.walk(journey)
    assert outcome.keys == touches.RECEIPT_NO_DIGITS
    assert outcome.decisions >= len(journey.baseline)


@pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason()))
def test_a4_bench_prints_through_both_paths(capsys):
    """GIVEN the simulator's private cupsd WHEN the A4 bench runs once THEN the kiosk path and
    lp both print the same PDF to completion (the bench checks the printed files itself)."""
    assert a4_print.main(["--runs", "1"]) == 0
    out = capsys.readouterr().out
    assert "median kiosk / lp:" in out
    assert "printed PDFs (incl. warm-ups): 6 of 6" in out


@pytest.mark.skipif(
    fleet_heartbeats.postgres.available() is not None, reason="PostgreSQL is not installed"
)
def test_fleet_heartbeat_bench_runs_and_every_acknowledged_beat_is_stored(capsys):
    """GIVEN a durable PostgreSQL and the fleet server in its own process WHEN the heartbeat
    bench runs for a second per endpoint THEN no request fails and every 200 is in the database."""
    args = ["--seconds", "1", "--warmup", "0", "--kiosks", "5", "--connections", "8"]
    assert fleet_heartbeats.main([*args, "--rounds", "1", "--insert", "statement"]) == 0
    out = capsys.readouterr().out
    assert "heartbeats (statement) / noop-signed:" in out
    assert "authentication:" in out


def test_fleet_dashboard_bench_times_every_page_on_sqlite(capsys):
    """GIVEN a tiny fleet WHEN the dashboard bench runs on SQLite THEN every page is timed
    beside the empty-page baseline."""
    args = ["--kiosks", "30", "--beats", "600", "--events", "3", "--runs", "2"]
    assert fleet_dashboard.main([*args, "--backends", "sqlite"]) == 0
    out = capsys.readouterr().out
    assert "[SQLite] loaded 30 kiosks, 600 beats, 90 events" in out
    for page in ("empty page (baseline)", "summary, cached", "kiosk table, site+", "kiosk page"):
        assert page in out


central_load = load_bench("central_load")


def test_central_load_bench_runs_signed_kiosks_without_a_5xx(capsys):
    """GIVEN the service in its own process WHEN a few signed kiosks load it briefly THEN both
    phases are measured and no request gets a 5xx."""
    assert central_load.main(["--clients", "5", "--seconds", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "kiosk mix / health rate:" in out and "5xx: 0" in out

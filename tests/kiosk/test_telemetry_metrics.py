"""The kiosk's local Prometheus /metrics: scraped over real HTTP, loopback only."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from drivers.state import DeviceState, DeviceStatus, PaperState
from kiosk.config import ConfigError, parse_config
from kiosk.outbox import Outbox, load_or_create_key
from kiosk.telemetry_metrics import MetricsServer, TelemetryMetrics
from kiosk.telemetry_wiring import build_telemetry


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_metrics_are_scraped_over_http_on_loopback(store, clock, tmp_path):
    outbox = Outbox(store, load_or_create_key(tmp_path / "outbox.key"))
    outbox.put("rating", {"level": 5}, "r1")
    outbox.put("rating", {"level": 1}, "r2")
    outbox.park(2, "rejected", "HTTP 422")
    devices = {
        "receipt_printer": DeviceStatus(DeviceState.ONLINE, paper=PaperState.OUT),
        "idcard": DeviceStatus(DeviceState.ONLINE),
    }
    config = parse_config({"kiosk_id": "K-1", "fleet": {"metrics_port": 0}})
    parts = build_telemetry(
        config,
        store=store,
        outbox=outbox,
        clock=clock,
        statuses=lambda: devices,
        in_service=lambda: False,
    )
    assert parts.metrics_server is None, "port 0 is off"
    telemetry = parts.telemetry
    server = MetricsServer(telemetry.metrics, "127.0.0.1", 0)
    try:
        store.record_transition("s1", "start", "attract", "identify")
        store.record_transition("s1", "ticketed", "ticketing", "ticket")
        telemetry.count_for_metrics()
        telemetry.metrics.heartbeat_failures.labels(reason="unavailable").inc()
        clock.advance(12)
        response = httpx.get(server.url, timeout=5)
    finally:
        server.stop()
        parts.stop()
    assert response.status_code == 200
    got = samples(response.text)
    assert got[("kiosk_sessions_total", ())] == 1
    assert got[("kiosk_completions_total", ())] == 1
    assert got[("kiosk_heartbeat_failures_total", (("reason", "unavailable"),))] == 1
    assert got[("kiosk_uptime_seconds", ())] == 12
    assert got[("kiosk_in_service", ())] == 0
    assert got[("kiosk_outbox_backlog", ())] == 1 and got[("kiosk_outbox_parked", ())] == 1
    state = (("device", "receipt_printer"), ("state", "online"))
    assert got[("kiosk_device_state", state)] == 1
    assert got[("kiosk_device_state", (("device", "idcard"), ("state", "offline")))] == 0
    assert got[("kiosk_device_usable", (("device", "receipt_printer"),))] == 0, "no paper"
    assert got[("kiosk_printer_paper", (("paper", "out"), ("printer", "receipt_printer")))] == 1
    assert (
        got[
            (
                "kiosk_info",
                (("kiosk_id", "K-1"), ("site", config.site_name), ("version", telemetry.version)),
            )
        ]
        == 1
    )


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "kiosk.local", ""])
def test_the_configuration_refuses_a_metrics_host_off_loopback(host):
    with pytest.raises(ConfigError, match="fleet.metrics_host: metrics are served on loopback"):
        parse_config({"fleet": {"metrics_host": host}})


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_loopback_hosts_are_accepted(host):
    assert parse_config({"fleet": {"metrics_host": host}}).fleet.metrics_host == host


def test_the_server_itself_refuses_to_bind_off_loopback():
    with pytest.raises(ValueError, match="loopback only"):
        MetricsServer(TelemetryMetrics(), "0.0.0.0", 0)


def test_a_bad_fleet_url_names_the_key():
    with pytest.raises(ConfigError, match="fleet.url"):
        parse_config({"fleet": {"url": "fleet.example"}})

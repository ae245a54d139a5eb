"""The maintenance menu's checks: network checks against a real local HTTP server, the
configuration with secrets hidden, recent logs masked, the outbox summary on a real store."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.config import parse_config
from kiosk.diag.checks import (
    RecentLogs,
    config_in_force,
    network_checks,
    outbox_summary,
    shown_url,
)
from kiosk.diag.selftest import render
from kiosk.outbox import Outbox, PermanentDeliveryError, load_or_create_key

NAME, ID_NUMBER = "李秀英", "110101195603121240"


class Health(BaseHTTPRequestHandler):
    """`GET .../health` as the central service and the fleet server answer it."""

    skew_s = 0.0
    status = 200
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers))
        body = json.dumps({"status": "ok", "version": "9.1.2"}).encode()
        self.send_response(self.status if self.path.endswith("/health") else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def date_time_string(self, timestamp: float | None = None) -> str:
        import time

        return formatdate((timestamp or time.time()) + self.skew_s, usegmt=True)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, type[Health]]]:
    handler = type("H", (Health,), {"seen": [], "skew_s": 0.0, "status": 200})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    httpd.shutdown()
    httpd.server_close()


def config_for(central: str, fleet: str = "") -> Any:
    return parse_config({"central": {"url": central}, "fleet": {"url": fleet}})


def messages(results: list[Any]) -> list[str]:
    return [render(r) for r in results]


def test_central_and_fleet_reachable(server: tuple[str, type[Health]]) -> None:
    url, _ = server
    results = network_checks(config_for(url, url + "/api/v1"))
    assert all(r.ok for r in results), messages(results)
    assert [r.device for r in results] == ["central"] * 4 + ["fleet"] * 4
    text = messages(results)
    assert text[0] == "central: 127.0.0.1 resolves to 127.0.0.1"
    assert text[1].startswith("central: connected to 127.0.0.1:") and text[1].endswith(" ms")
    assert text[2] == "central: healthy (HTTP 200), version 9.1.2"
    assert text[3] in (
        "central: clocks agree (+0 s)",
        "central: clocks agree (-0 s)",
        "central: clocks agree (+1 s)",
        "central: clocks agree (-1 s)",
    )


def test_embedded_central_and_no_fleet() -> None:
    results = network_checks(config_for("embedded"))
    assert messages(results) == [
        "central: embedded in this kiosk, nothing to reach",
        "fleet: off (no address configured)",
    ]
    assert all(r.ok for r in results)


def test_a_config_without_fleet_section_is_handled() -> None:
    class NoFleet:
        central = parse_config({}).central

    assert network_checks(NoFleet())[-1].params["target"] == "fleet"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("skew", "ok", "words"),
    [(90.0, True, "check the time service"), (-400.0, False, "signed requests will be refused")],
)
def test_clock_skew_from_the_date_header(
    server: tuple[str, type[Health]], skew: float, ok: bool, words: str
) -> None:
    url, handler = server
    handler.skew_s = skew
    clock = network_checks(config_for(url))[3]
    assert clock.ok is ok and words in render(clock)
    assert abs(int(clock.params["skew"]) - skew) <= 2


def test_an_unhealthy_service(server: tuple[str, type[Health]]) -> None:
    url, handler = server
    handler.status = 503
    results = network_checks(config_for(url))
    assert not results[2].ok and render(results[2]) == "central: the health check answered HTTP 503"


def test_a_closed_port_stops_at_connect() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    results = network_checks(config_for(f"http://127.0.0.1:{port}"), timeout_s=1)
    assert [r.ok for r in results[:2]] == [True, False]
    assert render(results[1]).startswith(f"central: cannot connect to 127.0.0.1:{port}: ")
    assert results[2].device == "fleet"


def test_a_name_that_does_not_resolve() -> None:
    results = network_checks(config_for("https://central.nonexistent.invalid"))
    assert not results[0].ok and "does not resolve" in render(results[0])


def test_a_url_with_a_password_is_never_shown() -> None:
    results = network_checks(config_for("http://kiosk:hunter2@central.nonexistent.invalid"))
    assert not results[0].ok
    assert "hunter2" not in " ".join(messages(results) + [str(r.params) for r in results])


def test_the_health_request_is_signed_with_the_kiosk_key(
    server: tuple[str, type[Health]],
) -> None:
    from tests.support.kiosk_keys import test_signer

    url, handler = server
    network_checks(config_for(url), signer=test_signer("KIOSK-ST-07"))
    headers = {k.lower(): v for k, v in handler.seen[-1].items()}
    assert "signature" in headers and 'keyid="KIOSK-ST-07"' in headers["signature-input"]


# -- configuration ----------------------------------------------------------------------------

SECRETS = ("hunter2", "s3cr3t-token", "pgpass", "campass")


def test_config_in_force_hides_secrets(tmp_path: Any) -> None:
    key = tmp_path / "outbox.key"
    key.write_bytes(b"k" * 32)
    config = parse_config(
        {
            "kiosk_id": "KIOSK-CFG-1",
            "central": {"url": "https://kiosk:hunter2@central.example/api/v1?token=s3cr3t-token"},
            "store": {"url": "postgresql://kiosk:pgpass@db/kiosk", "outbox_key_file": str(key)},
            "devices": {
                "camera": {"url": "v4l2:///dev/video0", "options": {"password": "campass"}}
            },
        }
    )
    rows = dict(config_in_force(config))
    shown = json.dumps(rows, ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in shown
    assert str(key) not in shown
    assert rows["kiosk_id"] == "KIOSK-CFG-1"
    assert rows["central.url"] == "https://***@central.example/api/v1?token=***"
    assert rows["store.url"] == "postgresql://***@db/kiosk"
    assert rows["store.outbox_key_file"] == "(hidden), file present"
    assert rows["devices.camera.options.password"] == "(hidden)"
    assert rows["maintenance.pin_file"].startswith("(hidden)")
    assert rows["devices.idcard.url"] == "sim://"
    assert all(isinstance(v, str) for v in rows.values())


@settings(max_examples=60, deadline=None)
@given(
    user=st.text(st.characters(codec="ascii", exclude_characters="@/?#:"), min_size=1),
    password=st.text(st.characters(codec="ascii", exclude_characters="@/?#"), min_size=6),
)
def test_no_userinfo_leaks_from_any_url(user: str, password: str) -> None:
    assert shown_url(f"https://{user}:{password}@host.example/x") == "https://***@host.example/x"


@given(st.text())
def test_shown_url_never_raises(text: str) -> None:
    assert isinstance(shown_url(text), str)


# -- recent logs ------------------------------------------------------------------------------


@pytest.fixture
def recent() -> Iterator[tuple[RecentLogs, logging.Logger]]:
    handler = RecentLogs(capacity=5)
    logger = logging.getLogger("test.diag.recent")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield handler, logger
    logger.removeHandler(handler)


def test_a_name_and_an_id_number_logged_by_mistake_come_out_masked(
    recent: tuple[RecentLogs, logging.Logger],
) -> None:
    handler, log = recent
    log.warning("card of %s rejected", NAME)
    log.info("record %s", {"name": NAME, "id_number": ID_NUMBER, "sex": "女"})
    log.error(f"lookup failed name={NAME} id={ID_NUMBER}")
    try:
        raise ValueError(f"bad number {ID_NUMBER}")
    except ValueError:
        log.exception("read failed")
    lines = handler.lines()
    text = "\n".join(lines)
    assert NAME not in text and ID_NUMBER not in text
    assert "card of 李** rejected" in lines[0]
    assert "李**" in lines[1] and "1101**********1240" in lines[1] and "女" in lines[1]
    assert "name=李**" in lines[2]
    assert "ValueError: bad number 1101**********1240" in lines[3]


def test_other_handlers_still_see_the_record_as_it_was(
    recent: tuple[RecentLogs, logging.Logger],
) -> None:
    _, log = recent
    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    keep = Keep()
    log.addHandler(keep)
    try:
        log.warning("device %s", "打印机")
    finally:
        log.removeHandler(keep)
    assert seen == ["device 打印机"]


def test_the_ring_buffer_keeps_the_newest(recent: tuple[RecentLogs, logging.Logger]) -> None:
    handler, log = recent
    for i in range(8):
        log.info("line %d", i)
    assert [line.rsplit(" ", 1)[1] for line in handler.lines()] == ["3", "4", "5", "6", "7"]
    assert len(handler.lines(2)) == 2 and handler.lines(0) == []


def test_a_malformed_logging_call_does_not_break_it(
    recent: tuple[RecentLogs, logging.Logger],
) -> None:
    handler, log = recent
    bad = log.makeRecord(log.name, logging.WARNING, __file__, 1, "two %s %s", (ID_NUMBER,), None)
    handler.handle(bad)  # one argument short: the line is kept, the number still masked
    assert handler.lines()[-1].endswith("two %s %s") and ID_NUMBER not in handler.lines()[-1]


# -- outbox -----------------------------------------------------------------------------------


def test_outbox_summary_has_counts_age_and_a_masked_error(store: Any, clock: Any, tmp_path) -> None:
    outbox = Outbox(store, load_or_create_key(tmp_path / "outbox.key"))
    empty = outbox_summary(outbox, now=clock.now)
    assert (empty.pending, empty.parked, empty.oldest_age_s, empty.last_error) == (0, 0, None, "")
    outbox.put("application", {"name": NAME, "id_number": ID_NUMBER}, "k1")
    outbox.put("rating", {"level": 5}, "k2")
    outbox.put("rating", {"level": 4}, "k3")

    def reject(kind: str, payload: dict[str, Any], key: str) -> None:
        if kind == "application":
            raise PermanentDeliveryError(f"HTTP 422 id_number {ID_NUMBER} name={NAME} refused")
        raise OSError("network down")

    outbox.deliver_due({"application": reject, "rating": reject})
    clock.advance(90)
    summary = outbox_summary(outbox, now=clock.now)
    assert (summary.pending, summary.parked) == (2, 1)
    assert summary.oldest_age_s == pytest.approx(90, abs=1)
    assert summary.last_error == "rating: sender failed: OSError"  # retried by itself
    assert summary.parked_error.startswith("application: rejected: HTTP 422")
    assert ID_NUMBER not in summary.parked_error and NAME not in summary.parked_error
    assert "1101**********1240" in summary.parked_error
    assert timedelta(seconds=summary.oldest_age_s or 0) >= timedelta(seconds=89)


@pytest.mark.parametrize("header", ["", "yesterday at noon", "Mon, 99 Foo 2026 99:99:99 GMT"])
def test_a_missing_or_malformed_date_header_is_not_compared(header: str) -> None:
    from kiosk.diag.checks import _clock_result

    result = _clock_result("central", header or None, 0.0)
    assert result.ok and "not compared" in render(result)


@settings(max_examples=80, deadline=None)
@given(before=st.text(max_size=30), after=st.text(max_size=30), as_dict=st.booleans())
def test_no_id_number_survives_any_log_call(before: str, after: str, as_dict: bool) -> None:
    from kiosk.diag.checks import mask_log_message

    message = before.replace("%", "%%") + " %s " + after.replace("%", "%%")
    arg: Any = {"id_number": ID_NUMBER, "note": before} if as_dict else f"{before} {ID_NUMBER}"
    record = logging.LogRecord("x", logging.INFO, __file__, 1, message, (arg,), None)
    shown = mask_log_message(record)
    assert ID_NUMBER not in shown and "1101**********1240" in shown

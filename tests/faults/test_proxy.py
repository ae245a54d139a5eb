"""The fault proxy does each fault it claims, against the real central service."""

from __future__ import annotations

import contextlib
import random
import socket
import time
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from central.db import RatingRow
from central.server import start_background
from tests.faults.proxy import FAULTS, FORWARDING, BadRequest, FaultMix, FaultProxy, _read_message
from tests.support.central_auth import UNLIMITED
from tests.support.kiosk_keys import TEST_KIOSKS


@pytest.fixture(scope="module")
def server():
    with start_background(
        db_url="sqlite://", kiosk_registry=TEST_KIOSKS.registry, auth_settings=UNLIMITED
    ) as running:
        yield running


@pytest.fixture
def proxy(server):
    with FaultProxy(server.base_url) as running:
        yield running


def only(kind: str, delay: float = 0.3) -> FaultMix:
    return FaultMix(rate=1.0, weights={kind: 1.0}, delay_s=(delay, delay))


def _ratings(server, key: str) -> int:
    query = select(func.count()).where(RatingRow.idempotency_key == key)
    with server.app.state.central.sessions() as s:
        return int(s.scalar(query) or 0)


def _post_rating(proxy: FaultProxy, key: str, timeout: float = 5.0) -> httpx.Response:
    body = {"kiosk_id": "KIOSK-T-1", "level": 5, "rated_at": datetime.now(UTC).isoformat()}
    with httpx.Client(base_url=proxy.base_url, timeout=timeout, auth=TEST_KIOSKS) as client:
        return client.post("/api/v1/ratings", json=body, headers={"Idempotency-Key": key})


def test_pass_forwards_and_answers_faithfully(proxy, server):
    answer = _post_rating(proxy, "p-pass")
    assert answer.status_code == 201 and answer.json()["rating_id"]
    assert answer.headers["connection"] == "close"  # one request per connection
    assert _ratings(server, "p-pass") == 1
    assert proxy.counts["pass"] == 1 and proxy.forwarded == 1


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("drop_before", httpx.RemoteProtocolError),  # closed without an answer
        ("reset_before", httpx.ReadError),  # connection reset by peer
        ("drop_after", httpx.RemoteProtocolError),
        ("reset_after", httpx.ReadError),
        ("truncate", httpx.RemoteProtocolError),  # half a response, then closed
    ],
)
def test_a_broken_connection_fails_the_client_and_applies_only_if_forwarded(
    proxy, server, kind, error
):
    proxy.configure(mix=only(kind))
    key = f"p-{kind}"
    with pytest.raises(error):
        _post_rating(proxy, key)
    time.sleep(0.05)  # an *after* fault answers the kiosk once the service has applied it
    assert _ratings(server, key) == (1 if kind in FORWARDING else 0)
    assert proxy.counts[kind] == 1


@pytest.mark.parametrize("kind", ["error_before", "error_after"])
def test_a_5xx_comes_from_the_proxy_itself(proxy, server, kind):
    proxy.configure(mix=only(kind))
    key = f"p-{kind}"
    answer = _post_rating(proxy, key)
    assert answer.status_code in (500, 502, 503)
    assert "nginx" in answer.text  # the proxy's page, not the service's JSON
    assert _ratings(server, key) == (1 if kind == "error_after" else 0)


@pytest.mark.parametrize("kind", ["delay_before", "delay_mid"])
def test_a_delay_slows_the_answer_or_times_the_client_out(proxy, server, kind):
    proxy.configure(mix=only(kind, delay=0.4))
    started = time.monotonic()
    assert _post_rating(proxy, f"p-{kind}-slow").status_code == 201
    assert time.monotonic() - started >= 0.4
    with pytest.raises(httpx.ReadTimeout):
        _post_rating(proxy, f"p-{kind}-timeout", timeout=0.15)
    time.sleep(0.5)
    # applied although the kiosk gave up: what an idempotency key is for
    assert _ratings(server, f"p-{kind}-timeout") == 1


def test_the_same_seed_draws_the_same_faults():
    mix = FaultMix(rate=0.5)

    def draws(seed: int) -> list[str]:
        rng = random.Random(seed)
        return [mix.pick(rng) for _ in range(50)]

    assert draws(7) == draws(7) and draws(7) != draws(8)
    assert set(draws(7)) <= set(FAULTS) and len(set(draws(7))) > 3


def test_counts_add_up_over_a_faulty_run(proxy, server):
    proxy.configure(seed=3, mix=FaultMix(rate=0.8, delay_s=(0.0, 0.02)))
    for i in range(30):
        with contextlib.suppress(httpx.HTTPError):
            _post_rating(proxy, f"p-mix-{i}", timeout=1.0)
    counts = proxy.snapshot()
    assert sum(counts.values()) == 30
    assert proxy.forwarded == sum(n for kind, n in counts.items() if kind in FORWARDING)


def test_garbage_from_a_client_is_counted_and_the_proxy_goes_on(proxy):
    port = int(proxy.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as raw:
        raw.sendall(b"\x00\xff not http at all")
        raw.shutdown(socket.SHUT_WR)
        assert raw.recv(100) == b""
    with httpx.Client(base_url=proxy.base_url) as client:
        assert client.get("/api/v1/health").status_code == 200
    assert proxy.bad_requests == 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300), until_eof=st.booleans())
def test_framing_any_bytes_returns_a_message_or_bad_request(data, until_eof):
    left, right = socket.socketpair()
    with left, right:
        left.sendall(data)
        left.shutdown(socket.SHUT_WR)
        right.settimeout(2)
        try:
            message = _read_message(right, until_eof=until_eof)
        except BadRequest:
            return
        assert b"\r\n\r\n" in message and len(message) <= len(data)

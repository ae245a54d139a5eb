"""The central service holds against greedy and slow clients and under concurrent load.

Everything here goes through a real uvicorn server on loopback (central.server.start_background)
with raw sockets where the HTTP client would be too polite to misbehave.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import select
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from central.app import DEFAULT_PUBLIC_BASE_URL, create_app
from central.limits import APPLICATION_BODY_BYTES, MIB, ServiceLimits
from central.server import RunningServer, start_background
from tests.central.helpers import WANG, person_ref
from tests.support.kiosk_keys import TEST_KIOSKS

# Short timeouts so a test waits a second, not ten; the behaviour is the same.
LIMITS = ServiceLimits(header_timeout_s=0.5, body_timeout_s=0.5, max_connections=300, db_wait_s=0.5)


def make_app(limits: ServiceLimits = LIMITS, **options: Any) -> FastAPI:
    """The app under test, admitting the test kiosks (tests.support.kiosk_keys)."""
    return create_app("sqlite://", limits=limits, kiosk_registry=TEST_KIOSKS.registry, **options)


def _kiosk() -> str:
    # A kiosk of its own per request: these tests are not about the per-kiosk rate limits.
    return f"KIOSK-H-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with start_background(app=make_app()) as running:
        yield running


def _address(server: RunningServer) -> tuple[str, int]:
    host, port = server.base_url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def _connect(server: RunningServer, timeout: float = 5.0) -> socket.socket:
    sock = socket.create_connection(_address(server), timeout=timeout)
    sock.settimeout(timeout)
    return sock


def _read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    start = time.monotonic()
    sock.settimeout(timeout)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received, time.monotonic() - start


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else 0


def _json_body(response: bytes) -> Any:
    return json.loads(response.split(b"\r\n\r\n", 1)[1])


def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _head(method: str, path: str, *headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: central.test", *headers, "", ""]
    return "\r\n".join(lines).encode()


# --- request size ---------------------------------------------------------------------------


def test_declared_oversize_body_is_refused_before_it_is_sent(server):
    """GIVEN a request that declares 100 MB WHEN only its head is sent THEN 413 comes back at
    once with the common error shape, and the connection is closed."""
    with _connect(server) as sock:
        sock.sendall(
            _head(
                "POST",
                "/api/v1/identity/verify",
                "Content-Type: application/json",
                f"Content-Length: {100 * MIB}",
            )
        )
        response, elapsed = _read_until_closed(sock, timeout=5)
    assert _status(response) == 413 and elapsed < 2
    assert _json_body(response)["error"]["code"] == "body_too_large"
    assert b"connection: close" in response.lower()


def test_expect_continue_client_never_gets_to_send_an_oversize_body(server):
    with _connect(server) as sock:
        sock.sendall(
            _head(
                "POST",
                "/api/v1/ratings",
                "Content-Type: application/json",
                f"Content-Length: {2 * MIB}",
                "Expect: 100-continue",
            )
        )
        response, _ = _read_until_closed(sock, timeout=5)
    assert b"100 Continue" not in response and _status(response) == 413


def test_chunked_100_mb_is_refused_as_it_streams_and_memory_stays_flat(server):
    """GIVEN a chunked body with no declared length WHEN 100 MB are streamed THEN the server
    answers 413 once it has read just over the limit, and this process's RSS (the server runs in
    it) grows by a few MB, not by the body."""
    chunk = b"x" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    before = _rss_bytes()
    sent = 0
    response = b""
    with _connect(server) as sock:
        sock.sendall(
            _head(
                "POST",
                "/api/v1/identity/verify",
                "Content-Type: application/json",
                "Transfer-Encoding: chunked",
            )
        )
        try:
            while sent < 100 * MIB:
                sock.sendall(frame)
                sent += len(chunk)
                if select.select([sock], [], [], 0)[0]:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        with contextlib.suppress(OSError):
            response, _ = _read_until_closed(sock, timeout=5)
    grown = _rss_bytes() - before
    assert _status(response) == 413, response[:200]
    assert sent < 8 * MIB, f"the server kept reading: {sent} bytes sent"
    assert grown < 20 * MIB, f"RSS grew by {grown / MIB:.1f} MiB"


def test_an_application_may_be_larger_than_other_requests(server):
    """GIVEN a 2 MiB body WHEN it goes to /applications (photos) THEN it passes the size gate
    (and is judged on content); the same size to /ratings is 413."""
    body = b'{"pad": "' + b"a" * (2 * MIB) + b'"}'
    headers = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
    with httpx.Client(base_url=f"{server.base_url}/api/v1", timeout=10, auth=TEST_KIOSKS) as http:
        application = http.post("/applications", content=body, headers=headers)
        rating = http.post("/ratings", content=body, headers=headers)
    assert application.status_code == 422
    assert rating.status_code == 413 and rating.json()["error"]["code"] == "body_too_large"
    assert APPLICATION_BODY_BYTES > 2 * MIB


# --- slow clients ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "partial_head",
    [b"", b"GET /api/v1/health HTTP/1.1\r\nHost: central.test\r\n"],
    ids=["nothing", "half-a-head"],
)
def test_a_connection_without_a_complete_head_is_closed(server, partial_head):
    with _connect(server) as sock:
        sock.sendall(partial_head)
        response, elapsed = _read_until_closed(sock, timeout=5)
    assert response == b"" and elapsed < 2


def test_a_head_trickled_byte_by_byte_is_closed_at_the_deadline(server):
    """Activity does not extend the head deadline: slowloris is cut off."""
    head = _head("GET", "/api/v1/health")
    start = time.monotonic()
    closed = False
    with _connect(server) as sock:
        try:
            for byte in head[:-1]:
                sock.sendall(bytes([byte]))
                time.sleep(0.05)
                if select.select([sock], [], [], 0)[0] and sock.recv(1) == b"":
                    closed = True
                    break
        except (BrokenPipeError, ConnectionResetError):
            closed = True
    assert closed and time.monotonic() - start < 2


def _read_response(sock: socket.socket) -> bytes:
    """One whole response with a Content-Length body, leaving the connection open."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def test_keep_alive_connection_gets_the_head_deadline_again(server):
    with _connect(server) as sock:
        sock.sendall(_head("GET", "/api/v1/health"))
        first = _read_response(sock)
        sock.sendall(b"GET /api/v1/health HTTP/1.1\r\n")
        rest, elapsed = _read_until_closed(sock, timeout=5)
    assert _status(first) == 200 and rest == b"" and elapsed < 2


def test_a_body_that_stops_arriving_is_answered_408(server):
    """GIVEN a request that promises 100 bytes WHEN it sends 10 and waits THEN 408 after the
    body timeout, and the connection is closed."""
    with _connect(server) as sock:
        sock.sendall(
            _head(
                "POST",
                "/api/v1/identity/verify",
                "Content-Type: application/json",
                "Content-Length: 100",
            )
            + b'{"id_numb'
        )
        response, elapsed = _read_until_closed(sock, timeout=5)
    assert _status(response) == 408 and elapsed < 2
    assert _json_body(response)["error"]["code"] == "body_timeout"


def _settled(count: Any, at_most: int, timeout: float = 5.0) -> int:
    deadline = time.monotonic() + timeout
    while count() > at_most and time.monotonic() < deadline:
        time.sleep(0.05)
    return int(count())


def test_two_thousand_half_open_connections_do_not_hold_the_server():
    """GIVEN 2,000 connections that each sent half a head, and a head deadline long enough to
    keep them all WHEN a kiosk calls THEN it is served, and the server holds no more connections
    than its cap: the ones waiting longest for their head made room."""
    limits = ServiceLimits(header_timeout_s=60, max_connections=300)
    idle = []
    with start_background(app=make_app(limits)) as running:
        connections = running._server.server_state.connections
        try:
            for _ in range(2000):
                sock = socket.create_connection(_address(running), timeout=5)
                sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")
                idle.append(sock)
            assert _settled(lambda: len(connections), limits.max_connections) <= 300
            with httpx.Client(timeout=3) as http:
                assert http.get(f"{running.base_url}/api/v1/health").status_code == 200
        finally:
            for sock in idle:
                sock.close()


def test_the_head_deadline_clears_half_open_connections(server):
    connections = server._server.server_state.connections
    idle = [_connect(server) for _ in range(50)]
    try:
        for sock in idle:
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\n")
        time.sleep(LIMITS.header_timeout_s + 0.5)
        assert len(connections) == 0
    finally:
        for sock in idle:
            sock.close()


# --- concurrency and the database pool ------------------------------------------------------


async def _concurrent_gets(base_url: str, path: str, clients: int) -> list[int]:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base_url, timeout=20, limits=limits, auth=TEST_KIOSKS
    ) as http:
        responses = await asyncio.gather(*(http.get(path) for _ in range(clients)))
    return [response.status_code for response in responses]


def test_seventy_simultaneous_catalogue_reads_do_not_stall():
    """GIVEN default limits WHEN 70 kiosks read the catalogue at once THEN every one gets 200
    within seconds (it was a 30 s stall with 40 % 500/503: 40 worker threads on 15 pooled
    connections, each session held until after its response was checked)."""
    app = create_app("sqlite://", kiosk_registry=TEST_KIOSKS.registry)
    with start_background(app=app) as running:
        start = time.monotonic()
        statuses = asyncio.run(_concurrent_gets(running.base_url, "/api/v1/catalogue", 70))
        elapsed = time.monotonic() - start
    assert statuses == [200] * 70
    assert elapsed < 10


def test_an_exhausted_pool_is_503_with_retry_after():
    """GIVEN every pooled connection taken WHEN a request needs one THEN after the wait it gets
    503 `service_busy` with Retry-After, not a 500."""
    app = make_app()
    engine = app.state.central.engine
    with start_background(app=app) as running:
        held = [engine.connect() for _ in range(app.state.central.db_slots.slots)]
        try:
            response = httpx.get(f"{running.base_url}/api/v1/catalogue", auth=TEST_KIOSKS)
        finally:
            for connection in held:
                connection.close()
        after = httpx.get(f"{running.base_url}/api/v1/catalogue", auth=TEST_KIOSKS)
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert response.json()["error"]["code"] == "service_busy"
    assert after.status_code == 200


def test_sqlite_runs_in_wal_mode(server):
    engine = server.app.state.central.engine
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


# --- odd values never 500 -------------------------------------------------------------------


@pytest.mark.parametrize(
    "rated_at",
    [
        "2026-03-02T10:00:00",  # no UTC offset
        "0001-01-01T00:00:00",
        "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
        "9999-12-31T23:59:59",
        "9999-12-31T23:59:59-14:00",  # after 9999 in UTC
        "2026-03-02T10:00:00+23:59",
    ],
)
def test_odd_rating_times_are_never_a_500(server, rated_at):
    # The service times ratings itself; a kiosk time it cannot use is refused (422) or ignored.
    body = {"kiosk_id": _kiosk(), "level": 4, "rated_at": rated_at}
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    response = httpx.post(
        f"{server.base_url}/api/v1/ratings", json=body, headers=headers, auth=TEST_KIOSKS
    )
    assert response.status_code in (201, 422), response.text


ODD_REQUESTS = [
    ("POST", "/identity/verify", {"valid_until": "0001-01-01"}),
    ("POST", "/identity/verify", {"valid_until": "9999-12-31"}),
    ("POST", "/identity/verify", {"valid_until": "99999-01-01"}),
    ("POST", "/ratings", {"kiosk_id": "KIOSK-T-1", "level": 10**30}),
    ("POST", "/ratings", {"kiosk_id": "KIOSK-T-1", "level": 4.0}),
    ("POST", "/dev/eid/mint", {"person": 1, "ttl_seconds": 10**30}),
    ("POST", "/dev/eid/mint", {"person": 10**30}),
    ("POST", "/dev/eid/mint", {"person": -1}),
    ("POST", "/dev/appointments", {"person": 1, "item_code": "tax.invoice", "date": "9999-12-31"}),
    ("POST", "/dev/appointments", {"person": 1, "item_code": "tax.invoice", "date": "0001-01-01"}),
    ("GET", "/records/shebao.rights-record?person_ref=x&kiosk_id=KIOSK-T-1&page=1e30", None),
    ("GET", f"/records/shebao.rights-record?person_ref=x&kiosk_id=KIOSK-T-1&page={10**30}", None),
    ("GET", "/cases/99999999999999999999", None),
    ("GET", "/certificates/X/verification?code=" + "9" * 40, None),
]


@pytest.mark.parametrize(("method", "path", "extra"), ODD_REQUESTS)
def test_odd_dates_and_numbers_are_never_a_500(server, method, path, extra):
    kiosk = _kiosk()
    base: dict[str, Any] = {"kiosk_id": kiosk} if path in ("/identity/verify", "/ratings") else {}
    if path == "/identity/verify":
        base |= {"id_number": WANG["id_number"], "name": WANG["name"]}
    body = None if extra is None else {**base, **extra}
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    url = f"{server.base_url}/api/v1{path}".replace("KIOSK-T-1", kiosk)
    response = httpx.request(method, url, json=body, headers=headers, auth=TEST_KIOSKS)
    assert response.status_code < 500, response.text


def test_face_check_presence_numbers_are_bounded(server):
    kiosk = _kiosk()
    with httpx.Client(base_url=f"{server.base_url}/api/v1", timeout=5, auth=TEST_KIOSKS) as http:
        ref = person_ref(http, WANG, kiosk)
        for presence in (
            {"frames": 10**30, "seconds": 2, "moved": True},
            {"frames": 5, "seconds": 1e308, "moved": True},
            {"frames": -1, "seconds": 2, "moved": True},
        ):
            body = {
                "person_ref": ref,
                "kiosk_id": kiosk,
                "image": "/9j/AAAA",
                "presence": presence,
            }
            assert http.post("/identity/face", json=body).status_code == 422


# --- links on paper -------------------------------------------------------------------------


def _guide_url_with_host(server: RunningServer, host: str) -> str:
    path = "/api/v1/items/tax.invoice"
    signed = TEST_KIOSKS.signer("KIOSK-H-LINKS").headers_for("GET", f"http://{host}{path}", b"")
    head = _head(
        "GET", path, "Connection: close", *(f"{name}: {value}" for name, value in signed.items())
    )
    with _connect(server) as sock:
        sock.sendall(head.replace(b"Host: central.test", f"Host: {host}".encode()))
        response, _ = _read_until_closed(sock, timeout=5)
    assert _status(response) == 200
    return str(_json_body(response)["guide_url"])


def test_links_use_the_configured_public_url_whatever_the_host_header():
    app = make_app(public_base_url="https://zwfw.example.gov.cn/hall/")
    with start_background(app=app) as running:
        url = _guide_url_with_host(running, "evil.test")
        with httpx.Client(
            base_url=f"{running.base_url}/api/v1",
            headers={"Host": "evil.test"},
            timeout=5,
            auth=TEST_KIOSKS,
        ) as http:
            body = {"item_code": "huji.household-cert", "kiosk_id": "KIOSK-H-LINKS"}
            body["person_ref"] = person_ref(http, WANG, "KIOSK-H-LINKS")
            cert = http.post(
                "/certificates", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
            ).json()
    assert url == "https://zwfw.example.gov.cn/hall/guides/tax.invoice"
    assert cert["verify_url"].startswith("https://zwfw.example.gov.cn/hall/api/v1/certificates/")


def test_without_a_public_url_links_use_a_fixed_default_not_the_host(server):
    assert _guide_url_with_host(server, "evil.test") == (
        f"{DEFAULT_PUBLIC_BASE_URL}guides/tax.invoice"
    )


def test_a_server_started_on_its_own_links_to_its_own_address():
    with start_background(db_url="sqlite://", kiosk_registry=TEST_KIOSKS.registry) as running:
        url = _guide_url_with_host(running, "evil.test")
    assert url == f"{running.base_url}/guides/tax.invoice"

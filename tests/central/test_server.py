"""Running the service: background start on a free port, stop, persistence across restarts."""

from __future__ import annotations

import dataclasses
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from central.app import create_app
from central.server import ServerStartError, _bind, start_background
from tests.central.helpers import WANG, person_ref
from tests.support import postgres
from tests.support.central_auth import UNLIMITED
from tests.support.kiosk_keys import TEST_KIOSKS


def test_background_server_answers_on_a_free_port_and_stops() -> None:
    server = start_background(
        db_url="sqlite://", kiosk_registry=TEST_KIOSKS.registry, auth_settings=UNLIMITED
    )
    try:
        port = int(server.base_url.rsplit(":", 1)[1])
        assert server.base_url == f"http://127.0.0.1:{port}" and port > 0
        assert httpx.get(f"{server.base_url}/api/v1/health").json()["status"] == "ok"
    finally:
        server.stop()
        server.stop()  # idempotent
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.base_url}/api/v1/health", timeout=1)


def test_stop_does_not_hang_on_idle_keep_alive_connections() -> None:
    with start_background(
        db_url="sqlite://", kiosk_registry=TEST_KIOSKS.registry, auth_settings=UNLIMITED
    ) as server:
        client = httpx.Client()
        client.get(f"{server.base_url}/api/v1/health")  # leaves a pooled connection open
    assert not server._thread.is_alive()
    client.close()


def test_listening_socket_lets_asyncio_disable_nagle() -> None:
    # asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP; with proto 0 every
    # keep-alive response waited ~40 ms for the client's delayed ACK.
    sock = _bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


def test_port_in_use_is_reported() -> None:
    with start_background(
        db_url="sqlite://", kiosk_registry=TEST_KIOSKS.registry, auth_settings=UNLIMITED
    ) as server:
        port = int(server.base_url.rsplit(":", 1)[1])
        with pytest.raises(OSError):
            start_background(
                port=port,
                db_url="sqlite://",
                kiosk_registry=TEST_KIOSKS.registry,
                auth_settings=UNLIMITED,
            )


def test_file_database_keeps_certificates_and_hash_key_across_restarts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'central.db'}"
    key = str(uuid.uuid4())
    body = {"item_code": "tax.income-record", "kiosk_id": "kiosk-test-01"}
    with (
        start_background(
            db_url=url, kiosk_registry=TEST_KIOSKS.registry, auth_settings=UNLIMITED
        ) as server,
        httpx.Client(base_url=f"{server.base_url}/api/v1", auth=TEST_KIOSKS) as http,
    ):
        body["person_ref"] = person_ref(http, WANG)
        first = http.post("/certificates", json=body, headers={"Idempotency-Key": key})
        assert first.status_code == 201
    assert (tmp_path / "var" / "central.db").exists()
    with (
        start_background(
            db_url=url, kiosk_registry=TEST_KIOSKS.registry, auth_settings=UNLIMITED
        ) as server,
        httpx.Client(base_url=f"{server.base_url}/api/v1", auth=TEST_KIOSKS) as http,
    ):
        again = http.post("/certificates", json=body, headers={"Idempotency-Key": key})
        assert again.status_code == 200 and again.json() == first.json()
        # Same per-database key: the registry still recognises the person.
        assert http.post(
            "/identity/verify",
            json={
                "id_number": WANG["id_number"],
                "name": "王建国",
                "kiosk_id": "k",
                "method": "id_card",
            },
        ).json()["verified"]


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """CENTRAL_TEST_PG_URL if set, else a throwaway server (Debian's PostgreSQL)."""
    if os.environ.get("CENTRAL_TEST_PG_URL"):
        yield os.environ["CENTRAL_TEST_PG_URL"]
        return
    reason = postgres.available()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {reason}")
        pytest.skip(reason)
    with postgres.running_postgres() as url:
        yield url


def test_full_round_trip_on_postgresql(postgres_url: str) -> None:
    app = create_app(postgres_url, kiosk_registry=TEST_KIOSKS.registry, auth_settings=UNLIMITED)
    with (
        start_background(app=app) as server,
        httpx.Client(base_url=f"{server.base_url}/api/v1", auth=TEST_KIOSKS) as http,
    ):
        assert http.get("/catalogue").status_code == 200
        ref = person_ref(http, WANG)
        key = str(uuid.uuid4())
        body = {"item_code": "shebao.insured-cert", "person_ref": ref, "kiosk_id": "kiosk-test-01"}
        first = http.post("/certificates", json=body, headers={"Idempotency-Key": key})
        assert first.status_code == 201, first.text
        again = http.post("/certificates", json=body, headers={"Idempotency-Key": key})
        assert again.status_code == 200 and again.json() == first.json()


def test_unexpected_failure_answers_500_in_the_error_shape() -> None:
    app = create_app("sqlite://", kiosk_registry=TEST_KIOSKS.registry, auth_settings=UNLIMITED)

    def boom() -> None:
        raise RuntimeError("something broke")

    app.add_api_route("/api/v1/boom", boom)
    with start_background(app=app) as server:
        response = httpx.get(f"{server.base_url}/api/v1/boom", auth=TEST_KIOSKS)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "something broke" not in response.text


def test_health_is_503_when_the_database_does_not_answer(tmp_path: Path) -> None:
    app = create_app("sqlite://", kiosk_registry=TEST_KIOSKS.registry, auth_settings=UNLIMITED)
    with start_background(app=app) as server:
        broken = create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
        app.state.central = dataclasses.replace(app.state.central, sessions=sessionmaker(broken))
        response = httpx.get(f"{server.base_url}/api/v1/health")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"


def test_start_gives_up_when_the_service_never_gets_healthy(tmp_path: Path) -> None:
    app = create_app("sqlite://", kiosk_registry=TEST_KIOSKS.registry, auth_settings=UNLIMITED)
    broken = create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    app.state.central = dataclasses.replace(app.state.central, sessions=sessionmaker(broken))
    with pytest.raises(ServerStartError, match="not healthy"):
        start_background(app=app, startup_timeout=0.5)

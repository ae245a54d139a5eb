"""Only enrolled, unrevoked kiosks get in, each request once; bad bodies are 413/422, never 500."""

from __future__ import annotations

import json
import time

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import func, select

from fleet.db import HeartbeatRow
from tests.fleet.helpers import beat, fleet_client, test_registry, test_signer

URL = "http://testserver/api/v1/heartbeats"


def _count(client) -> int:
    with client.app.state.fleet.sessions() as s:
        return s.scalar(select(func.count()).select_from(HeartbeatRow))


def _signed(signer, body: bytes, url: str = URL) -> dict[str, str]:
    return {"content-type": "application/json", **signer.headers_for("POST", url, body)}


def test_unsigned_requests_are_refused_on_every_kiosk_route(fleet_db_url):
    with fleet_client(fleet_db_url, test_signer("KIOSK-001")) as client:
        for path, body in (
            ("/api/v1/heartbeats", beat("KIOSK-001")),
            ("/api/v1/events", {"events": []}),
            ("/api/v1/commands/1/ack", {"result": "done", "detail": ""}),
        ):
            r = client.post(path, json=body)
            assert r.status_code == 401, path
            assert r.json()["error"]["code"] == "unauthenticated"
            assert r.headers["www-authenticate"] == "Signature"
        assert _count(client) == 0


def test_a_replayed_heartbeat_is_refused_and_stored_once(fleet_db_url):
    signer = test_signer("KIOSK-001")
    body = json.dumps(beat("KIOSK-001")).encode()
    headers = _signed(signer, body)
    with fleet_client(fleet_db_url, signer) as client:
        assert client.post("/api/v1/heartbeats", content=body, headers=headers).status_code == 200
        again = client.post("/api/v1/heartbeats", content=body, headers=headers)
        assert again.status_code == 401 and again.json()["error"]["code"] == "replayed"
        assert _count(client) == 1


def test_revoked_unknown_tampered_and_stale_are_refused(fleet_db_url):
    good, revoked, stranger = (
        test_signer("KIOSK-001"),
        test_signer("KIOSK-002"),
        test_signer("KIOSK-003"),
    )
    stale = test_signer("KIOSK-001", clock=lambda: time.time() - 3600)
    registry = test_registry(good, revoked)
    registry.revoke("KIOSK-002")
    with fleet_client(fleet_db_url, registry=registry) as client:

        def code(signer, kiosk_id, tamper=False):
            body = json.dumps(beat(kiosk_id)).encode()
            headers = _signed(signer, body)
            if tamper:
                body = body.replace(b'"sessions": 2', b'"sessions": 9')
            r = client.post("/api/v1/heartbeats", content=body, headers=headers)
            return r.status_code, r.json()["error"]["code"]

        assert code(revoked, "KIOSK-002") == (401, "revoked")
        assert code(stranger, "KIOSK-003") == (401, "unknown_kiosk")
        assert code(good, "KIOSK-001", tamper=True) == (401, "bad_signature")
        # the stale signer has another key: it is the stale time that is refused first
        assert code(stale, "KIOSK-001")[1] in {"stale_signature", "bad_signature"}
        assert _count(client) == 0
        assert (
            client.post("/api/v1/heartbeats", json=beat("KIOSK-001"), auth=good).status_code == 200
        )


def test_a_body_over_the_limit_is_413_before_anything_else(fleet_db_url):
    signer = test_signer("KIOSK-001")
    with fleet_client(fleet_db_url, signer) as client:
        body = json.dumps(beat("KIOSK-001", last_error="x" * 100_000)).encode()
        r = client.post("/api/v1/heartbeats", content=body, headers=_signed(signer, body))
        assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"

        def chunks():  # no Content-Length: counted as it streams
            for _ in range(100):
                yield b"x" * 1024

        r = client.post(
            "/api/v1/heartbeats", content=chunks(), headers={"content-type": "application/json"}
        )
        assert r.status_code == 413


@pytest.mark.parametrize(
    "change",
    [
        {"sent_at": "2026-12-01T09:00:00"},  # no UTC offset
        {"sent_at": "0001-01-01T00:00:00+14:00"},
        {"sent_at": "9999-12-31T23:59:59-12:00"},
        {"seq": -1},
        {"seq": 2**70},
        {"devices": {"idcard": "melted"}},
        {"paper": {"p": "half"}},
        {"last_error": "e" * 501},
        {"uptime_s": 2**40},
        {"unexpected": 1},
        {"version": "v" * 40},
    ],
)
def test_out_of_range_fields_are_422(fleet_db_url, change):
    signer = test_signer("KIOSK-001")
    with fleet_client(fleet_db_url, signer) as client:
        r = client.post("/api/v1/heartbeats", json=beat("KIOSK-001", **change), auth=signer)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == "invalid_request"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = list(beat("K"))


@st.composite
def mangled_bodies(draw) -> bytes:
    kind = draw(st.sampled_from(["field", "json", "bytes", "events", "ack"]))
    if kind == "field":
        body = beat("KIOSK-001")
        body[draw(st.sampled_from(FIELDS))] = draw(json_values)
        return json.dumps(body).encode()
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "events":
        return json.dumps({"events": draw(st.lists(json_values, max_size=3))}).encode()
    if kind == "ack":
        return json.dumps({"result": draw(json_values), "detail": draw(json_values)}).encode()
    return draw(st.binary(max_size=200))


@pytest.mark.parametrize("fleet_db_url", ["sqlite"], indirect=True)
def test_malformed_signed_bodies_are_4xx_never_5xx(fleet_db_url):
    signer = test_signer("KIOSK-001")
    with fleet_client(fleet_db_url, signer) as client:

        @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
        @given(
            body=mangled_bodies(), path=st.sampled_from(["heartbeats", "events", "commands/1/ack"])
        )
        def check(body: bytes, path: str) -> None:
            url = f"http://testserver/api/v1/{path}"
            r = client.post(url, content=body, headers=_signed(signer, body, url))
            assert r.status_code < 500, (r.status_code, r.text)
            assert r.status_code in (200, 404, 422), r.text
            assert "error" in r.json() or r.status_code == 200

        check()

"""POST /ratings: 好差评 applied exactly once per Idempotency-Key, bad input refused clearly."""

from __future__ import annotations

import uuid

import pytest

from tests.central.helpers import assert_error

BODY = {
    "kiosk_id": "KIOSK-T-1",
    "item_code": "shebao.insured-cert",
    "level": 4,
    "rated_at": "2026-11-23T09:30:00+08:00",
}


def test_new_rating_is_201_and_a_replay_is_200_with_the_same_id(http):
    key = str(uuid.uuid4())
    first = http.post("/ratings", json=BODY, headers={"Idempotency-Key": key})
    again = http.post("/ratings", json=BODY, headers={"Idempotency-Key": key})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["rating_id"] == again.json()["rating_id"]


def test_same_key_with_another_rating_is_409(http):
    key = str(uuid.uuid4())
    http.post("/ratings", json=BODY, headers={"Idempotency-Key": key})
    response = http.post("/ratings", json={**BODY, "level": 1}, headers={"Idempotency-Key": key})
    assert_error(response, 409, "idempotency_conflict")


def test_missing_key_is_400(http):
    assert_error(http.post("/ratings", json=BODY), 400, "idempotency_key_missing")


@pytest.mark.parametrize(
    "change",
    [{"level": 0}, {"level": 6}, {"level": "5"}, {"rated_at": "yesterday"}, {"kiosk_id": ""}],
)
def test_malformed_rating_is_422(http, change):
    response = http.post(
        "/ratings", json={**BODY, **change}, headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    assert response.status_code == 422
    assert "error" in response.json()


def test_unknown_item_is_404(http):
    response = http.post(
        "/ratings",
        json={**BODY, "item_code": "nope.nothing"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert_error(response, 404, "item_not_found")

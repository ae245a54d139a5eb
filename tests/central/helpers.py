"""Helpers shared by the central service tests: seed persons and common requests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

SEED = Path(__file__).parents[2] / "central" / "seed"
PERSONS: list[dict[str, Any]] = json.loads((SEED / "persons.json").read_text("utf-8"))["persons"]
WANG = next(p for p in PERSONS if p["name"] == "王建国")
LI = next(p for p in PERSONS if p["name"] == "李秀英")
HK = next(p for p in PERSONS if p.get("card_type") == "hk_mo_tw_residence")
FOREIGN_2017 = next(p for p in PERSONS if p.get("card_type") == "foreign_permanent_2017")
FOREIGN_2023 = next(p for p in PERSONS if p.get("card_type") == "foreign_permanent_2023")
KIOSK = "kiosk-test-01"


def verify(
    http: httpx.Client, person: dict[str, Any], kiosk_id: str = KIOSK, **override: str
) -> httpx.Response:
    """POST an identity check for a seed person (fields overridable)."""
    body = {
        "id_number": person["id_number"],
        "name": person["name"],
        "kiosk_id": kiosk_id,
        "method": "id_card",
    }
    if "card_type" in person:  # resident persons leave it out: the default
        body["card_type"] = person["card_type"]
    body.update(override)
    return http.post("/identity/verify", json=body)


def person_ref(http: httpx.Client, person: dict[str, Any], kiosk_id: str = KIOSK) -> str:
    """A fresh person_ref for a seed person."""
    response = verify(http, person, kiosk_id)
    assert response.status_code == 200, response.text
    ref = response.json()["person_ref"]
    assert isinstance(ref, str)
    return ref


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is an error of the common shape with this status and code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body

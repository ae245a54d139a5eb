"""Electronic ID (电子身份证) against the real app in-process, plus the other identity additions:
social security cards, expired cards, and number labels by card type on certificates."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from central import eid
from central.app import create_app
from central.db import IdentityCheckRow
from tests.central.helpers import FOREIGN_2017, HK, KIOSK, LI, PERSONS, WANG, assert_error
from tests.support.central_auth import UNLIMITED
from tests.support.kiosk_keys import TEST_KIOSKS, signed

START = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


class Clock:
    """The app's clock, moved by tests."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def client(clock: Clock) -> Iterator[TestClient]:
    with signed(
        TestClient(
            create_app(
                "sqlite://",
                clock=clock,
                kiosk_registry=TEST_KIOSKS.registry,
                auth_settings=UNLIMITED,
            )
        )
    ) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def _reset_clock(clock: Clock) -> None:
    clock.now = START


def mint(client: TestClient, person: int | str, **extra: Any) -> str:
    response = client.post("/api/v1/dev/eid/mint", json={"person": person, **extra})
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    assert isinstance(token, str)
    return token


def present(client: TestClient, token: str, kiosk_id: str = KIOSK) -> dict[str, Any]:
    response = client.post("/api/v1/identity/eid", json={"token": token, "kiosk_id": kiosk_id})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def position(person: dict[str, Any]) -> int:
    return PERSONS.index(person) + 1


# --- minting and verifying ---------------------------------------------------------------------


def test_a_minted_token_identifies_its_person(client: TestClient) -> None:
    token = mint(client, WANG["id_number"])
    assert token.startswith("CNEID1.") and token.count(".") == 2 and len(token) < 400
    result = present(client, token)
    assert result["verified"] is True and result["reason"] == "ok"
    assert result["name_masked"] == "王**" and result["card_type"] == "resident"
    assert datetime.fromisoformat(result["expires_at"]) == START + timedelta(minutes=30)
    # The person_ref is as good as one from an ID card: it issues a certificate.
    certificate = client.post(
        "/api/v1/certificates",
        json={
            "item_code": "shebao.insured-cert",
            "person_ref": result["person_ref"],
            "kiosk_id": KIOSK,
        },
        headers={"Idempotency-Key": secrets.token_hex(8)},
    )
    assert certificate.status_code == 201, certificate.text
    assert certificate.json()["holder_name_masked"] == "王**"


@pytest.mark.parametrize("person", [HK, FOREIGN_2017], ids=["hk_mo_tw", "foreign_2017"])
def test_card_type_comes_from_the_registry(client: TestClient, person: dict[str, Any]) -> None:
    result = present(client, mint(client, position(person)))
    assert result["verified"] is True
    assert result["card_type"] == person["card_type"]
    assert result["name_masked"].startswith(person["name"][0])
    assert person["name"] not in json.dumps(result, ensure_ascii=False)


def test_persons_are_found_by_position_registry_number_or_id_number(client: TestClient) -> None:
    for spec in (position(LI), LI["person_no"], LI["id_number"], str(position(LI))):
        assert present(client, mint(client, spec))["name_masked"] == "李**"


def test_unknown_test_person_is_404(client: TestClient) -> None:
    for spec in (0, 999, "NOBODY", "110101199001011237"):
        response = client.post("/api/v1/dev/eid/mint", json={"person": spec})
        assert_error(response, 404, "person_not_found")


def test_a_token_is_accepted_once(client: TestClient) -> None:
    token = mint(client, position(WANG))
    assert present(client, token)["verified"] is True
    again = present(client, token)
    assert again == {
        "verified": False,
        "person_ref": None,
        "reason": "token_used",
        "expires_at": None,
        "name_masked": None,
        "card_type": None,
    }
    assert present(client, token, kiosk_id="kiosk-other")["reason"] == "token_used"


def test_a_token_expires_after_120_seconds(client: TestClient, clock: Clock) -> None:
    token = mint(client, position(WANG))
    clock.now = START + timedelta(seconds=119)
    fresh = mint(client, position(WANG))
    clock.now = START + timedelta(seconds=120)
    assert present(client, token)["reason"] == "token_expired"
    assert present(client, fresh)["verified"] is True


def test_a_token_from_the_future_is_invalid(client: TestClient, clock: Clock) -> None:
    clock.now = START + timedelta(minutes=5)
    token = mint(client, position(WANG))
    clock.now = START
    assert present(client, token)["reason"] == "token_invalid"


def _parts(token: str) -> tuple[str, dict[str, Any], str]:
    prefix, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return prefix, claims, signature


def _encode(claims: dict[str, Any]) -> str:
    raw = json.dumps(claims, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_forged_tokens_are_invalid(client: TestClient) -> None:
    token = mint(client, position(LI))
    prefix, claims, signature = _parts(token)
    # A changed claim under the old signature.
    longer = _encode({**claims, "exp": claims["exp"] + 3600})
    assert present(client, f"{prefix}.{longer}.{signature}")["reason"] == "token_invalid"
    # One flipped signature character.
    flipped = ("A" if signature[5] != "A" else "B").join((signature[:5], signature[6:]))
    assert present(client, f"{prefix}.{_encode(claims)}.{flipped}")["reason"] == "token_invalid"
    # Well formed and signed, but by a key that is not the issuer's.
    stranger = Ed25519PrivateKey.generate()
    other, _ = eid.mint_token(stranger, base64.urlsafe_b64decode(claims["p"] + "=").hex(),
                              "resident", START)  # fmt: skip
    assert present(client, other)["reason"] == "token_invalid"
    # The genuine token was never consumed by the forgeries.
    assert present(client, token)["verified"] is True


def test_a_genuine_token_for_nobody_is_not_found(client: TestClient) -> None:
    app_state = client.app.state.central  # type: ignore[attr-defined]
    with app_state.sessions() as session:
        token, _ = eid.mint_token(
            eid.signing_key(session), secrets.token_hex(32), "resident", START
        )
    assert present(client, token)["reason"] == "not_found"


def test_checks_are_recorded_without_the_token(client: TestClient) -> None:
    token = mint(client, position(WANG))
    present(client, token, kiosk_id="kiosk-audit")
    present(client, token, kiosk_id="kiosk-audit")
    app_state = client.app.state.central  # type: ignore[attr-defined]
    with app_state.sessions() as session:
        rows = session.scalars(
            select(IdentityCheckRow).where(IdentityCheckRow.kiosk_id == "kiosk-audit")
        ).all()
    assert [(row.method, row.reason, row.verified) for row in rows] == [
        ("eid", "ok", True),
        ("eid", "token_used", False),
    ]
    assert all(token not in str(vars(row)) for row in rows)


def test_wrong_body_shapes_are_422(client: TestClient) -> None:
    for body in (
        {},
        {"token": "x"},
        {"token": 5, "kiosk_id": KIOSK},
        {"token": "", "kiosk_id": KIOSK},
        {"token": "x" * 5000, "kiosk_id": KIOSK},
        {"token": "x", "kiosk_id": "bad kiosk"},
    ):
        assert_error(client.post("/api/v1/identity/eid", json=body), 422, "invalid_request")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.text(min_size=1, max_size=300),
        st.from_regex(r"\ACNEID1\.[A-Za-z0-9_=+/.-]{0,200}\Z"),
        st.builds(
            lambda body, sig: f"CNEID1.{body}.{sig}",
            st.text(alphabet="ABCDEFabcdef0123456789_-", max_size=120),
            st.text(alphabet="ABCDEFabcdef0123456789_-", max_size=100),
        ),
    )
)
def test_garbage_tokens_are_invalid_never_500(client: TestClient, token: str) -> None:
    response = client.post("/api/v1/identity/eid", json={"token": token, "kiosk_id": KIOSK})
    assert response.status_code == 200, response.text
    assert response.json()["reason"] == "token_invalid"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_read_token_raises_only_token_errors(token: str) -> None:
    key = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(eid.TokenError):
        eid.read_token(key, token, START)


def test_dev_endpoint_is_absent_in_production() -> None:
    with signed(
        TestClient(
            create_app(
                "sqlite://",
                dev_endpoints=False,
                kiosk_registry=TEST_KIOSKS.registry,
                auth_settings=UNLIMITED,
            )
        )
    ) as production:
        response = production.post("/api/v1/dev/eid/mint", json={"person": 1})
        assert_error(response, 404, "not_found")
        paths = production.get("/openapi.json").json()["paths"]
        assert "/api/v1/dev/eid/mint" not in paths and "/api/v1/identity/eid" in paths


def test_cli_mints_a_token_the_service_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kiosk.cli import main

    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    png = tmp_path / "eid.png"
    assert main(["central", "mint-eid", WANG["person_no"], "--db", db_url, "--png", str(png)]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("CNEID1.")
    assert png.read_bytes().startswith(b"\x89PNG")
    pyzbar = pytest.importorskip("pyzbar.pyzbar")
    from PIL import Image

    assert pyzbar.decode(Image.open(png))[0].data.decode() == token
    with signed(
        TestClient(create_app(db_url, kiosk_registry=TEST_KIOSKS.registry, auth_settings=UNLIMITED))
    ) as service:
        result = present(service, token)
    assert result["verified"] is True and result["name_masked"] == "王**"
    assert main(["central", "mint-eid", "999", "--db", db_url]) == 2


# --- social security card, expired cards, number labels ---------------------------------------


def _verify(client: TestClient, person: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body = {
        "id_number": person["id_number"],
        "name": person["name"],
        "kiosk_id": KIOSK,
        "method": "id_card",
        "card_type": person.get("card_type", "resident"),
        **extra,
    }
    response = client.post("/api/v1/identity/verify", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_social_security_card_identifies_and_is_recorded(client: TestClient) -> None:
    result = _verify(client, LI, method="social_security_card", kiosk_id="kiosk-sscard")
    assert result["verified"] is True and result["reason"] == "ok"
    app_state = client.app.state.central  # type: ignore[attr-defined]
    with app_state.sessions() as session:
        methods = session.scalars(
            select(IdentityCheckRow.method).where(IdentityCheckRow.kiosk_id == "kiosk-sscard")
        ).all()
    assert methods == ["social_security"]
    wrong = client.post(
        "/api/v1/identity/verify",
        json={"id_number": LI["id_number"], "name": LI["name"], "kiosk_id": KIOSK,
              "method": "fingerprint"},
    )  # fmt: skip
    assert_error(wrong, 422, "invalid_request")


def test_expired_card_is_refused(client: TestClient) -> None:
    # START is 09:30 on 2026-03-02 in Beijing: a card valid until that day still counts.
    assert _verify(client, WANG, valid_until="2026-03-02")["verified"] is True
    expired = _verify(client, WANG, valid_until="2026-03-01")
    assert expired == {
        "verified": False,
        "person_ref": None,
        "reason": "card_expired",
        "expires_at": None,
    }
    assert _verify(client, WANG)["verified"] is True  # no date: 长期 or not read
    bad = client.post(
        "/api/v1/identity/verify",
        json={"id_number": WANG["id_number"], "name": WANG["name"], "kiosk_id": KIOSK,
              "method": "id_card", "valid_until": "2026-02-30"},
    )  # fmt: skip
    assert_error(bad, 422, "invalid_request")


@pytest.mark.parametrize(
    ("person", "label"),
    [
        (WANG, "公民身份号码"),
        (HK, "港澳台居民居住证号码"),
        (FOREIGN_2017, "外国人永久居留身份证号码"),
    ],
    ids=["resident", "hk_mo_tw", "foreign_2017"],
)
def test_certificates_label_the_number_by_card_type(
    client: TestClient, person: dict[str, Any], label: str
) -> None:
    ref = _verify(client, person)["person_ref"]
    response = client.post(
        "/api/v1/certificates",
        json={"item_code": "shebao.insured-cert", "person_ref": ref, "kiosk_id": KIOSK},
        headers={"Idempotency-Key": secrets.token_hex(8)},
    )
    assert response.status_code == 201, response.text
    labels = [line["label"] for line in response.json()["lines"]]
    assert labels[:2] == ["姓名", label]

"""The FastAPI dependency: a signed request reaches the endpoint as its kiosk, others get 401."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient

from tests.support.kiosk_keys import test_registry, test_signer
from trust.asgi import kiosk_auth
from trust.signing import SignatureVerifier

Kiosk = Annotated[str, Depends(kiosk_auth(lambda request: request.app.state.verifier))]


def _app(verifier: SignatureVerifier) -> FastAPI:
    app = FastAPI()
    app.state.verifier = verifier

    @app.post("/echo/{name}")
    async def echo(name: str, request: Request, kiosk: Kiosk) -> dict[str, object]:
        return {"kiosk": kiosk, "name": name, "body": await request.json()}

    return app


def test_signed_requests_pass_with_their_body_and_encoded_path() -> None:
    signer = test_signer()
    app = _app(SignatureVerifier(test_registry(signer)))
    with TestClient(app) as client:
        response = client.post("/echo/a%20b", params={"q": "证"}, json={"n": 1}, auth=signer)
    assert response.status_code == 200
    assert response.json() == {"kiosk": signer.kiosk_id, "name": "a b", "body": {"n": 1}}


def test_unsigned_and_replayed_requests_get_401() -> None:
    signer = test_signer()
    app = _app(SignatureVerifier(test_registry(signer)))
    with TestClient(app) as client:
        unsigned = client.post("/echo/x", json={})
        headers = signer.headers_for("POST", "http://testserver/echo/x", b"{}")
        first = client.post("/echo/x", content=b"{}", headers=headers)
        again = client.post("/echo/x", content=b"{}", headers=headers)
    assert unsigned.status_code == 401
    assert unsigned.headers["WWW-Authenticate"] == "Signature"
    assert first.status_code == 200
    assert again.status_code == 401
    assert "already received" in again.json()["detail"]

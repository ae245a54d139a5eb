"""Signed requests: what passes, and every way a request is refused."""

from __future__ import annotations

import threading

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.support.kiosk_keys import test_registry, test_signer
from trust.signing import AuthError, KioskSigner, ReplayCache, SignatureVerifier, content_digest

URL = "https://central.example/api/v1/identity/verify?x=1"
BODY = b'{"id_number":"11010519491231002X"}'


class Clock:
    def __init__(self, now: float = 1_767_225_600.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _verifier(*signers: KioskSigner, clock: Clock, **kwargs) -> SignatureVerifier:
    return SignatureVerifier(test_registry(*signers), clock=clock, **kwargs)


def _refused(verifier: SignatureVerifier, headers: dict[str, str], **kwargs) -> AuthError:
    with pytest.raises(AuthError) as caught:
        verifier.verify(
            kwargs.get("method", "POST"), kwargs.get("url", URL), headers, kwargs.get("body", BODY)
        )
    return caught.value


def test_a_signed_request_verifies_as_its_kiosk() -> None:
    clock = Clock()
    signer = test_signer("KIOSK-A", clock=clock)
    headers = signer.headers_for("POST", URL, BODY)
    kiosk = _verifier(signer, clock=clock).verify("POST", URL, headers, BODY)
    assert kiosk.kiosk_id == "KIOSK-A"
    assert headers["Content-Digest"] == content_digest(BODY)
    assert headers["Signature-Input"].startswith(
        'kiosk=("@method" "@path" "@query" "content-digest");created=1767225600;nonce="'
    )
    assert headers["Signature-Input"].endswith(';keyid="KIOSK-A";alg="ed25519"')


def test_the_signature_survives_a_proxy_that_changes_scheme_and_host() -> None:
    clock = Clock()
    signer = test_signer(clock=clock)
    headers = signer.headers_for("GET", "https://public.example/api/v1/catalogue", b"")
    kiosk = _verifier(signer, clock=clock).verify(
        "GET", "http://10.0.0.5:8800/api/v1/catalogue", headers, b""
    )
    assert kiosk.kiosk_id == signer.kiosk_id


def test_no_signature_is_unauthenticated() -> None:
    clock = Clock()
    error = _refused(_verifier(test_signer(clock=clock), clock=clock), {})
    assert (error.status, error.code) == (401, "unauthenticated")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"method": "PUT"}, "bad_signature"),
        ({"url": URL.replace("verify", "verifx")}, "bad_signature"),
        ({"url": URL.replace("x=1", "x=2")}, "bad_signature"),
        ({"body": BODY + b" "}, "bad_signature"),
    ],
)
def test_any_change_to_a_covered_part_breaks_the_signature(change: dict, code: str) -> None:
    clock = Clock()
    signer = test_signer(clock=clock)
    headers = signer.headers_for("POST", URL, BODY)
    assert _refused(_verifier(signer, clock=clock), headers, **change).code == code


def test_a_forged_digest_for_a_new_body_does_not_verify() -> None:
    clock = Clock()
    signer = test_signer(clock=clock)
    headers = signer.headers_for("POST", URL, BODY)
    other = b'{"id_number":"110105194912310037"}'
    headers["Content-Digest"] = content_digest(other)
    assert _refused(_verifier(signer, clock=clock), headers, body=other).code == "bad_signature"


def test_another_kiosks_key_does_not_verify() -> None:
    clock = Clock()
    enrolled = test_signer("KIOSK-A", clock=clock)
    impostor = KioskSigner("KIOSK-A", Ed25519PrivateKey.generate(), clock=clock)
    headers = impostor.headers_for("POST", URL, BODY)
    assert _refused(_verifier(enrolled, clock=clock), headers).code == "bad_signature"


def test_an_unknown_kiosk_is_refused() -> None:
    clock = Clock()
    headers = test_signer("KIOSK-B", clock=clock).headers_for("POST", URL, BODY)
    error = _refused(_verifier(test_signer("KIOSK-A", clock=clock), clock=clock), headers)
    assert error.code == "unknown_kiosk"


def test_a_revoked_kiosk_is_refused() -> None:
    clock = Clock()
    signer = test_signer(clock=clock)
    verifier = _verifier(signer, clock=clock)
    verifier.registry.revoke(signer.kiosk_id)
    assert _refused(verifier, signer.headers_for("POST", URL, BODY)).code == "revoked"


@pytest.mark.parametrize("skew", [-301, 301, -10_000])
def test_a_signature_outside_the_window_is_stale(skew: int) -> None:
    clock = Clock()
    signer = test_signer(clock=clock)
    headers = signer.headers_for("POST", URL, BODY)
    clock.now += skew
    assert _refused(_verifier(signer, clock=clock), headers).code == "stale_signature"


@pytest.mark.parametrize("skew", [-300, 0, 299])
def test_a_signature_inside_the_window_passes(skew: int) -> None:
    clock = Clock()
    signer = test_signer(clock=clock)
    headers = signer.headers_for("POST", URL, BODY)
    clock.now += skew
    _verifier(signer, clock=clock).verify("POST", URL, headers, BODY)


def test_a_replayed_request_is_refused_and_a_fresh_one_passes() -> None:
    clock = Clock()
    signer = test_signer(clock=clock)
    verifier = _verifier(signer, clock=clock)
    headers = signer.headers_for("POST", URL, BODY)
    verifier.verify("POST", URL, headers, BODY)
    clock.now += 299
    assert _refused(verifier, headers).code == "replayed"
    verifier.verify("POST", URL, signer.headers_for("POST", URL, BODY), BODY)


def test_the_replay_cache_forgets_only_what_can_no_longer_pass() -> None:
    cache = ReplayCache()
    assert cache.check_and_store("a", expires_at=100.0, now=0.0)
    assert not cache.check_and_store("a", expires_at=100.0, now=99.0)
    assert cache.check_and_store("b", expires_at=300.0, now=101.0)
    assert len(cache) == 1  # "a" expired and was dropped


def test_a_full_replay_cache_fails_closed() -> None:
    cache = ReplayCache(max_entries=2)
    cache.check_and_store("a", 100.0, 0.0)
    cache.check_and_store("b", 100.0, 0.0)
    with pytest.raises(AuthError) as caught:
        cache.check_and_store("c", 100.0, 0.0)
    assert (caught.value.status, caught.value.code) == (503, "replay_cache_full")
    assert cache.check_and_store("c", 200.0, 101.0)  # room again once the others expired


def test_the_replay_cache_lets_exactly_one_of_many_threads_through() -> None:
    clock = Clock()
    signer = test_signer(clock=clock)
    verifier = _verifier(signer, clock=clock)
    headers = signer.headers_for("POST", URL, BODY)
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def attempt() -> None:
        barrier.wait()
        try:
            verifier.verify("POST", URL, headers, BODY)
            outcomes.append("ok")
        except AuthError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok"] + ["replayed"] * 7


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (
            "Signature-Input",
            'kiosk=("@method" "content-digest");created=1767225600;nonce="abcdefghij";keyid="KIOSK-TEST-001";alg="ed25519"',
        ),
        (
            "Signature-Input",
            'kiosk=("@method" "@path" "@query" "content-digest");created=1767225600;nonce="abcdefghij";keyid="KIOSK-TEST-001";alg="hmac-sha256"',
        ),
        (
            "Signature-Input",
            'kiosk=("@method" "@path" "@query" "content-digest");created=1767225600;keyid="KIOSK-TEST-001";alg="ed25519"',
        ),
        (
            "Signature-Input",
            'kiosk=("@method" "@path" "@query" "content-digest" "@method");created=1767225600;nonce="abcdefghij";keyid="KIOSK-TEST-001";alg="ed25519"',
        ),
        (
            "Signature-Input",
            'kiosk=("@method" "@path" "@query" "content-digest");created=1767225600;nonce="abcdefghij";keyid="KIOSK-TEST-001";alg="ed25519";tag="x"',
        ),
        (
            "Signature-Input",
            'other=("@method" "@path" "@query" "content-digest");created=1767225600;nonce="abcdefghij";keyid="KIOSK-TEST-001";alg="ed25519"',
        ),
        ("Signature", "kiosk=:AAAA:, kiosk2=:AAAA:"),
        ("Signature", "kiosk=AAAA"),
        ("Content-Digest", "sha-512=:AAAA:"),
    ],
)
def test_malformed_or_weak_headers_are_refused(name: str, value: str) -> None:
    clock = Clock()
    signer = test_signer(clock=clock)
    headers = signer.headers_for("POST", URL, BODY)
    headers[name] = value
    error = _refused(_verifier(signer, clock=clock), headers)
    assert (error.status, error.code) == (401, "bad_signature")


def test_an_httpx_client_signs_every_request() -> None:
    signer = test_signer()
    verifier = SignatureVerifier(test_registry(signer))
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        kiosk = verifier.verify(request.method, str(request.url), request.headers, request.read())
        seen.append(kiosk.kiosk_id)
        return httpx.Response(200)

    with httpx.Client(transport=httpx.MockTransport(handler), auth=signer) as client:
        client.post("http://central/api/v1/ratings", json={"stars": 5})
        client.get("http://central/api/v1/catalogue", params={"q": "身份证"})
        client.get("http://central/api/v1/catalogue", params={"q": "身份证"})  # new nonce
    assert seen == [signer.kiosk_id] * 3

"""Per-kiosk signed requests: RFC 9421 HTTP Message Signatures with Ed25519.

A kiosk signs `@method`, `@path`, `@query` and `Content-Digest` (RFC 9530, sha-256 of the body),
with `created`, a random `nonce`, `keyid` (the kiosk id) and `alg="ed25519"`:

    Content-Digest: sha-256=:<base64>:
    Signature-Input: kiosk=("@method" "@path" "@query" "content-digest");created=1767225600;
                     nonce="...";keyid="KIOSK-001";alg="ed25519"
    Signature: kiosk=:<base64 Ed25519 signature>:

Path and query rather than the whole target URI, so a signature survives a TLS-terminating proxy
that changes scheme and host. The verifier accepts exactly one signature, a `created` within the
window, a nonce it has not seen in that window, and a body that matches its digest.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Generator, Mapping
from urllib.parse import urlsplit

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from trust.keys import (
    KIOSK_ID,
    KioskKey,
    KioskRegistry,
    RegistryError,
    decode_public_key,
    public_key_b64,
)
from trust.sfv import (
    InnerList,
    SfvError,
    parse_byte_sequences,
    parse_inner_lists,
    serialize_bytes,
    serialize_inner_list,
)

LABEL = "kiosk"
ALGORITHM = "ed25519"
COVERED = ("@method", "@path", "@query", "content-digest")
_DERIVED = ("@method", "@target-uri", "@authority", "@path", "@query")
_KNOWN_PARAMS = {"created", "expires", "nonce", "keyid", "alg"}
_HEADER_NAME = "abcdefghijklmnopqrstuvwxyz0123456789-"


class AuthError(Exception):
    """A request the verifier refuses; `code` is stable, `message` says why in plain words.

    401 codes: unauthenticated, bad_signature, stale_signature, replayed, unknown_kiosk, revoked.
    503 replay_cache_full (the server refuses rather than forget nonces it must remember).
    """

    def __init__(self, code: str, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def content_digest(body: bytes) -> str:
    """RFC 9530 `Content-Digest` value for `body` (sha-256)."""
    return f"sha-256={serialize_bytes(hashlib.sha256(body).digest())}"


def _component(name: str, method: str, url: str, headers: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    if name == "@method":
        return method.upper()
    if name == "@target-uri":
        return url
    if name == "@authority":
        return parts.netloc.lower()
    if name == "@path":
        return parts.path or "/"
    if name == "@query":
        return "?" + parts.query
    value = _header(headers, name)
    if value is None:
        raise AuthError("bad_signature", f"covered header {name} is missing")
    return value.strip()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        for key, candidate in headers.items():
            if key.lower() == name:
                return candidate
    return value


def signature_base(
    method: str, url: str, headers: Mapping[str, str], signature_params: InnerList
) -> bytes:
    """RFC 9421 section 2.5: one line per covered component, then `@signature-params`."""
    lines = [
        f'"{name}": {_component(name, method, url, headers)}' for name in signature_params.items
    ]
    lines.append(f'"@signature-params": {serialize_inner_list(signature_params)}')
    text = "\n".join(lines)
    if not text.isascii() or any(ch in text for ch in "\r\x00"):
        raise AuthError("bad_signature", "covered values must be printable ASCII")
    return text.encode("ascii")


class KioskSigner(httpx.Auth):
    """Signs every request of an httpx client as kiosk `kiosk_id`."""

    requires_request_body = True

    def __init__(
        self,
        kiosk_id: str,
        private_key: Ed25519PrivateKey,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not KIOSK_ID.match(kiosk_id):
            raise ValueError(
                "kiosk id: 1-64 of A-Z a-z 0-9 . _ : - (starting with a letter or digit)"
            )
        self.kiosk_id = kiosk_id
        self._key = private_key
        self._clock = clock

    @property
    def public_key(self) -> str:
        """The base64 raw public key, as the registry holds it."""
        return public_key_b64(self._key)

    def headers_for(
        self,
        method: str,
        url: str,
        body: bytes,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """The headers that sign this request: Content-Digest, Signature-Input, Signature.

        For callers that are not httpx clients (schemathesis hooks, load-test scripts). `headers`
        is accepted for symmetry with the verifier; the covered components need none of them.
        """
        digest = content_digest(body)
        params = InnerList(
            COVERED,
            (
                ("created", int(self._clock())),
                ("nonce", secrets.token_urlsafe(18)),
                ("keyid", self.kiosk_id),
                ("alg", ALGORITHM),
            ),
        )
        base = signature_base(method, url, {**(headers or {}), "content-digest": digest}, params)
        signature = self._key.sign(base)
        return {
            "Content-Digest": digest,
            "Signature-Input": f"{LABEL}={serialize_inner_list(params)}",
            "Signature": f"{LABEL}={serialize_bytes(signature)}",
        }

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.update(self.headers_for(request.method, str(request.url), request.content))
        yield request


class ReplayCache:
    """Nonces seen, each kept until its signature could no longer pass the clock window.

    Bounded: when full of live nonces it refuses (fails closed) instead of forgetting one, which
    would let that request be replayed. Only verified signatures are stored, so only enrolled
    kiosks can fill it. Thread-safe. One process only: replicas share nothing (docs/trust.md).
    """

    def __init__(self, max_entries: int = 200_000) -> None:
        self._max = max_entries
        self._expiry: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._expiry)

    def check_and_store(self, key: str, expires_at: float, now: float) -> bool:
        """True if `key` is new (and now remembered until `expires_at`); False if a replay."""
        with self._lock:
            self._purge(now)
            if key in self._expiry:
                return False
            if len(self._expiry) >= self._max:
                raise AuthError("replay_cache_full", "too many requests in flight", status=503)
            self._expiry[key] = expires_at
            heapq.heappush(self._heap, (expires_at, key))
            return True

    def _purge(self, now: float) -> None:
        while self._heap and self._heap[0][0] < now:
            _, key = heapq.heappop(self._heap)
            self._expiry.pop(key, None)


def _one(header: str | None, parse: Callable[[str], Mapping[str, object]], name: str) -> object:
    if header is None:
        raise AuthError("unauthenticated", "the request is not signed by a kiosk")
    try:
        members = parse(header)
    except SfvError as exc:
        raise AuthError("bad_signature", f"{name}: {exc}") from exc
    if list(members) != [LABEL]:
        raise AuthError("bad_signature", f"{name}: exactly one signature labelled {LABEL!r}")
    return members[LABEL]


def _check_components(items: tuple[str, ...]) -> None:
    if len(set(items)) != len(items):
        raise AuthError("bad_signature", "a covered component is listed twice")
    for item in items:
        if not (item in _DERIVED or (item and set(item) <= set(_HEADER_NAME))):
            raise AuthError("bad_signature", f"unsupported covered component {item!r}")
    covers_target = "@target-uri" in items or {"@path", "@query"} <= set(items)
    if "@method" not in items or "content-digest" not in items or not covers_target:
        raise AuthError(
            "bad_signature",
            "the signature must cover @method, the target (@path and @query) and content-digest",
        )


class SignatureVerifier:
    """Checks a request's kiosk signature; `verify` returns the kiosk's registry entry."""

    def __init__(
        self,
        registry: KioskRegistry,
        *,
        window_s: float = 300,
        clock: Callable[[], float] = time.time,
        replay_cache: ReplayCache | None = None,
    ) -> None:
        self.registry = registry
        self.window_s = window_s
        self._clock = clock
        self._replays = replay_cache if replay_cache is not None else ReplayCache()

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> KioskKey:
        """The signing kiosk; AuthError (never anything else) for any request it refuses."""
        signature_input = _header(headers, "signature-input")
        signature_header = _header(headers, "signature")
        if signature_input is None and signature_header is None:
            raise AuthError("unauthenticated", "the request is not signed by a kiosk")
        params = _one(signature_input, parse_inner_lists, "Signature-Input")
        signature = _one(signature_header, parse_byte_sequences, "Signature")
        assert isinstance(params, InnerList) and isinstance(signature, bytes)
        _check_components(params.items)
        values = dict(params.params)
        if set(values) - _KNOWN_PARAMS:
            raise AuthError("bad_signature", "unknown signature parameters")
        keyid, created, nonce = values.get("keyid"), values.get("created"), values.get("nonce")
        if values.get("alg") != ALGORITHM:
            raise AuthError("bad_signature", 'alg must be "ed25519"')
        if not isinstance(keyid, str) or not isinstance(created, int):
            raise AuthError("bad_signature", "keyid (string) and created (integer) are required")
        if not isinstance(nonce, str) or not 8 <= len(nonce) <= 128:
            raise AuthError("bad_signature", "nonce: a string of 8-128 characters is required")
        kiosk = self.registry.get(keyid)
        if kiosk is None:
            raise AuthError("unknown_kiosk", "this kiosk is not enrolled")
        now = self._clock()
        if abs(now - created) > self.window_s:
            raise AuthError("stale_signature", "the signature's time is outside the clock window")
        expires = values.get("expires")
        if expires is not None and (not isinstance(expires, int) or expires < now):
            raise AuthError("stale_signature", "the signature has expired")
        self._check_digest(headers, body)
        self._check_signature(kiosk, signature, signature_base(method, url, headers, params))
        if kiosk.revoked:
            raise AuthError("revoked", "this kiosk's key has been revoked")
        if not self._replays.check_and_store(f"{keyid}\n{nonce}", created + self.window_s, now):
            raise AuthError("replayed", "this signed request was already received")
        return kiosk

    @staticmethod
    def _check_digest(headers: Mapping[str, str], body: bytes) -> None:
        header = _header(headers, "content-digest")
        if header is None:
            raise AuthError("bad_signature", "Content-Digest is missing")
        try:
            digests = parse_byte_sequences(header)
        except SfvError as exc:
            raise AuthError("bad_signature", f"Content-Digest: {exc}") from exc
        expected = hashlib.sha256(body).digest()
        if not hmac.compare_digest(digests.get("sha-256", b""), expected):
            raise AuthError("bad_signature", "the body does not match its Content-Digest (sha-256)")

    @staticmethod
    def _check_signature(kiosk: KioskKey, signature: bytes, base: bytes) -> None:
        try:
            decode_public_key(kiosk.public_key).verify(signature, base)
        except (InvalidSignature, RegistryError) as exc:
            raise AuthError("bad_signature", "the signature does not verify") from exc

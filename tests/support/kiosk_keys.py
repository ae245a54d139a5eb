"""Kiosk credentials for tests: signers with fresh keys, and registries that know them.

`test_signer` / `test_registry` are for tests about one or two kiosks. `TEST_KIOSKS` is for the
many older tests that speak as whichever kiosk their request names (`kiosk_id` in the JSON body
or the query): it signs as that kiosk, enrolling a key for it the first time, so those tests keep
exercising what they were written for (person_refs bound to a kiosk, ...) through real signatures.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Generator
from typing import TypeVar

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from trust.keys import KIOSK_ID, KioskKey, KioskRegistry
from trust.signing import KioskSigner

DEFAULT_KIOSK = "KIOSK-TEST-001"


def test_signer(
    kiosk_id: str = DEFAULT_KIOSK, *, clock: Callable[[], float] = time.time
) -> KioskSigner:
    """A signer for `kiosk_id` with a new Ed25519 key (in memory only)."""
    return KioskSigner(kiosk_id, Ed25519PrivateKey.generate(), clock=clock)


def test_registry(*signers: KioskSigner, site: str = "TEST-SITE") -> KioskRegistry:
    """An in-memory registry with each signer's kiosk enrolled."""
    return KioskRegistry.in_memory(
        KioskKey(signer.kiosk_id, signer.public_key, site) for signer in signers
    )


test_signer.__test__ = False  # type: ignore[attr-defined]  # helpers, not tests
test_registry.__test__ = False  # type: ignore[attr-defined]


class ClaimedKiosks(httpx.Auth):
    """Signs each request as the kiosk it names (else `default`), enrolled in `.registry`.

    Keys are derived from the kiosk id (test keys only!): another process signing as the same
    kiosk needs no key handed over, only `signer(kiosk_id)` called where the registry lives.
    """

    requires_request_body = True

    def __init__(self, default: str = DEFAULT_KIOSK) -> None:
        self.default = default
        self.registry = KioskRegistry.in_memory()
        self._signers: dict[str, KioskSigner] = {}

    def signer(self, kiosk_id: str) -> KioskSigner:
        """The kiosk's signer, enrolled the first time it is asked for."""
        if kiosk_id not in self._signers:
            # Derived from the id, so a forked or spawned kiosk process signs with the same key.
            seed = hashlib.sha256(f"test kiosk key:{kiosk_id}".encode()).digest()
            signer = KioskSigner(kiosk_id, Ed25519PrivateKey.from_private_bytes(seed))
            self.registry.enroll(kiosk_id, signer.public_key, site="TEST-SITE")
            self._signers[kiosk_id] = signer
        return self._signers[kiosk_id]

    def _claimed(self, request: httpx.Request) -> str:
        claimed = request.url.params.get("kiosk_id")
        if claimed is None and request.content:
            try:
                document = json.loads(request.content)
            except ValueError:
                document = None
            if isinstance(document, dict) and isinstance(document.get("kiosk_id"), str):
                claimed = document["kiosk_id"]
        return claimed if claimed is not None and KIOSK_ID.match(claimed) else self.default

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        signer = self.signer(self._claimed(request))
        request.headers.update(
            signer.headers_for(request.method, str(request.url), request.content)
        )
        yield request


TEST_KIOSKS = ClaimedKiosks()

C = TypeVar("C", bound=httpx.Client)


def signed(client: C, kiosks: ClaimedKiosks = TEST_KIOSKS) -> C:
    """`client` (a TestClient, say) with every request signed as its claimed kiosk."""
    client.auth = kiosks
    return client

"""The real kiosk client against the real reference service, in this process (no sockets).

Journey tests use this instead of hand-made fakes, so a drifting shape fails here first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from fastapi.testclient import TestClient

from central.app import create_app
from kiosk.central import NO_RETRY, CentralClient
from tests.support.central_auth import UNLIMITED
from tests.support.kiosk_keys import TEST_KIOSKS


@contextmanager
def central_client(
    kiosk_id: str = "KIOSK-T-1", *, clock=None, db_url: str = "sqlite://"
) -> Iterator[tuple[CentralClient, TestClient]]:
    """A `CentralClient` whose HTTP goes straight into a fresh reference service app."""
    kwargs = {} if clock is None else {"clock": clock}
    app = create_app(
        db_url,
        public_base_url="https://zwfw.example.gov.cn",
        kiosk_registry=TEST_KIOSKS.registry,
        auth_settings=UNLIMITED,
        **kwargs,
    )
    with TestClient(app) as http:
        client = CentralClient(
            "http://testserver",
            kiosk_id=kiosk_id,
            transport=http._transport,
            retry=NO_RETRY,
            auth=TEST_KIOSKS.signer(kiosk_id),  # signed as a real kiosk signs, one key
        )
        try:
            yield client, http
        finally:
            client.close()


def utc(clock) -> datetime:
    return clock.now()

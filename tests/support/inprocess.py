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


@contextmanager
def central_client(
    kiosk_id: str = "KIOSK-T-1", *, clock=None, db_url: str = "sqlite://"
) -> Iterator[tuple[CentralClient, TestClient]]:
    """A `CentralClient` whose HTTP goes straight into a fresh reference service app."""
    kwargs = {} if clock is None else {"clock": clock}
    app = create_app(db_url, public_base_url="https://zwfw.example.gov.cn", **kwargs)
    with TestClient(app) as http:
        client = CentralClient(
            "http://testserver", kiosk_id=kiosk_id, transport=http._transport, retry=NO_RETRY
        )
        try:
            yield client, http
        finally:
            client.close()


def utc(clock) -> datetime:
    return clock.now()

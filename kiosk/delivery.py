"""How outbox messages reach the central service, and how its errors map to retry decisions."""

from __future__ import annotations

from typing import Any

from kiosk.central import CentralClient, CentralProtocolError, CentralRejected, CentralUnavailable
from kiosk.flows.apply import KIND as APPLICATION
from kiosk.outbox import PermanentDeliveryError, Sender, TransientDeliveryError


def central_sender(central: CentralClient) -> Sender:
    """A sender for every outbox kind the central service accepts."""

    def send(kind: str, payload: dict[str, Any], idempotency_key: str) -> None:
        try:
            if kind == "rating":
                central.submit_rating(payload, idempotency_key)
            elif kind == APPLICATION:
                central.submit_application(payload, idempotency_key)
            else:
                raise PermanentDeliveryError(f"the central service takes no {kind!r} messages")
        except CentralUnavailable as exc:
            raise TransientDeliveryError(str(exc)) from None
        except CentralProtocolError as exc:
            # A garbled answer may hide a success; the idempotency key makes a retry safe.
            raise TransientDeliveryError(str(exc)) from None
        except CentralRejected as exc:
            # Status and code only: the service's wording may echo what was sent.
            raise PermanentDeliveryError(f"HTTP {exc.status_code} {exc.code}") from None

    return send

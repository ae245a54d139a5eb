"""申请: an application made at the kiosk, made durable in the outbox before "received" is said.

The outbox row is the application: written in one transaction with its idempotency key (fsync'd,
the store runs `synchronous=FULL`), then delivered at least once; the central service applies each
key once. Everything personal in it (the applicant's and agent's identity, the fields, the
document photos) is encrypted at rest by the outbox and purged once delivered.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drivers.printer import Cut, Feed, Qr, Receipt, Text
from kiosk.central import CentralError, CentralRejected, CentralUnavailable
from kiosk.flows.receipts import print_or_explain
from kiosk.i18n import translator
from kiosk.tasks import UserFacingError

KIND = "application"


@dataclass(frozen=True, repr=False)
class Person:
    """Someone named in an application: the applicant (委托人) or the agent (代办人)."""

    name: str
    id_number: str
    card_type: str = "resident"
    person_ref: str | None = None

    def wire(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "id_number": self.id_number,
            "card_type": self.card_type,
            "person_ref": self.person_ref,
        }


@dataclass(frozen=True, repr=False)
class Agent:
    """Who applies on the applicant's behalf (代办), and how they are related."""

    person: Person
    relation: str

    def wire(self) -> dict[str, Any]:
        return {**self.person.wire(), "relation": self.relation}


@dataclass(frozen=True, repr=False)
class Attachment:
    """One captured material: the straightened page as JPEG."""

    code: str
    jpeg: bytes

    def wire(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "content_type": "image/jpeg",
            "data": base64.b64encode(self.jpeg).decode("ascii"),
        }


@dataclass(frozen=True, repr=False)
class Application:
    """What the resident confirmed on the review screen. Personal data: never logged."""

    idempotency_key: str
    item_code: str
    kiosk_id: str
    applicant: Person
    fields: dict[str, str]
    documents: tuple[Attachment, ...] = ()
    agent: Agent | None = None
    assisted_by: str | None = None  # a staff member's number (帮办)
    face_check_id: str | None = None

    def __repr__(self) -> str:
        return f"Application({self.item_code}, key={self.idempotency_key[:8]})"

    def payload(self) -> dict[str, Any]:
        """The outbox payload, which is also the body sent to `POST /applications`."""
        return {
            "item_code": self.item_code,
            "kiosk_id": self.kiosk_id,
            "applicant": self.applicant.wire(),
            "agent": self.agent.wire() if self.agent is not None else None,
            "assisted_by": self.assisted_by,
            "fields": dict(self.fields),
            "documents": [d.wire() for d in self.documents],
            "face_check_id": self.face_check_id,
        }


def queue_application(outbox: Any, application: Application) -> bool:
    """Make the application durable; returns False when that key was already queued.

    Only after this returns may the resident be told the application was received. A failure
    (database locked or full) raises `kiosk.store.StoreWriteError`, and the resident is told it
    was NOT received.
    """
    return bool(
        outbox.put(KIND, application.payload(), idempotency_key=application.idempotency_key)
    )


# ---- the first delivery, while the resident waits -------------------------------------------


@dataclass(frozen=True)
class SubmitJob:
    """What the submitting step needs besides the application itself."""

    site_name: str
    kiosk_id: str
    now: datetime
    item_name: str
    language: str = "zh_CN"


@dataclass(frozen=True, repr=False)
class SubmitOutcome:
    """The service's receipt, or `queued` when it could not be reached (the outbox sends it)."""

    receipt: Any = None
    queued: bool = False
    print_problem: str | None = None


def submit_now(
    central: Any, outbox: Any, printer: Any, application: Application, job: SubmitJob
) -> SubmitOutcome:
    """Try the first delivery while the resident waits, then print the receipt.

    The application is already durable in the outbox. An unreachable service is not a failure
    for the resident: the receipt says it is queued and will be sent. A rejection (the service
    says the application is wrong) is shown, and the outbox row is discarded, since the resident
    was never told it was received and will correct it.
    """
    try:
        receipt = central.submit_application(application.payload(), application.idempotency_key)
    except CentralRejected as exc:
        outbox.discard(application.idempotency_key)
        problem = _REJECTIONS.get(exc.code, "application_rejected")
        raise UserFacingError(problem) from None
    except CentralUnavailable:
        outcome = SubmitOutcome(queued=True)
    except CentralError:  # a garbled answer may hide a success: the outbox retries
        outcome = SubmitOutcome(queued=True)
    else:
        outbox.mark_delivered_key(application.idempotency_key)
        outcome = SubmitOutcome(receipt=receipt)
    try:
        print_or_explain(printer, build_receipt(application, outcome, job))
    except UserFacingError as exc:
        return SubmitOutcome(outcome.receipt, outcome.queued, str(exc))
    return outcome


# Rejections a resident can act on, by the service's error code.
_REJECTIONS = {
    "application_invalid": "application_fields_rejected",
    "applicant_not_verified": "applicant_not_verified",
    "agent_not_verified": "identity_not_found",
    "agent_not_allowed": "agent_not_allowed",
    "face_check_required": "face_check_required",
    "face_check_failed": "face_check_required",
}


def build_receipt(application: Application, outcome: SubmitOutcome, job: SubmitJob) -> Receipt:
    """受理回执: the tracking number and its QR code, or "queued" with a code to find it later."""
    _ = translator(job.language)
    lines: list[Any] = [
        Text(job.site_name, align="center"),
        Text(_("Application receipt"), bold=True, double=True, align="center"),
        Feed(1),
        Text(job.item_name),
        # The resident's own receipt names the applicant in full, as a window's 受理回执 does.
        Text(_("Applicant: {name}").format(name=application.applicant.name)),
    ]
    if outcome.receipt is not None:
        number = outcome.receipt.tracking_no
        lines += [
            Text(_("Tracking number: {no}").format(no=number), bold=True),
            Text(_("Scan this code at a kiosk to follow your application")),
            Qr(f"CASE:{number}", size=6),
        ]
    else:
        lines += [
            Text(_("Your application is saved and will be sent when the service is back.")),
            Text(_("Scan this code at a kiosk later to get your tracking number")),
            Qr(f"APP:{application.idempotency_key}", size=6),
        ]
    if application.agent is not None:
        lines.append(Text(_("Applied for by an agent")))
    if application.assisted_by:
        lines.append(Text(_("Assisted by staff")))
    lines += [
        Text(
            _("Kiosk: {kiosk}  {time}").format(kiosk=job.kiosk_id, time=f"{job.now:%Y-%m-%d %H:%M}")
        ),
        Feed(3),
        Cut(),
    ]
    return Receipt(tuple(lines))

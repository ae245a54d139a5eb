"""Print a certificate: issue it at the central service, then print it as a receipt."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drivers.printer import Cut, Feed, PaperOut, PrinterError, Qr, Receipt, Text
from kiosk.central import CentralError
from kiosk.device_manager import DeviceUnavailable
from kiosk.flows.identify import user_error
from kiosk.tasks import UserFacingError

_KEY_NAMESPACE = uuid.UUID("6f1c2d1e-4b7a-4f7e-9a53-6b1f0c6a2e10")


@dataclass(frozen=True)
class PrintJob:
    """Everything a print needs, captured on the machine's thread."""

    item_code: str
    person_ref: str
    idempotency_key: str
    kiosk_id: str
    site_name: str
    now: datetime


def idempotency_key(session_id: str, item_code: str) -> str:
    """The same session printing the same item twice gets the same certificate, not two."""
    return str(uuid.uuid5(_KEY_NAMESPACE, f"{session_id}/{item_code}"))


def build_receipt(certificate: Any, job: PrintJob) -> Receipt:
    """Lay a certificate out on 80 mm thermal paper."""
    elements: list[Any] = [
        Text(job.site_name, align="center"),
        Text(certificate.title, bold=True, double=True, align="center"),
        Feed(1),
        Text(f"证明编号: {certificate.certificate_no}"),
    ]
    elements += [Text(f"{line.label}: {line.value}") for line in certificate.lines]
    elements += [
        Feed(1),
        Text("扫码核验真伪", align="center"),
        Qr(certificate.verify_url, size=6),
        Text(f"核验码: {certificate.verify_code}", align="center"),
        Text(f"终端: {job.kiosk_id}  {job.now:%Y-%m-%d %H:%M}", align="center"),
        Feed(3),
        Cut(),
    ]
    return Receipt(tuple(elements))


def run(central: Any, printer: Any, job: PrintJob) -> Any:
    """Issue and print; returns the certificate. Errors come out as safe user-facing messages."""
    try:
        certificate = central.issue_certificate(job.item_code, job.person_ref, job.idempotency_key)
    except CentralError as exc:
        raise user_error(exc) from None
    try:
        printer.print_receipt(build_receipt(certificate, job))
    except PaperOut:
        raise UserFacingError("printer_paper_out") from None
    except (PrinterError, DeviceUnavailable):
        raise UserFacingError("printer_unavailable", retryable=True) from None
    return certificate

"""print: issue a certificate at the central service, then print it on the receipt printer, or
fetch its PDF for a preview and print that on A4 through the document printer.

Issuing is idempotent per session and item, so a retry after paper ran out prints the same
certificate again instead of issuing a second one."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drivers.docprinter.errors import (
    DocumentPrinterError,
    JobFailedError,
    PrinterNotReadyError,
)
from drivers.printer import Cut, Feed, Qr, Receipt, Text
from drivers.state import PaperState
from kiosk.central import CentralClient, CentralError
from kiosk.device_manager import DeviceUnavailable
from kiosk.flows.identify import user_error
from kiosk.flows.receipts import print_or_explain
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


def run(central: CentralClient, printer: Any, job: PrintJob) -> Any:
    """Issue and print; returns the certificate. Errors come out as safe user-facing messages."""
    try:
        certificate = central.issue_certificate(job.item_code, job.person_ref, job.idempotency_key)
    except CentralError as exc:
        raise user_error(exc) from None
    print_or_explain(printer, build_receipt(certificate, job))
    return certificate


@dataclass(frozen=True)
class Document:
    """An issued certificate and its PDF, kept in the session for the preview and retries."""

    certificate: Any
    pdf: bytes

    def __repr__(self) -> str:
        return f"Document({self.certificate.certificate_no}, {len(self.pdf)} bytes)"


def prepare(central: CentralClient, job: PrintJob) -> Document:
    """Issue the certificate and fetch its A4 PDF (nothing is printed yet)."""
    try:
        certificate = central.issue_certificate(job.item_code, job.person_ref, job.idempotency_key)
        pdf = central.certificate_pdf(certificate.certificate_no, certificate.verify_code)
    except CentralError as exc:
        raise user_error(exc) from None
    return Document(certificate, pdf)


def print_document(
    documents: Any, document: Document, on_progress: Callable[[str], None] | None = None
) -> Any:
    """Send the PDF to the document printer and follow it to the end; returns the certificate."""
    if documents is None:
        raise UserFacingError("printer_unavailable", retryable=True)
    try:
        documents.print_pdf(document.pdf, title=document.certificate.title, on_progress=on_progress)
    except PrinterNotReadyError as exc:
        out = getattr(exc, "status", None) is not None and exc.status.paper == PaperState.OUT
        reason = "printer_paper_out" if out else "printer_unavailable"
        raise UserFacingError(reason, retryable=True) from None
    except JobFailedError as exc:
        # IPP's printer-state-reasons keyword for an empty tray is media-empty.
        reason = "printer_paper_out" if "media-empty" in str(exc) else "printer_job_failed"
        raise UserFacingError(reason, retryable=True) from None
    except (DocumentPrinterError, DeviceUnavailable):
        raise UserFacingError("printer_unavailable", retryable=True) from None
    return document.certificate

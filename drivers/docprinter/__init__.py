"""A4 document printer through CUPS: PDFs checked, submitted to a queue and followed to the end.

Public API (import from here):

    open_document_printer, DocumentPrinterDevice          cups://QUEUE[?server=...] -> device
    PrintJob, JobOutcome, JobState                        a submitted job and what became of it
    check_pdf, PdfInfo                                    the light PDF check done before sending
    DocumentPrinterError and its subclasses               what can go wrong (see errors.py)

Modules: `pdf` (pure checks over bytes), `jobs` and `status` (IPP attributes to typed values,
pure), `ipp` (IPP messages to and from bytes, pure), `cups_client` (the transport: IPP over
HTTP with httpx, to cupsd's socket or a host), `printer` (the device). Tests drive a real cupsd
with a cups-pdf queue (tests/support/cups.py); there is no separate simulator.
"""

from drivers.docprinter.errors import (
    DocumentPrinterConfigError,
    DocumentPrinterError,
    JobFailedError,
    JobTimeoutError,
    NotAPdfError,
    PrinterNotReadyError,
    PrinterUnavailableError,
    QueueNotFoundError,
)
from drivers.docprinter.jobs import JobOutcome, JobState, PrintJob
from drivers.docprinter.pdf import DEFAULT_MAX_BYTES, PdfInfo, check_pdf
from drivers.docprinter.printer import (
    DEFAULT_OPTIONS,
    DocumentPrinterDevice,
    open_document_printer,
)
from drivers.docprinter.status import PrinterState, printer_status

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_OPTIONS",
    "DocumentPrinterConfigError",
    "DocumentPrinterDevice",
    "DocumentPrinterError",
    "JobFailedError",
    "JobOutcome",
    "JobState",
    "JobTimeoutError",
    "NotAPdfError",
    "PdfInfo",
    "PrintJob",
    "PrinterNotReadyError",
    "PrinterState",
    "PrinterUnavailableError",
    "QueueNotFoundError",
    "check_pdf",
    "open_document_printer",
    "printer_status",
]

"""Printing a receipt from a flow: the printer's failures as messages a resident can be shown."""

from __future__ import annotations

from typing import Any

from drivers.printer import PaperOut, PrinterError, Receipt
from kiosk.device_manager import DeviceUnavailable
from kiosk.tasks import UserFacingError


def print_or_explain(printer: Any, receipt: Receipt) -> None:
    """Print `receipt`, or raise a `UserFacingError` naming what went wrong."""
    try:
        printer.print_receipt(receipt)
    except PaperOut:
        raise UserFacingError("printer_paper_out") from None
    except (PrinterError, DeviceUnavailable):
        raise UserFacingError("printer_unavailable", retryable=True) from None

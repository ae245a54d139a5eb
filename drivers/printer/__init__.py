"""Receipt printer: a document model, ESC/POS out (python-escpos) and back in, and a simulator.

Public API (import from here):

    Receipt, Text, Qr, Feed, Cut, ReceiptBuilder, selftest_receipt      the document
    open_receipt_printer, ReceiptPrinterDevice, device_status           the uniform device face
    ReceiptPrinter, open_escpos, render_escpos                          the driver
    PaperTracker, PaperUsage, receipt_length, ReceiptLength             paper counting
    PrinterStatus, PaperLevel, DeviceState                              DLE EOT status
    PrinterError and its subclasses                                     what can go wrong
    decode_escpos, DecodedJob, EscPosDecodeError                        bytes back to a document

The simulator (`drivers.printer.simulator`) and the PNG renderer (`drivers.printer.render`) are
imported on their own, so the kiosk does not load Pillow drawing code it does not use.
"""

from drivers.printer.device import ReceiptPrinterDevice, device_status, open_receipt_printer
from drivers.printer.escpos_decode import DecodedJob, EscPosDecodeError, decode_escpos
from drivers.printer.escpos_printer import (
    CoverOpen,
    PaperOut,
    PrinterConfigError,
    PrinterError,
    PrinterHardwareError,
    PrinterNeedsAttention,
    PrinterOffline,
    PrinterProtocolError,
    PrinterTimeout,
    ReceiptNotPrintable,
    ReceiptPrinter,
    open_escpos,
    render_escpos,
)
from drivers.printer.paper import PaperTracker, PaperUsage, ReceiptLength, receipt_length
from drivers.printer.receipt import Cut, Feed, Qr, Receipt, ReceiptBuilder, Text, selftest_receipt
from drivers.printer.status import DeviceState, PaperLevel, PrinterStatus

__all__ = [
    "CoverOpen",
    "Cut",
    "DecodedJob",
    "DeviceState",
    "EscPosDecodeError",
    "Feed",
    "PaperLevel",
    "PaperOut",
    "PaperTracker",
    "PaperUsage",
    "PrinterConfigError",
    "PrinterError",
    "PrinterHardwareError",
    "PrinterNeedsAttention",
    "PrinterOffline",
    "PrinterProtocolError",
    "PrinterStatus",
    "PrinterTimeout",
    "Qr",
    "Receipt",
    "ReceiptBuilder",
    "ReceiptLength",
    "ReceiptNotPrintable",
    "ReceiptPrinter",
    "ReceiptPrinterDevice",
    "Text",
    "decode_escpos",
    "device_status",
    "open_escpos",
    "open_receipt_printer",
    "receipt_length",
    "render_escpos",
    "selftest_receipt",
]

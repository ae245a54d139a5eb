"""Receipt printer: a document model, ESC/POS out (python-escpos) and back in, and a simulator.

Public API (import from here):

    Receipt, Text, Qr, Feed, Cut, ReceiptBuilder, selftest_receipt      the document
    ReceiptPrinter, open_escpos, render_escpos                          the driver
    PrinterStatus, PaperLevel, DeviceState                              DLE EOT status
    PrinterError and its subclasses                                     what can go wrong
    decode_escpos, DecodedJob, EscPosDecodeError                        bytes back to a document

The simulator (`drivers.printer.simulator`) and the PNG renderer (`drivers.printer.render`) are
imported on their own, so the kiosk does not load Pillow drawing code it does not use.
"""

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
    "ReceiptNotPrintable",
    "ReceiptPrinter",
    "Text",
    "decode_escpos",
    "open_escpos",
    "render_escpos",
    "selftest_receipt",
]

"""``kiosk diag print-test``: print the self-test receipt, for technicians checking a printer.

Exit codes: 0 printed (a paper-low warning still counts as printed); 1 the printer needs a person
(paper out, cover open, cutter or other hardware fault); 2 the printer cannot be used from here
(bad URL or profile, not reachable, no answer, garbled answer). Errors are one line on stderr,
in Chinese and English, never a traceback.

``--status`` prints nothing on paper: it asks the printer (DLE EOT) and shows the device status
of the shared model (``--json`` for one JSON object), with the same exit codes.
"""

from __future__ import annotations

import argparse
import socket
from collections.abc import Callable
from datetime import datetime

from drivers.printer import (
    PaperLevel,
    PrinterError,
    PrinterNeedsAttention,
    PrinterStatus,
    ReceiptPrinter,
    open_receipt_printer,
    selftest_receipt,
)
from drivers.state import DeviceState, DeviceStatus
from kiosk.diag.command import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    INVALID_OPTION,
    CommandFailed,
    DiagCommand,
    Failure,
    Output,
    Timeout,
    status_extras,
)

EXIT_ATTENTION = EXIT_FAILED
EXIT_UNUSABLE = EXIT_USAGE


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kiosk-id",
        default=socket.gethostname(),
        help="printed on the receipt (default: this host's name)",
    )
    parser.add_argument("--profile", help="python-escpos printer profile (default: generic)")
    parser.add_argument(
        "--status", action="store_true", help="only ask the printer how it is; print nothing"
    )


COMMAND = DiagCommand(
    "print-test",
    help="打印自检小票 / print the self-test receipt",
    description="打印自检小票 / print the self-test receipt (Chinese text, QR code, cut)",
    epilog="exit codes: 0 printed, 1 printer needs attention, 2 printer unusable",
    url="--printer",
    url_help="tcp://host:9100, serial:///dev/ttyUSB0?baud=19200, usb://04b8:0e15 or file:///path",
    timeout=Timeout(5.0, help="connect and answer timeout (default {default:g})"),
    failures=(
        Failure(ValueError, EXIT_UNUSABLE, INVALID_OPTION),  # a kiosk id with control characters
    ),
    options=_options,
)
COMMANDS = (COMMAND,)


@COMMAND
def run(
    args: argparse.Namespace,
    output: Output,
    now: Callable[[], datetime] = lambda: datetime.now().astimezone(),
) -> int:
    """Print the self-test receipt as `args` says and return the exit code."""
    if args.status:
        return _status(args, output)
    receipt = selftest_receipt(args.kiosk_id, now())
    try:
        printer = ReceiptPrinter(args.printer, profile=args.profile, timeout=args.timeout)
        status = printer.print_receipt(receipt)
    except PrinterError as exc:
        code = EXIT_ATTENTION if isinstance(exc, PrinterNeedsAttention) else EXIT_UNUSABLE
        raise CommandFailed(code, "打印测试失败 / print test failed", exc.bilingual()) from exc
    output.line(f"打印测试完成 / print test done on {args.printer}: {_describe(status)}")
    if status.warnings:
        output.warn("警告：打印纸将用尽 / warning: paper low, change the roll soon")
    return EXIT_OK


_STATE_ZH = {
    DeviceState.ONLINE: "正常",
    DeviceState.OFFLINE: "离线",
    DeviceState.BUSY: "忙",
    DeviceState.HARDWARE_ERROR: "硬件故障",
    DeviceState.USER_ERROR: "需要处理",
    DeviceState.NO_DEVICE: "未配置",
}


def _status(args: argparse.Namespace, output: Output) -> int:
    """Ask the printer and print its `DeviceStatus`; exit code from its state."""
    try:
        device = open_receipt_printer(args.printer, profile=args.profile, timeout=args.timeout)
        device.open()
    except PrinterError as exc:
        summary = "打印机状态读取失败 / printer status failed"
        raise CommandFailed(EXIT_UNUSABLE, summary, exc.bilingual()) from exc
    status = device.status()
    if args.json:
        output.json(status.as_dict())
    else:
        output.line(_describe_device(status))
    if status.state is DeviceState.OFFLINE:
        return EXIT_UNUSABLE
    return EXIT_OK if status.usable else EXIT_ATTENTION


def _describe_device(status: DeviceStatus) -> str:
    words = [f"{_STATE_ZH.get(status.state, '')} / {status.state.value}", *status_extras(status)]
    return "打印机状态 / printer status: " + ", ".join(words)


def _describe(status: PrinterStatus) -> str:
    if not status.known:
        return "状态未知 / status unknown (this transport cannot read the printer)"
    paper = {PaperLevel.FULL: "纸充足", PaperLevel.LOW: "纸将用尽", PaperLevel.OUT: "缺纸"}
    return f"{paper.get(status.paper, '纸况未知')} / {status.describe()}"


add_parser, build_parser, main = COMMAND.add_parser, COMMAND.build_parser, COMMAND.main

if __name__ == "__main__":
    raise SystemExit(main())

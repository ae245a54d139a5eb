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
import json
import socket
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TextIO

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

EXIT_OK = 0
EXIT_ATTENTION = 1
EXIT_UNUSABLE = 2


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``print-test`` on the ``kiosk diag`` subparsers; the caller then calls `run`."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "print-test",
        help="打印自检小票 / print the self-test receipt",
        description="打印自检小票 / print the self-test receipt (Chinese text, QR code, cut)",
        epilog="exit codes: 0 printed, 1 printer needs attention, 2 printer unusable",
    )
    configure_parser(parser)
    parser.set_defaults(func=run)
    return parser


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the command's options to `parser`."""
    parser.add_argument(
        "--printer",
        required=True,
        metavar="URL",
        help="tcp://host:9100, serial:///dev/ttyUSB0?baud=19200, usb://04b8:0e15 or file:///path",
    )
    parser.add_argument(
        "--kiosk-id",
        default=socket.gethostname(),
        help="printed on the receipt (default: this host's name)",
    )
    parser.add_argument(
        "--timeout", type=float, default=5.0, metavar="SECONDS", help="connect and answer timeout"
    )
    parser.add_argument("--profile", help="python-escpos printer profile (default: generic)")
    parser.add_argument(
        "--status", action="store_true", help="only ask the printer how it is; print nothing"
    )
    parser.add_argument("--json", action="store_true", help="with --status: one JSON object")


def run(
    args: argparse.Namespace,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    now: Callable[[], datetime] = lambda: datetime.now().astimezone(),
) -> int:
    """Print the self-test receipt as `args` says and return the exit code."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    if args.timeout <= 0:
        print("参数无效 / invalid option: --timeout must be positive", file=err)
        return EXIT_UNUSABLE
    if getattr(args, "status", False):
        return _status(args, out, err)
    try:
        receipt = selftest_receipt(args.kiosk_id, now())
        printer = ReceiptPrinter(args.printer, profile=args.profile, timeout=args.timeout)
        status = printer.print_receipt(receipt)
    except PrinterError as exc:
        print(f"打印测试失败 / print test failed: {exc.bilingual()}", file=err)
        return EXIT_ATTENTION if isinstance(exc, PrinterNeedsAttention) else EXIT_UNUSABLE
    except ValueError as exc:  # a kiosk id that cannot be printed (control characters)
        print(f"参数无效 / invalid option: {exc}", file=err)
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        return 130
    print(f"打印测试完成 / print test done on {args.printer}: {_describe(status)}", file=out)
    if status.warnings:
        print("警告：打印纸将用尽 / warning: paper low, change the roll soon", file=err)
    return EXIT_OK


_STATE_ZH = {
    DeviceState.ONLINE: "正常",
    DeviceState.OFFLINE: "离线",
    DeviceState.BUSY: "忙",
    DeviceState.HARDWARE_ERROR: "硬件故障",
    DeviceState.USER_ERROR: "需要处理",
    DeviceState.NO_DEVICE: "未配置",
}


def _status(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Ask the printer and print its `DeviceStatus`; exit code from its state."""
    try:
        device = open_receipt_printer(args.printer, profile=args.profile, timeout=args.timeout)
        device.open()
    except PrinterError as exc:
        print(f"打印机状态读取失败 / printer status failed: {exc.bilingual()}", file=err)
        return EXIT_UNUSABLE
    status = device.status()
    if args.json:
        print(json.dumps(status.as_dict(), ensure_ascii=False), file=out)
    else:
        print(_describe_device(status), file=out)
    if status.state is DeviceState.OFFLINE:
        return EXIT_UNUSABLE
    return EXIT_OK if status.usable else EXIT_ATTENTION


def _describe_device(status: DeviceStatus) -> str:
    parts = [f"{_STATE_ZH.get(status.state, '')} / {status.state.value}"]
    if status.paper is not None:
        parts.append(f"paper {status.paper.value}")
    if status.cover_open:
        parts.append("cover open")
    if status.reason:
        parts.append(status.reason)
    return "打印机状态 / printer status: " + ", ".join(parts)


def _describe(status: PrinterStatus) -> str:
    if not status.known:
        return "状态未知 / status unknown (this transport cannot read the printer)"
    paper = {PaperLevel.FULL: "纸充足", PaperLevel.LOW: "纸将用尽", PaperLevel.OUT: "缺纸"}
    return f"{paper.get(status.paper, '纸况未知')} / {status.describe()}"


def build_parser() -> argparse.ArgumentParser:
    """A stand-alone parser equal to ``kiosk diag print-test`` (for `main` and tests)."""
    parser = argparse.ArgumentParser(prog="kiosk diag print-test", description=__doc__)
    configure_parser(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for running the command without the rest of the CLI."""
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())

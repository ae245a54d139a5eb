"""``kiosk diag print-pdf``: print a PDF on the A4 document printer and follow the job to its end.

Exit codes: 0 the job completed; 1 the printer needs a person or the job failed (paper out,
jam, cover open, aborted by the printer, not finished in time and canceled); 2 the printer or the
file cannot be used from here (bad URL or option, CUPS not reachable, no such queue, not a PDF).
Errors are one line on stderr, in Chinese and English, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from drivers.docprinter import (
    DocumentPrinterError,
    JobFailedError,
    PrinterNotReadyError,
    open_document_printer,
)
from kiosk.diag.common import driver_logging

EXIT_OK = 0
EXIT_ATTENTION = 1
EXIT_UNUSABLE = 2
DEFAULT_TIMEOUT = 120.0  # a long document on a cold laser printer takes a minute or more


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``print-pdf`` on the ``kiosk diag`` subparsers; the caller then calls `run`."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "print-pdf",
        help="用文档打印机打印PDF / print a PDF on the document printer",
        description="打印一个PDF文件并跟踪任务 / print a PDF through CUPS and follow the job",
        epilog="exit codes: 0 printed, 1 printer needs attention or job failed, 2 unusable",
    )
    configure_parser(parser)
    parser.set_defaults(func=run)
    return parser


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments and options to `parser`."""
    parser.add_argument("file", metavar="FILE", help="the PDF to print")
    parser.add_argument(
        "--printer",
        required=True,
        metavar="URL",
        help="cups://QUEUE, or cups://QUEUE?server=/run/cups/cups.sock (or host:port)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"cancel the job if it has not printed by then (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument("--copies", type=int, default=1, metavar="N", help="copies (default 1)")
    parser.add_argument("--title", help="job name shown by CUPS (default: the file name)")
    # Not --verbose: `kiosk -v` already uses that name for the whole command line.
    parser.add_argument("--trace", action="store_true", help="log driver events to stderr")


def run(
    args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Print the file as `args` says, report the job, and return the exit code."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    if args.timeout <= 0:
        print("参数无效 / invalid option: --timeout must be positive", file=err)
        return EXIT_UNUSABLE
    printer, job = None, None
    try:
        with _driver_logging(args, err):
            printer = open_document_printer(args.printer)
            # No open(): print_pdf checks the file first, then the queue, so a bad file is
            # named as such even when the printer is not there either.
            job = printer.print_pdf(
                Path(args.file), title=args.title or Path(args.file).name, copies=args.copies
            )
            pages = f", {job.pages} 页 pages" if job.pages is not None else ""
            print(f"已提交 / submitted: job {job.job_id} to {printer.url}{pages}", file=out)
            out.flush()  # the technician sees the job id while waiting
            outcome = printer.wait(job, args.timeout)
    except DocumentPrinterError as exc:
        print(f"打印失败 / print failed: {exc.bilingual()}", file=err)
        attention = isinstance(exc, PrinterNotReadyError | JobFailedError)
        return EXIT_ATTENTION if attention else EXIT_UNUSABLE
    except KeyboardInterrupt:
        if printer is not None and job is not None:
            with contextlib.suppress(DocumentPrinterError):  # a technician stopping a test print
                printer.cancel(job)
                print(f"已取消 / canceled: job {job.job_id}", file=err)
        return 130
    print(f"打印完成 / printed: {outcome.describe()}", file=out)
    return EXIT_OK


def _driver_logging(
    args: argparse.Namespace, err: TextIO
) -> contextlib.AbstractContextManager[None]:
    return driver_logging("drivers.docprinter", args, err)


def build_parser() -> argparse.ArgumentParser:
    """A stand-alone parser equal to ``kiosk diag print-pdf`` (for `main` and tests)."""
    parser = argparse.ArgumentParser(prog="kiosk diag print-pdf", description=__doc__)
    configure_parser(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for running the command without the rest of the CLI."""
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())

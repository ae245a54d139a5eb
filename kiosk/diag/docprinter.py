"""``kiosk diag print-pdf``: print a PDF on the A4 document printer and follow the job to its end.

Exit codes: 0 the job completed; 1 the printer needs a person or the job failed (paper out,
jam, cover open, aborted by the printer, not finished in time and canceled); 2 the printer or the
file cannot be used from here (bad URL or option, CUPS not reachable, no such queue, not a PDF).
Errors are one line on stderr, in Chinese and English, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from drivers.docprinter import (
    DocumentPrinterError,
    JobFailedError,
    PrinterNotReadyError,
    open_document_printer,
)
from kiosk.diag.command import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    CommandFailed,
    DiagCommand,
    Output,
    Timeout,
)

EXIT_ATTENTION = EXIT_FAILED
EXIT_UNUSABLE = EXIT_USAGE
DEFAULT_TIMEOUT = 120.0  # a long document on a cold laser printer takes a minute or more


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the PDF to print")
    parser.add_argument("--copies", type=int, default=1, metavar="N", help="copies (default 1)")
    parser.add_argument("--title", help="job name shown by CUPS (default: the file name)")


COMMAND = DiagCommand(
    "print-pdf",
    help="用文档打印机打印PDF / print a PDF on the document printer",
    description="打印一个PDF文件并跟踪任务 / print a PDF through CUPS and follow the job",
    epilog="exit codes: 0 printed, 1 printer needs attention or job failed, 2 unusable",
    url="--printer",
    url_help="cups://QUEUE, or cups://QUEUE?server=/run/cups/cups.sock (or host:port)",
    timeout=Timeout(
        DEFAULT_TIMEOUT, help="cancel the job if it has not printed by then (default {default:g})"
    ),
    json=False,
    logger="drivers.docprinter",
    options=_options,
)
COMMANDS = (COMMAND,)


@COMMAND
def run(args: argparse.Namespace, output: Output) -> int:
    """Print the file as `args` says, report the job, and return the exit code."""
    printer, job = None, None
    try:
        printer = open_document_printer(args.printer)
        # No open(): print_pdf checks the file first, then the queue, so a bad file is
        # named as such even when the printer is not there either.
        job = printer.print_pdf(
            Path(args.file), title=args.title or Path(args.file).name, copies=args.copies
        )
        pages = f", {job.pages} 页 pages" if job.pages is not None else ""
        output.line(f"已提交 / submitted: job {job.job_id} to {printer.url}{pages}")
        outcome = printer.wait(job, args.timeout)
    except DocumentPrinterError as exc:
        attention = isinstance(exc, PrinterNotReadyError | JobFailedError)
        code = EXIT_ATTENTION if attention else EXIT_UNUSABLE
        raise CommandFailed(code, "打印失败 / print failed", exc.bilingual()) from exc
    except KeyboardInterrupt:
        if printer is not None and job is not None:
            with contextlib.suppress(DocumentPrinterError):  # a technician stopping a test print
                printer.cancel(job)
                output.warn(f"已取消 / canceled: job {job.job_id}")
        return EXIT_INTERRUPTED
    output.line(f"打印完成 / printed: {outcome.describe()}")
    return EXIT_OK


add_parser, build_parser, main = COMMAND.add_parser, COMMAND.build_parser, COMMAND.main

if __name__ == "__main__":
    raise SystemExit(main())

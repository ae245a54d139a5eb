"""The scaffold every `kiosk diag` command stands on: shared options, one-line failures, exit codes.

A device module declares a `DiagCommand` (its name, help, which shared options it takes and which
driver exceptions mean what) and decorates the function that does the work; the scaffold gives
it `add_parser`, `build_parser`, `main` and a `run(args, *, stdout, stderr)` that validates the
timeout, mutes or shows the driver's log (``--trace``), and turns a known failure into one line
on stderr and an exit code, never a traceback.

Exit codes shared by all: 0 ok, 1 the check ran and failed (or the device needs a person),
2 unusable (bad option or URL, device not reachable). A command may add its own above 2 (an ID
card that cannot be read is 3), documented in its epilog.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from kiosk.privacy import RedactingFilter

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

INVALID_OPTION = "参数无效 / invalid option"

# The modules whose commands make up `kiosk diag`, in the order `--help` lists them.
COMMAND_MODULES = (
    "kiosk.diag.devices",
    "kiosk.diag.idcard",
    "kiosk.diag.printer",
    "kiosk.diag.docprinter",
    "kiosk.diag.qr",
    "kiosk.diag.smartcard",
    "kiosk.diag.camera",
)


class Output:
    """Where a command writes: its answer on `out`, problems on `err`, each a whole line."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out = out
        self.err = err

    def line(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def json(self, data: Any) -> None:
        """One JSON object on one line; Chinese written as is."""
        print(json.dumps(data, ensure_ascii=False), file=self.out, flush=True)

    def warn(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def fail(self, code: int, summary: str, detail: str = "") -> int:
        """One line on stderr: the summary, then the first line of the detail; returns `code`.

        Driver messages carry ports, counts and states, never personal data, so they are shown.
        """
        first = detail.strip().splitlines()[0] if detail.strip() else ""
        self.warn(f"{summary}: {first}" if first else summary)
        return code


class CommandFailed(Exception):
    """Raised by a command body to end with one line and an exit code."""

    def __init__(self, code: int, summary: str, detail: str = "") -> None:
        super().__init__(summary)
        self.code = code
        self.summary = summary
        self.detail = detail


Summary = str | Callable[[BaseException], str]


@dataclass(frozen=True)
class Failure:
    """Which exceptions end a command with which exit code and bilingual summary."""

    kinds: type[BaseException] | tuple[type[BaseException], ...]
    code: int
    summary: Summary
    detail: bool = True  # add the exception's message after the summary


@dataclass(frozen=True)
class Timeout:
    """The command's time limit option: `--timeout` unless it names its own (`--wait`)."""

    default: float
    help: str = "seconds to wait (default {default:g})"
    flag: str = "--timeout"
    zero_ok: bool = False


class RunFunction(Protocol):
    def __call__(
        self,
        args: argparse.Namespace,
        *,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        **extra: Any,
    ) -> int: ...


Body = Callable[..., int]


@dataclass
class DiagCommand:
    """One `kiosk diag NAME` command; decorate its body with the instance."""

    name: str
    help: str
    description: str = ""
    epilog: str = "exit codes: 0 ok, 1 failed, 2 unusable"
    url: str | None = None  # the option naming the device's address, e.g. "--port"
    url_help: str = ""
    url_default: str | None = None  # None: the address is required
    timeout: Timeout | None = None
    json: bool = True
    personal: bool = False  # --show-personal (alias --unmasked): off, masked by kiosk.privacy
    logger: str | None = None  # the driver's logger that --trace shows
    failures: Sequence[Failure] = ()
    options: Callable[[argparse.ArgumentParser], None] | None = None
    run: RunFunction = field(init=False)

    def __call__(self, body: Body) -> RunFunction:
        def run(
            args: argparse.Namespace,
            *,
            stdout: TextIO | None = None,
            stderr: TextIO | None = None,
            **extra: Any,
        ) -> int:
            output = Output(stdout or sys.stdout, stderr or sys.stderr)
            problem = self._bad_timeout(args)
            if problem:
                return output.fail(EXIT_USAGE, INVALID_OPTION, problem)
            try:
                with driver_logging(self.logger, args, output.err):
                    return body(args, output, **extra)
            except KeyboardInterrupt:
                return EXIT_INTERRUPTED
            except CommandFailed as exc:
                return output.fail(exc.code, exc.summary, exc.detail)
            except Exception as exc:
                known = self.classify(exc)
                if known is None:
                    if getattr(args, "trace", False):
                        raise
                    name = type(exc).__name__
                    known = EXIT_USAGE, f"内部错误 / internal error ({name})", str(exc)
                return output.fail(*known)

        run.__doc__ = body.__doc__
        run.__name__ = body.__name__
        self.run = run
        return run

    def classify(self, exc: BaseException) -> tuple[int, str, str] | None:
        """Exit code, summary and detail of the first declared failure `exc` is; None if none."""
        for failure in self.failures:
            if isinstance(exc, failure.kinds):
                summary = failure.summary
                text = summary(exc) if callable(summary) else summary
                return failure.code, text, str(exc) if failure.detail else ""
        return None

    def _bad_timeout(self, args: argparse.Namespace) -> str:
        if self.timeout is None:
            return ""
        flag = self.timeout.flag
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if value < 0 or (value == 0 and not self.timeout.zero_ok):
            return f"{flag} must be {'non-negative' if self.timeout.zero_ok else 'positive'}"
        return ""

    # -- parsers ----------------------------------------------------------------------------

    def add_parser(self, subparsers: Any) -> argparse.ArgumentParser:
        """Register the command on the `kiosk diag` subparsers; its `func` is `run`."""
        parser: argparse.ArgumentParser = subparsers.add_parser(
            self.name,
            help=self.help,
            description=self.description or self.help,
            epilog=self.epilog,
        )
        self.configure(parser)
        parser.set_defaults(func=self.run)
        return parser

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the shared options this command takes, then its own."""
        if self.url is not None:
            parser.add_argument(
                self.url,
                required=self.url_default is None,
                default=self.url_default,
                metavar="URL",
                help=self.url_help,
            )
        if self.timeout is not None:
            parser.add_argument(
                self.timeout.flag,
                type=float,
                default=self.timeout.default,
                metavar="SECONDS",
                help=self.timeout.help.format(default=self.timeout.default),
            )
        if self.json:
            parser.add_argument("--json", action="store_true", help="print one JSON object")
        if self.personal:
            parser.add_argument(
                "--show-personal",
                "--unmasked",
                dest="unmasked",
                action="store_true",
                help="show personal data in full (needs the holder's consent)",
            )
        if self.logger is not None:
            # Not --verbose: `kiosk -v` already uses that name for the whole command line.
            parser.add_argument(
                "--trace", action="store_true", help="log driver events to stderr (redacted)"
            )
        if self.options is not None:
            self.options(parser)

    def build_parser(self) -> argparse.ArgumentParser:
        """A stand-alone parser equal to `kiosk diag NAME` (for `main` and tests)."""
        parser = argparse.ArgumentParser(
            prog=f"kiosk diag {self.name}",
            description=self.description or self.help,
            epilog=self.epilog,
        )
        self.configure(parser)
        return parser

    def main(
        self,
        argv: Sequence[str] | None = None,
        *,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> int:
        """Run the command without the rest of the CLI."""
        return self.run(self.build_parser().parse_args(argv), stdout=stdout, stderr=stderr)


def add_all(subparsers: Any) -> None:
    """Register every diag command (the modules' `COMMANDS`) under `kiosk diag`."""
    for name in COMMAND_MODULES:
        for command in importlib.import_module(name).COMMANDS:
            command.add_parser(subparsers)


@contextlib.contextmanager
def driver_logging(
    logger_name: str | None, args: argparse.Namespace, err: TextIO
) -> Iterator[None]:
    """Show a driver's log on stderr with ``--trace``; leave it to ``kiosk -v``; else mute it.

    A diag command reports a failure itself in one line, so the driver's own warning about the
    same failure would only repeat it.
    """
    if logger_name is None:
        yield
        return
    logger = logging.getLogger(logger_name)
    saved = (logger.level, logger.propagate, list(logger.handlers))
    if getattr(args, "trace", False):
        handler = logging.StreamHandler(err)
        handler.addFilter(RedactingFilter())
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
    elif not getattr(args, "verbose", False):
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        logger.handlers[:] = saved[2]


def status_extras(status: Any) -> list[str]:
    """A `DeviceStatus`'s specifics in words: paper, cover, reason."""
    parts = []
    if status.paper is not None:
        parts.append(f"paper {status.paper.value}")
    if status.cover_open:
        parts.append("cover open")
    if status.reason:
        parts.append(status.reason)
    return parts


def display_width(text: str) -> int:
    """Terminal columns `text` takes: CJK characters take two."""
    return sum(2 if ord(char) > 0x2E7F else 1 for char in text)


def aligned(rows: Sequence[tuple[str, object]]) -> str:
    """``label  value`` lines with the values in one column (CJK labels are two columns wide)."""
    width = max((display_width(label) for label, _ in rows), default=0)
    return "\n".join(
        f"{label}{' ' * (width - display_width(label))}  {value}" for label, value in rows
    )

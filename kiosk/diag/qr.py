"""``kiosk diag scan`` and ``kiosk diag decode``: check a QR scanner, or read QR codes in images.

``scan --port URL [--count N] [--timeout S]`` waits for codes from a serial or HID scanner and
prints each on its own line (control characters escaped). Exit codes: 0 `--count` codes read;
1 fewer before the timeout; 2 the scanner cannot be used (bad URL, cannot open, went away).

``decode [--json] IMAGE...`` decodes the QR codes in image files with the kiosk's pipeline and
shows every code found, whatever it holds: ``FILE<TAB>TEXT`` (control characters escaped, so
a multi-line payload stays on one line), then an indented line with its charset, ECI, decoder
and stage, and one with the payload formats that admit it and why each other one refuses it
(`drivers.qr.admission`). ``--json`` prints exactly one line per image, ``{"file": ...,
"texts": [...], "codes": [...], "ms": ...}``, with an ``"error"`` key instead of texts and
codes when the image cannot be read. Exit codes: 0 a code in every image; 1 some image held
none; 2 some image could not be read. Every failure is one line, never a traceback.
"""

from __future__ import annotations

import argparse
import time
import unicodedata
from collections.abc import Sequence
from typing import Any

from drivers.qr import ImageError, QrError, ScannerUnavailableError, open_qr_scanner
from drivers.qr.admission import Refused, admit_each
from drivers.url import DeviceUrlError
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
)

EXIT_MISSING = EXIT_FAILED  # scan: fewer codes than asked for; decode: an image without a code
EXIT_ERROR = EXIT_USAGE  # scan: scanner unusable; decode: an image unreadable

_POLL_S = 0.2


def escape_text(text: str) -> str:
    """`text` with control and format characters shown as escapes, safe for one terminal line."""
    out = []
    for char in text:
        if char == "\t":
            out.append("\\t")
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


# -- scan -------------------------------------------------------------------------------------


def _scan_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=int, default=1, help="stop after N codes (default 1)")


SCAN = DiagCommand(
    "scan",
    help="扫码器测试 / print codes read by a QR scanner",
    description="等待扫码并逐行显示 / wait for scanned codes and print one per line",
    epilog="exit codes: 0 codes read, 1 too few before the timeout, 2 scanner error",
    url="--port",
    url_help="serial:///dev/ttyACM0?baud=9600&terminator=CR, hid:///dev/input/by-id/..., "
    "evdev:///dev/input/eventN, or a device path",
    timeout=Timeout(15.0, help="give up after (default {default:g})"),
    json=False,
    logger="drivers.qr",
    failures=(
        Failure((DeviceUrlError, QrError), EXIT_ERROR, "扫码器地址无效 / invalid scanner URL"),
    ),
    options=_scan_options,
)


@SCAN
def run_scan(args: argparse.Namespace, output: Output) -> int:
    """Print codes from the scanner at ``args.port``; return the exit code."""
    if args.count < 1:
        raise CommandFailed(EXIT_ERROR, INVALID_OPTION, "--count must be positive")
    scanner = open_qr_scanner(args.port)
    read = 0
    refused = 0
    deadline = time.monotonic() + args.timeout
    try:
        scanner.open()
        while read < args.count and (left := deadline - time.monotonic()) > 0:
            for code in scanner.poll(min(_POLL_S, left)):
                output.line(escape_text(code.text))
                read += 1
            refused = _report_refused(scanner, refused, output)
    except ScannerUnavailableError as exc:
        raise CommandFailed(
            EXIT_ERROR, "无法使用扫码器 / cannot use the scanner", str(exc)
        ) from exc
    finally:
        scanner.close()
    if read < args.count:
        output.warn(f"超时 / timed out: {read} of {args.count} codes read")
        return EXIT_MISSING
    return EXIT_OK


def _report_refused(scanner: Any, before: int, output: Output) -> int:
    details = scanner.status().details
    now = int(details.get("codes_refused", 0)) + int(details.get("lines_discarded", 0))
    for _ in range(now - before):
        output.warn("已拒绝无效码 / refused an invalid code (too long or not text)")
    return now


# -- decode -----------------------------------------------------------------------------------


def _decode_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="PNG, JPEG, BMP, TIFF, ...")


DECODE = DiagCommand(
    "decode",
    help="识别图片中的二维码 / decode QR codes in image files",
    description="识别图片中的二维码 / decode the QR codes in image files",
    epilog="exit codes: 0 a code in every image, 1 an image without one, 2 unreadable image",
    options=_decode_options,
)


@DECODE
def run_decode(args: argparse.Namespace, output: Output) -> int:
    """Decode each image of ``args.images`` and print every code found; return the exit code."""
    from drivers.qr import decode  # OpenCV loads only for this command

    status = EXIT_OK
    for path in args.images:
        start = time.perf_counter()
        try:
            codes = decode.decode_file(path)
        except Exception as exc:  # one odd file must not end the run with a traceback
            ms = round((time.perf_counter() - start) * 1000, 1)
            status = EXIT_ERROR
            reason = str(exc) if isinstance(exc, ImageError) else f"{path}: {exc!r}"
            if args.json:
                output.json({"file": path, "error": reason, "ms": ms})
            else:
                output.warn(f"无法读取图片 / cannot read image: {reason}")
            continue
        ms = round((time.perf_counter() - start) * 1000, 1)
        if not codes and status == EXIT_OK:
            status = EXIT_MISSING
        if args.json:
            output.json(
                {
                    "file": path,
                    "texts": [code.text for code in codes],
                    "codes": [describe_code(code) for code in codes],
                    "ms": ms,
                }
            )
        elif codes:
            for code in codes:
                _print_code(path, code, output)
        else:
            output.line(f"{path}\t(未找到二维码 / no QR code)")
    return status


def shown_text(code: Any) -> str:
    """The code's text for one terminal line: escaped, or hex for a binary payload."""
    if code.is_binary:
        return f"(binary, {len(code.raw)} bytes) {code.raw.hex(' ')}"
    return escape_text(code.text)


def describe_code(code: Any) -> dict[str, Any]:
    """One decoded code as a JSON-ready dict, with every payload format's verdict on it."""
    verdicts = admit_each(code.raw if code.is_binary else code.text)
    return {
        "text": code.text,
        "escaped": shown_text(code),
        "bytes": len(code.raw),
        "charset": code.charset,
        "eci": code.eci,
        "decoder": code.decoder,
        "stage": code.stage,
        "points": [list(point) for point in code.points],
        "admitted_as": [kind for kind, verdict in verdicts.items() if verdict.admitted],
        "refused": {
            kind: {"reason": verdict.reason, "message": verdict.message}
            for kind, verdict in verdicts.items()
            if isinstance(verdict, Refused)
        },
    }


def _print_code(path: str, code: Any, output: Output) -> None:
    info = describe_code(code)
    eci = "-" if code.eci is None else str(code.eci)
    output.line(f"{path}\t{info['escaped']}")
    output.line(
        f"    charset={code.charset} eci={eci} bytes={info['bytes']} "
        f"decoder={code.decoder} stage={code.stage}"
    )
    admitted = ", ".join(info["admitted_as"]) or "(none)"
    refused = "; ".join(
        f"{kind}: {why['reason']} ({why['message']})" for kind, why in info["refused"].items()
    )
    output.line(f"    admitted as: {admitted}")
    if refused:
        output.line(f"    refused as: {refused}")


# -- stand-alone ------------------------------------------------------------------------------

COMMANDS = (SCAN, DECODE)
add_scan_parser, add_decode_parser = SCAN.add_parser, DECODE.add_parser


def build_parser() -> argparse.ArgumentParser:
    """A stand-alone parser with both commands, as under ``kiosk diag`` (for `main` and tests)."""
    parser = argparse.ArgumentParser(prog="kiosk diag", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="diag_command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for running the commands without the rest of the CLI."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())

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
import contextlib
import json
import sys
import time
import unicodedata
from collections.abc import Sequence
from typing import Any, TextIO

from drivers.qr import ImageError, QrError, ScannerUnavailableError, open_qr_scanner
from drivers.qr.admission import Refused, admit_each
from drivers.url import DeviceUrlError
from kiosk.diag.common import driver_logging

EXIT_OK = 0
EXIT_MISSING = 1  # scan: fewer codes than asked for; decode: an image without a code
EXIT_ERROR = 2  # scan: scanner unusable; decode: an image unreadable

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


def add_scan_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``scan`` on the ``kiosk diag`` subparsers (its `func` runs it)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "scan",
        help="扫码器测试 / print codes read by a QR scanner",
        description="等待扫码并逐行显示 / wait for scanned codes and print one per line",
        epilog="exit codes: 0 codes read, 1 too few before the timeout, 2 scanner error",
    )
    configure_scan_parser(parser)
    parser.set_defaults(func=run_scan)
    return parser


def configure_scan_parser(parser: argparse.ArgumentParser) -> None:
    """Add the scan command's options to `parser`."""
    parser.add_argument(
        "--port",
        required=True,
        metavar="URL",
        help="serial:///dev/ttyACM0?baud=9600&terminator=CR, hid:///dev/input/by-id/..., "
        "evdev:///dev/input/eventN, or a device path",
    )
    parser.add_argument("--count", type=int, default=1, help="stop after N codes (default 1)")
    parser.add_argument(
        "--timeout", type=float, default=15.0, metavar="SECONDS", help="give up after (default 15)"
    )
    parser.add_argument("--trace", action="store_true", help="log driver events to stderr")


def run_scan(
    args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Print codes from the scanner at ``args.port``; return the exit code."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    if args.count < 1 or args.timeout <= 0:
        print("参数无效 / invalid option: --count and --timeout must be positive", file=err)
        return EXIT_ERROR
    try:
        scanner = open_qr_scanner(args.port)
    except (DeviceUrlError, QrError) as exc:
        print(f"扫码器地址无效 / invalid scanner URL: {exc}", file=err)
        return EXIT_ERROR
    read = 0
    refused = 0
    deadline = time.monotonic() + args.timeout
    try:
        with _driver_logging(args, err):
            scanner.open()
            while read < args.count and (left := deadline - time.monotonic()) > 0:
                for code in scanner.poll(min(_POLL_S, left)):
                    print(escape_text(code.text), file=out, flush=True)
                    read += 1
                refused = _report_refused(scanner, refused, err)
    except ScannerUnavailableError as exc:
        print(f"无法使用扫码器 / cannot use the scanner: {exc}", file=err)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    finally:
        scanner.close()
    if read < args.count:
        print(f"超时 / timed out: {read} of {args.count} codes read", file=err)
        return EXIT_MISSING
    return EXIT_OK


def _report_refused(scanner: Any, before: int, err: TextIO) -> int:
    details = scanner.status().details
    now = int(details.get("codes_refused", 0)) + int(details.get("lines_discarded", 0))
    for _ in range(now - before):
        print("已拒绝无效码 / refused an invalid code (too long or not text)", file=err)
    return now


def _driver_logging(
    args: argparse.Namespace, err: TextIO
) -> contextlib.AbstractContextManager[None]:
    return driver_logging("drivers.qr", args, err)


# -- decode -----------------------------------------------------------------------------------


def add_decode_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``decode`` on the ``kiosk diag`` subparsers (its `func` runs it)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "decode",
        help="识别图片中的二维码 / decode QR codes in image files",
        description="识别图片中的二维码 / decode the QR codes in image files",
        epilog="exit codes: 0 a code in every image, 1 an image without one, 2 unreadable image",
    )
    configure_decode_parser(parser)
    parser.set_defaults(func=run_decode)
    return parser


def configure_decode_parser(parser: argparse.ArgumentParser) -> None:
    """Add the decode command's options to `parser`."""
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="PNG, JPEG, BMP, TIFF, ...")
    parser.add_argument("--json", action="store_true", help="one JSON object per image")


def run_decode(
    args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Decode each image of ``args.images`` and print every code found; return the exit code."""
    from drivers.qr import decode  # OpenCV loads only for this command

    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
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
                line = {"file": path, "error": reason, "ms": ms}
                print(json.dumps(line, ensure_ascii=False), file=out, flush=True)
            else:
                print(f"无法读取图片 / cannot read image: {reason}", file=err)
            continue
        ms = round((time.perf_counter() - start) * 1000, 1)
        if not codes and status == EXIT_OK:
            status = EXIT_MISSING
        if args.json:
            line = {
                "file": path,
                "texts": [code.text for code in codes],
                "codes": [describe_code(code) for code in codes],
                "ms": ms,
            }
            print(json.dumps(line, ensure_ascii=False), file=out, flush=True)
        elif codes:
            for code in codes:
                _print_code(path, code, out)
        else:
            print(f"{path}\t(未找到二维码 / no QR code)", file=out, flush=True)
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


def _print_code(path: str, code: Any, out: TextIO) -> None:
    info = describe_code(code)
    eci = "-" if code.eci is None else str(code.eci)
    print(f"{path}\t{info['escaped']}", file=out)
    print(
        f"    charset={code.charset} eci={eci} bytes={info['bytes']} "
        f"decoder={code.decoder} stage={code.stage}",
        file=out,
    )
    admitted = ", ".join(info["admitted_as"]) or "(none)"
    refused = "; ".join(
        f"{kind}: {why['reason']} ({why['message']})" for kind, why in info["refused"].items()
    )
    print(f"    admitted as: {admitted}", file=out)
    if refused:
        print(f"    refused as: {refused}", file=out)
    out.flush()


# -- stand-alone ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """A stand-alone parser with both commands, as under ``kiosk diag`` (for `main` and tests)."""
    parser = argparse.ArgumentParser(prog="kiosk diag", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="diag_command", required=True, metavar="COMMAND")
    add_scan_parser(sub)
    add_decode_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for running the commands without the rest of the CLI."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())

"""``kiosk diag smartcard``: list PC/SC readers and show the card in one, for technicians.

Prints the readers, the card's ATR, what kind of card it is (social security, technician,
unknown) and its public data: a social security card's issuer file (EF05, masked unless
``--unmasked``), a technician card's claimed id, verified against ``--registry`` when given.

Exit codes: 0 read; 1 no card before ``--wait`` ran out; 2 the reader cannot be used (bad URL,
pcscd not running, no reader, unusable registry); 3 the card could not be read (removed,
garbled, refused); 4 a technician card failed verification. Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from drivers.smartcard import (
    ApduError,
    CardDataError,
    CardProtocolError,
    CardRemovedError,
    NoCardError,
    SmartCardDevice,
    SmartCardError,
    SmartCardUnavailableError,
    TechnicianAuthError,
    TechnicianRegistry,
    TechnicianRegistryError,
    UnsupportedCardError,
    open_smartcard,
    read_social_security_card,
    read_technician_id,
    verify_technician,
)
from drivers.smartcard.technician import kiosk_id_bytes
from drivers.url import DeviceUrlError
from kiosk.diag.common import display_width, driver_logging
from rules.masking import mask_document_number, mask_name

EXIT_OK = 0
EXIT_NO_CARD = 1
EXIT_READER = 2
EXIT_CARD = 3
EXIT_NOT_VERIFIED = 4

_POLL_S = 0.5
_KINDS = {
    "social_security": "社会保障卡 social security card",
    "technician": "维护卡 technician card",
    "unknown": "未知卡片 unknown card",
}
_LABELS = (
    ("reader", "读卡器 reader"),
    ("atr", "ATR"),
    ("kind", "卡片类型 card kind"),
    ("card_id", "卡识别码 card id"),
    ("region_code", "发卡地区 region"),
    ("card_type", "卡的类别 card type"),
    ("spec_version", "规范版本 spec version"),
    ("issue_date", "发卡日期 issue date"),
    ("expiry_date", "有效期 valid until"),
    ("card_number", "卡号 card number"),
    ("tech_id", "维护人员 technician"),
    ("tech_name", "姓名 name"),
    ("verified", "已验证 verified"),
    ("valid_until", "授权至 valid until"),
)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``smartcard`` on the ``kiosk diag`` subparsers, with `run` as its function."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "smartcard",
        help="读卡器与智能卡 / PC/SC readers and the card in one",
        description="列出读卡器并读取卡片公开信息 / list readers and read a card's public data",
        epilog="exit codes: 0 read, 1 no card, 2 reader error, 3 card unreadable, 4 not verified",
    )
    configure_parser(parser)
    parser.set_defaults(func=run)
    return parser


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the command's options to `parser`."""
    parser.add_argument(
        "--reader", default="pcsc://", metavar="URL", help="pcsc:// (any reader) or pcsc://NAME"
    )
    parser.add_argument(
        "--wait", type=float, default=0.0, metavar="SECONDS", help="wait this long for a card"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--unmasked", action="store_true", help="show card numbers in full (needs consent)"
    )
    parser.add_argument(
        "--registry", metavar="PATH", help="technician registry (JSON/YAML) to verify against"
    )
    parser.add_argument(
        "--kiosk-id", default="diagnostics", help="kiosk id for technician challenge-response"
    )
    parser.add_argument(
        "--trace", action="store_true", help="log driver events and APDU headers to stderr"
    )


def run(
    args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Read the card as `args` say, print it, and return the exit code."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    if args.wait < 0:
        return _fail(err, EXIT_READER, "参数无效 / invalid option", "--wait must not be negative")
    try:
        kiosk_id_bytes(args.kiosk_id)
    except ValueError as exc:
        return _fail(err, EXIT_READER, "参数无效 / invalid option", f"--kiosk-id: {exc}")
    try:
        registry = TechnicianRegistry.load(args.registry) if args.registry else None
        with _driver_logging(args, err):
            report = _inspect(args, registry)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # each known failure becomes one line; others propagate
        code, summary = _classify(exc)
        if code is None:
            raise
        return _fail(err, code, summary, str(exc))
    shown = report if args.unmasked else mask_report(report)
    if args.json:
        print(json.dumps(shown, ensure_ascii=False), file=out)
    else:
        print(format_report(shown), file=out)
    return EXIT_OK


def _inspect(args: argparse.Namespace, registry: TechnicianRegistry | None) -> dict[str, Any]:
    device = open_smartcard(args.reader)
    with device:
        report: dict[str, Any] = {"readers": device.all_readers()}
        _wait_for_card(device, args.wait)
        card = device.connect()
        report.update(reader=card.reader, atr=card.atr.hex(" ").upper())
        try:
            report.update(_identify(device, args, registry))
        finally:
            device.disconnect()
    return report


def _wait_for_card(device: SmartCardDevice, wait: float) -> None:
    deadline = time.monotonic() + wait
    while not device.status().media_present:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise NoCardError("no card")
        device.poll(min(remaining, _POLL_S))


def _identify(
    device: SmartCardDevice, args: argparse.Namespace, registry: TechnicianRegistry | None
) -> dict[str, Any]:
    try:
        card = read_social_security_card(device)
    except UnsupportedCardError:
        pass
    else:
        return {"kind": "social_security", **card.info.as_dict()}
    try:
        if registry is None:
            return {"kind": "technician", "tech_id": read_technician_id(device), "verified": False}
        who = verify_technician(device, registry, args.kiosk_id)
    except UnsupportedCardError:
        return {"kind": "unknown"}
    return {
        "kind": "technician",
        "tech_id": who.tech_id,
        "tech_name": who.name,
        "verified": True,
        "valid_until": who.valid_until.isoformat(),
    }


def _mask_middle(text: str, keep_start: int, keep_end: int) -> str:
    if len(text) <= keep_start + keep_end:
        return "*" * len(text)
    return (
        text[:keep_start] + "*" * (len(text) - keep_start - keep_end) + text[len(text) - keep_end :]
    )


def mask_report(report: dict[str, Any]) -> dict[str, Any]:
    """Hide what identifies a card holder: the card number and the card id's serial part."""
    masked = dict(report)
    if isinstance(masked.get("card_number"), str):
        masked["card_number"] = mask_document_number(masked["card_number"])
    if isinstance(masked.get("card_id"), str):
        # region (6 hex digits) and the RID D156000005 are not personal; the serial is
        masked["card_id"] = _mask_middle(masked["card_id"], 16, 0)
    if isinstance(masked.get("tech_name"), str) and masked["tech_name"]:
        masked["tech_name"] = mask_name(masked["tech_name"])
    masked.pop("init_org", None)
    return masked


def format_report(report: dict[str, Any]) -> str:
    """The report as aligned ``label  value`` lines for a terminal."""
    rows = [("读卡器列表 readers", ", ".join(report.get("readers", [])) or "-")]
    for key, label in _LABELS:
        if key not in report or report[key] is None:
            continue
        value = report[key]
        if key == "kind":
            value = _KINDS.get(value, value)
        elif isinstance(value, bool):
            value = "是 yes" if value else "否 no (no --registry)"
        rows.append((label, str(value)))
    width = max(display_width(label) for label, _ in rows)
    return "\n".join(
        f"{label}{' ' * (width - display_width(label))}  {value}" for label, value in rows
    )


def _driver_logging(
    args: argparse.Namespace, err: TextIO
) -> contextlib.AbstractContextManager[None]:
    return driver_logging("drivers.smartcard", args, err)


def _classify(exc: BaseException) -> tuple[int | None, str]:
    """Exit code and bilingual summary for a failure; None for unexpected exceptions."""
    if isinstance(exc, DeviceUrlError):
        return EXIT_READER, "读卡器地址无效 / invalid reader URL"
    if isinstance(exc, TechnicianRegistryError):
        return EXIT_READER, "维护人员名单无效 / technician registry unusable"
    if isinstance(exc, SmartCardUnavailableError):
        return EXIT_READER, "读卡器不可用 / no PC/SC service or reader"
    if isinstance(exc, NoCardError):
        return EXIT_NO_CARD, "未检测到卡片 / no card in the reader"
    if isinstance(exc, CardRemovedError):
        return EXIT_CARD, "卡片已移除 / the card was removed while reading"
    if isinstance(exc, TechnicianAuthError):
        return EXIT_NOT_VERIFIED, "维护卡验证失败 / technician card not accepted"
    if isinstance(exc, CardProtocolError | ApduError | CardDataError):
        return EXIT_CARD, "读卡失败 / could not read the card"
    if isinstance(exc, SmartCardError):
        return EXIT_READER, "读卡器错误 / reader error"
    return None, ""


def _fail(err: TextIO, code: int, summary: str, detail: str) -> int:
    # Driver messages never carry personal data, so the detail is safe to show.
    print(f"{summary}: {detail}" if detail and detail != "no card" else summary, file=err)
    return code


def build_parser() -> argparse.ArgumentParser:
    """A stand-alone parser equal to ``kiosk diag smartcard`` (for `main` and tests)."""
    parser = argparse.ArgumentParser(prog="kiosk diag smartcard", description=__doc__)
    configure_parser(parser)
    return parser


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Entry point for running the command without the rest of the CLI."""
    return run(build_parser().parse_args(argv), stdout=stdout, stderr=stderr)


if __name__ == "__main__":
    raise SystemExit(main())

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
import time
from typing import Any

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
    aligned,
)
from kiosk.privacy import mask_name, mask_pass_number

EXIT_NO_CARD = EXIT_FAILED
EXIT_READER = EXIT_USAGE
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


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--registry", metavar="PATH", help="technician registry (JSON/YAML) to verify against"
    )
    parser.add_argument(
        "--kiosk-id", default="diagnostics", help="kiosk id for technician challenge-response"
    )


COMMAND = DiagCommand(
    "smartcard",
    help="读卡器与智能卡 / PC/SC readers and the card in one",
    description="列出读卡器并读取卡片公开信息 / list readers and read a card's public data",
    epilog="exit codes: 0 read, 1 no card, 2 reader error, 3 card unreadable, 4 not verified",
    url="--reader",
    url_help="pcsc:// (any reader) or pcsc://NAME",
    url_default="pcsc://",
    timeout=Timeout(
        0.0, help="wait this long for a card (default {default:g})", flag="--wait", zero_ok=True
    ),
    personal=True,
    logger="drivers.smartcard",
    failures=(
        Failure(DeviceUrlError, EXIT_READER, "读卡器地址无效 / invalid reader URL"),
        Failure(
            TechnicianRegistryError, EXIT_READER, "维护人员名单无效 / technician registry unusable"
        ),
        Failure(
            SmartCardUnavailableError, EXIT_READER, "读卡器不可用 / no PC/SC service or reader"
        ),
        Failure(NoCardError, EXIT_NO_CARD, "未检测到卡片 / no card in the reader", False),
        Failure(CardRemovedError, EXIT_CARD, "卡片已移除 / the card was removed while reading"),
        Failure(
            TechnicianAuthError, EXIT_NOT_VERIFIED, "维护卡验证失败 / technician card not accepted"
        ),
        Failure(
            (CardProtocolError, ApduError, CardDataError),
            EXIT_CARD,
            "读卡失败 / could not read the card",
        ),
        Failure(SmartCardError, EXIT_READER, "读卡器错误 / reader error"),
    ),
    options=_options,
)
COMMANDS = (COMMAND,)


@COMMAND
def run(args: argparse.Namespace, output: Output) -> int:
    """Read the card as `args` say, print it, and return the exit code."""
    try:
        kiosk_id_bytes(args.kiosk_id)
    except ValueError as exc:
        raise CommandFailed(EXIT_READER, INVALID_OPTION, f"--kiosk-id: {exc}") from exc
    registry = TechnicianRegistry.load(args.registry) if args.registry else None
    with open_smartcard(args.reader) as device:
        report: dict[str, Any] = {"readers": device.all_readers()}
        wait_for_card(device, args.wait)
        card = device.connect()
        report.update(reader=card.reader, atr=card.atr.hex(" ").upper())
        try:
            report.update(identify(device, registry, args.kiosk_id))
        finally:
            device.disconnect()
    shown = report if args.unmasked else mask_report(report)
    if args.json:
        output.json(shown)
    else:
        output.line(format_report(shown))
    return EXIT_OK


def wait_for_card(device: SmartCardDevice, wait: float) -> None:
    """Return once a card is in the reader; `NoCardError` after `wait` seconds without one."""
    deadline = time.monotonic() + wait
    while not device.status().media_present:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise NoCardError("no card")
        device.poll(min(remaining, _POLL_S))


def identify(
    device: SmartCardDevice, registry: TechnicianRegistry | None, kiosk_id: str
) -> dict[str, Any]:
    """What the connected card is: a social security card's public file, a technician's id
    (verified by challenge-response when a registry is given), or unknown. Unmasked."""
    try:
        card = read_social_security_card(device)
    except UnsupportedCardError:
        pass
    else:
        return {"kind": "social_security", **card.info.as_dict()}
    try:
        if registry is None:
            return {"kind": "technician", "tech_id": read_technician_id(device), "verified": False}
        who = verify_technician(device, registry, kiosk_id)
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
        masked["card_number"] = mask_pass_number(masked["card_number"])
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
    return aligned(rows)


add_parser, build_parser, main = COMMAND.add_parser, COMMAND.build_parser, COMMAND.main

if __name__ == "__main__":
    raise SystemExit(main())

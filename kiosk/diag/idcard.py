"""``kiosk diag idcard``: read one ID card and print it, for technicians checking a reader.

Reads resident ID cards, HK/Macau/Taiwan residence permits and foreigner's permanent residence
cards (2017 and 2023); ``card_type`` in the output says which, and the keys follow the card type
(see `drivers.idcard.textblock`, `.permit`, `.foreign`). ``--fingerprint`` reads with 30 10 and
adds ``fingerprint_size``; ``--sam`` only checks the reader's security module.

Exit codes: 0 a card was read (or the SAM is fine); 1 no card was placed before the timeout;
2 the reader cannot be used (bad URL, port cannot be opened, no answer, protocol or reader
error, SAM fault); 3 a card was there but could not be read or decoded (place it again).
Personal fields are masked unless ``--unmasked`` is given. Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from drivers.idcard import (
    CardDataError,
    CardReadError,
    CardRecord,
    IdCardError,
    IdCardReader,
    NoCardError,
    ProtocolError,
    ReaderStatusError,
    ReaderTimeoutError,
    ReaderUnavailableError,
    SamFaultError,
    UnsupportedCardTypeError,
)
from drivers.idcard.textblock import CardType, card_type_label
from drivers.url import DeviceUrlError
from kiosk.diag.common import display_width, driver_logging
from kiosk.privacy import (
    mask_record_dict,
)

EXIT_OK = 0
EXIT_NO_CARD = 1
EXIT_READER = 2
EXIT_CARD = 3

# How often to look for a card while waiting for one, and the longest single command wait.
_POLL_S = 0.2
_COMMAND_TIMEOUT_S = 2.0

_LABEL_TEXT = {
    "name": "姓名 name",
    "chinese_name": "中文姓名 Chinese name",
    "english_name": "英文姓名 English name",
    "sex": "性别 sex",
    "nation": "民族 nation",
    "nationality": "国籍 nationality",
    "birth_date": "出生 birth date",
    "address": "住址 address",
    "id_number": "公民身份号码 ID number",
    "issuer": "签发机关 issuer",
    "valid_from": "有效期起 valid from",
    "valid_to": "有效期止 valid to",
    "pass_number": "通行证号码 pass number",
    "issue_count": "签发次数 issue count",
    "card_version": "证件版本号 card version",
    "authority_code": "受理机关代码 authority code",
    "renewal_count": "换证次数 renewal count",
    "previous_number": "既往证件号码 previous number",
    "card_type": "证件类型 card type",
    "photo_wlt_size": "照片 photo (WLT bytes)",
    "fingerprint_size": "指纹 fingerprint (bytes)",
}
_NUMBER_LABELS = {
    CardType.RESIDENT: "公民身份号码 ID number",
    CardType.HK_MO_TW_RESIDENCE: "公民身份号码 ID number",
    CardType.FOREIGN_PERMANENT_2017: "永久居留证号码 residence number",
    CardType.FOREIGN_PERMANENT_2023: "永久居留证号码 residence number",
}
# Resident card rows, in the order a technician reads them off the card.
_LABELS = tuple(
    (key, _LABEL_TEXT[key])
    for key in (
        "name",
        "sex",
        "nation",
        "birth_date",
        "address",
        "id_number",
        "issuer",
        "valid_from",
        "valid_to",
        "card_type",
        "photo_wlt_size",
    )
)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``idcard`` on the ``kiosk diag`` subparsers; the caller then calls `run`."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "idcard",
        help="读一张身份证 / read one ID card",
        description="读一张身份证并显示 / read one ID card and show it (personal data masked)",
        epilog="exit codes: 0 read, 1 no card, 2 reader or port error, 3 card unreadable",
    )
    configure_parser(parser)
    parser.set_defaults(func=run)
    return parser


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the command's options to `parser`."""
    parser.add_argument(
        "--port",
        required=True,
        metavar="URL",
        help="serial:///dev/ttyUSB0?baud=115200, pty:///dev/pts/N or a device path",
    )
    parser.add_argument(
        "--baud", type=int, default=115200, help="default 115200; a ?baud= in the URL wins"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="how long to wait for a card to be placed (default 5)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--fingerprint",
        action="store_true",
        help="read with fingerprints (30 10) and show their size; never their contents",
    )
    parser.add_argument(
        "--sam",
        action="store_true",
        help="only check the reader's security module (SAM id and self-test), no card needed",
    )
    parser.add_argument(
        "--unmasked", action="store_true", help="show personal data in full (needs consent)"
    )
    # Not --verbose: `kiosk -v` already uses that name for the whole command line.
    parser.add_argument(
        "--trace",
        action="store_true",
        help="log driver events and frames (card data redacted) to stderr",
    )


def run(
    args: argparse.Namespace,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Read one card as `args` says, print it, and return the exit code."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    if args.timeout <= 0:
        return _fail(err, EXIT_READER, "参数无效 / invalid option", "--timeout must be positive")
    try:
        with _driver_logging(args, err):
            if getattr(args, "sam", False):
                return _check_sam(args, out)
            record = _read_one(args, sleep)
    except NoCardError:
        return _fail(err, EXIT_NO_CARD, "未检测到身份证 / no card on the reader", "")
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # each known failure becomes one line; others propagate
        code, summary = _classify(exc)
        if code is None:
            raise
        return _fail(err, code, summary, str(exc))
    data = record.as_dict()
    if getattr(args, "fingerprint", False):
        data["fingerprint_size"] = len(record.fingerprint)
    if not args.unmasked:
        data = mask_record_dict(data)
    if args.json:
        print(json.dumps(data, ensure_ascii=False), file=out)
    else:
        print(format_table(data), file=out)
    return EXIT_OK


def _read_one(args: argparse.Namespace, sleep: Callable[[float], None]) -> CardRecord:
    deadline = time.monotonic() + args.timeout
    command_timeout = min(_COMMAND_TIMEOUT_S, args.timeout)
    fingerprint = bool(getattr(args, "fingerprint", False))
    with IdCardReader(args.port, baud=args.baud, timeout=command_timeout) as reader:
        while True:
            try:
                return reader.read_card(with_fingerprint=fingerprint)
            except NoCardError:
                if time.monotonic() + _POLL_S >= deadline:
                    raise
                sleep(_POLL_S)


def _check_sam(args: argparse.Namespace, out: TextIO) -> int:
    """SAM id (12 FF) and status (11 FF); a fault raises and is reported like any reader error."""
    command_timeout = min(_COMMAND_TIMEOUT_S, args.timeout)
    with IdCardReader(args.port, baud=args.baud, timeout=command_timeout) as reader:
        sam_id = reader.sam_id()
        reader.sam_status()
    data = {"sam_id": sam_id, "sam_status": "ok"}
    if args.json:
        print(json.dumps(data, ensure_ascii=False), file=out)
    else:
        print(f"安全模块号 SAM id  {sam_id}\n安全模块状态 SAM status  正常 ok", file=out)
    return EXIT_OK


def _driver_logging(
    args: argparse.Namespace, err: TextIO
) -> contextlib.AbstractContextManager[None]:
    return driver_logging("drivers.idcard", args, err)


def _classify(exc: BaseException) -> tuple[int | None, str]:
    """Exit code and bilingual summary for a failure; code None for unexpected exceptions."""
    if isinstance(exc, DeviceUrlError):
        return EXIT_READER, "读卡器地址无效 / invalid reader URL"
    if isinstance(exc, ReaderUnavailableError):
        return EXIT_READER, "无法打开读卡器 / cannot use the reader port"
    if isinstance(exc, ReaderTimeoutError):
        return EXIT_READER, "读卡器无响应 / the reader did not answer"
    if isinstance(exc, ProtocolError):
        return EXIT_READER, "读卡器通信错误 / garbled answer from the reader"
    if isinstance(exc, CardReadError):
        return EXIT_CARD, "读卡失败，请重新放置身份证 / could not read the card, place it again"
    if isinstance(exc, SamFaultError):
        return EXIT_READER, "读卡器安全模块故障 / the reader's security module (SAM) is faulty"
    if isinstance(exc, ReaderStatusError):
        return EXIT_READER, "读卡器报告故障 / the reader reported a fault"
    if isinstance(exc, UnsupportedCardTypeError):
        label = card_type_label(CardType(exc.card_type))
        return EXIT_CARD, f"暂不支持{label} / unsupported card type {exc.card_type}"
    if isinstance(exc, CardDataError):
        return EXIT_CARD, "身份证数据无效 / the card's data is invalid"
    if isinstance(exc, IdCardError):
        return EXIT_READER, "读卡器错误 / reader error"
    return None, ""


def _fail(err: TextIO, code: int, summary: str, detail: str) -> int:
    # Driver messages never carry personal data, so the detail is safe to show.
    print(f"{summary}: {detail}" if detail else summary, file=err)
    return code


def format_table(data: dict[str, Any]) -> str:
    """The record as aligned ``label  value`` lines for a terminal, rows as its card type has."""
    try:
        card_type = CardType(data.get("card_type", CardType.RESIDENT))
    except ValueError:
        card_type = CardType.RESIDENT
    if card_type is CardType.RESIDENT:
        rows = list(_LABELS) + [(k, _LABEL_TEXT[k]) for k in data if k == "fingerprint_size"]
    else:
        rows = [(key, _LABEL_TEXT.get(key, key)) for key in data]
    rows = [(k, _NUMBER_LABELS[card_type] if k == "id_number" else lab) for k, lab in rows]
    width = max(display_width(label) for _, label in rows)
    lines = []
    for key, label in rows:
        padding = " " * (width - display_width(label))
        lines.append(f"{label}{padding}  {data.get(key, '')}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """A stand-alone parser equal to ``kiosk diag idcard`` (for `main` and tests)."""
    parser = argparse.ArgumentParser(prog="kiosk diag idcard", description=__doc__)
    configure_parser(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for running the command without the rest of the CLI."""
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())

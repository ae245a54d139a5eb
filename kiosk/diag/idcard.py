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
import time
from collections.abc import Callable
from typing import Any

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
from kiosk.diag.command import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    DiagCommand,
    Failure,
    Output,
    Timeout,
    aligned,
)
from kiosk.privacy import mask_record_dict

EXIT_NO_CARD = EXIT_FAILED
EXIT_READER = EXIT_USAGE
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


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--baud", type=int, default=115200, help="default 115200; a ?baud= in the URL wins"
    )
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


def _unsupported(exc: BaseException) -> str:
    card_type = getattr(exc, "card_type", "")
    label = card_type_label(CardType(card_type))
    return f"暂不支持{label} / unsupported card type {card_type}"


COMMAND = DiagCommand(
    "idcard",
    help="读一张身份证 / read one ID card",
    description="读一张身份证并显示 / read one ID card and show it (personal data masked)",
    epilog="exit codes: 0 read, 1 no card, 2 reader or port error, 3 card unreadable",
    url="--port",
    url_help="serial:///dev/ttyUSB0?baud=115200, pty:///dev/pts/N or a device path",
    timeout=Timeout(5.0, help="how long to wait for a card to be placed (default {default:g})"),
    personal=True,
    logger="drivers.idcard",
    failures=(
        Failure(NoCardError, EXIT_NO_CARD, "未检测到身份证 / no card on the reader", False),
        Failure(DeviceUrlError, EXIT_READER, "读卡器地址无效 / invalid reader URL"),
        Failure(ReaderUnavailableError, EXIT_READER, "无法打开读卡器 / cannot use the reader port"),
        Failure(ReaderTimeoutError, EXIT_READER, "读卡器无响应 / the reader did not answer"),
        Failure(ProtocolError, EXIT_READER, "读卡器通信错误 / garbled answer from the reader"),
        Failure(
            CardReadError,
            EXIT_CARD,
            "读卡失败，请重新放置身份证 / could not read the card, place it again",
        ),
        Failure(
            SamFaultError,
            EXIT_READER,
            "读卡器安全模块故障 / the reader's security module (SAM) is faulty",
        ),
        Failure(ReaderStatusError, EXIT_READER, "读卡器报告故障 / the reader reported a fault"),
        Failure(UnsupportedCardTypeError, EXIT_CARD, _unsupported),
        Failure(CardDataError, EXIT_CARD, "身份证数据无效 / the card's data is invalid"),
        Failure(IdCardError, EXIT_READER, "读卡器错误 / reader error"),
    ),
    options=_options,
)
COMMANDS = (COMMAND,)


@COMMAND
def run(
    args: argparse.Namespace, output: Output, sleep: Callable[[float], None] = time.sleep
) -> int:
    """Read one card as `args` says, print it, and return the exit code."""
    command_timeout = min(_COMMAND_TIMEOUT_S, args.timeout)
    with IdCardReader(args.port, baud=args.baud, timeout=command_timeout) as reader:
        if args.sam:
            return _check_sam(reader, args, output)
        record = wait_for_card(reader, args.timeout, with_fingerprint=args.fingerprint, sleep=sleep)
    data = record.as_dict()
    if args.fingerprint:
        data["fingerprint_size"] = len(record.fingerprint)
    if not args.unmasked:
        data = mask_record_dict(data)
    if args.json:
        output.json(data)
    else:
        output.line(format_table(data))
    return EXIT_OK


def wait_for_card(
    reader: IdCardReader,
    timeout: float,
    *,
    with_fingerprint: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> CardRecord:
    """Read the card on the reader, looking again until `timeout` s for one to be placed.

    Raises `NoCardError` when none came, or the reader's error."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return reader.read_card(with_fingerprint=with_fingerprint)
        except NoCardError:
            if time.monotonic() + _POLL_S >= deadline:
                raise
            sleep(_POLL_S)


def _check_sam(reader: IdCardReader, args: argparse.Namespace, output: Output) -> int:
    """SAM id (12 FF) and status (11 FF); a fault raises and is reported like any reader error."""
    sam_id = reader.sam_id()
    reader.sam_status()
    if args.json:
        output.json({"sam_id": sam_id, "sam_status": "ok"})
    else:
        output.line(f"安全模块号 SAM id  {sam_id}\n安全模块状态 SAM status  正常 ok")
    return EXIT_OK


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
    return aligned([(label, data.get(key, "")) for key, label in rows])


add_parser, build_parser, main = COMMAND.add_parser, COMMAND.build_parser, COMMAND.main

if __name__ == "__main__":
    raise SystemExit(main())

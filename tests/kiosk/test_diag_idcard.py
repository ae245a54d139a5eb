"""``kiosk diag idcard`` against the simulator: output, masking and exit codes."""

from __future__ import annotations

import argparse
import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.idcard.sim_cards import (
    FOREIGN_2017,
    FOREIGN_2023,
    GONG_YAN,
    HK_RESIDENCE_PERMIT,
    LI_XIUYING,
    ZHAO_MIN,
)
from drivers.idcard.simulator import IdCardSimulator
from kiosk.diag import idcard as diag_idcard
from kiosk.diag.idcard import add_parser, build_parser, main, run

ROOT = Path(__file__).resolve().parents[2]
KEYS = [
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
]


@pytest.fixture
def sim() -> Iterator[IdCardSimulator]:
    with IdCardSimulator(LI_XIUYING, pacing=False) as simulator:
        yield simulator


def diag(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(build_parser().parse_args(list(argv)), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_json_is_masked_by_default(sim: IdCardSimulator) -> None:
    code, out, err = diag("--port", sim.url, "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert list(data) == KEYS
    assert data["name"] == "李**"
    assert data["id_number"] == "1101**********1240"
    assert data["address"] == "北京市东城区****"
    assert data["birth_date"] == "1956-**-**"
    assert data["valid_to"] == "长期" and data["photo_wlt_size"] == 1024
    assert "李**" in out  # ensure_ascii=False: Chinese is written as is
    assert LI_XIUYING.id_number not in out and LI_XIUYING.name not in out


def test_json_unmasked(sim: IdCardSimulator) -> None:
    code, out, _ = diag("--port", sim.port, "--json", "--unmasked")
    assert code == 0
    assert json.loads(out) == LI_XIUYING.as_dict()
    assert out.count("\n") == 1  # one JSON object on one line


def test_table(sim: IdCardSimulator) -> None:
    sim.insert(GONG_YAN)
    code, out, _ = diag("--port", sim.url)
    assert code == 0
    assert "姓名 name" in out and "龚*" in out and "回" in out
    assert "证件类型 card type" in out and "resident" in out
    assert GONG_YAN.id_number not in out


def test_waits_for_a_card_to_be_placed(sim: IdCardSimulator) -> None:
    sim.remove()
    sleeps: list[float] = []

    def place_card_while_waiting(seconds: float) -> None:
        sleeps.append(seconds)
        sim.insert(LI_XIUYING)

    args = build_parser().parse_args(["--port", sim.url, "--json"])
    out = io.StringIO()
    assert run(args, stdout=out, stderr=io.StringIO(), sleep=place_card_while_waiting) == 0
    assert len(sleeps) == 1 and json.loads(out.getvalue())["name"] == "李**"


def test_no_card(sim: IdCardSimulator) -> None:
    sim.remove()
    code, out, err = diag("--port", sim.url, "--timeout", "0.3")
    assert (code, out) == (1, "")
    assert err == "未检测到身份证 / no card on the reader\n"


def test_silent_reader(sim: IdCardSimulator) -> None:
    sim.silent = True
    code, _, err = diag("--port", sim.url, "--timeout", "0.3")
    assert code == 2
    assert err.startswith("读卡器无响应 / the reader did not answer: ")
    assert err.count("\n") == 1


def test_garbled_reader(sim: IdCardSimulator) -> None:
    sim.corrupt_checksum(times=10)
    code, _, err = diag("--port", sim.url, "--timeout", "1")
    assert code == 2 and err.startswith("读卡器通信错误 / garbled answer from the reader")


def test_residence_permit_json_is_masked(sim: IdCardSimulator) -> None:
    sim.insert(HK_RESIDENCE_PERMIT)
    code, out, err = diag("--port", sim.url, "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data == {
        "name": "陈**",
        "sex": "男",
        "birth_date": "1999-**-**",
        "address": "广东省深圳市福田区****",
        "id_number": "8100**********1236",
        "issuer": "深圳市公安局",
        "valid_from": "2019-09-01",
        "valid_to": "2024-09-01",
        "pass_number": "H********",
        "issue_count": 1,
        "card_type": "hk_mo_tw_residence",
        "photo_wlt_size": 1024,
    }


def test_foreign_2017_json_is_masked(sim: IdCardSimulator) -> None:
    sim.insert(FOREIGN_2017)
    code, out, _ = diag("--port", sim.url, "--json")
    data = json.loads(out)
    assert code == 0 and data["card_type"] == "foreign_permanent_2017"
    # Latin names keep each word's initial (rules.masking): MUELLER-LUDENSCHEIDT, ANNA MARIA ...
    assert data["english_name"] == "M******-L***********, A*** M**** T*******"
    assert data["chinese_name"] == "穆**"
    assert data["id_number"] == "DEU3*******1226"
    assert data["birth_date"] == "1985-**-**"
    assert (data["nationality"], data["card_version"], data["authority_code"]) == (
        "DEU",
        "01",
        "3100",
    )
    for secret in ("MUELLER", "穆安娜", FOREIGN_2017.id_number, "1985-04-12"):
        assert secret not in out


def test_foreign_2023_json_is_masked(sim: IdCardSimulator) -> None:
    sim.insert(FOREIGN_2023)
    code, out, _ = diag("--port", sim.url, "--json")
    data = json.loads(out)
    assert code == 0 and data["card_type"] == "foreign_permanent_2023"
    assert data["id_number"] == "9312**********0043"
    assert data["previous_number"] == "DEU3*******1226"
    assert data["renewal_count"] == 1 and data["nationality"] == "DEU"
    for secret in ("MUELLER", "穆安娜", FOREIGN_2023.id_number, FOREIGN_2017.id_number):
        assert secret not in out


@pytest.mark.parametrize(
    "card", [HK_RESIDENCE_PERMIT, FOREIGN_2017, FOREIGN_2023], ids=lambda c: c.card_type.value
)
def test_every_card_type_unmasked_and_as_a_table(sim: IdCardSimulator, card: Any) -> None:
    sim.insert(card)
    code, out, _ = diag("--port", sim.url, "--json", "--unmasked")
    assert code == 0 and json.loads(out) == card.as_dict()
    code, out, _ = diag("--port", sim.url)
    assert code == 0 and card.card_type.value in out and card.id_number not in out
    if card.card_type.value.startswith("foreign"):
        assert "英文姓名 English name" in out and "永久居留证号码 residence number" in out


def test_fingerprint_read_shows_only_the_size(sim: IdCardSimulator) -> None:
    sim.insert(ZHAO_MIN)
    code, out, _ = diag("--port", sim.url, "--json", "--fingerprint", "--unmasked")
    data = json.loads(out)
    assert code == 0 and data["fingerprint_size"] == 1024
    assert ZHAO_MIN.fingerprint[:6].hex() not in out
    code, out, _ = diag("--port", sim.url, "--fingerprint")
    assert code == 0 and "指纹 fingerprint (bytes)  1024" in out


def test_sam_check(sim: IdCardSimulator) -> None:
    code, out, err = diag("--port", sim.url, "--sam", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == {"sam_id": "05.01-20101010-0000012345-0123456789", "sam_status": "ok"}
    code, out, _ = diag("--port", sim.url, "--sam")
    assert code == 0 and "SAM status  正常 ok" in out


def test_sam_fault_exits_2(sim: IdCardSimulator) -> None:
    sim.sam_fault = 0x60
    code, out, err = diag("--port", sim.url, "--sam")
    assert (code, out) == (2, "")
    assert err.startswith("读卡器安全模块故障 / the reader's security module (SAM) is faulty")
    assert "0x60" in err and err.count("\n") == 1
    code, _, err = diag("--port", sim.url, "--json")
    assert code == 2 and "SAM" in err


def test_unreadable_card_exits_3(sim: IdCardSimulator) -> None:
    sim.card_fault = 0x41
    code, out, err = diag("--port", sim.url, "--json")
    assert (code, out) == (3, "")
    assert err.startswith("读卡失败，请重新放置身份证 / could not read the card, place it again")


@pytest.mark.parametrize(
    ("port", "summary"),
    [
        ("tcp://127.0.0.1:9100", "读卡器地址无效 / invalid reader URL"),
        ("nonsense", "读卡器地址无效 / invalid reader URL"),
        ("serial:///nonexistent/ttyUSB9", "无法打开读卡器 / cannot use the reader port"),
    ],
)
def test_bad_ports(port: str, summary: str) -> None:
    code, out, err = diag("--port", port)
    assert (code, out) == (2, "")
    assert err.startswith(summary) and err.count("\n") == 1


def test_bad_timeout() -> None:
    code, _, err = diag("--port", "/dev/null", "--timeout", "0")
    assert code == 2 and "--timeout" in err


def test_add_parser_registers_idcard_under_diag() -> None:
    parser = argparse.ArgumentParser(prog="kiosk diag")
    subparsers = parser.add_subparsers(dest="device", required=True)
    sub = add_parser(subparsers)
    args = parser.parse_args(["idcard", "--port", "/dev/ttyUSB0", "--json"])
    assert (args.device, args.port, args.baud, args.timeout) == (
        "idcard",
        "/dev/ttyUSB0",
        115200,
        5.0,
    )
    assert args.json and not args.unmasked
    assert sub.prog.endswith("idcard")
    assert args.func is run
    with pytest.raises(SystemExit):
        parser.parse_args(["idcard"])  # --port is required


def test_main_returns_the_exit_code(
    sim: IdCardSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--port", sim.url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["card_type"] == "resident"


def run_subprocess(*argv: str) -> subprocess.CompletedProcess[str]:
    code = f"from kiosk.diag.idcard import main; raise SystemExit(main({list(argv)!r}))"
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )


def test_subprocess_reads_a_card(sim: IdCardSimulator) -> None:
    result = run_subprocess("--port", sim.url, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id_number"] == "1101**********1240"


def test_subprocess_error_is_one_line_without_traceback() -> None:
    result = run_subprocess("--port", "serial:///nonexistent/ttyUSB9", "--timeout", "0.5")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("无法打开读卡器 / cannot use the reader port")


def test_trace_logs_redacted_traffic(sim: IdCardSimulator) -> None:
    code, out, err = diag("--port", sim.url, "--json", "--trace")
    assert code == 0
    assert "aa aa aa 96 69 00 03 30 01 32" in err and "data bytes redacted" in err
    assert LI_XIUYING.name not in err and LI_XIUYING.id_number not in err
    assert "李**" in out


def test_driver_warnings_do_not_repeat_the_error_line(sim: IdCardSimulator) -> None:
    sim.silent = True
    _, _, err = diag("--port", sim.url, "--timeout", "0.2")
    assert err.count("\n") == 1
    logger = logging.getLogger("drivers.idcard")
    assert logger.level == logging.NOTSET and logger.propagate  # restored afterwards


def test_through_the_kiosk_command_line(
    sim: IdCardSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    from kiosk.cli import main as kiosk_main

    assert kiosk_main(["diag", "idcard", "--port", sim.url, "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["name"] == "李**"
    sim.remove()
    assert kiosk_main(["-v", "diag", "idcard", "--port", sim.url, "--timeout", "0.2"]) == 1
    assert "未检测到身份证 / no card on the reader" in capsys.readouterr().err


def test_module_docstring_lists_exit_codes() -> None:
    assert "Exit codes" in (diag_idcard.__doc__ or "")

"""`kiosk diag print-test` against the simulated printer, a file, and URLs that do not work."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.printer import decode_escpos
from drivers.printer.simulator import PrinterSimulator
from kiosk.diag import printer as diag_printer


@pytest.fixture
def sim() -> Iterator[PrinterSimulator]:
    with PrinterSimulator() as simulator:
        yield simulator


def test_print_test_prints_the_selftest_receipt(
    sim: PrinterSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    code = diag_printer.main(["--printer", sim.url, "--kiosk-id", "KIOSK-0042"])

    out, err = capsys.readouterr()
    assert code == 0
    assert "打印测试完成" in out and "print test done" in out
    assert err == ""
    receipt = sim.wait_for_receipt()
    assert "打印测试" in receipt.text and "KIOSK-0042" in receipt.text
    assert receipt.qr_payloads == ("KIOSK-SELFTEST",)


def test_kiosk_id_defaults_to_the_host_name() -> None:
    args = diag_printer.build_parser().parse_args(["--printer", "tcp://127.0.0.1:9100"])
    assert args.kiosk_id == socket.gethostname()


def test_paper_low_prints_with_a_warning(
    sim: PrinterSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    sim.set_paper("low")
    assert diag_printer.main(["--printer", sim.url]) == 0
    out, err = capsys.readouterr()
    assert "纸将用尽" in out
    assert "warning: paper low" in err


def test_paper_out_exits_1_with_one_bilingual_line(
    sim: PrinterSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    sim.set_paper("out")
    code = diag_printer.main(["--printer", sim.url])
    out, err = capsys.readouterr()
    assert code == diag_printer.EXIT_ATTENTION
    assert err.count("\n") == 1
    assert "打印机缺纸" in err and "out of paper" in err
    assert sim.jobs == []


@pytest.mark.parametrize("url", ["bogus", "sim://", "tcp://nowhere"])
def test_bad_url_exits_2_without_a_traceback(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = diag_printer.main(["--printer", url])
    out, err = capsys.readouterr()
    assert code == diag_printer.EXIT_UNUSABLE
    assert err.count("\n") == 1
    assert "打印机配置错误" in err and "Traceback" not in err
    assert out == ""


def test_unreachable_printer_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = diag_printer.main(["--printer", f"tcp://127.0.0.1:{port}", "--timeout", "1"])
    err = capsys.readouterr().err
    assert code == diag_printer.EXIT_UNUSABLE
    assert err.startswith("打印测试失败 / print test failed: 打印机未连接或已离线 / cannot connect")
    assert "Connection refused" in err


def test_kiosk_id_that_cannot_be_printed_is_an_invalid_option(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = diag_printer.main(["--printer", "tcp://127.0.0.1:9", "--kiosk-id", "bad\nid"])
    assert code == diag_printer.EXIT_UNUSABLE
    assert "参数无效 / invalid option" in capsys.readouterr().err


def test_file_printer_works_with_unknown_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "receipt.bin"
    assert diag_printer.main(["--printer", f"file://{out_file}", "--kiosk-id", "K-FILE"]) == 0
    assert "状态未知" in capsys.readouterr().out
    assert "K-FILE" in decode_escpos(out_file.read_bytes()).text


def test_registered_under_kiosk_diag(sim: PrinterSimulator) -> None:
    from kiosk.cli import main as kiosk_main

    assert kiosk_main(["diag", "print-test", "--printer", sim.url, "--kiosk-id", "VIA-CLI"]) == 0
    assert "VIA-CLI" in sim.wait_for_receipt().text


def test_status_prints_nothing_on_paper(
    sim: PrinterSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert diag_printer.main(["--printer", sim.url, "--status"]) == diag_printer.EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith("打印机状态 / printer status: 正常 / online, paper full")
    assert sim.jobs == []


@pytest.mark.parametrize(
    ("setup", "code", "state", "paper"),
    [
        (lambda s: s.set_paper("low"), 0, "online", "low"),
        (lambda s: s.set_paper("out"), 1, "online", "out"),
        (lambda s: s.set_cover_open(), 1, "user_error", "full"),
        (lambda s: s.set_error(cutter=True), 1, "hardware_error", "jammed"),
        (lambda s: s.set_online(False), 2, "offline", "full"),
    ],
    ids=["low", "out", "cover", "jam", "offline"],
)
def test_status_json_and_exit_codes(
    sim: PrinterSimulator,
    capsys: pytest.CaptureFixture[str],
    setup: Any,
    code: int,
    state: str,
    paper: str,
) -> None:
    setup(sim)
    assert diag_printer.main(["--printer", sim.url, "--status", "--json"]) == code
    data = json.loads(capsys.readouterr().out)
    assert (data["state"], data["paper"]) == (state, paper)
    assert "paper_remaining_estimate_mm" in data["details"]


def test_status_of_an_unreachable_printer_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = diag_printer.main(["--printer", f"tcp://127.0.0.1:{port}", "--status"])
    out, err = capsys.readouterr()
    assert (code, out) == (diag_printer.EXIT_UNUSABLE, "")
    assert err.startswith("打印机状态读取失败 / printer status failed: 打印机未连接或已离线")
    assert err.count("\n") == 1

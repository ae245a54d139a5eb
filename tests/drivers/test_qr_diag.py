"""``kiosk diag scan`` and ``kiosk diag decode`` through `kiosk.diag_qr.main`."""

from __future__ import annotations

import argparse
import json
import shutil
import threading
from pathlib import Path

import cv2
import pytest

from drivers.qr.simulator import QrScannerSimulator
from kiosk import diag_qr
from kiosk.diag_qr import EXIT_ERROR, EXIT_MISSING, EXIT_OK, escape_text, main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "qr"
IMAGES = json.loads((FIXTURES / "images.json").read_text("utf-8"))
STREAMS = json.loads((FIXTURES / "hid_streams.json").read_text("utf-8"))


def test_escape_text() -> None:
    assert escape_text("a\tb") == "a\\tb"
    assert escape_text("x\x1b[2J\x00\u202e") == "x\\x1b[2J\\x00\\u202e"
    assert escape_text("预约号 https://a/b?c=d") == "预约号 https://a/b?c=d"


# -- scan -----------------------------------------------------------------------------------


def test_scan_prints_codes_from_a_serial_scanner(capsys: pytest.CaptureFixture[str]) -> None:
    with QrScannerSimulator(terminator="CRLF") as sim:
        timer = threading.Timer(
            0.2, lambda: [sim.scan("预约号:A1", encoding="gbk"), sim.scan("B2")]
        )
        timer.start()
        code = main(["scan", "--port", sim.url, "--count", "2", "--timeout", "3"])
        timer.join()
    out, err = capsys.readouterr()
    assert code == EXIT_OK
    assert out.splitlines() == ["预约号:A1", "B2"] and err == ""


def test_scan_replays_a_hid_recording(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"hid://{FIXTURES / 'hid_messy.events'}"
    assert main(["scan", "--port", url, "--count", "2", "--timeout", "2"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.splitlines() == [escape_text(t) for t in STREAMS["hid_messy.events"]["texts"]]
    assert "\\tTAB\\tOK" in out


def test_scan_reports_refused_codes_and_timeout(capsys: pytest.CaptureFixture[str]) -> None:
    with QrScannerSimulator() as sim:
        timer = threading.Timer(0.2, lambda: [sim.send_garbage(), sim.scan("ok")])
        timer.start()
        code = main(["scan", "--port", sim.url, "--count", "2", "--timeout", "0.8"])
        timer.join()
    out, err = capsys.readouterr()
    assert code == EXIT_MISSING
    assert out.splitlines() == ["ok"]
    assert err.splitlines() == [
        "已拒绝无效码 / refused an invalid code (too long or not text)",
        "超时 / timed out: 1 of 2 codes read",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "serial:///dev/does-not-exist"], "cannot use the scanner: cannot open"),
        (["--port", "ftp://x"], "invalid scanner URL"),
        (["--port", "serial:///dev/ttyACM0?baud=x"], "invalid scanner URL"),
        (["--port", "/dev/ttyACM0", "--count", "0"], "invalid option"),
        (["--port", "/dev/ttyACM0", "--timeout", "-1"], "invalid option"),
    ],
)
def test_scan_failures_are_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", *argv]) == EXIT_ERROR
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and message in err


def test_scan_unplugged_midway(capsys: pytest.CaptureFixture[str]) -> None:
    with QrScannerSimulator() as sim:
        timer = threading.Timer(0.3, sim.stop)
        timer.start()
        code = main(["scan", "--port", sim.url, "--timeout", "3"])
        timer.join()
    err = capsys.readouterr().err
    assert code == EXIT_ERROR and len(err.splitlines()) == 1 and "cannot use the scanner" in err


# -- decode ---------------------------------------------------------------------------------


def test_decode_json_one_line_per_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = sorted(IMAGES)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), 255 * __import__("numpy").ones((50, 50), "uint8"))
    files = [str(FIXTURES / n) for n in names] + [str(bad), str(blank), str(tmp_path / "gone.jpg")]
    code = main(["decode", "--json", *files])
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == EXIT_ERROR and err == ""
    assert [line["file"] for line in lines] == files
    for line, name in zip(lines, names, strict=False):
        assert set(line) == {"file", "texts", "ms"}
        assert line["texts"] == IMAGES[name]["texts"] and line["ms"] >= 0
    assert set(lines[-3]) == {"file", "error", "ms"} and "not an image" in lines[-3]["error"]
    assert lines[-2]["texts"] == []
    assert "No such file" in lines[-1]["error"]


def test_decode_plain_output(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(FIXTURES / "small_gbk.png")
    assert main(["decode", path]) == EXIT_OK
    assert capsys.readouterr().out == f"{path}\t{IMAGES['small_gbk.png']['texts'][0]}\n"


def test_decode_image_without_code_and_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blank = tmp_path / "blank.png"
    shutil.copy(FIXTURES / "small_up2.png", tmp_path / "ok.png")
    cv2.imwrite(str(blank), 255 * __import__("numpy").ones((40, 40), "uint8"))
    assert main(["decode", str(tmp_path / "ok.png"), str(blank)]) == EXIT_MISSING
    assert "(未找到二维码 / no QR code)" in capsys.readouterr().out
    assert main(["decode", str(tmp_path / "nope.png")]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "cannot read image" in err


def test_decode_unexpected_failure_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(path: str) -> list[object]:
        raise RuntimeError("decoder bug")

    monkeypatch.setattr("drivers.qr.decode.decode_file", explode)
    assert main(["decode", "--json", "x.png"]) == EXIT_ERROR
    [line] = capsys.readouterr().out.splitlines()
    assert "decoder bug" in json.loads(line)["error"]


def test_parsers_register_under_diag() -> None:
    parser = argparse.ArgumentParser(prog="kiosk diag")
    sub = parser.add_subparsers(dest="diag_command", required=True)
    diag_qr.add_scan_parser(sub)
    diag_qr.add_decode_parser(sub)
    args = parser.parse_args(["scan", "--port", "/dev/ttyACM0"])
    assert args.func is diag_qr.run_scan and (args.count, args.timeout) == (1, 15.0)
    args = parser.parse_args(["decode", "--json", "a.png", "b.jpg"])
    assert args.func is diag_qr.run_decode and args.images == ["a.png", "b.jpg"]

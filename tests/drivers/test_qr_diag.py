"""``kiosk diag scan`` and ``kiosk diag decode`` through `kiosk.diag.qr.main`."""

from __future__ import annotations

import argparse
import json
import shutil
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
import qrcode

from drivers.qr.simulator import QrScannerSimulator
from kiosk.diag import qr as diag_qr
from kiosk.diag.qr import EXIT_ERROR, EXIT_MISSING, EXIT_OK, escape_text, main

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
        assert set(line) == {"file", "texts", "codes", "ms"}
        assert line["texts"] == IMAGES[name]["texts"] and line["ms"] >= 0
        assert [c["text"] for c in line["codes"]] == line["texts"]
        assert line["codes"][0]["admitted_as"] == ["text"]
    assert set(lines[-3]) == {"file", "error", "ms"} and "not an image" in lines[-3]["error"]
    assert lines[-2]["texts"] == []
    assert "No such file" in lines[-1]["error"]


def test_decode_plain_output(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(FIXTURES / "small_gbk.png")
    assert main(["decode", path]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{path}\t{IMAGES['small_gbk.png']['texts'][0]}"
    assert lines[1].split()[:2] == ["charset=gb18030", "eci=-"]
    assert lines[2] == "    admitted as: text"
    assert "appointment: not_an_appointment_code" in lines[3]


def _write_qr(path: Path, data: str | bytes) -> None:
    qr = qrcode.QRCode(border=4)
    qr.add_data(data)
    qr.make(fit=True)
    matrix = np.array(qr.get_matrix(), dtype=np.uint8)
    image = np.kron(np.where(matrix, 0, 255).astype(np.uint8), np.ones((4, 4), np.uint8))
    cv2.imwrite(str(path), image)


def test_decode_shows_multi_line_and_control_payloads_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN codes a flow would refuse (CR/LF inside, ESC) THEN each is shown, escaped, with the
    reason each format refuses it: never nothing at all."""
    multi, control = tmp_path / "multi.png", tmp_path / "control.png"
    _write_qr(multi, "APPT:ABCDEFGH2345\r\n")
    _write_qr(control, b"line1\r\nline2\x1b[2J")
    assert main(["decode", str(multi), str(control)]) == EXIT_OK
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{multi}\tAPPT:ABCDEFGH2345\\x0d\\x0a"
    assert out[2] == "    admitted as: appointment, text"  # the scanner's CR/LF is trimmed
    second = out.index(f"{control}\tline1\\x0d\\x0aline2\\x1b[2J")
    assert out[second + 2] == "    admitted as: (none)"
    assert "text: control_characters" in out[second + 3]
    assert main(["decode", "--json", str(control)]) == EXIT_OK
    [code] = json.loads(capsys.readouterr().out)["codes"]
    assert code["text"] == "line1\r\nline2\x1b[2J" and code["admitted_as"] == []
    assert code["refused"]["text"]["reason"] == "control_characters"
    assert code["refused"]["eid_token"]["reason"] == "control_characters"


def test_decode_shows_binary_payload_as_hex(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "binary.png"
    _write_qr(path, bytes([0, 1, 2, 0xFF]))
    assert main(["decode", str(path)]) == EXIT_OK
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{path}\t(binary, 4 bytes) 00 01 02 ff"
    assert "charset=binary" in out[1] and "text: not_text" in out[3]


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

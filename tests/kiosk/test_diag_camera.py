"""``kiosk diag camera`` through `main(argv)`, fed from files: output, files written, exit codes."""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers.camera.synthetic import QrScript, photograph_page, write_qr_clip
from kiosk.diag import camera as diag_camera
from kiosk.diag.camera import (
    EXIT_CAMERA,
    EXIT_CHECK_FAILED,
    EXIT_OK,
    EXIT_OUTPUT,
    add_parser,
    main,
)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A QR clip, a photographed page and (if scikit-image is there) a portrait still."""
    root = tmp_path_factory.mktemp("media")
    files = {
        "clip": write_qr_clip(
            root / "qr.mp4",
            size=(640, 480),
            frames=45,
            fps=30,
            scripts=[
                QrScript("DIAG-OK", start=0),
                QrScript("110101199003074578", start=0, module_px=4),
            ],
        ),
        "page": root / "page.png",
    }
    cv2.imwrite(str(files["page"]), photograph_page(size=(960, 720), seed=1).image)
    spec = importlib.util.find_spec("skimage")
    if spec is not None and spec.submodule_search_locations:
        data = Path(next(iter(spec.submodule_search_locations))) / "data" / "astronaut.png"
        portrait = cv2.resize(cv2.imread(str(data))[0:240, 64:384], (640, 480))
        files["face"] = root / "face.png"
        cv2.imwrite(str(files["face"]), portrait)
    return files


def diag(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--warmup", "0", "--timeout", "3"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(err: str) -> None:
    assert err.count("\n") == 1, err
    assert "Traceback" not in err


def test_snapshot_from_a_clip(media, tmp_path: Path, capsys) -> None:
    target = tmp_path / "snap.png"
    code, out, err = diag(capsys, "--device", f"file://{media['clip']}", "--snapshot", str(target))
    assert code == EXIT_OK, err
    assert err == ""
    picture = cv2.imread(str(target))
    assert picture is not None and picture.shape == (480, 640, 3)
    assert "snapshot saved" in out and "camera online" in out and "640x480" in out


def test_jpeg_snapshot_and_json(media, tmp_path: Path, capsys) -> None:
    target = tmp_path / "snap.jpg"
    code, out, _ = diag(
        capsys, "--device", f"file://{media['clip']}", "--snapshot", str(target), "--json"
    )
    assert code == EXIT_OK
    data = json.loads(out)
    assert data["size"] == [640, 480]
    assert data["status"]["state"] == "online"
    assert data["snapshot"] == str(target)
    assert target.read_bytes()[:2] == b"\xff\xd8"


def test_face_verdict_on_a_portrait(media, tmp_path: Path, capsys, monkeypatch) -> None:
    if "face" not in media:
        pytest.skip("scikit-image (test dependency) is not installed")
    monkeypatch.chdir(tmp_path)
    code, out, _ = diag(capsys, "--device", f"file://{media['face']}", "--face", "--json")
    assert code == EXIT_OK
    face = json.loads(out)["face"]
    assert face["ok"] is True and face["problems"] == []
    assert list(tmp_path.iterdir()) == []  # a face is personal data: nothing written unasked


def test_face_verdict_without_a_face(media, capsys) -> None:
    code, out, _ = diag(capsys, "--device", f"file://{media['clip']}", "--face")
    assert code == EXIT_CHECK_FAILED
    assert "face not usable" in out and "no face" in out


def test_document_is_found_straightened_and_saved(media, tmp_path: Path, capsys) -> None:
    target = tmp_path / "page.jpg"
    code, out, err = diag(
        capsys, "--device", f"file://{media['page']}", "--document", str(target), "--json"
    )
    assert code == EXIT_OK, err
    document = json.loads(out)["document"]
    assert document["found"] is True
    width, height = document["size"]
    assert width / height == pytest.approx(210 / 297, rel=0.01)
    page = cv2.imdecode(np.frombuffer(target.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    assert page.shape[:2] == (height, width)


def test_no_document_in_view(media, tmp_path: Path, capsys) -> None:
    target = tmp_path / "page.png"
    code, out, _ = diag(capsys, "--device", f"file://{media['clip']}", "--document", str(target))
    assert code == EXIT_CHECK_FAILED
    assert "no page found" in out
    assert not target.exists()


def test_qr_codes_are_shown_with_id_numbers_masked(media, capsys) -> None:
    code, out, _ = diag(capsys, "--device", f"file://{media['clip']}", "--qr", "1")
    assert code == EXIT_OK
    assert "QR code: DIAG-OK" in out
    assert "QR code: 1101**********4578" in out  # an ID number is masked even here
    assert "110101199003074578" not in out


def test_no_qr_code_seen(tmp_path: Path, capsys) -> None:
    still = tmp_path / "grey.png"
    cv2.imwrite(str(still), np.full((120, 160, 3), 128, np.uint8))
    code, out, _ = diag(capsys, "--device", f"file://{still}", "--qr", "0.3")
    assert code == EXIT_CHECK_FAILED
    assert "no QR code" in out


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--device", "file:///nonexistent/clip.mp4"], EXIT_CAMERA, "cannot open the camera"),
        (["--device", "v4l2:///dev/video7"], EXIT_CAMERA, "/dev/video7"),
        (["--device", "v4l2:///dev/video0?wdith=640"], EXIT_CAMERA, "unknown option wdith"),
        (["--device", "rtsp://camera"], EXIT_CAMERA, "invalid camera URL"),
        (["--device", "sim://camera", "--timeout", "0"], EXIT_CAMERA, "--timeout"),
        (["--device", "sim://camera", "--snapshot", "x.gif"], EXIT_OUTPUT, ".png or .jpg"),
    ],
)
def test_failures_are_one_line(capsys, argv: list[str], code: int, message: str) -> None:
    result = main(argv)
    captured = capsys.readouterr()
    assert result == code
    assert message in captured.err
    assert_one_line_error(captured.err)
    assert captured.out == ""


def test_garbage_video_is_one_line(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 4096)
    code, _, err = diag(capsys, "--device", f"file://{bad}")
    assert code == EXIT_CAMERA
    assert "cannot decode" in err
    assert_one_line_error(err)


def test_unwritable_snapshot(media, capsys) -> None:
    code, _, err = diag(
        capsys, "--device", f"file://{media['clip']}", "--snapshot", "/nonexistent/dir/x.png"
    )
    assert code == EXIT_OUTPUT
    assert "cannot write the file" in err
    assert_one_line_error(err)


def test_registers_under_kiosk_diag() -> None:
    parser = argparse.ArgumentParser(prog="kiosk diag")
    sub = parser.add_subparsers(dest="diag_command")
    add_parser(sub)
    args = parser.parse_args(["camera", "--face", "--json"])
    assert args.func is diag_camera.run
    assert args.device == "v4l2:///dev/video0"
    assert args.face and args.json and args.snapshot is None

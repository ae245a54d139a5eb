"""``kiosk diag camera``: check the camera, for technicians: frames, a snapshot, face, page, QR.

Without options it opens the camera, waits for frames and reports its state, size and frame
rate. ``--snapshot FILE`` saves one frame; ``--face`` prints the face quality verdict for the
person in front of it; ``--document FILE`` finds the page, straightens it and saves it;
``--qr SECONDS`` watches for QR codes. Face pictures and documents are personal data: nothing
is written except the files the technician names, and nothing of them is logged.

Exit codes: 0 all asked checks passed; 1 a check ran and failed (face not usable, no page, no QR
code); 2 the camera cannot be used (bad URL, no device, no frames); 3 a file cannot be written.
Errors are one line on stderr, in Chinese and English, never a traceback (``--trace`` keeps it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import cv2
import numpy as np

from drivers.camera import (
    CameraConfigError,
    CameraDevice,
    CameraError,
    CameraFormatError,
    CameraTimeoutError,
    CameraUnavailableError,
    Enhance,
    FaceProblem,
    NoPageFoundError,
    capture_document,
    check_face,
    open_camera,
)
from drivers.url import DeviceUrlError
from kiosk.diag.common import driver_logging
from kiosk.privacy import redact_text

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_CAMERA = 2
EXIT_OUTPUT = 3

DEFAULT_DEVICE = "v4l2:///dev/video0"
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")

# What a technician reads for each face problem (the kiosk's own prompts live in its i18n).
FACE_PROMPTS = {
    FaceProblem.NO_FACE: "未检测到人脸 / no face",
    FaceProblem.SEVERAL_FACES: "多张人脸 / several faces",
    FaceProblem.TOO_SMALL: "人脸太小，请靠近一点 / face too small, come closer",
    FaceProblem.OFF_CENTRE: "人脸不在中间 / face off centre",
    FaceProblem.NOT_FRONTAL: "请正视摄像头 / not facing the camera",
    FaceProblem.BLURRY: "图像模糊，请保持不动 / blurred, hold still",
    FaceProblem.TOO_DARK: "光线太暗 / too dark",
    FaceProblem.TOO_BRIGHT: "光线太强 / too bright",
}


class _OutputError(Exception):
    """A file the technician asked for cannot be written."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``camera`` on the ``kiosk diag`` subparsers; the caller then calls `run`."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "camera",
        help="检查摄像头 / check the camera",
        description="检查摄像头：画面、快照、人脸、文档、二维码 / "
        "check the camera: frames, snapshot, face, document, QR codes",
        epilog="exit codes: 0 ok, 1 a check failed, 2 camera unusable, 3 cannot write a file",
    )
    configure_parser(parser)
    parser.set_defaults(func=run)
    return parser


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the command's options to `parser`."""
    parser.add_argument(
        "--device",
        default=DEFAULT_DEVICE,
        metavar="URL",
        help=f"v4l2:///dev/video0?width=1280&height=720, file:///clip.mp4 (default {DEFAULT_DEVICE})",
    )
    parser.add_argument("--snapshot", metavar="FILE", help="save one frame (.png or .jpg)")
    parser.add_argument("--face", action="store_true", help="print the face quality verdict")
    parser.add_argument(
        "--document", metavar="FILE", help="find the page, straighten it and save it (.jpg/.png)"
    )
    parser.add_argument(
        "--enhance",
        choices=[mode.value for mode in Enhance],
        default=Enhance.SHADOWS.value,
        help="clean-up for --document (default shadows)",
    )
    parser.add_argument(
        "--qr", type=float, default=0.0, metavar="SECONDS", help="watch for QR codes this long"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="how long to wait for the first frame (default 5)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="let exposure settle this long before taking the picture (default 1)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--trace", action="store_true", help="log driver events to stderr; keep tracebacks"
    )


@dataclass
class _Report:
    code: int = EXIT_OK
    data: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


def run(
    args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Check the camera as `args` says, print the results, and return the exit code."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    for name in ("timeout", "warmup", "qr"):
        value = getattr(args, name)
        if value < 0 or (name == "timeout" and value == 0):
            return _fail(err, EXIT_CAMERA, "参数无效 / invalid option", f"--{name}={value:g}")
    for path in (args.snapshot, args.document):
        if path and not path.lower().endswith(_IMAGE_SUFFIXES):
            return _fail(
                err,
                EXIT_OUTPUT,
                "文件类型无效 / unsupported file type",
                f"{path}: use .png or .jpg",
            )
    try:
        with _driver_logging(args, err):
            report = _diagnose(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        code, summary = _classify(exc)
        if code is None:
            if getattr(args, "trace", False):
                raise
            code, summary = EXIT_CAMERA, f"内部错误 / internal error ({type(exc).__name__})"
        return _fail(err, code, summary, str(exc))
    if args.json:
        print(json.dumps(report.data, ensure_ascii=False), file=out)
    else:
        print("\n".join(report.lines), file=out)
    return report.code


def _diagnose(args: argparse.Namespace) -> _Report:
    report = _Report()
    # Opening waits for the first frame: a camera that opens but sends nothing fails here.
    camera = open_camera(args.device, qr=args.qr > 0, first_frame_s=args.timeout)
    with camera:
        if args.warmup:
            time.sleep(args.warmup)
        image = camera.snapshot(args.timeout)
        _describe_camera(camera, image, report)
        if args.snapshot:
            _save_image(args.snapshot, image)
            report.data["snapshot"] = args.snapshot
            report.lines.append(f"快照已保存 / snapshot saved: {args.snapshot}")
        if args.face:
            _check_face(image, report)
        if args.document:
            _capture_page(image, args.document, Enhance(args.enhance), report)
        if args.qr > 0:
            _watch_qr(camera, args.qr, report)
    return report


def _describe_camera(camera: CameraDevice, image: np.ndarray, report: _Report) -> None:
    status = camera.status()
    capture = camera.capture
    fps = capture.stats().fps if capture is not None else 0.0
    height, width = image.shape[:2]
    report.data.update(
        {
            "device": camera.name,
            "status": status.as_dict(),
            "size": [width, height],
            "fps": round(fps, 1),
            "brightness": round(float(image.mean()), 1),
        }
    )
    state = "正常" if status.state.usable else "异常"
    rate = f"{fps:.1f} fps" if fps else "fps not measured yet"
    report.lines.append(
        f"摄像头{state} / camera {status.state.value}: {camera.name}, {width}x{height}, "
        f"{rate}, mean brightness {image.mean():.0f}"
    )


def _check_face(image: np.ndarray, report: _Report) -> None:
    quality = check_face(image)
    report.data["face"] = quality.as_dict()
    if quality.ok:
        box = quality.face_box
        where = f" at {list(box.as_tuple())}" if box is not None else ""
        report.lines.append(f"人脸检查通过 / face OK{where}")
        return
    report.code = max(report.code, EXIT_CHECK_FAILED)
    problems = "; ".join(FACE_PROMPTS[p] for p in quality.problems)
    report.lines.append(f"人脸检查未通过 / face not usable: {problems}")


def _capture_page(image: np.ndarray, path: str, enhance: Enhance, report: _Report) -> None:
    try:
        document = capture_document(image, enhance=enhance)
    except NoPageFoundError as exc:
        report.code = max(report.code, EXIT_CHECK_FAILED)
        report.data["document"] = {"found": False, "reason": str(exc)}
        report.lines.append(f"未找到文档 / no page found: {exc}")
        return
    if path.lower().endswith((".jpg", ".jpeg")):
        _write_bytes(path, document.jpeg)
    else:
        _save_image(path, document.image)
    height, width = document.image.shape[:2]
    report.data["document"] = {
        "found": True,
        "file": path,
        "size": [width, height],
        "confidence": round(document.confidence, 2),
        "corners": [[round(float(x), 1), round(float(y), 1)] for x, y in document.corners],
        "jpeg_bytes": len(document.jpeg),
    }
    report.lines.append(
        f"文档已保存 / page saved: {path} ({width}x{height}, "
        f"confidence {document.confidence:.2f}, JPEG {len(document.jpeg)} bytes)"
    )


def _watch_qr(camera: CameraDevice, seconds: float, report: _Report) -> None:
    deadline = time.monotonic() + seconds
    texts: list[str] = []
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            codes = camera.poll(min(0.5, remaining))
        except CameraUnavailableError:
            if camera.capture is not None and camera.capture.ended:
                break  # a clip played to its end: nothing more will come
            raise
        # A code can be a resident's: ID numbers in it are masked even here.
        texts.extend(redact_text(code.text) for code in codes)
    report.data["qr"] = texts
    if texts:
        for text in texts:
            report.lines.append(f"二维码 / QR code: {text}")
    else:
        report.code = max(report.code, EXIT_CHECK_FAILED)
        report.lines.append(f"{seconds:g} 秒内未识别到二维码 / no QR code in {seconds:g} s")


def _save_image(path: str, image: np.ndarray) -> None:
    suffix = os.path.splitext(path)[1].lower()
    ok, buffer = cv2.imencode(suffix, image)
    if not ok:
        raise _OutputError(f"{path}: cannot encode the picture as {suffix}")
    _write_bytes(path, buffer.tobytes())


def _write_bytes(path: str, data: bytes) -> None:
    try:
        with open(path, "wb") as file:
            file.write(data)
    except OSError as exc:
        raise _OutputError(f"{path}: {exc.strerror or exc}") from None


def _driver_logging(
    args: argparse.Namespace, err: TextIO
) -> contextlib.AbstractContextManager[None]:
    return driver_logging("drivers.camera", args, err)


def _classify(exc: BaseException) -> tuple[int | None, str]:
    """Exit code and bilingual summary for a failure; code None for unexpected exceptions."""
    if isinstance(exc, _OutputError):
        return EXIT_OUTPUT, "无法保存文件 / cannot write the file"
    if isinstance(exc, CameraConfigError | DeviceUrlError):
        return EXIT_CAMERA, "摄像头地址或参数无效 / invalid camera URL or option"
    if isinstance(exc, CameraUnavailableError):
        return EXIT_CAMERA, "无法打开摄像头 / cannot open the camera"
    if isinstance(exc, CameraTimeoutError):
        return EXIT_CAMERA, "摄像头没有画面 / no picture from the camera"
    if isinstance(exc, CameraFormatError):
        return EXIT_CAMERA, "无法解码画面 / cannot decode the picture"
    if isinstance(exc, CameraError):
        return EXIT_CAMERA, "摄像头错误 / camera error"
    if isinstance(exc, cv2.error):
        return EXIT_CAMERA, "OpenCV 错误 / OpenCV error"
    return None, ""


def _fail(err: TextIO, code: int, summary: str, detail: str) -> int:
    # Camera errors carry device paths and counts, never picture content, so they may be shown.
    # OpenCV's messages span lines: the first says what went wrong.
    detail = detail.strip().splitlines()[0] if detail.strip() else ""
    print(f"{summary}: {detail}" if detail else summary, file=err)
    return code


def build_parser() -> argparse.ArgumentParser:
    """A stand-alone parser equal to ``kiosk diag camera`` (for `main` and tests)."""
    parser = argparse.ArgumentParser(prog="kiosk diag camera", description=__doc__)
    configure_parser(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for running the command without the rest of the CLI."""
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())

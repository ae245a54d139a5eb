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
import os
import time
from dataclasses import dataclass, field
from typing import Any

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
)
from kiosk.privacy import redact_text

EXIT_CHECK_FAILED = EXIT_FAILED
EXIT_CAMERA = EXIT_USAGE
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


def _options(parser: argparse.ArgumentParser) -> None:
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
        "--warmup",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="let exposure settle this long before taking the picture (default 1)",
    )


COMMAND = DiagCommand(
    "camera",
    help="检查摄像头 / check the camera",
    description="检查摄像头：画面、快照、人脸、文档、二维码 / "
    "check the camera: frames, snapshot, face, document, QR codes",
    epilog="exit codes: 0 ok, 1 a check failed, 2 camera unusable, 3 cannot write a file",
    url="--device",
    url_help=f"v4l2:///dev/video0?width=1280&height=720, file:///clip.mp4 (default {DEFAULT_DEVICE})",
    url_default=DEFAULT_DEVICE,
    timeout=Timeout(5.0, help="how long to wait for the first frame (default {default:g})"),
    logger="drivers.camera",
    failures=(
        Failure(_OutputError, EXIT_OUTPUT, "无法保存文件 / cannot write the file"),
        Failure(
            (CameraConfigError, DeviceUrlError),
            EXIT_CAMERA,
            "摄像头地址或参数无效 / invalid camera URL or option",
        ),
        Failure(CameraUnavailableError, EXIT_CAMERA, "无法打开摄像头 / cannot open the camera"),
        Failure(CameraTimeoutError, EXIT_CAMERA, "摄像头没有画面 / no picture from the camera"),
        Failure(CameraFormatError, EXIT_CAMERA, "无法解码画面 / cannot decode the picture"),
        Failure(CameraError, EXIT_CAMERA, "摄像头错误 / camera error"),
        Failure(cv2.error, EXIT_CAMERA, "OpenCV 错误 / OpenCV error"),
    ),
    options=_options,
)
COMMANDS = (COMMAND,)


@COMMAND
def run(args: argparse.Namespace, output: Output) -> int:
    """Check the camera as `args` says, print the results, and return the exit code."""
    for name in ("warmup", "qr"):
        if getattr(args, name) < 0:
            raise CommandFailed(EXIT_CAMERA, INVALID_OPTION, f"--{name}={getattr(args, name):g}")
    for path in (args.snapshot, args.document):
        if path and not path.lower().endswith(_IMAGE_SUFFIXES):
            summary = "文件类型无效 / unsupported file type"
            raise CommandFailed(EXIT_OUTPUT, summary, f"{path}: use .png or .jpg")
    report = _diagnose(args)
    if args.json:
        output.json(report.data)
    else:
        output.line("\n".join(report.lines))
    return report.code


@dataclass
class _Report:
    code: int = EXIT_OK
    data: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


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


add_parser, build_parser, main = COMMAND.add_parser, COMMAND.build_parser, COMMAND.main

if __name__ == "__main__":
    raise SystemExit(main())

"""The camera self-test's picture: one frame with the QR codes and faces found in it boxed, the
faces blurred, and the figures a technician judges a camera by (brightness, sharpness).

Faces are blurred because the preview is shown on the kiosk's screen in a public hall, where
whoever stands behind the technician sees it, and may end up in a screenshot or a bug report:
the technician needs to see that a face is found and where, not whose face it is. The box stays
sharp, so framing and the detector can still be judged.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from drivers.camera import check_face

PREVIEW_WIDTH = 640  # enough for a menu panel; a smaller PNG is quicker to show
QR_COLOUR = (0, 200, 0)  # BGR
FACE_COLOUR = (0, 140, 255)
_BLUR_KERNEL = (51, 51)


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class Preview:
    png: bytes
    width: int  # of the camera frame, not of the PNG
    height: int
    brightness: float  # mean grey level, 0-255
    sharpness: float  # variance of the Laplacian of the grey frame; higher is sharper
    qr_boxes: tuple[Box, ...]
    face_boxes: tuple[Box, ...]


def measure(image: np.ndarray) -> tuple[float, float]:
    """(brightness, sharpness) of a BGR or grey frame."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return float(gray.mean()), float(cv2.Laplacian(gray, cv2.CV_64F).var())


def qr_boxes(image: np.ndarray) -> tuple[Box, ...]:
    """Where the QR codes in the frame are (their payloads are not kept)."""
    from drivers.qr.decode import decode_image  # OpenCV and zbar load only when needed

    boxes = []
    for code in decode_image(image):
        if code.points:
            xs = [x for x, _ in code.points]
            ys = [y for _, y in code.points]
            boxes.append(Box(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)))
    return tuple(boxes)


def face_boxes(image: np.ndarray) -> tuple[Box, ...]:
    """The main face the kiosk's face check finds, if any."""
    quality = check_face(image)
    if quality.face_box is None:
        return ()
    x, y, w, h = quality.face_box.as_tuple()
    return (Box(x, y, w, h),)


def render_preview(image: np.ndarray) -> Preview:
    """Analyse a BGR frame and draw the preview PNG (faces blurred, boxes drawn)."""
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    height, width = image.shape[:2]
    brightness, sharpness = measure(image)
    codes, faces = qr_boxes(image), face_boxes(image)
    picture = image.copy()
    for box in faces:
        region = picture[box.y : box.y + box.h, box.x : box.x + box.w]
        if region.size:
            picture[box.y : box.y + box.h, box.x : box.x + box.w] = cv2.GaussianBlur(
                region, _BLUR_KERNEL, 0
            )
    thickness = max(2, width // 320)
    for box, colour in [(b, QR_COLOUR) for b in codes] + [(b, FACE_COLOUR) for b in faces]:
        cv2.rectangle(picture, (box.x, box.y), (box.x + box.w, box.y + box.h), colour, thickness)
    if width > PREVIEW_WIDTH:
        scale = PREVIEW_WIDTH / width
        picture = cv2.resize(
            picture, (PREVIEW_WIDTH, round(height * scale)), interpolation=cv2.INTER_AREA
        )
    ok, encoded = cv2.imencode(".png", picture)
    if not ok:
        raise ValueError("the preview cannot be encoded as PNG")
    return Preview(encoded.tobytes(), width, height, brightness, sharpness, codes, faces)

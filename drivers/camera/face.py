"""Face presence and quality for 人证核验 capture: is this frame good enough to send?

The comparison with the ID card photo belongs to the central service; the kiosk only makes sure
it sends a usable picture, and tells the resident what to change ("请靠近一点", "请保持不动").
`check_face(image)` finds faces with OpenCV's bundled Haar cascades and returns a `FaceQuality`
whose `problems` the UI turns into prompts, most important first.

Thresholds (`FaceThresholds`, all relative, so they hold at any camera resolution):

| check         | measure                                                    | default          |
|---------------|------------------------------------------------------------|------------------|
| no_face       | no frontal face at least 1/12 of the frame wide            |                  |
| several_faces | faces at least `companion_ratio` as wide as the largest     | 0.6              |
|               | (smaller ones are people further back in the hall)         |                  |
| too_small     | face width / frame width                                   | >= 0.18          |
| off_centre    | face centre from frame centre, / frame width and height    | <= 0.15, <= 0.20 |
| not_frontal   | eye line tilt; eye midpoint from face centre / face width  | <= 15°; <= 0.12  |
| too_dark      | mean grey of the face; or its 95th percentile              | >= 70; >= 110    |
| too_bright    | mean grey of the face; or share of pixels >= 250           | <= 210; <= 0.15  |
| blurry        | variance of the Laplacian of the face resized to 128 px,   | >= 50            |
|               | contrast normalised to a standard deviation of 40          |                  |

The figures were set on the bundled astronaut portrait framed as a kiosk camera sees a resident
(640x480, face 30 % of the width: sharpness about 120, mean grey 155, 95th percentile 219) and
its degraded copies in the tests: a Gaussian blur of sigma 1.5 drops sharpness to about 30;
45 % of the light gives a mean of 70 (the limit), 25 % a mean near 38; adding 60 grey levels
saturates a quarter of the face; a 20° roll reads as a 16° eye line.
Detection runs on a contrast-equalised copy, so a dark face is still found and reported as too
dark rather than missing, and sharpness is contrast-normalised, so a dim face is not called
blurred. The eye checks are skipped when the eye cascade does not find one eye on each side
(small or blurred faces): they can only add `not_frontal`, never hide another problem. A head
turned far to the side is not found by the frontal cascade at all and reads as `no_face`
(OpenCV's profile cascade was tried for a `not_frontal` there, but it fired on printed text).
Face pixels never leave this module, only the box and the figures.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import cv2
import numpy as np

from drivers.camera.errors import CameraFormatError

# Processing size: Haar detection cost grows with pixels; 480 px wide keeps a check of a face
# near 45 ms on one core and still sees a face a twelfth of the frame wide (40 px).
_DETECT_WIDTH = 480
_SHARPNESS_WIDTH = 128  # the face is resized to this before measuring, so blur is scale-free
_SHARPNESS_STD = 40.0  # contrast the face is normalised to before measuring sharpness


class FaceProblem(StrEnum):
    """What is wrong with a face picture; the UI maps each to a plain prompt."""

    NO_FACE = "no_face"  # 请正对摄像头
    SEVERAL_FACES = "several_faces"  # 请一人核验
    TOO_SMALL = "too_small"  # 请靠近一点
    OFF_CENTRE = "off_centre"  # 请移到画面中间
    NOT_FRONTAL = "not_frontal"  # 请正视摄像头
    BLURRY = "blurry"  # 请保持不动
    TOO_DARK = "too_dark"  # 光线太暗
    TOO_BRIGHT = "too_bright"  # 光线太强


@dataclass(frozen=True)
class FaceThresholds:
    """Limits of a usable face picture; see the module docstring for how they were set."""

    min_face_width: float = 0.18
    max_offset_x: float = 0.15
    max_offset_y: float = 0.20
    min_sharpness: float = 50.0
    min_brightness: float = 70.0
    min_highlight: float = 110.0  # 95th percentile: a face with no bright skin at all is dark
    max_brightness: float = 210.0
    max_saturated: float = 0.15
    max_eye_tilt_deg: float = 15.0
    max_eye_offset: float = 0.12
    companion_ratio: float = 0.6
    check_eyes: bool = True


@dataclass(frozen=True)
class FaceBox:
    """A face's bounding box in the input image's pixels."""

    x: int
    y: int
    w: int
    h: int

    @property
    def centre(self) -> tuple[float, float]:
        """The box centre (x, y)."""
        return (self.x + self.w / 2, self.y + self.h / 2)

    def as_tuple(self) -> tuple[int, int, int, int]:
        """(x, y, w, h)."""
        return (self.x, self.y, self.w, self.h)


@dataclass(frozen=True)
class FaceMeasures:
    """The figures behind a verdict, for tuning and the technician's diagnostics."""

    faces: int = 0
    width_ratio: float = 0.0
    offset_x: float = 0.0
    offset_y: float = 0.0
    sharpness: float = 0.0
    brightness: float = 0.0
    highlight: float = 0.0
    saturated: float = 0.0
    eyes: int = 0
    eye_tilt_deg: float | None = None
    eye_offset: float | None = None


@dataclass(frozen=True)
class FaceQuality:
    """The verdict: `ok` when exactly one usable face; otherwise what to fix, in order."""

    ok: bool
    face_box: FaceBox | None
    problems: list[FaceProblem] = field(default_factory=list)
    measures: FaceMeasures = field(default_factory=FaceMeasures)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (box and figures only: no pixels)."""
        m = self.measures
        return {
            "ok": self.ok,
            "face_box": None if self.face_box is None else list(self.face_box.as_tuple()),
            "problems": [p.value for p in self.problems],
            "measures": {
                "faces": m.faces,
                "width_ratio": round(m.width_ratio, 3),
                "offset_x": round(m.offset_x, 3),
                "offset_y": round(m.offset_y, 3),
                "sharpness": round(m.sharpness, 1),
                "brightness": round(m.brightness, 1),
                "highlight": round(m.highlight, 1),
                "saturated": round(m.saturated, 3),
                "eyes": m.eyes,
                "eye_tilt_deg": None if m.eye_tilt_deg is None else round(m.eye_tilt_deg, 1),
                "eye_offset": None if m.eye_offset is None else round(m.eye_offset, 3),
            },
        }


def _cascade(name: str) -> cv2.CascadeClassifier:
    path = cv2.data.haarcascades + name  # type: ignore[attr-defined]
    classifier = cv2.CascadeClassifier(path)
    if classifier.empty():
        raise CameraFormatError(f"cannot load OpenCV cascade {name}")
    return classifier


class FaceChecker:
    """Holds the loaded cascades (about 50 ms to load) and checks pictures with them.

    Safe to share between threads: a lock serialises detection, because OpenCV does not promise
    that one `CascadeClassifier` may run in two threads at once.
    """

    def __init__(self, thresholds: FaceThresholds | None = None) -> None:
        self.thresholds = thresholds or FaceThresholds()
        self._face = _cascade("haarcascade_frontalface_default.xml")
        self._eyes = _cascade("haarcascade_eye_tree_eyeglasses.xml")  # many residents wear glasses
        self._lock = threading.Lock()

    def check(self, image: np.ndarray) -> FaceQuality:
        """Find faces in a BGR or grey picture and judge the main one."""
        if image.size == 0:
            return FaceQuality(False, None, [FaceProblem.NO_FACE])
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        height, width = gray.shape
        scale = min(1.0, _DETECT_WIDTH / width)
        small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        detect_on = cv2.equalizeHist(small)
        with self._lock:
            found = self._detect(self._face, detect_on)
            if not found:
                return FaceQuality(False, None, [FaceProblem.NO_FACE])
            boxes = sorted(
                (_scaled(box, 1 / scale) for box in found), key=lambda b: b.w * b.h, reverse=True
            )
            main = boxes[0]
            eyes = self._find_eyes(gray, main) if self.thresholds.check_eyes else []
        return self._judge(gray, boxes, main, eyes)

    def _detect(self, cascade: cv2.CascadeClassifier, gray: np.ndarray) -> list[FaceBox]:
        # Faces under a twelfth of the frame width are people further back, not the resident.
        min_side = max(24, gray.shape[1] // 12)
        found = cascade.detectMultiScale(
            gray, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side)
        )
        return [FaceBox(int(x), int(y), int(w), int(h)) for x, y, w, h in found]

    def _find_eyes(self, gray: np.ndarray, face: FaceBox) -> list[tuple[float, float]]:
        # Eyes are in the upper part of a frontal face box; searching only there avoids
        # nostrils and mouth corners, the cascade's usual false hits.
        top = gray[face.y : face.y + int(face.h * 0.6), face.x : face.x + face.w]
        if top.size == 0:
            return []
        side = max(10, face.w // 8)
        found = self._eyes.detectMultiScale(
            cv2.equalizeHist(top), scaleFactor=1.1, minNeighbors=5, minSize=(side, side)
        )
        centres = [(face.x + x + w / 2, face.y + y + h / 2) for x, y, w, h in found]
        left = [c for c in centres if c[0] < face.x + face.w / 2]
        right = [c for c in centres if c[0] >= face.x + face.w / 2]
        if not left or not right:
            return centres[:1]
        # One eye on each side of the face: the highest candidate of each (eyebrows excepted,
        # the cascade's lower hits are more often cheek shadows).
        return [min(left, key=lambda c: c[1]), min(right, key=lambda c: c[1])]

    def _judge(
        self,
        gray: np.ndarray,
        boxes: list[FaceBox],
        main: FaceBox,
        eyes: list[tuple[float, float]],
    ) -> FaceQuality:
        t = self.thresholds
        height, width = gray.shape
        companions = [b for b in boxes if b.w >= t.companion_ratio * main.w]
        roi = gray[main.y : main.y + main.h, main.x : main.x + main.w]
        sized = cv2.resize(roi, (_SHARPNESS_WIDTH, _SHARPNESS_WIDTH), interpolation=cv2.INTER_AREA)
        sharpness = _sharpness(sized)
        brightness = float(roi.mean())
        highlight = float(np.percentile(roi, 95))
        saturated = float(np.count_nonzero(roi >= 250)) / roi.size
        cx, cy = main.centre
        offset_x = (cx - width / 2) / width
        offset_y = (cy - height / 2) / height
        tilt = eye_offset = None
        if len(eyes) == 2:
            (lx, ly), (rx, ry) = eyes
            tilt = math.degrees(math.atan2(ry - ly, rx - lx))
            eye_offset = float(((lx + rx) / 2 - cx) / main.w)
        measures = FaceMeasures(
            faces=len(companions),
            width_ratio=main.w / width,
            offset_x=offset_x,
            offset_y=offset_y,
            sharpness=sharpness,
            brightness=brightness,
            highlight=highlight,
            saturated=saturated,
            eyes=len(eyes),
            eye_tilt_deg=tilt,
            eye_offset=eye_offset,
        )
        # Order matters: the UI shows the first problem, and moving closer or to the middle
        # changes every other measure, so position comes before light and sharpness.
        problems: list[FaceProblem] = []
        if len(companions) > 1:
            problems.append(FaceProblem.SEVERAL_FACES)
        if measures.width_ratio < t.min_face_width:
            problems.append(FaceProblem.TOO_SMALL)
        if abs(offset_x) > t.max_offset_x or abs(offset_y) > t.max_offset_y:
            problems.append(FaceProblem.OFF_CENTRE)
        if (tilt is not None and abs(tilt) > t.max_eye_tilt_deg) or (
            eye_offset is not None and abs(eye_offset) > t.max_eye_offset
        ):
            problems.append(FaceProblem.NOT_FRONTAL)
        if brightness < t.min_brightness or highlight < t.min_highlight:
            problems.append(FaceProblem.TOO_DARK)
        elif brightness > t.max_brightness or saturated > t.max_saturated:
            problems.append(FaceProblem.TOO_BRIGHT)
        if sharpness < t.min_sharpness:
            problems.append(FaceProblem.BLURRY)
        return FaceQuality(not problems, main, problems, measures)


def _sharpness(face: np.ndarray) -> float:
    """Variance of the Laplacian after normalising contrast to a standard deviation of 40.

    The raw variance falls with the square of contrast, so a dim face would read as blurred;
    normalising makes the figure about detail, not light (light has its own checks).
    """
    laplacian_var = float(cv2.Laplacian(face, cv2.CV_64F).var())
    std = float(face.std())
    if std < 1.0:  # a flat patch has no detail at all
        return 0.0
    return laplacian_var * (_SHARPNESS_STD / std) ** 2


def _scaled(box: FaceBox, factor: float) -> FaceBox:
    return FaceBox(
        round(box.x * factor), round(box.y * factor), round(box.w * factor), round(box.h * factor)
    )


_default_checker: FaceChecker | None = None
_default_lock = threading.Lock()


def check_face(image: np.ndarray, thresholds: FaceThresholds | None = None) -> FaceQuality:
    """Judge a face picture with the default thresholds (or `thresholds`)."""
    global _default_checker
    if thresholds is not None:
        return FaceChecker(thresholds).check(image)
    with _default_lock:
        if _default_checker is None:
            _default_checker = FaceChecker()
        checker = _default_checker
    return checker.check(image)

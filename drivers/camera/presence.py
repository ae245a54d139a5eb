"""Presence over a short run of frames for 人证核验: a usable face, there for a moment, moving.

    check = PresenceCheck()
    while not check.done:
        frame = camera.frame()
        check.add(frame.image, frame.t)      # FaceQuality of this frame, for the prompt
    result = check.result()                  # PresenceResult: JPEG, frames, seconds, moved

The check is decided once `frames_needed` consecutive frames pass `check_face` within
`window_s` seconds and the face box moved between them by at least `min_movement` (of the face
width, centre or size). People at a kiosk are never perfectly still: they breathe, sway and
blink, and the box follows by a few pixels. A picture that does not move at all over the run,
such as a still image fed in place of the camera or a frozen video, is reported `not_live` and
the check goes on looking (the resident may simply be very still).

What it does NOT prove: that a living person is there. A printed photo or a phone held up by a
hand moves like a face does, and passes. Real liveness (challenge-response, depth, texture
analysis) and the comparison with the ID card photo belong to the platform the central service
calls; this module only makes sure the kiosk sends one sharp, well-framed, current picture and
refuses the crudest replay. The figures: with frames 80-200 ms apart, the bundled portrait
moving as `synthetic` makes it moves its box by 1-4 % of its width per frame; identical frames
move it by 0 %. `min_movement` is 0.5 %, a pixel on a 200 px face: sensor noise alone can move a
real camera's box by that much, which is why this is a weak signal and says so.

The picture sent is the sharpest good frame of the run, cropped around the face (the face and
the same again on each side, as ID photos are framed) and at most `jpeg_width` wide: under the
`max_bytes` budget, ready for the central service. Only boxes and figures are kept besides it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum

import cv2
import numpy as np

from drivers.camera.document import encode_jpeg
from drivers.camera.errors import CameraFormatError
from drivers.camera.face import FaceBox, FaceChecker, FaceProblem, FaceQuality, check_face

NOT_LIVE = "not_live"


class PresenceProblem(StrEnum):
    """Beyond the per-frame `FaceProblem`s: the run itself was not convincing."""

    NOT_LIVE = NOT_LIVE  # 请稍微动一下 (the picture did not move at all)


@dataclass(frozen=True)
class PresenceResult:
    """A decided presence check: the picture to send and how it was obtained."""

    jpeg: bytes
    frames: int  # frames looked at until decided
    seconds: float  # from the first frame to the decision
    moved: bool
    width: int
    height: int

    def __repr__(self) -> str:  # a face: never the bytes
        return (
            f"PresenceResult({self.width}x{self.height}, {len(self.jpeg)} bytes, "
            f"frames={self.frames}, seconds={self.seconds:.2f}, moved={self.moved})"
        )


@dataclass
class _Good:
    t: float
    box: FaceBox
    sharpness: float
    image: np.ndarray = field(repr=False)


class PresenceCheck:
    """Feed frames with `add`; `done` once a moving face was seen in enough good frames."""

    def __init__(
        self,
        *,
        frames_needed: int = 5,
        window_s: float = 3.0,
        min_movement: float = 0.005,
        jpeg_width: int = 480,
        max_bytes: int = 300_000,
        require_movement: bool = True,
        checker: FaceChecker | None = None,
    ) -> None:
        if frames_needed < 2:
            raise ValueError("frames_needed must be at least 2: movement needs two frames")
        self.frames_needed = frames_needed
        self.window_s = window_s
        self.min_movement = min_movement
        self.jpeg_width = jpeg_width
        self.max_bytes = max_bytes
        self.require_movement = require_movement  # off: decide anyway and report `moved`
        self._checker = checker
        self._run: deque[_Good] = deque()
        self._frames = 0
        self._first_t: float | None = None
        self._problems: list[str] = [FaceProblem.NO_FACE.value]
        self._result: PresenceResult | None = None

    @property
    def done(self) -> bool:
        """Whether the check is decided (then `result()` has the picture)."""
        return self._result is not None

    @property
    def frames(self) -> int:
        """Frames looked at so far."""
        return self._frames

    @property
    def problems(self) -> list[str]:
        """What to tell the resident now: the last frame's problems, or ``not_live``."""
        return list(self._problems)

    def result(self) -> PresenceResult | None:
        """The decided result, or None while undecided."""
        return self._result

    def add(self, image: np.ndarray, t: float) -> FaceQuality:
        """Look at one frame taken at time `t` (seconds, monotonic); its verdict is returned.

        Raises `CameraFormatError` for something that is not a BGR or grey uint8 picture.
        After the check is decided, further frames are judged but change nothing.
        """
        _check_picture(image)
        quality = self._checker.check(image) if self._checker else check_face(image)
        if self._result is not None:
            return quality
        self._frames += 1
        if self._first_t is None:
            self._first_t = t
        if not quality.ok or quality.face_box is None:
            self._run.clear()
            self._problems = [p.value for p in quality.problems] or [FaceProblem.NO_FACE.value]
            return quality
        self._run.append(_Good(t, quality.face_box, quality.measures.sharpness, image))
        while self._run and t - self._run[0].t > self.window_s:
            self._run.popleft()
        if len(self._run) < self.frames_needed:
            self._problems = []
            return quality
        moved = _movement(list(self._run)) >= self.min_movement
        if not moved and self.require_movement:
            self._problems = [PresenceProblem.NOT_LIVE.value]
            self._run.popleft()  # keep looking: slide the window on
            return quality
        self._result = self._finish(t, moved)
        self._problems = []
        return quality

    def _finish(self, t: float, moved: bool) -> PresenceResult:
        best = max(self._run, key=lambda good: good.sharpness)
        crop = _portrait_crop(best.image, best.box)
        if crop.shape[1] > self.jpeg_width:
            factor = self.jpeg_width / crop.shape[1]
            crop = cv2.resize(crop, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        jpeg, encoded, _ = encode_jpeg(
            crop, quality=90, max_bytes=self.max_bytes, min_width=min(crop.shape[1], 160)
        )
        self._run.clear()  # drop the frames: only the chosen picture is kept
        first = self._first_t if self._first_t is not None else t
        return PresenceResult(
            jpeg=jpeg,
            frames=self._frames,
            seconds=max(0.0, t - first),
            moved=moved,
            width=int(encoded.shape[1]),
            height=int(encoded.shape[0]),
        )


def _check_picture(image: object) -> None:
    if not isinstance(image, np.ndarray):
        raise CameraFormatError(f"a picture is a numpy array, not {type(image).__name__}")
    if image.dtype != np.uint8:
        raise CameraFormatError(f"a picture has 8-bit pixels (uint8), not {image.dtype}")
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise CameraFormatError(f"a picture is grey or BGR, not an array of shape {image.shape}")


def _movement(run: list[_Good]) -> float:
    """The largest change of the face box over the run, as a share of the face width."""
    first = run[0].box
    widest = 0.0
    for good in run[1:]:
        box = good.box
        scale = max(first.w, 1)
        dx = (box.centre[0] - first.centre[0]) / scale
        dy = (box.centre[1] - first.centre[1]) / scale
        dw = (box.w - first.w) / scale
        widest = max(widest, abs(dx), abs(dy), abs(dw))
    return widest


def _portrait_crop(image: np.ndarray, box: FaceBox) -> np.ndarray:
    """The face with its width again on each side and below, clipped to the frame."""
    height, width = image.shape[:2]
    x0 = max(0, box.x - box.w)
    x1 = min(width, box.x + 2 * box.w)
    y0 = max(0, box.y - box.h * 3 // 4)
    y1 = min(height, box.y + box.h * 2)
    return np.ascontiguousarray(image[y0:y1, x0:x1])

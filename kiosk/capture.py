"""The camera steps of an application, core side: one page (高拍仪 style) or one live face.

    shot = capture_page(camera)     # PageShot(jpeg, thumbnail, width, height)
    face = capture_face(camera)     # FaceShot(jpeg, frames, seconds, moved)

Both run in the core's background task threads (they block for up to `attempts_s`), look at the
camera's newest frames as they come, and either return the picture or raise
`CaptureProblem(code)` with the problem the resident can fix, which the screen shows through
`prompt_for(kind, code)` ("请把材料完全放进拍摄区"). `on_problem`, when given, is called from
the same thread each time the current problem changes, so a screen can prompt while it waits.
Pictures are personal data: nothing here logs them, and reprs carry sizes, never bytes.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from drivers.camera.errors import CameraError, CameraFormatError, DocumentError
from drivers.camera.page_quality import PageAssessment, PageProblem, assess_page
from drivers.camera.presence import PresenceCheck
from kiosk.capture_prompts import CAMERA_UNAVAILABLE, FACE, PAGE, prompt_for

log = logging.getLogger("kiosk.capture")


PAGE_MAX_BYTES = 400_000
MIN_FACE_SECONDS = 1.2  # the reference service asks for at least 1 s of a live face
FACE_MAX_BYTES = 300_000
THUMBNAIL_WIDTH = 160
THUMBNAIL_MAX_BYTES = 15_000
_GOOD_PAGES_WANTED = 3  # acceptable frames to choose the sharpest from before returning early
_FRAME_WAIT_S = 1.0
_IDLE_S = 0.02  # between looks when no new frame has arrived yet


# What the resident reads for each problem, by capture kind (translated by the screen).
class CaptureProblem(Exception):
    """A capture gave up; `code` says what the resident (or staff) can do about it."""

    def __init__(self, code: str, kind: str = PAGE) -> None:
        super().__init__(f"{kind} capture failed: {code}")
        self.code = code
        self.kind = kind

    @property
    def prompt(self) -> str:
        """The untranslated prompt for the screen."""
        return prompt_for(self.kind, self.code)


class FrameLike(Protocol):
    """What a captured frame offers (drivers.camera.Frame)."""

    @property
    def image(self) -> np.ndarray: ...

    @property
    def index(self) -> int: ...

    @property
    def t(self) -> float: ...


class FrameSourceLike(Protocol):
    """The part of `CameraDevice` a capture needs: the newest frame, waiting for a first one."""

    def frame(self, timeout: float = ...) -> FrameLike: ...


@dataclass(frozen=True)
class PageShot:
    """A straightened page ready to submit, with a thumbnail for the review screen."""

    jpeg: bytes
    thumbnail: bytes
    width: int
    height: int

    def __repr__(self) -> str:
        return (
            f"PageShot({self.width}x{self.height}, {len(self.jpeg)} bytes, "
            f"thumbnail {len(self.thumbnail)} bytes)"
        )


@dataclass(frozen=True)
class FaceShot:
    """The face picture for 人证核验 and how it was obtained."""

    jpeg: bytes
    frames: int
    seconds: float
    moved: bool

    def __repr__(self) -> str:
        return (
            f"FaceShot({len(self.jpeg)} bytes, frames={self.frames}, "
            f"seconds={self.seconds:.2f}, moved={self.moved})"
        )


ProblemListener = Callable[[str], None]


def capture_page(
    camera: FrameSourceLike,
    *,
    attempts_s: float = 6.0,
    on_problem: ProblemListener | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> PageShot:
    """The best acceptable page seen within `attempts_s`; `CaptureProblem` if there was none.

    Returns as soon as a few acceptable frames were seen (the sharpest of them), so a page
    held well is taken in well under a second of frames. On failure the code is the most
    frequent problem among the frames where a page (or part of one) was seen, else no_page.
    """
    deadline = clock() + attempts_s
    good: list[PageAssessment] = []
    problems: Counter[str] = Counter()
    found_problems: Counter[str] = Counter()
    announce = _Announcer(on_problem)
    for frame in _new_frames(camera, deadline, clock, PAGE):
        try:
            assessment = assess_page(frame.image, max_bytes=PAGE_MAX_BYTES)
        except (CameraFormatError, DocumentError) as exc:
            log.warning("page capture: frame %d skipped (%s)", frame.index, type(exc).__name__)
            continue
        if assessment.ok:
            good.append(assessment)
            announce("")
            if len(good) >= _GOOD_PAGES_WANTED:
                break
            continue
        code = assessment.problems[0].value
        problems[code] += 1
        if assessment.problems[0] is not PageProblem.NO_PAGE:
            found_problems[code] += 1
        announce(code)
    if good:
        best = max(good, key=lambda a: a.measures.sharpness)
        assert best.document is not None  # ok assessments carry their document
        image = best.document.image
        return PageShot(
            jpeg=best.document.jpeg,
            thumbnail=make_thumbnail(image),
            width=int(image.shape[1]),
            height=int(image.shape[0]),
        )
    counts = found_problems or problems
    code = counts.most_common(1)[0][0] if counts else PageProblem.NO_PAGE.value
    log.info("page capture gave up: %s (%d frames)", code, sum(problems.values()))
    raise CaptureProblem(code, PAGE)


def capture_face(
    camera: FrameSourceLike,
    *,
    attempts_s: float = 8.0,
    on_problem: ProblemListener | None = None,
    clock: Callable[[], float] = time.monotonic,
    check: PresenceCheck | None = None,
) -> FaceShot:
    """A live, usable face picture within `attempts_s`; `CaptureProblem` with the last problem."""
    presence = check or PresenceCheck(max_bytes=FACE_MAX_BYTES)
    deadline = clock() + attempts_s
    announce = _Announcer(on_problem)
    # The service wants a face watched for a while, not a lucky burst of frames: the run counts
    # from the first good frame and lasts at least `MIN_FACE_SECONDS`.
    since: float | None = None
    frames = 0
    for frame in _new_frames(camera, deadline, clock, FACE):
        try:
            presence.add(frame.image, frame.t)
        except CameraFormatError as exc:
            log.warning("face capture: frame %d skipped (%s)", frame.index, type(exc).__name__)
            continue
        if presence.problems:
            since, frames = None, 0
        else:
            since = frame.t if since is None else since
            frames += 1
        result = presence.result()
        watched = frame.t - since if since is not None else 0.0
        if result is not None and watched >= MIN_FACE_SECONDS:
            return FaceShot(result.jpeg, max(frames, result.frames), watched, result.moved)
        announce(presence.problems[0] if presence.problems else "")
    code = presence.problems[0] if presence.problems else "no_face"
    log.info("face capture gave up: %s (%d frames)", code, presence.frames)
    raise CaptureProblem(code, FACE)


def make_thumbnail(image: np.ndarray, width: int = THUMBNAIL_WIDTH) -> bytes:
    """A small JPEG of `image`, `width` px wide, within `THUMBNAIL_MAX_BYTES`."""
    factor = width / image.shape[1]
    small = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    data = b""
    for quality in (80, 65, 50, 35, 20):
        ok, buffer = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            break
        data = buffer.tobytes()
        if len(data) <= THUMBNAIL_MAX_BYTES:
            break
    return data  # 160 px at quality 20 is a few KB: the budget always holds


def _new_frames(
    camera: FrameSourceLike, deadline: float, clock: Callable[[], float], kind: str
) -> Iterator[FrameLike]:
    """Each new frame until `deadline`; a failing camera becomes `CaptureProblem`."""
    last = -1
    while clock() < deadline:
        try:
            frame = camera.frame(min(_FRAME_WAIT_S, max(0.05, deadline - clock())))
        except CameraError as exc:
            log.warning("%s capture: camera failed (%s)", kind, type(exc).__name__)
            raise CaptureProblem(CAMERA_UNAVAILABLE, kind) from None
        if frame.index == last:
            time.sleep(_IDLE_S)
            continue
        last = frame.index
        yield frame


class _Announcer:
    """Calls the listener when the current problem changes ("" for none)."""

    def __init__(self, listener: ProblemListener | None) -> None:
        self._listener = listener
        self._last: str | None = None

    def __call__(self, code: str) -> None:
        if self._listener is not None and code != self._last:
            self._last = code
            self._listener(code)

"""A synthetic camera and synthetic pictures, for tests, benchmarks and demos without hardware.

- `SimulatedCamera`: a camera "device" that makes frames in memory (a moving test pattern with
  the frame number, optionally a QR code) and can be unplugged and plugged back, so recovery is
  tested through the same capture thread as a real camera. `sim://camera?...` URLs build one.
- `qr_image`, `place`, `write_qr_clip`: QR codes drawn into frames and written as a video file.
- `render_page`, `photograph_page`: an A4 page of text lines, and a photo of it held at an
  angle over a cluttered desk, with uneven light and sensor noise; the true corners come back
  with the picture so document detection can be checked to the pixel.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from drivers.camera.errors import CameraConfigError, CameraUnavailableError
from drivers.camera.sources import parse_bool, parse_number

Image = np.ndarray
FrameMaker = Callable[[int], Image]

_SIM_PARAMS = frozenset(
    {"width", "height", "fps", "qr", "qr_from", "qr_to", "frames", "loop", "fail_after", "fail_for"}
)


def pattern_frame(index: int, size: tuple[int, int] = (640, 480)) -> Image:
    """A frame that changes every time: a drifting gradient, a moving bar and the frame number."""
    width, height = size
    x = np.linspace(0, 255, width, dtype=np.float32)
    row = ((x + index * 4) % 256).astype(np.uint8)
    frame = np.empty((height, width, 3), np.uint8)
    frame[:, :, 0] = row
    frame[:, :, 1] = row[::-1]
    frame[:, :, 2] = 96
    bar = (index * 8) % max(1, width - 40)
    frame[:, bar : bar + 40] = (40, 40, 40)
    cv2.putText(
        frame, f"#{index}", (10, height - 20), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2
    )
    return frame


@functools.lru_cache(maxsize=32)
def qr_image(text: str, module_px: int = 6, quiet_modules: int = 4) -> Image:
    """A black-on-white QR code as a grey image, with the quiet zone readers need around it.

    Cached (OpenCV's encoder takes tens of milliseconds) and so read-only.
    """
    modules = cv2.QRCodeEncoder.create().encode(text)
    code = cv2.resize(
        modules,
        (modules.shape[1] * module_px, modules.shape[0] * module_px),
        interpolation=cv2.INTER_NEAREST,
    )
    pad = quiet_modules * module_px
    image = cv2.copyMakeBorder(code, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
    image.flags.writeable = False
    return image


def place(frame: Image, patch: Image, x: int, y: int) -> Image:
    """Paste `patch` into `frame` at (x, y), clipped to the frame; returns `frame`."""
    if patch.ndim == 2 and frame.ndim == 3:
        patch = cv2.cvtColor(patch, cv2.COLOR_GRAY2BGR)
    height, width = frame.shape[:2]
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(width, x + patch.shape[1]), min(height, y + patch.shape[0])
    if x1 > x0 and y1 > y0:
        frame[y0:y1, x0:x1] = patch[y0 - y : y1 - y, x0 - x : x1 - x]
    return frame


@dataclass(frozen=True)
class QrScript:
    """Which QR code is in view during which frames, for clips and the simulated camera."""

    text: str
    start: int = 0  # first frame showing the code
    stop: int | None = None  # first frame without it again (None: to the end)
    module_px: int = 6

    def visible(self, index: int) -> bool:
        """Whether the code is in frame `index`."""
        return index >= self.start and (self.stop is None or index < self.stop)


def qr_frame(index: int, size: tuple[int, int], scripts: Sequence[QrScript]) -> Image:
    """A test-pattern frame with each visible code drifting slowly across it."""
    frame = pattern_frame(index, size)
    for n, script in enumerate(scripts):
        if script.visible(index):
            code = qr_image(script.text, script.module_px)
            span_x = max(1, size[0] - code.shape[1])
            span_y = max(1, size[1] - code.shape[0])
            x = (40 + n * 200 + index * 3) % span_x
            y = (30 + n * 60 + index) % span_y
            place(frame, code, x, y)
    return frame


def write_qr_clip(
    path: str | Path,
    *,
    size: tuple[int, int] = (640, 480),
    frames: int = 90,
    fps: float = 30.0,
    scripts: Sequence[QrScript] = (),
    fourcc: str = "mp4v",
) -> Path:
    """Write a video of the test pattern with QR codes appearing and moving; returns its path."""
    path = Path(path)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), fps, size)
    if not writer.isOpened():
        raise OSError(f"{path}: OpenCV cannot write {fourcc} video here")
    try:
        for index in range(frames):
            writer.write(qr_frame(index, size, scripts))
    finally:
        writer.release()
    return path


class SimulatedCamera:
    """A camera made of code: frames from `frames(index)`, unpluggable, counting its opens.

    While unplugged, reads fail and opening raises `CameraUnavailableError`, as with a real
    camera pulled out of its USB port. Faults can also be scripted by count: after
    `fail_after` good frames the next `fail_for` reads and opens fail, then it recovers.
    """

    def __init__(
        self,
        frames: FrameMaker | None = None,
        *,
        size: tuple[int, int] = (640, 480),
        fps: float = 30.0,
        count: int | None = None,
        loop: bool = True,
        fail_after: int | None = None,
        fail_for: int = 0,
        name: str = "sim://camera",
    ) -> None:
        self.name = name
        self.size = size
        self.fps = fps
        self.count = count  # frames before the end (None: endless)
        self.loop = loop
        self._frames = frames or (lambda index: pattern_frame(index, size))
        self._lock = threading.Lock()
        self._plugged = True
        self._fail_after = fail_after
        self._fail_left = fail_for
        self.frames_made = 0
        self.opens = 0

    @classmethod
    def from_params(cls, url: str, params: Mapping[str, object]) -> SimulatedCamera:
        """A camera from ``sim://camera?width=&height=&fps=&qr=&qr_from=&qr_to=&frames=...``."""
        unknown = sorted(set(params) - _SIM_PARAMS)
        if unknown:
            known = ", ".join(sorted(_SIM_PARAMS))
            raise CameraConfigError(f"{url}: unknown option {', '.join(unknown)} (known: {known})")
        size = (
            parse_number("width", params.get("width", 640)),
            parse_number("height", params.get("height", 480)),
        )
        scripts: list[QrScript] = []
        if params.get("qr"):
            stop = params.get("qr_to")
            scripts.append(
                QrScript(
                    str(params["qr"]),
                    start=int(str(params.get("qr_from", 0))),
                    stop=int(str(stop)) if stop is not None else None,
                )
            )
        count = params.get("frames")
        fail_after = params.get("fail_after")
        return cls(
            (lambda index: qr_frame(index, size, scripts)) if scripts else None,
            size=size,
            fps=parse_number("fps", params.get("fps", 30.0), float),
            count=parse_number("frames", count) if count is not None else None,
            loop=parse_bool("loop", params.get("loop", count is None)),
            fail_after=parse_number("fail_after", fail_after) if fail_after is not None else None,
            fail_for=int(str(params.get("fail_for", 0))),
            name=url.split("?", 1)[0],  # the query may hold a QR payload: not for logs
        )

    @property
    def plugged(self) -> bool:
        """Whether the simulated cable is in."""
        return self._plugged

    def unplug(self) -> None:
        """Pull the cable: reads and opens fail until `replug`."""
        with self._lock:
            self._plugged = False

    def replug(self) -> None:
        """Put the cable back."""
        with self._lock:
            self._plugged = True

    def _scripted_fault(self) -> bool:
        # One attempt (a read or an open) used up from the scripted fault window, if in it.
        if self._fail_after is None or self.frames_made < self._fail_after or self._fail_left <= 0:
            return False
        self._fail_left -= 1
        return True

    def open(self) -> SyntheticSource:
        """Open a source on this camera, as `cv2.VideoCapture` would open the device."""
        with self._lock:
            if not self._plugged or self._scripted_fault():
                raise CameraUnavailableError(f"{self.name}: no such device (unplugged)")
            self.opens += 1
        return SyntheticSource(self)

    def _next_frame(self, position: int) -> tuple[bool, Image | None]:
        with self._lock:
            if not self._plugged or self._scripted_fault():
                return False, None
            self.frames_made += 1
        return True, self._frames(position)


class SyntheticSource:
    """One open "connection" to a `SimulatedCamera`, with the `FrameSource` interface."""

    live = False  # paced by the capture thread, so tests can also run it as fast as possible

    def __init__(self, camera: SimulatedCamera) -> None:
        self.name = camera.name
        self._camera = camera
        self._position = 0
        self._exhausted = False
        self._closed = False

    @property
    def fps(self) -> float:
        """The camera's nominal frame rate."""
        return self._camera.fps

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of its frames."""
        return self._camera.size

    @property
    def exhausted(self) -> bool:
        """True once a camera with a frame `count` and no loop has given them all."""
        return self._exhausted

    def read(self) -> tuple[bool, Image | None]:
        """The next frame, or (False, None) while unplugged or closed."""
        if self._closed or self._exhausted:
            return False, None
        count = self._camera.count
        if count is not None and self._position >= count:
            if not self._camera.loop:
                self._exhausted = True
                return False, None
            self._position = 0
        ok, frame = self._camera._next_frame(self._position)
        if ok:
            self._position += 1
        return ok, frame

    def close(self) -> None:
        """Stop reading from this connection."""
        self._closed = True


# --- documents -----------------------------------------------------------------------------

A4_MM = (210.0, 297.0)


def render_page(width: int = 620, *, seed: int = 0, lines: int = 28) -> Image:
    """A white A4 page (portrait, `width` px wide): a title, lines of text and a red stamp."""
    rng = np.random.default_rng(seed)
    height = round(width * A4_MM[1] / A4_MM[0])
    page = np.full((height, width, 3), 250, np.uint8)
    margin = width // 10
    scale = width / 620
    ink = (30, 30, 30)
    cv2.putText(
        page,
        "APPLICATION FORM",
        (margin, margin + int(20 * scale)),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.9 * scale,
        ink,
        max(1, int(2 * scale)),
    )
    y = margin + int(60 * scale)
    step = max(8, (height - y - margin) // lines)
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    for _ in range(lines):
        words = []
        for _ in range(int(rng.integers(4, 9))):
            words.append("".join(rng.choice(list(letters), int(rng.integers(2, 9)))))
        cv2.putText(
            page,
            " ".join(words),
            (margin, y),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45 * scale,
            ink,
            1,
            cv2.LINE_AA,
        )
        y += step
    cv2.circle(
        page,
        (width - 2 * margin, height - 2 * margin),
        int(45 * scale),
        (40, 40, 200),
        max(2, int(3 * scale)),
    )
    return page


def clutter(size: tuple[int, int], *, seed: int = 0) -> Image:
    """A busy, mid-grey desk: wood-like stripes and random shapes that are not the page."""
    rng = np.random.default_rng(seed)
    width, height = size
    xx = np.arange(width, dtype=np.float32)[None, :]
    yy = np.arange(height, dtype=np.float32)[:, None]
    stripes = 90 + 25 * np.sin(xx / 23.0 + np.sin(yy / 57.0) * 2.0)
    tint = np.array([0.7, 0.9, 1.1], np.float32)
    desk = (stripes[:, :, None] * tint).clip(0, 255).astype(np.uint8)
    for _ in range(25):
        colour = tuple(int(c) for c in rng.integers(30, 170, 3))
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        if rng.random() < 0.5:
            axes = (int(rng.integers(5, 40)), int(rng.integers(5, 40)))
            cv2.ellipse(desk, centre, axes, float(rng.integers(0, 180)), 0, 360, colour, -1)
        else:
            end = (centre[0] + int(rng.integers(-80, 80)), centre[1] + int(rng.integers(-80, 80)))
            cv2.line(desk, centre, end, colour, int(rng.integers(1, 5)))
    return desk


@dataclass(frozen=True)
class PagePhoto:
    """A synthetic photo of a page and the page's true corners in it (tl, tr, br, bl)."""

    image: Image
    corners: np.ndarray  # float32, shape (4, 2)
    page: Image  # the flat page that was photographed


def photograph_page(
    *,
    size: tuple[int, int] = (1280, 960),
    seed: int = 0,
    page: Image | None = None,
    tilt: float = 25.0,
    roll: float = 15.0,
    coverage: float = 0.65,
    light: float = 0.45,
    noise: float = 6.0,
    landscape: bool = False,
) -> PagePhoto:
    """A page photographed by a pinhole camera, over clutter, under uneven light, with noise.

    The page is posed in 3-D (tilted up to `tilt` degrees about each of its axes, turned up to
    `roll` degrees in its plane) and projected through a camera with square pixels and its
    principal point at the centre, as real cameras are to good approximation: so the page's
    true proportions can be recovered from the picture. `coverage` is roughly the page height
    as a fraction of the frame height; `light` how much darker one side of the picture is.
    """
    rng = np.random.default_rng(seed)
    if page is None:
        page = render_page(seed=seed)
    if landscape:
        page = cv2.rotate(page, cv2.ROTATE_90_CLOCKWISE)
    width, height = size
    ph, pw = page.shape[:2]
    focal = rng.uniform(0.8, 1.2) * width  # webcams: 50-70 degrees across
    ax, ay = np.radians(rng.uniform(-tilt, tilt, 2))
    az = np.radians(rng.uniform(-roll, roll))
    rot_x = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    rot_y = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rot_z = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    rotation = rot_z @ rot_x @ rot_y
    distance = focal * max(ph / height, pw / width) / coverage
    shift = rng.uniform(-0.05, 0.05, 2) * distance
    flat = np.array(
        [[-pw / 2, -ph / 2, 0], [pw / 2, -ph / 2, 0], [pw / 2, ph / 2, 0], [-pw / 2, ph / 2, 0]]
    )
    world = flat @ rotation.T + np.array([shift[0], shift[1], distance])
    corners = (focal * world[:, :2] / world[:, 2:3] + (width / 2, height / 2)).astype(np.float32)
    # The page's outer edges are half a pixel beyond its first and last pixel centres.
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32) - 0.5
    matrix = cv2.getPerspectiveTransform(src, corners)
    photo = clutter(size, seed=seed)
    cv2.warpPerspective(
        page, matrix, size, dst=photo, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT
    )
    # Light falls off across the picture in a random direction, as from a window.
    direction = rng.uniform(0, 2 * np.pi)
    xx = np.arange(width, dtype=np.float32)[None, :]
    yy = np.arange(height, dtype=np.float32)[:, None]
    ramp = (np.cos(direction) * xx / width + np.sin(direction) * yy / height + 1) / 2
    gain = (1.0 - light * ramp).astype(np.float32)
    lit = photo.astype(np.float32) * gain[:, :, None]
    lit += rng.standard_normal(lit.shape, dtype=np.float32) * np.float32(noise)
    image = lit.clip(0, 255).astype(np.uint8)
    return PagePhoto(image=image, corners=corners, page=page)

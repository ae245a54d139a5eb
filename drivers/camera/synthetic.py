"""A synthetic camera and synthetic pictures, for tests, benchmarks and demos without hardware.

- `SimulatedCamera`: a camera "device" that makes frames in memory (a moving test pattern with
  the frame number, optionally a QR code) and can be unplugged and plugged back, so recovery is
  tested through the same capture thread as a real camera. `sim://camera?...` URLs build one.
- Scenes: what the simulated camera looks at, switched at run time (`SCENES`): the test
  `pattern`, a `document` photographed on a desk, a `face` (a resident for 人证核验), the
  `empty` capture area, and degraded variants. A camera opened from
  ``sim://camera?name=desk&scene=pattern`` is steered from anywhere in the process with
  ``scene_control("desk").show("document")``: that is how the demo simulator puts a page under
  the kiosk's camera.
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
from typing import Any

import cv2
import numpy as np

from drivers.camera.errors import CameraConfigError, CameraUnavailableError
from drivers.camera.sources import parse_bool, parse_number

Image = np.ndarray
FrameMaker = Callable[[int], Image]

_SIM_PARAMS = frozenset(
    {
        "width",
        "height",
        "fps",
        "qr",
        "qr_from",
        "qr_to",
        "frames",
        "loop",
        "fail_after",
        "fail_for",
        "name",
        "scene",
    }
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
    What it shows is its `control`'s scene (see `SceneControl`): in the ``pattern`` scene the
    frames come from `frames(index)`, in any other from `scene_frame`.
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
        scene: str | None = None,
        control: SceneControl | None = None,
    ) -> None:
        self.name = name
        self.size = size
        self.fps = fps
        self.count = count  # frames before the end (None: endless)
        self.loop = loop
        self.control = control or SceneControl(name)
        if scene is not None:
            self.control.show(scene)
        self._pattern = frames or (lambda index: pattern_frame(index, size))
        self._lock = threading.Lock()
        self._plugged = True
        self._fail_after = fail_after
        self._fail_left = fail_for
        self.frames_made = 0
        self.opens = 0

    @classmethod
    def from_params(cls, url: str, params: Mapping[str, object]) -> SimulatedCamera:
        """A camera from ``sim://camera?width=&height=&fps=&qr=&qr_from=&qr_to=&frames=...``.

        ``name=`` ties it to the process-wide `scene_control(name)`; ``scene=`` sets the scene
        shown at start (without it, a named control keeps the scene it has).
        """
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
            scene=str(params["scene"]) if params.get("scene") else None,
            control=scene_control(str(params["name"])) if params.get("name") else None,
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
        return True, self._make_frame(position)

    def _make_frame(self, index: int) -> Image:
        scene = self.control.scene
        if scene == "pattern":
            return self._pattern(index)
        return scene_frame(scene, index, self.size)


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


# --- scenes ------------------------------------------------------------------------------------

# What a simulated camera can be looking at. The degraded variants exist so the kiosk's prompts
# ("hold the page still", "move closer") can be tested and demonstrated.
SCENES: tuple[str, ...] = (
    "pattern",  # the moving test pattern (with QR codes when configured)
    "document",  # an A4 page lying on a desk, the camera shaking very slightly
    "document_blurry",  # the same, out of focus
    "document_glare",  # the same, with a lamp reflected on glossy paper
    "document_cut_off",  # the page pushed partly out of the picture
    "empty",  # the desk with nothing on it
    "face",  # a resident in front of the camera, moving a little as people do
    "face_far",  # the resident standing too far back
    "face_still",  # a photo held up to the camera: the same picture frame after frame
)

_ASSETS = Path(__file__).parent / "assets"
_PORTRAIT = _ASSETS / "astronaut_portrait.jpg"  # public domain; see assets/README.md
_WALL = (150, 160, 165)  # the hall behind a resident who stands far back (BGR)
_DOCUMENT_SEED = 7


class SceneControl:
    """Which scene a simulated camera shows; thread-safe, switched with `show`."""

    def __init__(self, name: str, scene: str = "pattern") -> None:
        self.name = name
        self._scene = _check_scene(scene)
        self._lock = threading.Lock()

    @property
    def scene(self) -> str:
        """The scene shown now."""
        with self._lock:
            return self._scene

    def show(self, scene: str) -> None:
        """Show `scene` (one of `SCENES`) from the next frame on; `CameraConfigError` if unknown."""
        checked = _check_scene(scene)
        with self._lock:
            self._scene = checked

    def __repr__(self) -> str:
        return f"SceneControl({self.name!r}, scene={self.scene!r})"


_controls: dict[str, SceneControl] = {}
_controls_lock = threading.Lock()


def scene_control(name: str = "camera") -> SceneControl:
    """The process-wide scene control called `name` (made on first use, by either side).

    A camera opened from ``sim://camera?name=NAME`` shows this control's scene, so a simulator
    holding no reference to the kiosk's camera can still put a page or a face in front of it.
    """
    with _controls_lock:
        control = _controls.get(name)
        if control is None:
            control = _controls[name] = SceneControl(name)
        return control


def _check_scene(scene: str) -> str:
    if scene not in SCENES:
        raise CameraConfigError(f"scene={scene!r} is unknown (known: {', '.join(SCENES)})")
    return scene


def scene_frame(scene: str, index: int, size: tuple[int, int] = (640, 480)) -> Image:
    """Frame `index` of `scene` at `size` (width, height): a fresh, writable BGR image.

    The scene's picture is made once per size (tens of milliseconds) and cached; each frame
    then only moves it a little (a pixel or two, a fraction of a degree), seeded by `index`,
    so a run of frames is reproducible.
    """
    _check_scene(scene)
    if scene == "pattern":
        return pattern_frame(index, size)
    if scene == "face_still":
        return _face_frame(0, size, moving=False)
    if scene in ("face", "face_far"):
        return _face_frame(index, size, far=scene == "face_far")
    base = _empty_desk(size) if scene == "empty" else _document_scene(scene, size)
    return _shake(base, index)


def _shake(base: Image, index: int, *, amount: float = 1.0) -> Image:
    # The hand-held or table-top camera is never perfectly still: a small shift and turn.
    rng = np.random.default_rng(index)
    height, width = base.shape[:2]
    dx, dy = rng.uniform(-1.5, 1.5, 2) * amount * width / 640
    angle = float(rng.uniform(-0.3, 0.3)) * amount
    matrix = np.asarray(cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0), np.float64)
    matrix[:, 2] += np.array([dx, dy], np.float64)
    return cv2.warpAffine(base, matrix, (width, height), borderMode=cv2.BORDER_REFLECT101)


def auto_expose(image: Image, target: float = 225.0) -> Image:
    """Scale `image` as a camera's auto exposure would: the brightest paper light grey, not
    clipped (99.5th percentile at `target`). Returns a new image."""
    peak = float(np.percentile(image, 99.5))
    gain = target / max(peak, 1.0)
    return (image.astype(np.float32) * gain).clip(0, 255).astype(np.uint8)


def photograph_cut_off(
    *,
    size: tuple[int, int] = (1280, 960),
    side: str = "right",
    outside: float = 1 / 3,
    coverage: float = 0.65,
    **kwargs: Any,
) -> Image:
    """A photo of a page pushed partly out of the picture: `outside` of it beyond `side`.

    The page is photographed on a desk twice as large in that direction (so at the same size
    as `photograph_page` would show it) and the picture is framed to leave part of it out.
    Other keyword arguments go to `photograph_page`.
    """
    width, height = size
    horizontal = side in ("left", "right")
    if not horizontal and side not in ("top", "bottom"):
        raise ValueError(f"side must be left, right, top or bottom, not {side!r}")
    canvas = (width * 2, height) if horizontal else (width, height * 2)
    # coverage is relative to the canvas height: halve it when the canvas is twice as tall.
    wide = photograph_page(
        size=canvas,
        coverage=coverage if horizontal else coverage / 2,
        **kwargs,
    )
    axis = 0 if horizontal else 1
    low, high = float(wide.corners[:, axis].min()), float(wide.corners[:, axis].max())
    span, extent = high - low, (width if horizontal else height)
    far_side = side in ("right", "bottom")
    start = high - span * outside - extent if far_side else low + span * outside
    start_px = int(max(0, min(canvas[axis] - extent, round(start))))
    if horizontal:
        return np.ascontiguousarray(wide.image[:, start_px : start_px + width])
    return np.ascontiguousarray(wide.image[start_px : start_px + height, :])


@functools.lru_cache(maxsize=8)
def _document_scene(scene: str, size: tuple[int, int]) -> Image:
    width, height = size
    rng = np.random.default_rng(_DOCUMENT_SEED)
    common: dict[str, Any] = {
        "seed": _DOCUMENT_SEED,
        "tilt": 12.0,
        "roll": 8.0,
        "light": 0.3,
        "noise": 3.0,
    }
    if scene == "document_cut_off":
        image = auto_expose(photograph_cut_off(size=size, coverage=0.75, **common))
    else:
        photo = photograph_page(size=size, coverage=0.75, **common)
        image = auto_expose(photo.image)
        if scene == "document_blurry":
            sigma = 2.5 * width / 640  # out of focus: text strokes smear into grey bands
            image = cv2.GaussianBlur(image, (0, 0), sigma)
            noise = rng.standard_normal(image.shape, dtype=np.float32) * np.float32(3.0)
            image = (image.astype(np.float32) + noise).clip(0, 255).astype(np.uint8)
        elif scene == "document_glare":
            image = add_glare(image, photo.corners.mean(axis=0), radius=0.12 * width)
    image.flags.writeable = False
    return image


def add_glare(
    image: Image, centre: Sequence[float], *, radius: float, angle: float = 30.0
) -> Image:
    """A lamp reflected on glossy paper: a bright ellipse, clipped white in its middle.

    Returns a new image; `radius` is the long half-axis in pixels (the short one is 60 % of it).
    """
    height, width = image.shape[:2]
    mask = np.zeros((height, width), np.float32)
    axes = (max(1, round(radius)), max(1, round(radius * 0.6)))
    cv2.ellipse(mask, (round(centre[0]), round(centre[1])), axes, angle, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, radius / 4))
    # Twice the headroom to white at the centre: the middle of the reflection is burnt out.
    lift = mask * np.float32(2.0 * 255.0)
    lifted = image.astype(np.float32) + (lift if image.ndim == 2 else lift[..., None])
    return lifted.clip(0, 255).astype(np.uint8)


@functools.lru_cache(maxsize=4)
def _empty_desk(size: tuple[int, int]) -> Image:
    image = auto_expose(clutter(size, seed=_DOCUMENT_SEED), target=170.0)
    image.flags.writeable = False
    return image


@functools.lru_cache(maxsize=1)
def portrait() -> Image:
    """The bundled resident (320x240 BGR, read-only): see `assets/README.md`."""
    image = cv2.imread(str(_PORTRAIT), cv2.IMREAD_COLOR)
    if image is None:
        raise CameraUnavailableError(f"{_PORTRAIT.name}: bundled portrait missing or unreadable")
    image.flags.writeable = False
    return image


def _face_frame(
    index: int, size: tuple[int, int], *, far: bool = False, moving: bool = True
) -> Image:
    # The portrait fills the frame as a resident standing at the kiosk would (face 30 % of the
    # width); people sway and lean, so it drifts by a few pixels and grows or shrinks a little.
    source = portrait()
    width, height = size
    rng = np.random.default_rng(index)
    jitter = rng.uniform(-1.0, 1.0, 3) if moving else np.zeros(3)
    scale = width / source.shape[1] * (1.0 + 0.03 * jitter[0]) * (0.45 if far else 1.0)
    dx, dy = jitter[1:] * 0.015 * width
    matrix = np.array(
        [
            [scale, 0.0, width / 2 - scale * source.shape[1] / 2 + dx],
            [0.0, scale, height / 2 - scale * source.shape[0] / 2 + dy],
        ]
    )
    return cv2.warpAffine(
        source,
        matrix,
        (width, height),
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_CONSTANT if far else cv2.BORDER_REPLICATE,
        borderValue=_WALL,
    )

"""Frame sources behind one small interface: a V4L2 camera, a video file, an image sequence.

Every source has `read() -> (ok, frame)`, `close()`, `fps`, `size` (width, height), `live` and
`exhausted`. A *live* source (a camera) delivers frames at its own pace; the others are paced by
the capture thread, in real time or as fast as possible. `exhausted` turns true when a
non-looping file or sequence has played to its end, so "no more frames" is not mistaken for an
unplugged camera.

Addresses are URLs (see `source_opener`):

    v4l2:///dev/video0?width=1280&height=720&fps=30&fourcc=MJPG
    file:///srv/clips/qr.mp4?loop=1
    file:///srv/frames/?fps=15&loop=1          a directory of images, in name order
    file:///srv/frames/*.png?fps=15            a glob
    file:///srv/face.jpg                        one still image, repeated
    sim://camera?width=640&height=480&qr=HELLO  a synthetic camera (drivers.camera.synthetic)
"""

from __future__ import annotations

import glob
import logging
import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote

import cv2
import numpy as np

from drivers.camera.errors import (
    CameraConfigError,
    CameraFormatError,
    CameraUnavailableError,
)
from drivers.url import DeviceUrlError, parse_device_url

log = logging.getLogger("drivers.camera")

Image = np.ndarray
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm"})
VIDEO_FALLBACK_FPS = 25.0  # when a container does not say (some MJPEG .avi files report 0)
SEQUENCE_DEFAULT_FPS = 15.0
# Decoded images kept in memory for short looping sequences (a still image, a few frames), so
# replaying them does not hit the disk and the PNG decoder at every frame.
_CACHE_MAX_IMAGES = 8


class FrameSource(Protocol):
    """What the capture thread reads frames from."""

    name: str  # for logs: a device path or file name, never image content
    live: bool  # True: delivers at its own pace (a camera); False: the reader paces it

    @property
    def fps(self) -> float: ...  # nominal frames per second

    @property
    def size(self) -> tuple[int, int]: ...  # (width, height) in pixels

    @property
    def exhausted(self) -> bool: ...  # a non-looping file or sequence has ended

    def read(self) -> tuple[bool, Image | None]: ...  # one BGR frame, or (False, None)

    def close(self) -> None: ...  # idempotent


CaptureFactory = Callable[..., Any]  # cv2.VideoCapture or a test double with the same methods


class V4L2Source:
    """A UVC/V4L2 camera through `cv2.VideoCapture(path, CAP_V4L2)`.

    The FOURCC is set before the size because many UVC cameras only offer 720p and above at a
    usable rate as MJPG, and the driver picks the size among the modes of the current format.
    The driver's buffer is kept at one frame so a slow reader gets a fresh frame, not an old one.
    """

    live = True

    def __init__(
        self,
        device: str = "/dev/video0",
        *,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        fourcc: str | None = None,
        buffer_size: int = 1,
        capture_factory: CaptureFactory = cv2.VideoCapture,
    ) -> None:
        self.name = device
        if fourcc is not None and len(fourcc) != 4:
            raise CameraConfigError(f"{device}: fourcc must be four characters, e.g. MJPG")
        if not os.path.exists(device):
            raise CameraUnavailableError(f"{device}: no such device (camera not plugged in?)")
        if not os.access(device, os.R_OK | os.W_OK):
            raise CameraUnavailableError(f"{device}: no permission (is the user in 'video'?)")
        cap = capture_factory(device, cv2.CAP_V4L2)
        if not cap.isOpened():
            cap.release()
            raise CameraUnavailableError(f"{device}: cannot open (busy, or not a capture device)")
        if fourcc is not None:
            cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*fourcc))
        if width is not None:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        if height is not None:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        if fps is not None:
            cap.set(cv2.CAP_PROP_FPS, fps)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, buffer_size)
        self._cap = cap
        # The camera may have picked another mode than asked: report what it actually gives.
        self._size = (
            int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) or (width or 0),
            int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) or (height or 0),
        )
        self._fps = _sane_fps(cap.get(cv2.CAP_PROP_FPS), fps or 30.0)
        if (width and self._size[0] != width) or (height and self._size[1] != height):
            log.info("%s: asked for %sx%s, camera gives %dx%d", device, width, height, *self._size)

    @property
    def fps(self) -> float:
        """The frame rate the camera reports."""
        return self._fps

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the mode the camera is in."""
        return self._size

    @property
    def exhausted(self) -> bool:
        """A camera never runs out; an unplugged one fails its reads instead."""
        return False

    def read(self) -> tuple[bool, Image | None]:
        """Grab and decode the next frame; (False, None) if the camera did not deliver."""
        ok, frame = self._cap.read()
        return (True, frame) if ok and frame is not None else (False, None)

    def close(self) -> None:
        """Release the device so another process (or our reopen) can have it."""
        self._cap.release()


class VideoFileSource:
    """A video file through OpenCV's FFmpeg backend, optionally looping."""

    live = False

    def __init__(
        self,
        path: str,
        *,
        loop: bool = False,
        fps: float | None = None,
        capture_factory: CaptureFactory = cv2.VideoCapture,
    ) -> None:
        self.name = path
        if not os.path.isfile(path):
            raise CameraUnavailableError(f"{path}: no such file")
        self._path = path
        self._loop = loop
        self._factory = capture_factory
        self._cap = self._open()
        ok, first = self._cap.read()
        if not ok or first is None:
            self._cap.release()
            raise CameraFormatError(f"{path}: the video has no frame OpenCV can decode")
        self._pending: Image | None = first  # read once to prove the file decodes
        self._size = (int(first.shape[1]), int(first.shape[0]))
        self._fps = fps if fps else _sane_fps(self._cap.get(cv2.CAP_PROP_FPS), VIDEO_FALLBACK_FPS)
        self._exhausted = False

    def _open(self) -> Any:
        cap = self._factory(self._path)
        if not cap.isOpened():
            cap.release()
            raise CameraFormatError(f"{self._path}: not a video OpenCV can open")
        return cap

    @property
    def fps(self) -> float:
        """The frame rate the container declares (or the `fps` override)."""
        return self._fps

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the first frame."""
        return self._size

    @property
    def exhausted(self) -> bool:
        """True once a non-looping file has played to its end."""
        return self._exhausted

    def read(self) -> tuple[bool, Image | None]:
        """The next frame; at the end, start again when looping, else report exhaustion."""
        if self._pending is not None:
            frame, self._pending = self._pending, None
            return True, frame
        if self._exhausted:
            return False, None
        ok, frame = self._cap.read()
        if ok and frame is not None:
            return True, frame
        if not self._loop:
            self._exhausted = True
            return False, None
        # Reopening rather than seeking to frame 0: seeking is unreliable for some codecs.
        self._cap.release()
        self._cap = self._open()
        ok, frame = self._cap.read()
        return (True, frame) if ok and frame is not None else (False, None)

    def close(self) -> None:
        """Release the decoder."""
        self._cap.release()


class ImageSequenceSource:
    """Still images played as a video, in name order, at a chosen rate."""

    live = False

    def __init__(
        self, paths: Sequence[str], *, fps: float = SEQUENCE_DEFAULT_FPS, loop: bool = False
    ):
        if not paths:
            raise CameraUnavailableError("the image sequence is empty")
        if fps <= 0:
            raise CameraConfigError(f"fps must be positive, got {fps}")
        self.name = (
            paths[0] if len(paths) == 1 else f"{os.path.dirname(paths[0])} ({len(paths)} images)"
        )
        self._paths = list(paths)
        self._fps = float(fps)
        self._loop = loop
        self._cache: dict[int, Image] | None = {} if len(paths) <= _CACHE_MAX_IMAGES else None
        first = self._load(0)
        if first is None:
            raise CameraFormatError(f"{paths[0]}: not an image OpenCV can decode")
        self._size = (int(first.shape[1]), int(first.shape[0]))
        self._next = 0
        self._exhausted = False

    @classmethod
    def from_pattern(
        cls, pattern: str, *, fps: float = SEQUENCE_DEFAULT_FPS, loop: bool = False
    ) -> ImageSequenceSource:
        """A sequence from a directory (its image files), a glob, or one image file."""
        if os.path.isdir(pattern):
            paths = sorted(
                str(p) for p in Path(pattern).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
            )
            if not paths:
                raise CameraUnavailableError(f"{pattern}: no image files in this directory")
        elif glob.has_magic(pattern):
            paths = sorted(glob.glob(pattern))
            if not paths:
                raise CameraUnavailableError(f"{pattern}: no file matches")
        elif os.path.isfile(pattern):
            paths = [pattern]
        else:
            raise CameraUnavailableError(f"{pattern}: no such file or directory")
        return cls(paths, fps=fps, loop=loop)

    def _load(self, i: int) -> Image | None:
        if self._cache is not None and i in self._cache:
            return self._cache[i]
        image = cv2.imread(self._paths[i], cv2.IMREAD_COLOR)
        if image is not None and self._cache is not None:
            self._cache[i] = image
        return image

    @property
    def fps(self) -> float:
        """The rate the sequence is meant to be played at."""
        return self._fps

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the first image."""
        return self._size

    @property
    def exhausted(self) -> bool:
        """True once a non-looping sequence has shown its last image."""
        return self._exhausted

    def __len__(self) -> int:
        return len(self._paths)

    def read(self) -> tuple[bool, Image | None]:
        """The next image; an unreadable one counts as a failed read."""
        if self._next >= len(self._paths):
            if not self._loop:
                self._exhausted = True
                return False, None
            self._next = 0
        i = self._next
        self._next += 1
        image = self._load(i)
        if image is None:
            log.debug("%s: cannot decode, skipped", self._paths[i])
            return False, None
        # Cached images are handed out again later: give consumers a copy they may modify.
        return True, image.copy() if self._cache is not None else image

    def close(self) -> None:
        """Forget cached images."""
        if self._cache is not None:
            self._cache.clear()


def _sane_fps(reported: float, fallback: float) -> float:
    # Containers and drivers report 0, NaN or 1000 when they do not know.
    if not reported or math.isnan(reported) or reported <= 0 or reported > 240:
        return fallback
    return float(reported)


# --- URLs ------------------------------------------------------------------------------------

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})
_V4L2_PARAMS = frozenset({"width", "height", "fps", "fourcc", "buffer"})
_FILE_PARAMS = frozenset({"loop", "fps"})


def parse_bool(name: str, value: object) -> bool:
    """An on/off option given as a bool or a URL string (1/0, true/false, yes/no, on/off)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CameraConfigError(f"{name}={value!r} is not on/off (use 1 or 0)")


def parse_number(name: str, value: object, kind: type[int] | type[float] = int) -> Any:
    """A positive number option given as a number or a URL string."""
    try:
        number = kind(str(value).strip())
    except (TypeError, ValueError):
        raise CameraConfigError(f"{name}={value!r} is not a number") from None
    if number <= 0:
        raise CameraConfigError(f"{name}={value!r} must be positive")
    return number


def _check_params(url: str, params: Mapping[str, object], known: frozenset[str]) -> None:
    unknown = sorted(set(params) - known)
    if unknown:
        raise CameraConfigError(
            f"{url}: unknown option {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )


def source_opener(url: str, **overrides: object) -> Callable[[], FrameSource]:
    """Check `url` now and return a function that opens a fresh source from it each time.

    The capture thread calls the function again to reopen after an unplug. Keyword arguments
    override the URL's query parameters (``loop=True``, ``fps=15``, ``width=1280``...).
    Raises `CameraConfigError` for a malformed URL or an unknown option.
    """
    try:
        parsed = parse_device_url(url)
    except CameraConfigError:
        raise
    except DeviceUrlError as exc:
        raise CameraConfigError(str(exc)) from None
    params: dict[str, object] = {**parsed.params, **overrides}
    if parsed.scheme == "v4l2":
        return _v4l2_opener(url, parsed.host, parsed.path, params)
    if parsed.scheme == "file":
        return _file_opener(url, unquote(parsed.path), params)
    if parsed.scheme == "sim":
        from drivers.camera.synthetic import SimulatedCamera  # test pattern code, loaded lazily

        return SimulatedCamera.from_params(url, params).open
    raise CameraConfigError(f"{url}: a camera URL is v4l2://, file:// or sim://")


def open_source(url: str, **overrides: object) -> FrameSource:
    """Open one frame source from a URL (see `source_opener`)."""
    return source_opener(url, **overrides)()


def _v4l2_opener(
    url: str, host: str, path: str, params: dict[str, object]
) -> Callable[[], FrameSource]:
    _check_params(url, params, _V4L2_PARAMS)
    if host.isdigit() and not path:  # v4l2://0 is /dev/video0
        path = f"/dev/video{host}"
    if not path:
        raise CameraConfigError(f"{url}: a v4l2 URL needs a device, e.g. v4l2:///dev/video0")
    width = parse_number("width", params["width"]) if "width" in params else None
    height = parse_number("height", params["height"]) if "height" in params else None
    fps = parse_number("fps", params["fps"], float) if "fps" in params else None
    fourcc = str(params["fourcc"]).upper() if params.get("fourcc") else None
    buffer_size = parse_number("buffer", params.get("buffer", 1))
    if fourcc is not None and len(fourcc) != 4:
        raise CameraConfigError(f"{url}: fourcc must be four characters, e.g. MJPG")

    def opener() -> FrameSource:
        return V4L2Source(
            path, width=width, height=height, fps=fps, fourcc=fourcc, buffer_size=buffer_size
        )

    return opener


def _file_opener(url: str, path: str, params: dict[str, object]) -> Callable[[], FrameSource]:
    _check_params(url, params, _FILE_PARAMS)
    loop = parse_bool("loop", params.get("loop", False))
    fps = parse_number("fps", params["fps"], float) if "fps" in params else None

    def opener() -> FrameSource:
        if os.path.isdir(path) or glob.has_magic(path):
            return ImageSequenceSource.from_pattern(
                path, fps=fps or SEQUENCE_DEFAULT_FPS, loop=loop
            )
        if Path(path).suffix.lower() in IMAGE_SUFFIXES:
            # A single still image stands for a camera pointed at something that does not move.
            return ImageSequenceSource.from_pattern(
                path, fps=fps or SEQUENCE_DEFAULT_FPS, loop=True if "loop" not in params else loop
            )
        return VideoFileSource(path, loop=loop, fps=fps)

    return opener

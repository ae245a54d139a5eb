"""The camera's uniform device face (docs/DEVICES.md): open, close, status, poll, snapshot.

    camera = open_camera("v4l2:///dev/video0?width=1280&height=720&fourcc=MJPG")
    camera.open()                      # CameraUnavailableError if there is no camera
    codes = camera.poll(0.5)           # ScannedCode records: one per code shown to it
    picture = camera.snapshot()        # a copy of the newest frame, for face or document checks
    camera.close()

The device manager polls it like any input device. Face and document checks run on
`snapshot()` (or as analyzers through `subscribe`), in the caller's thread, on demand.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from types import TracebackType

import numpy as np

from drivers.camera.capture import (
    Analyzer,
    Backoff,
    Capture,
    Frame,
    Opener,
    Pacing,
    Subscription,
)
from drivers.camera.errors import CameraTimeoutError, CameraUnavailableError
from drivers.camera.qr import CodeTracker, FrameDecoder, decode_qr
from drivers.camera.sources import source_opener
from drivers.qr.charset import guess_text
from drivers.qr.payload import DEFAULT_MAX_BYTES, ScannedCode
from drivers.state import DeviceState, DeviceStatus

log = logging.getLogger("drivers.camera")

DEFAULT_QR_HZ = 10.0  # enough to feel instant; leaves a core free for the UI on a 2-core box
DEFAULT_FORGET_S = 1.0  # a code must be out of view this long to count as shown again
_MAX_PENDING = 64  # unpolled QR events kept; older ones are dropped (nobody is listening)
_OUTAGE_CHECK_S = 0.1  # a waiting poll notices an unplug within this long

# Options of open_camera that configure the device rather than its source URL.
_DEVICE_OPTIONS = frozenset(
    {
        "qr",
        "qr_hz",
        "forget_after",
        "pacing",
        "dead_after",
        "backoff",
        "stall_after",
        "first_frame_s",
        "decoder",
    }
)


class CameraDevice:
    """A camera behind the capture thread, with QR codes decoded in a worker thread."""

    def __init__(
        self,
        opener: Opener,
        *,
        name: str = "camera",
        qr: bool = True,
        qr_hz: float = DEFAULT_QR_HZ,
        forget_after: float = DEFAULT_FORGET_S,
        pacing: Pacing | str = Pacing.REALTIME,
        dead_after: int = 10,
        backoff: Backoff | None = None,
        stall_after: float = 3.0,
        first_frame_s: float = 5.0,
        decoder: FrameDecoder = decode_qr,
    ) -> None:
        self.name = name
        self.first_frame_s = first_frame_s  # UVC cameras take up to a second or two to stream
        self.qr = qr
        self.qr_hz = qr_hz
        self.pacing = Pacing(pacing)
        self.dead_after = dead_after
        self.backoff = backoff or Backoff()
        self.stall_after = stall_after
        self._opener = opener
        self._decoder = decoder
        self._tracker = CodeTracker(forget_after)
        # Unpolled events; when nobody polls, the oldest fall off the end.
        self._events: deque[ScannedCode] = deque(maxlen=_MAX_PENDING)
        self._events_ready = threading.Condition()
        self._lock = threading.Lock()
        self._capture: Capture | None = None
        self._qr_subscription: Subscription | None = None

    # --- the uniform face --------------------------------------------------------------------

    def open(self) -> None:
        """Open the camera and wait for its first frame; `CameraUnavailableError` if it is
        not there or sends nothing within `first_frame_s` (so `status()` is online at once).
        """
        with self._lock:
            if self._capture is not None:
                return
            source = self._opener()  # raises here, in the caller, when there is no camera
            capture = Capture(
                self._opener,
                source=source,
                name=self.name,
                pacing=self.pacing,
                dead_after=self.dead_after,
                backoff=self.backoff,
                stall_after=self.stall_after,
            )
            capture.start()
            if capture.wait_for(-1, self.first_frame_s) is None:
                capture.stop()
                raise CameraUnavailableError(
                    f"{self.name}: opened, but no frame within {self.first_frame_s:g} s"
                )
            if self.qr:
                self._qr_subscription = capture.subscribe(
                    self._decode, rate_hz=self.qr_hz, name="qr"
                )
            self._capture = capture
        log.info("%s: camera open (%dx%d)", self.name, *source.size)

    def close(self) -> None:
        """Stop capturing and release the camera; idempotent, safe after a failed open."""
        with self._lock:
            capture, self._capture = self._capture, None
            self._qr_subscription = None
        if capture is not None:
            capture.stop()
        self._tracker.clear()

    def status(self) -> DeviceStatus:
        """Online while frames arrive; offline (with the reason) when closed or unplugged."""
        capture = self._capture
        if capture is None:
            return DeviceStatus(DeviceState.OFFLINE, "closed")
        return capture.status()

    def poll(self, timeout: float) -> list[ScannedCode]:
        """QR codes that came into view, waiting up to `timeout` seconds for the first one.

        The same `ScannedCode` records a hardware scanner posts (``source`` is the camera).
        Raises `CameraUnavailableError` while the camera is gone (unplugged, or a file ended),
        so the device manager reports it and reopens it; the capture thread has been trying to
        reopen it meanwhile, so a short glitch never gets that far.
        """
        capture = self._capture
        if capture is None:
            raise CameraUnavailableError(f"{self.name}: camera is not open")
        deadline = time.monotonic() + max(0.0, timeout)
        with self._events_ready:
            while not self._events:
                # Codes already seen are handed out first; only then does an outage count.
                if capture.failing or capture.ended:
                    raise CameraUnavailableError(f"{self.name}: {capture.status().reason}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._events_ready.wait(min(remaining, _OUTAGE_CHECK_S))
            events = list(self._events)
            self._events.clear()
        return events

    def snapshot(self, timeout: float = 2.0) -> np.ndarray:
        """A copy of the newest frame (BGR), waiting up to `timeout` s for the first one."""
        frame = self.frame(timeout)
        return frame.image.copy()

    # --- beyond the uniform face ---------------------------------------------------------------

    def frame(self, timeout: float = 2.0) -> Frame:
        """The newest frame (read-only), waiting up to `timeout` seconds for a first one."""
        capture = self._capture
        if capture is None:
            raise CameraUnavailableError(f"{self.name}: camera is not open")
        frame = capture.latest()
        if frame is None:
            frame = capture.wait_for(-1, timeout)
        if frame is None:
            if capture.failing or capture.ended:
                raise CameraUnavailableError(f"{self.name}: {capture.status().reason}")
            raise CameraTimeoutError(f"{self.name}: no frame within {timeout:g} s")
        return frame

    def latest(self) -> Frame | None:
        """The newest frame without waiting, or None."""
        capture = self._capture
        return None if capture is None else capture.latest()

    def subscribe(
        self, analyzer: Analyzer, *, rate_hz: float | None = None, name: str = "analyzer"
    ) -> Subscription:
        """Run another analyzer (a face check...) on the newest frames in its own thread."""
        if self._capture is None:
            raise CameraUnavailableError(f"{self.name}: camera is not open")
        return self._capture.subscribe(analyzer, rate_hz=rate_hz, name=name)

    @property
    def capture(self) -> Capture | None:
        """The capture thread while open (statistics, end of a file)."""
        return self._capture

    @property
    def qr_subscription(self) -> Subscription | None:
        """The QR decoder's subscription while open (processed and skipped counts)."""
        return self._qr_subscription

    def forget_codes(self) -> None:
        """Treat codes in view as new again (call when a session ends)."""
        self._tracker.clear()

    def __enter__(self) -> CameraDevice:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- the QR worker -----------------------------------------------------------------------

    def _decode(self, frame: Frame) -> None:
        codes = self._decoder(frame.image)
        for raw in self._tracker.update(codes, frame.t):
            if not raw or len(raw) > DEFAULT_MAX_BYTES:
                log.debug("%s: QR payload of %d bytes ignored", self.name, len(raw))
                continue
            # What the code holds, line breaks and all: each flow admits the formats it takes
            # (drivers.qr.admission), so a multi-line code is no longer lost here.
            code = ScannedCode(
                text=guess_text(raw).text, symbology="QRCODE", source=self.name, raw=bytes(raw)
            )
            with self._events_ready:
                self._events.append(code)
                self._events_ready.notify_all()
            log.debug("%s: QR code seen in frame %d (%d bytes)", self.name, frame.index, len(raw))


def open_camera(url: str, **options: object) -> CameraDevice:
    """A camera (not yet open) at `url`: ``v4l2://``, ``file://`` or ``sim://``.

    Device options: `qr` (decode QR codes, default on), `qr_hz`, `forget_after`, `pacing`
    (``realtime`` or ``fast`` for files), `dead_after` (failed reads before offline),
    `backoff`, `stall_after`, `first_frame_s`, `decoder`. Any other keyword overrides the URL's query
    parameters (``loop``, ``fps``, ``width``, ``height``, ``fourcc``...).
    Raises `CameraConfigError` now for a malformed URL; opening errors come from `open`.
    """
    device_options = {k: v for k, v in options.items() if k in _DEVICE_OPTIONS}
    source_options = {k: v for k, v in options.items() if k not in _DEVICE_OPTIONS}
    opener = source_opener(url, **source_options)
    return CameraDevice(opener, name=_safe_name(url), **device_options)  # type: ignore[arg-type]


def _safe_name(url: str) -> str:
    # The name goes into logs: keep the address, drop the query (a sim:// qr= payload).
    return url.split("?", 1)[0]

"""The capture thread: reads frames continuously and keeps only the newest one.

Consumers never lag behind the camera: there is one slot, each new frame replaces the last, and
whoever asks (`latest`, `wait_for`, or an analyzer subscribed with `subscribe`) gets the newest
frame. An analyzer slower than the camera (a QR decoder at 10 Hz, a face check) simply skips the
frames it had no time for; it never works through a backlog of stale ones.

The thread also keeps the camera alive: after `dead_after` failed reads in a row it declares the
device offline, closes it, and reopens it with exponential back-off (an unplugged camera comes
back when it is plugged in again). It logs the outage once and the recovery once.

Frames are shared between consumers, so their images are made read-only: copy before drawing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType

import numpy as np

from drivers.camera.errors import CameraError, CameraUnavailableError
from drivers.camera.sources import FrameSource
from drivers.state import DeviceState, DeviceStatus

log = logging.getLogger("drivers.camera")

Opener = Callable[[], FrameSource]
Analyzer = Callable[["Frame"], None]

_FAILED_READ_PAUSE_S = 0.02  # between failed reads: do not spin while a device hiccups
_FPS_WINDOW = 30  # frames the reported rate is measured over: recent, not since start
_FPS_MIN_FRAMES = 5  # fewer say more about start-up jitter than about the rate


class Pacing(StrEnum):
    """How a file or synthetic source is played (a live camera always paces itself)."""

    REALTIME = "realtime"  # at the source's frame rate, like a camera
    FAST = "fast"  # as fast as frames can be read: benchmarks and tests


@dataclass(frozen=True)
class Frame:
    """One captured frame: a read-only BGR image, its number since capture began, its time."""

    image: np.ndarray
    index: int  # counts across reopens, so a consumer can tell new frames from old
    t: float  # time.monotonic() when it was read

    def __repr__(self) -> str:  # never dump pixels (a face) into a log line
        height, width = self.image.shape[:2]
        return f"Frame(index={self.index}, t={self.t:.3f}, {width}x{height})"


@dataclass(frozen=True)
class Backoff:
    """Delays between reopen attempts: `initial`, times `factor` each time, at most `maximum`."""

    initial: float = 0.5
    factor: float = 2.0
    maximum: float = 10.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before reopen attempt number `attempt` (0 is the first retry)."""
        return min(self.maximum, self.initial * self.factor**attempt)


@dataclass(frozen=True)
class CaptureStats:
    """Counters for diagnostics and benchmarks."""

    frames: int  # frames read since start
    failed_reads: int
    reopens: int  # successful opens after the first
    fps: float  # frames per second over the last 30 frames (0 before the fifth)
    size: tuple[int, int] | None  # (width, height) of the newest frame


class Capture:
    """Reads frames from a source in a thread; keeps the newest; reopens a dead source.

    `opener` opens a fresh source (it is called again after an outage). An already open
    `source` may be handed in so that a failure to open surfaces in the caller, not the thread.
    """

    def __init__(
        self,
        opener: Opener,
        *,
        source: FrameSource | None = None,
        name: str = "camera",
        pacing: Pacing | str = Pacing.REALTIME,
        dead_after: int = 10,
        backoff: Backoff | None = None,
        stall_after: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.pacing = Pacing(pacing)
        self.dead_after = max(1, dead_after)
        self.backoff = backoff or Backoff()
        self.stall_after = stall_after
        self._opener = opener
        self._source = source
        self._clock = clock
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._latest: Frame | None = None
        self._next_index = 0
        self._state = DeviceState.OFFLINE
        self._reason = "not started"
        self._ended = False
        self._failing = False  # an outage has been logged and not yet its recovery
        self._failed_reads = 0
        self._reopens = 0
        self._opened_once = source is not None
        self._recent: deque[float] = deque(maxlen=_FPS_WINDOW)  # times of the newest frames
        self._subscriptions: list[Subscription] = []

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Capture:
        """Start the thread (once); returns self."""
        if self._thread is None:
            self._set_state(DeviceState.OFFLINE, "waiting for the first frame")
            self._thread = threading.Thread(
                target=self._run, name=f"capture-{self.name}", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread and every subscription, and close the source; idempotent."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        for subscription in list(self._subscriptions):
            subscription.stop(timeout)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._close_source()

    def __enter__(self) -> Capture:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the capture thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def ended(self) -> bool:
        """True once a non-looping file or sequence has played to its end."""
        return self._ended

    @property
    def failing(self) -> bool:
        """True during an outage: the source failed and has not delivered a frame since."""
        return self._failing

    @property
    def stopping(self) -> bool:
        """True once `stop` was called."""
        return self._stop.is_set()

    # --- consumers ---------------------------------------------------------------------------

    def latest(self) -> Frame | None:
        """The newest frame, or None before the first one."""
        with self._cond:
            return self._latest

    def wait_for(self, after: int = -1, timeout: float | None = None) -> Frame | None:
        """The newest frame whose index is above `after`, waiting up to `timeout` for one.

        Returns None on timeout, at the end of a file, or when capture stops.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                frame = self._latest
                if frame is not None and frame.index > after:
                    return frame
                if self._stop.is_set() or self._ended:
                    return None
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def subscribe(
        self, analyzer: Analyzer, *, rate_hz: float | None = None, name: str = "analyzer"
    ) -> Subscription:
        """Run `analyzer(frame)` on the newest frames in a worker thread of its own.

        At most `rate_hz` calls a second (None: as often as new frames come). Frames that
        arrive while the analyzer works are skipped, never queued.
        """
        subscription = Subscription(self, analyzer, rate_hz=rate_hz, name=name)
        self._subscriptions.append(subscription)
        subscription.start()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop one analyzer."""
        subscription.stop()
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)

    # --- health ------------------------------------------------------------------------------

    def status(self) -> DeviceStatus:
        """Online while frames arrive; offline with a reason when they stopped."""
        with self._cond:
            state, reason, latest = self._state, self._reason, self._latest
        details: dict[str, object] = {"frames": self._next_index, "reopens": self._reopens}
        if latest is not None:
            height, width = latest.image.shape[:2]
            details["size"] = f"{width}x{height}"
            age = self._clock() - latest.t
            # A read stuck inside the driver never returns to report a failure: notice here.
            if state is DeviceState.ONLINE and self.stall_after and age > self.stall_after:
                state, reason = DeviceState.OFFLINE, f"no frame for {age:.1f} s"
        fps = self.stats().fps
        if fps:
            details["fps"] = round(fps, 1)
        return DeviceStatus(state, reason, details=details)

    def stats(self) -> CaptureStats:
        """Frames read, failures, reopens and the recent frame rate."""
        with self._cond:
            latest, recent = self._latest, list(self._recent)
        fps = 0.0
        if len(recent) >= _FPS_MIN_FRAMES and recent[-1] > recent[0]:
            fps = (len(recent) - 1) / (recent[-1] - recent[0])
        size = None if latest is None else (latest.image.shape[1], latest.image.shape[0])
        return CaptureStats(self._next_index, self._failed_reads, self._reopens, fps, size)

    # --- the thread --------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        except Exception:  # a bug must not kill the camera silently
            log.exception("%s: capture thread crashed", self.name)
            self._set_state(DeviceState.HARDWARE_ERROR, "capture thread crashed")
        finally:
            with self._cond:
                self._cond.notify_all()

    def _loop(self) -> None:
        attempt = 0  # reopen attempts since the last good frame
        fails = 0  # failed reads in a row
        due = self._clock()  # when the next frame is due, for paced sources
        while not self._stop.is_set():
            source = self._source
            if source is None:
                source = self._try_open(attempt)
                if source is None:
                    self._stop.wait(self.backoff.delay(attempt))
                    attempt += 1
                    continue
                due = self._clock()
            try:
                ok, image = source.read()
            except Exception as exc:  # OpenCV raises cv2.error on some driver failures
                log.debug("%s: read raised %s", self.name, exc)
                ok, image = False, None
            if ok and image is not None:
                attempt = fails = 0
                self._publish(image)
                if not source.live and self.pacing is Pacing.REALTIME:
                    due = self._pace(due, source.fps)
                continue
            if source.exhausted:
                self._ended = True
                self._set_state(DeviceState.OFFLINE, "end of stream")
                log.info("%s: end of stream after %d frames", self.name, self._next_index)
                return
            fails += 1
            self._failed_reads += 1
            if fails >= self.dead_after:
                self._outage(f"no frame in {fails} reads")
                self._close_source()
                fails = 0
                continue
            self._stop.wait(_FAILED_READ_PAUSE_S)

    def _try_open(self, attempt: int) -> FrameSource | None:
        try:
            source = self._opener()
        except CameraUnavailableError as exc:
            self._outage(str(exc))
            return None
        except CameraError as exc:  # wrong format or settings: retrying slowly is all we can do
            self._outage(str(exc), DeviceState.HARDWARE_ERROR)
            return None
        except Exception as exc:  # OpenCV or OS errors surface here when a driver misbehaves
            self._outage(f"cannot open: {exc}", DeviceState.HARDWARE_ERROR)
            return None
        if self._opened_once:
            self._reopens += 1
        self._opened_once = True
        with self._cond:
            self._source = source
        log.debug("%s: opened after %d attempts", self.name, attempt + 1)
        return source

    def _pace(self, due: float, fps: float) -> float:
        due += 1.0 / fps
        now = self._clock()
        if due > now:
            self._stop.wait(due - now)
            return due
        # Behind by more than a frame (a slow disk, a busy core): do not burst to catch up.
        return now if now - due > 1.0 / fps else due

    def _publish(self, image: np.ndarray) -> None:
        image.flags.writeable = False  # shared by every consumer: nobody may draw on it
        now = self._clock()
        with self._cond:
            frame = Frame(image, self._next_index, now)
            self._next_index += 1
            self._recent.append(now)
            self._latest = frame
            if self._state is not DeviceState.ONLINE:
                self._state, self._reason = DeviceState.ONLINE, ""
            self._cond.notify_all()
        if self._failing:
            self._failing = False
            log.info("%s: camera recovered", self.name)

    def _outage(self, reason: str, state: DeviceState = DeviceState.OFFLINE) -> None:
        self._set_state(state, reason)
        # One line when the camera breaks, not one per retry.
        if not self._failing:
            self._failing = True
            log.warning("%s: camera offline: %s", self.name, reason)
        else:
            log.debug("%s: still offline: %s", self.name, reason)

    def _set_state(self, state: DeviceState, reason: str) -> None:
        with self._cond:
            self._state, self._reason = state, reason
            self._cond.notify_all()

    def _close_source(self) -> None:
        with self._cond:
            source, self._source = self._source, None
        if source is not None:
            try:
                source.close()
            except Exception as exc:  # closing a vanished device can fail; it is gone anyway
                log.debug("%s: close failed: %s", self.name, exc)


class Subscription:
    """An analyzer fed the newest frames in its own thread; counts what it saw and skipped."""

    def __init__(
        self, capture: Capture, analyzer: Analyzer, *, rate_hz: float | None, name: str
    ) -> None:
        self.name = name
        self.processed = 0  # frames the analyzer was called with
        self.skipped = 0  # newer frames arrived while it worked: never seen by it
        self.errors = 0
        self._capture = capture
        self._analyzer = analyzer
        self._interval = 1.0 / rate_hz if rate_hz else 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"{capture.name}-{name}", daemon=True
        )
        self.first_t: float | None = None  # monotonic time of the first and last analysis
        self.last_t: float | None = None

    def start(self) -> None:
        """Start the worker thread."""
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop after the current analysis; idempotent."""
        self._stop.set()
        with self._capture._cond:
            self._capture._cond.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the worker to finish (after the capture stops or its file ends)."""
        self._thread.join(timeout)

    @property
    def rate(self) -> float:
        """Analyses per second between the first and the last one."""
        if self.first_t is None or self.last_t is None or self.processed < 2:
            return 0.0
        span = self.last_t - self.first_t
        return (self.processed - 1) / span if span > 0 else 0.0

    def _run(self) -> None:
        last_index = -1
        failing = False
        while not self._stop.is_set():
            frame = self._capture.wait_for(last_index, timeout=0.5)
            if frame is None:
                if self._capture.ended or self._capture.stopping:
                    return
                continue
            if last_index >= 0:
                self.skipped += frame.index - last_index - 1
            last_index = frame.index
            started = time.monotonic()
            try:
                self._analyzer(frame)
            except Exception:
                self.errors += 1
                # An analyzer bug must not flood the log at 10 Hz: the first time in full only.
                if not failing:
                    failing = True
                    log.exception("%s: analyzer %s failed", self._capture.name, self.name)
            else:
                failing = False
            now = time.monotonic()
            self.processed += 1
            if self.first_t is None:
                self.first_t = started
            self.last_t = now
            if self._interval:
                self._stop.wait(max(0.0, started + self._interval - now))

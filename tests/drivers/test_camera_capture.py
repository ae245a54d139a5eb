"""The capture thread: newest frame only, analyzers that skip rather than lag, outages, pacing."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from drivers.camera import Backoff, CameraFormatError, Capture, Frame, Pacing
from drivers.camera.synthetic import SimulatedCamera
from drivers.state import DeviceState

FAST_BACKOFF = Backoff(initial=0.01, factor=2.0, maximum=0.05)


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


def small_camera(**kwargs) -> SimulatedCamera:
    return SimulatedCamera(size=(64, 48), **kwargs)


def test_latest_is_the_newest_frame_and_frames_are_read_only() -> None:
    camera = small_camera()
    with Capture(camera.open, pacing=Pacing.FAST, name="t") as capture:
        assert wait_until(lambda: capture.stats().frames > 50)
        first = capture.latest()
        assert first is not None
        assert wait_until(lambda: capture.latest().index > first.index)
        newer = capture.latest()
        assert newer.t >= first.t
        with pytest.raises(ValueError):
            newer.image[0, 0] = 0  # shared with every consumer: nobody may draw on it
        assert "Frame(index=" in repr(newer) and "64x48" in repr(newer)


def test_a_slow_analyzer_skips_frames_and_always_gets_a_fresh_one() -> None:
    """GIVEN a source far faster than the analyzer, WHEN it runs, THEN it never works on a backlog.

    Each frame it is given is the newest one at that moment (at most a frame or two behind by the
    time it looks), and the frames it had no time for are counted as skipped.
    """
    camera = small_camera()
    seen: list[int] = []
    lag: list[int] = []
    capture = Capture(camera.open, pacing=Pacing.FAST, name="t")

    def slow(frame: Frame) -> None:
        newest = capture.latest()
        lag.append(newest.index - frame.index)
        seen.append(frame.index)
        time.sleep(0.03)

    with capture:
        subscription = capture.subscribe(slow, name="slow")
        assert wait_until(lambda: len(seen) >= 5)
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert subscription.skipped > 50  # hundreds of frames went by, unseen
    assert subscription.processed >= 5
    assert max(lag) <= 3  # handed the newest frame, not one from a queue
    assert capture.stats().frames > 10 * len(seen)


def test_rate_limited_analyzer() -> None:
    camera = small_camera()
    calls: list[float] = []
    with Capture(camera.open, pacing=Pacing.FAST, name="t") as capture:
        capture.subscribe(lambda frame: calls.append(time.monotonic()), rate_hz=20)
        time.sleep(0.5)
    assert 5 <= len(calls) <= 12  # about 10 in 0.5 s at 20 Hz
    gaps = np.diff(calls)
    assert gaps.min() >= 0.04


def test_analyzer_failure_is_logged_once_and_it_keeps_running(
    caplog: pytest.LogCaptureFixture,
) -> None:
    camera = small_camera()

    def broken(frame: Frame) -> None:
        raise RuntimeError("analyzer bug")

    with caplog.at_level(logging.ERROR, logger="drivers.camera"):
        with Capture(camera.open, pacing=Pacing.FAST, name="t") as capture:
            subscription = capture.subscribe(broken, name="broken")
            assert wait_until(lambda: subscription.errors >= 5)
        errors = [r for r in caplog.records if "analyzer broken failed" in r.getMessage()]
    assert len(errors) == 1


def test_wait_for_returns_a_newer_frame_or_none_on_timeout() -> None:
    camera = small_camera()
    with Capture(camera.open, pacing=Pacing.FAST, name="t") as capture:
        frame = capture.wait_for(-1, timeout=2)
        assert frame is not None
        newer = capture.wait_for(frame.index, timeout=2)
        assert newer is not None and newer.index > frame.index
    camera.unplug()
    stalled = Capture(camera.open, name="t", backoff=FAST_BACKOFF)
    with stalled:
        assert stalled.wait_for(-1, timeout=0.1) is None


def test_dead_source_goes_offline_then_recovers_after_replug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """GIVEN frames flowing, WHEN the camera is unplugged, THEN offline after `dead_after` failed
    reads, reopen attempts back off, and frames flow again once it is plugged back in; the outage
    and the recovery are logged once each."""
    camera = small_camera()
    capture = Capture(
        camera.open, pacing=Pacing.FAST, name="cam", dead_after=5, backoff=FAST_BACKOFF
    )
    with caplog.at_level(logging.INFO, logger="drivers.camera"), capture:
        assert wait_until(lambda: capture.status().state is DeviceState.ONLINE)
        camera.unplug()
        assert wait_until(lambda: capture.status().state is DeviceState.OFFLINE)
        assert "unplugged" in capture.status().reason or "no frame" in capture.status().reason
        frames_while_out = capture.stats().frames
        time.sleep(0.2)  # several reopen attempts fail meanwhile
        assert capture.stats().frames == frames_while_out
        camera.replug()
        assert wait_until(lambda: capture.status().state is DeviceState.ONLINE)
        assert wait_until(lambda: capture.stats().frames > frames_while_out)
        stats = capture.stats()
    assert stats.reopens == 1
    assert stats.failed_reads >= 5
    assert camera.opens == 2
    messages = [r.getMessage() for r in caplog.records]
    assert sum("camera offline" in m for m in messages) == 1
    assert sum("camera recovered" in m for m in messages) == 1


def test_scripted_outage_from_a_sim_url_recovers() -> None:
    camera = SimulatedCamera(size=(32, 24), fail_after=10, fail_for=12)
    capture = Capture(camera.open, pacing=Pacing.FAST, name="t", dead_after=3, backoff=FAST_BACKOFF)
    with capture:
        assert wait_until(lambda: capture.stats().frames > 30)
        assert capture.stats().reopens == 1
        assert capture.status().state is DeviceState.ONLINE


def test_backoff_grows_to_its_maximum() -> None:
    backoff = Backoff(initial=0.5, factor=2, maximum=4)
    assert [backoff.delay(n) for n in range(6)] == [0.5, 1, 2, 4, 4, 4]


def test_opening_errors_in_the_thread_are_reported_not_raised() -> None:
    def broken_format():
        raise CameraFormatError("clip.mp4: not a video")

    with Capture(broken_format, name="t", backoff=FAST_BACKOFF) as capture:
        assert wait_until(lambda: capture.status().state is DeviceState.HARDWARE_ERROR)
        assert "not a video" in capture.status().reason
        assert capture.running  # it keeps trying, slowly


def test_end_of_a_file_stops_capture_and_keeps_the_last_frame() -> None:
    camera = small_camera(count=7, loop=False)
    capture = Capture(camera.open, pacing=Pacing.FAST, name="t")
    seen: list[int] = []
    with capture:
        subscription = capture.subscribe(lambda frame: seen.append(frame.index))
        assert wait_until(lambda: capture.ended)
        subscription.join(2)
        status = capture.status()
    assert status.state is DeviceState.OFFLINE and status.reason == "end of stream"
    assert capture.latest().index == 6
    assert seen[-1] == 6  # the analyzer saw the final frame before stopping
    assert capture.wait_for(6, timeout=1) is None  # returns at once: nothing more will come


def test_realtime_pacing_plays_a_file_at_its_frame_rate() -> None:
    camera = small_camera(fps=50)
    with Capture(camera.open, pacing=Pacing.REALTIME, name="t") as capture:
        time.sleep(0.4)
        frames = capture.stats().frames
        fps = capture.stats().fps
    assert 14 <= frames <= 26  # 20 at 50 fps, with slack for a busy machine
    assert 35 <= fps <= 65


def test_fast_pacing_is_not_limited_by_the_frame_rate() -> None:
    camera = small_camera(fps=5)
    with Capture(camera.open, pacing=Pacing.FAST, name="t") as capture:
        time.sleep(0.2)
        assert capture.stats().frames > 20


def test_a_stuck_read_shows_as_offline() -> None:
    """A driver read that never returns cannot report a failure: status notices the silence."""
    release = threading.Event()

    class StuckSource:
        name, live = "stuck", True
        fps, size, exhausted = 30.0, (8, 8), False

        def __init__(self) -> None:
            self.reads = 0

        def read(self):
            self.reads += 1
            if self.reads > 2:
                release.wait(5)
            return True, np.zeros((8, 8, 3), np.uint8)

        def close(self) -> None:
            release.set()

    capture = Capture(StuckSource, name="t", stall_after=0.2)
    with capture:
        assert wait_until(lambda: capture.latest() is not None)
        assert wait_until(lambda: capture.status().state is DeviceState.OFFLINE, timeout=2)
        assert "no frame for" in capture.status().reason
        release.set()


def test_stop_is_idempotent_and_closes_the_source() -> None:
    closed: list[bool] = []
    camera = small_camera()

    def opener():
        source = camera.open()
        original = source.close

        def close() -> None:
            closed.append(True)
            original()

        source.close = close  # type: ignore[method-assign]
        return source

    capture = Capture(opener, pacing=Pacing.FAST, name="t").start()
    assert wait_until(lambda: capture.latest() is not None)
    capture.stop()
    capture.stop()
    assert closed == [True]
    assert not capture.running

"""The camera's device face: open/close/status, poll() with deduplicated QR codes, snapshot."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.camera import (
    Backoff,
    CameraDevice,
    CameraUnavailableError,
    CodeTracker,
    decode_qr,
    open_camera,
)
from drivers.camera.synthetic import QrScript, SimulatedCamera, qr_frame, write_qr_clip
from drivers.qr.payload import ScannedCode
from drivers.state import DeviceState

SIZE = (320, 240)


def poll_for(camera: CameraDevice, seconds: float) -> list[ScannedCode]:
    """Everything polled in `seconds`, or until a clip ends."""
    events: list[ScannedCode] = []
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            events.extend(camera.poll(min(0.1, remaining)))
        except CameraUnavailableError:
            assert camera.capture is not None and camera.capture.ended
            break
    return events


# --- deduplication, as a pure rule -------------------------------------------------------------


def test_a_code_held_in_view_is_one_event_until_it_leaves_for_a_moment() -> None:
    tracker = CodeTracker(forget_after=1.0)
    assert tracker.update([b"A"], t=0.0) == [b"A"]
    assert tracker.update([b"A"], t=0.1) == []
    assert tracker.update([], t=0.5) == []  # a missed decode (motion blur) is bridged
    assert tracker.update([b"A"], t=0.9) == []
    assert tracker.update([b"A", b"B"], t=1.0) == [b"B"]
    assert tracker.update([], t=2.5) == []  # both gone for more than a second
    assert tracker.in_view() == 0
    assert tracker.update([b"A"], t=2.6) == [b"A"]  # shown again: a new scan


def test_duplicates_within_one_frame_are_one_event() -> None:
    assert CodeTracker().update([b"A", b"A"], t=0) == [b"A"]


@given(
    st.lists(
        st.tuples(st.floats(0, 0.5), st.lists(st.sampled_from([b"A", b"B", b"C"]), max_size=3)),
        max_size=40,
    )
)
def test_no_code_is_reported_twice_while_continuously_in_view(steps) -> None:
    """Property: between two reports of a code there is a gap of more than `forget_after`."""
    tracker = CodeTracker(forget_after=1.0)
    t = 0.0
    last_seen: dict[bytes, float] = {}
    for dt, codes in steps:
        t += dt
        for code in tracker.update(codes, t):
            assert code not in last_seen or t - last_seen[code] > 1.0
        for code in codes:
            last_seen[code] = t


# --- through the capture thread ----------------------------------------------------------------


def test_poll_reports_a_held_code_once_and_again_after_it_left() -> None:
    """GIVEN a camera showing code A for frames 5-44, nothing for 45-84, A again from 85,
    WHEN polled, THEN exactly two events for A (not one per frame)."""
    scripts = [QrScript("A-123", start=5, stop=45), QrScript("A-123", start=85)]
    sim = SimulatedCamera(lambda i: qr_frame(i, SIZE, scripts), size=SIZE, fps=60)
    camera = CameraDevice(sim.open, name="sim", qr_hz=30, forget_after=0.3)
    with camera:
        events = poll_for(camera, 2.2)
        assert camera.qr_subscription is not None and camera.qr_subscription.processed > 20
    assert [e.text for e in events] == ["A-123", "A-123"]
    assert all(e.symbology == "QRCODE" and e.source == "sim" for e in events)


def test_two_codes_in_view_are_two_events() -> None:
    scripts = [QrScript("FIRST", start=0), QrScript("SECOND", start=10, module_px=4)]
    sim = SimulatedCamera(lambda i: qr_frame(i, (640, 480), scripts), size=(640, 480), fps=60)
    with CameraDevice(sim.open, name="sim", qr_hz=30) as camera:
        events = poll_for(camera, 0.8)
    assert sorted(e.text for e in events) == ["FIRST", "SECOND"]


def test_poll_waits_and_returns_nothing_without_codes() -> None:
    sim = SimulatedCamera(size=SIZE)
    with CameraDevice(sim.open, name="sim") as camera:
        start = time.monotonic()
        assert camera.poll(0.15) == []
        assert time.monotonic() - start >= 0.14


def test_qr_decoding_can_be_switched_off() -> None:
    scripts = [QrScript("A", start=0)]
    sim = SimulatedCamera(lambda i: qr_frame(i, SIZE, scripts), size=SIZE)
    with CameraDevice(sim.open, name="sim", qr=False) as camera:
        assert camera.poll(0.3) == []
        assert camera.qr_subscription is None


def test_payloads_come_out_as_held_and_admission_refuses_control_characters() -> None:
    """Decoding returns what a code holds (GB18030 read right, escapes kept); a flow's admission
    then refuses the terminal escape, so decoding never silently drops a code."""
    from drivers.qr.admission import CONTROL_CHARACTERS, admit

    payloads = [b"evil\x1b[2J", "办事指南\r\n第二行".encode("gb18030")]

    def decoder(image: np.ndarray) -> list[bytes]:
        return payloads

    with CameraDevice(SimulatedCamera(size=SIZE).open, name="sim", decoder=decoder) as camera:
        texts = sorted(e.text for e in poll_for(camera, 0.3))
    assert texts == sorted(["evil\x1b[2J", "办事指南\r\n第二行"])
    refused = admit("evil\x1b[2J", ["text"])
    assert not refused.admitted and refused.reason == CONTROL_CHARACTERS
    assert admit("办事指南\r\n第二行", ["text"]).admitted


def test_poll_raises_while_the_camera_is_unplugged_and_works_after_reopen() -> None:
    """What the device manager relies on: an outage surfaces from poll, and the same device
    object opens again once the camera is back."""
    sim = SimulatedCamera(size=SIZE, fps=100)
    camera = CameraDevice(sim.open, name="sim", qr=False, dead_after=3, backoff=Backoff(1, 2, 1))
    camera.open()
    try:
        assert camera.poll(0.05) == []
        sim.unplug()
        with pytest.raises(CameraUnavailableError, match="sim"):
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                camera.poll(0.05)
        camera.close()
        with pytest.raises(CameraUnavailableError):
            camera.open()
        sim.replug()
        camera.open()
        assert camera.snapshot(timeout=2).shape == (SIZE[1], SIZE[0], 3)
        assert camera.poll(0.05) == []
    finally:
        camera.close()


def test_a_custom_decoder_is_used() -> None:
    seen: list[int] = []

    def decoder(image: np.ndarray) -> list[bytes]:
        seen.append(image.shape[1])
        return [b"fake"]

    with CameraDevice(SimulatedCamera(size=SIZE).open, name="sim", decoder=decoder) as camera:
        assert [e.raw for e in poll_for(camera, 0.3)] == [b"fake"]
    assert seen and seen[0] == SIZE[0]


def test_snapshot_is_a_private_copy_of_the_newest_frame() -> None:
    with CameraDevice(SimulatedCamera(size=SIZE).open, name="sim", qr=False) as camera:
        picture = camera.snapshot(timeout=2)
        assert picture.shape == (SIZE[1], SIZE[0], 3)
        picture[:] = 0  # ours to draw on
        assert camera.latest() is not None and camera.latest().image.any()


def test_open_fails_in_the_caller_when_there_is_no_camera() -> None:
    sim = SimulatedCamera(size=SIZE)
    sim.unplug()
    camera = CameraDevice(sim.open, name="sim")
    with pytest.raises(CameraUnavailableError):
        camera.open()
    assert camera.status().state is DeviceState.OFFLINE
    camera.close()  # safe after a failed open
    camera.close()


def test_status_follows_the_device() -> None:
    sim = SimulatedCamera(size=SIZE, fps=100)
    camera = CameraDevice(
        sim.open, name="sim", qr=False, dead_after=3, backoff=Backoff(0.01, 2, 0.05)
    )
    assert camera.status().reason == "closed"
    camera.open()
    try:
        camera.snapshot(timeout=2)
        status = camera.status()
        assert status.state is DeviceState.ONLINE
        assert status.details["size"] == "320x240"
        sim.unplug()
        deadline = time.monotonic() + 3
        while camera.status().state is DeviceState.ONLINE and time.monotonic() < deadline:
            time.sleep(0.01)
        assert camera.status().state is DeviceState.OFFLINE
        sim.replug()
        deadline = time.monotonic() + 3
        while camera.status().state is not DeviceState.ONLINE and time.monotonic() < deadline:
            time.sleep(0.01)
        assert camera.status().state is DeviceState.ONLINE
    finally:
        camera.close()
    assert camera.status().state is DeviceState.OFFLINE


def test_calls_on_a_closed_camera_say_so() -> None:
    camera = CameraDevice(SimulatedCamera(size=SIZE).open, name="sim")
    with pytest.raises(CameraUnavailableError, match="not open"):
        camera.poll(0)
    with pytest.raises(CameraUnavailableError, match="not open"):
        camera.snapshot()


def test_a_camera_that_opens_but_sends_nothing_fails_to_open() -> None:
    class Silent:
        name, live, fps, size, exhausted = "silent", True, 30.0, (8, 8), False

        def read(self):
            time.sleep(0.01)
            return False, None

        def close(self) -> None:
            pass

    camera = CameraDevice(Silent, name="silent", dead_after=1000, first_frame_s=0.1)
    with pytest.raises(CameraUnavailableError, match="no frame within 0.1 s"):
        camera.open()
    assert camera.status().reason == "closed"
    with pytest.raises(CameraUnavailableError, match="not open"):
        camera.snapshot()


def test_status_is_online_as_soon_as_open_returns() -> None:
    with CameraDevice(SimulatedCamera(size=SIZE, fps=5).open, name="sim", qr=False) as camera:
        assert camera.status().state is DeviceState.ONLINE


# --- through URLs ------------------------------------------------------------------------------


def test_open_camera_on_a_file_clip_finds_its_code(tmp_path: Path) -> None:
    clip = write_qr_clip(
        tmp_path / "qr.mp4", size=SIZE, frames=20, fps=30, scripts=[QrScript("CLIP-1", start=3)]
    )
    camera = open_camera(f"file://{clip}", pacing="fast", qr_hz=100)
    with camera:
        events = poll_for(camera, 1.0)
        assert camera.capture is not None and camera.capture.ended
    assert [e.text for e in events] == ["CLIP-1"]
    assert camera.name == f"file://{clip}"


def test_open_camera_sim_url_and_overrides() -> None:
    camera = open_camera("sim://camera?qr=SIM-CODE&width=320&height=240", fps=60)
    with camera:
        assert [e.text for e in poll_for(camera, 0.5)] == ["SIM-CODE"]
        assert camera.snapshot().shape == (240, 320, 3)
    assert "SIM-CODE" not in camera.name  # the URL's query stays out of logs


def test_sim_frames_really_contain_a_decodable_code() -> None:
    frame = qr_frame(0, SIZE, [QrScript("X")])
    assert decode_qr(frame) == [b"X"]

"""Camera frame sources: video files, image sequences, the synthetic camera, V4L2 settings, URLs."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers.camera import (
    CameraConfigError,
    CameraFormatError,
    CameraUnavailableError,
    ImageSequenceSource,
    V4L2Source,
    VideoFileSource,
    open_source,
    source_opener,
)
from drivers.camera.synthetic import (
    QrScript,
    SimulatedCamera,
    SyntheticSource,
    pattern_frame,
    write_qr_clip,
)
from drivers.url import DeviceUrlError


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-frame 320x240 MPEG-4 clip at 20 fps."""
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    return write_qr_clip(path, size=(320, 240), frames=12, fps=20.0, scripts=[QrScript("A")])


@pytest.fixture
def frames_dir(tmp_path: Path) -> Path:
    """Five numbered PNG frames, plus a file that is not an image."""
    for i in range(5):
        cv2.imwrite(str(tmp_path / f"f{i:03d}.png"), pattern_frame(i, (160, 120)))
    (tmp_path / "notes.txt").write_text("not a frame")
    return tmp_path


def read_all(source, limit: int = 100) -> list[np.ndarray]:
    frames = []
    for _ in range(limit):
        ok, frame = source.read()
        if not ok:
            break
        frames.append(frame)
    return frames


# --- video files ---------------------------------------------------------------------------


def test_video_file_plays_to_its_end_then_is_exhausted(clip: Path) -> None:
    source = VideoFileSource(str(clip))
    assert source.size == (320, 240)
    assert source.fps == pytest.approx(20.0)
    assert not source.live
    frames = read_all(source)
    assert len(frames) == 12
    assert frames[0].shape == (240, 320, 3)
    assert source.exhausted
    assert source.read() == (False, None)
    source.close()
    source.close()  # idempotent


def test_video_file_loops_when_asked(clip: Path) -> None:
    source = VideoFileSource(str(clip), loop=True)
    frames = read_all(source, limit=30)
    assert len(frames) == 30
    assert not source.exhausted
    # Frame 12 is frame 0 again (lossy codec: compare loosely).
    assert np.abs(frames[12].astype(int) - frames[0].astype(int)).mean() < 2
    source.close()


def test_video_fps_override(clip: Path) -> None:
    assert VideoFileSource(str(clip), fps=5).fps == 5


def test_missing_video_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(CameraUnavailableError, match="no such file"):
        VideoFileSource(str(tmp_path / "nope.mp4"))


def test_garbage_video_is_a_format_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"this is not a video" * 100)
    with pytest.raises(CameraFormatError):
        VideoFileSource(str(bad))


# --- image sequences -----------------------------------------------------------------------


def test_directory_plays_its_images_in_name_order(frames_dir: Path) -> None:
    source = ImageSequenceSource.from_pattern(str(frames_dir), fps=15)
    assert len(source) == 5
    assert source.size == (160, 120)
    assert source.fps == 15
    frames = read_all(source)
    assert len(frames) == 5
    assert np.array_equal(frames[3], pattern_frame(3, (160, 120)))
    assert source.exhausted


def test_glob_and_loop(frames_dir: Path) -> None:
    source = ImageSequenceSource.from_pattern(str(frames_dir / "f00[0-1].png"), loop=True)
    frames = read_all(source, limit=5)
    assert len(frames) == 5
    assert np.array_equal(frames[0], frames[2])
    assert not source.exhausted


def test_cached_images_are_handed_out_as_copies(frames_dir: Path) -> None:
    source = ImageSequenceSource.from_pattern(str(frames_dir / "f000.png"), loop=True)
    _, first = source.read()
    first[:] = 0  # a consumer drawing on its frame must not change the next one
    _, second = source.read()
    assert second.any()


def test_empty_or_missing_sequences_are_unavailable(tmp_path: Path) -> None:
    with pytest.raises(CameraUnavailableError, match="no image files"):
        ImageSequenceSource.from_pattern(str(tmp_path))
    with pytest.raises(CameraUnavailableError, match="no file matches"):
        ImageSequenceSource.from_pattern(str(tmp_path / "*.png"))
    with pytest.raises(CameraUnavailableError):
        ImageSequenceSource.from_pattern(str(tmp_path / "gone"))


def test_undecodable_first_image_is_a_format_error(tmp_path: Path) -> None:
    (tmp_path / "broken.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(CameraFormatError):
        ImageSequenceSource.from_pattern(str(tmp_path))


# --- the synthetic camera ------------------------------------------------------------------


def test_synthetic_frames_change_and_count() -> None:
    camera = SimulatedCamera(size=(64, 48), count=3, loop=False)
    source = camera.open()
    assert isinstance(source, SyntheticSource)
    frames = read_all(source)
    assert len(frames) == 3
    assert not np.array_equal(frames[0], frames[1])
    assert source.exhausted
    assert camera.opens == 1


def test_unplugged_synthetic_camera_fails_reads_and_opens() -> None:
    camera = SimulatedCamera(size=(64, 48))
    source = camera.open()
    assert source.read()[0]
    camera.unplug()
    assert source.read() == (False, None)
    with pytest.raises(CameraUnavailableError):
        camera.open()
    camera.replug()
    assert camera.open().read()[0]


def test_scripted_fault_window_counts_reads_and_opens() -> None:
    camera = SimulatedCamera(size=(32, 24), fail_after=2, fail_for=3)
    source = camera.open()
    assert [source.read()[0] for _ in range(4)] == [True, True, False, False]
    with pytest.raises(CameraUnavailableError):
        camera.open()  # the third failed attempt
    assert camera.open().read()[0]


def test_sim_url_builds_a_camera_with_a_qr_code() -> None:
    source = open_source("sim://camera?width=320&height=240&qr=HELLO&qr_from=1&frames=3&loop=0")
    assert source.size == (320, 240)
    frames = read_all(source)
    assert len(frames) == 3
    from drivers.camera import decode_qr

    assert decode_qr(frames[0]) == []
    assert decode_qr(frames[1]) == [b"HELLO"]


# --- V4L2 --------------------------------------------------------------------------------------


class FakeCapture:
    """Records what the driver sets, like cv2.VideoCapture on a camera that accepts it all."""

    def __init__(self, path: str, api: int, *, opened: bool = True) -> None:
        self.path, self.api, self.opened = path, api, opened
        self.calls: list[tuple[int, float]] = []
        self.props: dict[int, float] = {cv2.CAP_PROP_FPS: 30.0}
        self.released = False

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return self.opened

    def set(self, prop: int, value: float) -> bool:
        self.calls.append((prop, value))
        self.props[prop] = value
        return True

    def get(self, prop: int) -> float:
        return self.props.get(prop, 0.0)

    def read(self) -> tuple[bool, np.ndarray | None]:
        return True, np.zeros((720, 1280, 3), np.uint8)

    def release(self) -> None:
        self.released = True


def test_v4l2_sets_fourcc_before_size_and_a_one_frame_buffer(tmp_path: Path) -> None:
    device = tmp_path / "video0"
    device.touch()  # stands in for /dev/video0: exists and is readable
    made: list[FakeCapture] = []

    def factory(path: str, api: int) -> FakeCapture:
        made.append(FakeCapture(path, api))
        return made[-1]

    source = V4L2Source(
        str(device), width=1280, height=720, fps=30, fourcc="MJPG", capture_factory=factory
    )
    cap = made[0]
    assert cap.api == cv2.CAP_V4L2
    props = [prop for prop, _ in cap.calls]
    assert props.index(cv2.CAP_PROP_FOURCC) < props.index(cv2.CAP_PROP_FRAME_WIDTH)
    assert cap.props[cv2.CAP_PROP_FOURCC] == cv2.VideoWriter.fourcc(*"MJPG")
    assert cap.props[cv2.CAP_PROP_BUFFERSIZE] == 1
    assert source.size == (1280, 720)
    assert source.live
    assert source.read()[0]
    source.close()
    assert cap.released


def test_v4l2_missing_device_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(CameraUnavailableError, match="no such device"):
        V4L2Source(str(tmp_path / "video9"))


def test_v4l2_device_that_will_not_open_is_unavailable(tmp_path: Path) -> None:
    device = tmp_path / "video0"
    device.touch()
    made: list[FakeCapture] = []

    def factory(path: str, api: int) -> FakeCapture:
        made.append(FakeCapture(path, api, opened=False))
        return made[-1]

    with pytest.raises(CameraUnavailableError, match="cannot open"):
        V4L2Source(str(device), capture_factory=factory)
    assert made[0].released


def test_v4l2_without_permission_is_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    device = tmp_path / "video0"
    device.touch()
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # as for a user not in 'video'
    with pytest.raises(CameraUnavailableError, match="permission"):
        V4L2Source(str(device))


# --- URLs --------------------------------------------------------------------------------------


def test_v4l2_url_without_a_device_here_fails_when_opened_not_when_parsed() -> None:
    opener = source_opener("v4l2:///dev/video0?width=1280&height=720&fps=30&fourcc=mjpg")
    if not os.path.exists("/dev/video0"):
        with pytest.raises(CameraUnavailableError, match="/dev/video0"):
            opener()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("v4l2:///dev/video0?wdith=640", "unknown option wdith"),
        ("v4l2:///dev/video0?width=wide", "not a number"),
        ("v4l2:///dev/video0?fourcc=MJPEG", "four characters"),
        ("v4l2:///dev/video0?fps=0", "must be positive"),
        ("file:///tmp/x.mp4?loop=maybe", "on/off"),
        ("file:///tmp/x.mp4?speed=2", "unknown option speed"),
        ("sim://camera?colour=red", "unknown option colour"),
        ("tcp://127.0.0.1:9100", "v4l2://, file:// or sim://"),
        ("http://camera", "unknown scheme"),
        ("/dev/video0", "not a device URL"),
    ],
)
def test_bad_urls_fail_at_once_with_a_readable_message(url: str, message: str) -> None:
    with pytest.raises(CameraConfigError, match=message) as caught:
        source_opener(url)
    assert isinstance(caught.value, DeviceUrlError)  # the device manager's catch-all works too


def test_file_url_picks_video_directory_glob_or_still(clip: Path, frames_dir: Path) -> None:
    assert isinstance(open_source(f"file://{clip}"), VideoFileSource)
    sequence = open_source(f"file://{frames_dir}/?fps=5&loop=1")
    assert isinstance(sequence, ImageSequenceSource)
    assert sequence.fps == 5
    globbed = open_source(f"file://{frames_dir}/f00*.png")
    assert isinstance(globbed, ImageSequenceSource)
    assert len(globbed) == 5
    still = open_source(f"file://{frames_dir}/f001.png")
    assert len(read_all(still, limit=4)) == 4  # a still image repeats like a camera would


def test_keyword_overrides_beat_the_url(clip: Path) -> None:
    source = open_source(f"file://{clip}?loop=0", loop=True)
    assert len(read_all(source, limit=20)) == 20


def test_percent_encoded_paths(tmp_path: Path) -> None:
    folder = tmp_path / "with space"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), pattern_frame(0, (32, 24)))
    source = open_source(f"file://{tmp_path}/with%20space/a.png")
    assert source.size == (32, 24)

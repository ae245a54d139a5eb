"""Scenes of the simulated camera: what each shows, switching them at run time, the asset."""

from __future__ import annotations

import time
import tomllib
import uuid
from pathlib import Path

import numpy as np
import pytest

from drivers.camera import CameraConfigError, check_face, detect_page, open_camera
from drivers.camera.synthetic import (
    SCENES,
    SimulatedCamera,
    photograph_cut_off,
    portrait,
    scene_control,
    scene_frame,
)

ROOT = Path(__file__).resolve().parents[2]
ASSET = ROOT / "drivers" / "camera" / "assets" / "astronaut_portrait.jpg"


@pytest.mark.parametrize("scene", SCENES)
@pytest.mark.parametrize("size", [(320, 240), (640, 480)])
def test_every_scene_renders_writable_frames_of_the_size(scene: str, size: tuple[int, int]) -> None:
    frame = scene_frame(scene, 3, size)
    assert frame.shape == (size[1], size[0], 3) and frame.dtype == np.uint8
    assert frame.flags.writeable  # a fresh frame: the cached scene is not handed out
    frame[:] = 0
    assert scene_frame(scene, 3, size).any()


def test_a_document_moves_slightly_between_frames_and_stays_a_page() -> None:
    a, b = scene_frame("document", 1, (640, 480)), scene_frame("document", 2, (640, 480))
    difference = np.abs(a.astype(np.int16) - b).mean()
    assert 0.5 < difference < 30  # moved, but only a little
    first, second = detect_page(a).corners, detect_page(b).corners
    assert 0.05 < float(np.abs(first - second).max()) < 5.0


def test_a_face_drifts_and_a_held_up_photo_does_not() -> None:
    boxes = [check_face(scene_frame("face", i, (640, 480))).face_box for i in range(3)]
    assert all(box is not None for box in boxes)
    assert len({box.as_tuple() for box in boxes if box}) > 1
    still = [scene_frame("face_still", i, (640, 480)) for i in range(3)]
    assert all(np.array_equal(still[0], frame) for frame in still[1:])


def test_scene_frames_are_reproducible() -> None:
    assert np.array_equal(scene_frame("face", 5), scene_frame("face", 5))
    assert np.array_equal(scene_frame("document_glare", 5), scene_frame("document_glare", 5))


def test_unknown_scenes_are_refused_with_the_known_ones_named() -> None:
    with pytest.raises(CameraConfigError, match="document_glare"):
        scene_frame("selfie", 0)
    control = scene_control(f"t-{uuid.uuid4().hex}")
    with pytest.raises(CameraConfigError, match="unknown"):
        control.show("selfie")
    assert control.scene == "pattern"
    with pytest.raises(CameraConfigError, match="scene"):
        open_camera("sim://camera?scene=selfie")


def test_a_named_control_is_one_per_process() -> None:
    name = f"t-{uuid.uuid4().hex}"
    assert scene_control(name) is scene_control(name)
    assert "pattern" in repr(scene_control(name))


def test_the_kiosk_camera_is_switched_from_outside() -> None:
    """GIVEN the camera the kiosk opened from a sim:// URL with a name, WHEN the simulator
    shows another scene through the named control, THEN the next frames show it."""
    name = f"desk-{uuid.uuid4().hex}"
    camera = open_camera(f"sim://camera?name={name}&scene=pattern&fps=30", qr=False)
    with camera:
        before = camera.snapshot()
        scene_control(name).show("face")
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            if check_face(camera.snapshot()).ok:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the face scene never reached the kiosk's camera")
    assert check_face(before).face_box is None


def test_an_explicit_frame_maker_is_the_pattern_scene() -> None:
    camera = SimulatedCamera(lambda index: np.full((4, 4, 3), index, np.uint8), size=(4, 4))
    source = camera.open()
    frames = [source.read()[1] for _ in range(2)]
    assert [int(frame[0, 0, 0]) for frame in frames if frame is not None] == [0, 1]
    camera.control.show("empty")
    ok, frame = source.read()
    assert ok and frame is not None and frame.shape == (4, 4, 3) and frame.std() > 0


def test_cut_off_photos_need_a_real_side() -> None:
    with pytest.raises(ValueError, match="side"):
        photograph_cut_off(size=(320, 240), side="middle")


def test_the_bundled_portrait_is_small_and_packaged() -> None:
    assert ASSET.stat().st_size < 40_000
    assert portrait().shape == (240, 320, 3)
    assert (ASSET.parent / "README.md").read_text().count("public domain") >= 1
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["drivers"]
    assert "camera/assets/*.jpg" in patterns

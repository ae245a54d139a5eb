"""The camera steps of an application through a real simulated camera device, scene by scene."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
import pytest

from drivers.camera import CameraDevice, FaceProblem, PageProblem, open_camera
from drivers.camera.synthetic import scene_control
from kiosk.capture import (
    CAMERA_UNAVAILABLE,
    FACE,
    PAGE,
    CaptureProblem,
    FaceShot,
    PageShot,
    capture_face,
    capture_page,
    make_thumbnail,
    prompt_for,
)
from kiosk.capture_prompts import KIND_PROMPTS


@dataclass
class Desk:
    camera: CameraDevice
    name: str

    def show(self, scene: str) -> None:
        before = self.camera.frame().index
        scene_control(self.name).show(scene)
        # The frame being made at the switch may still be of the old scene: wait past it.
        deadline = time.monotonic() + 3.0
        while self.camera.frame().index < before + 2 and time.monotonic() < deadline:
            time.sleep(0.02)


@pytest.fixture
def desk() -> Iterator[Desk]:
    name = f"desk-{uuid.uuid4().hex[:8]}"
    camera = open_camera(
        f"sim://camera?name={name}&scene=pattern&width=640&height=480&fps=12", qr=False
    )
    camera.open()
    try:
        yield Desk(camera, name)
    finally:
        camera.close()


def decode(jpeg: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def test_a_document_on_the_desk_is_captured_quickly(desk: Desk) -> None:
    desk.show("document")
    started = time.monotonic()
    shot = capture_page(desk.camera)
    assert time.monotonic() - started < 6.0
    assert isinstance(shot, PageShot)
    assert len(shot.jpeg) <= 400_000 and len(shot.thumbnail) <= 15_000
    page = decode(shot.jpeg)
    assert page.shape[:2] == (shot.height, shot.width)
    assert abs(shot.width / shot.height - 210 / 297) < 0.01
    thumbnail = decode(shot.thumbnail)
    assert thumbnail.shape[1] == 160
    assert "bytes" in repr(shot) and "\\x" not in repr(shot)


@pytest.mark.parametrize(
    ("scene", "code"),
    [
        ("document_glare", "glare"),
        ("empty", "no_page"),
        ("document_cut_off", "cut_off"),
        ("document_blurry", "blurry"),
    ],
)
def test_a_page_that_cannot_be_used_says_why(desk: Desk, scene: str, code: str) -> None:
    desk.show(scene)
    seen: list[str] = []
    with pytest.raises(CaptureProblem) as caught:
        capture_page(desk.camera, attempts_s=1.5, on_problem=seen.append)
    assert caught.value.code == code and caught.value.kind == PAGE
    assert seen == [code]  # prompted once, not once per frame
    assert caught.value.prompt == KIND_PROMPTS[PAGE][code]


def test_a_resident_in_front_of_the_camera_is_captured(desk: Desk) -> None:
    desk.show("face")
    shot = capture_face(desk.camera)
    assert isinstance(shot, FaceShot)
    assert shot.moved and shot.frames >= 5 and shot.seconds < 8.0
    assert len(shot.jpeg) <= 300_000 and decode(shot.jpeg).shape[1] <= 480
    assert "bytes" in repr(shot) and "\\x" not in repr(shot)


def test_a_photo_held_still_for_the_whole_run_is_not_live(desk: Desk) -> None:
    desk.show("face_still")
    with pytest.raises(CaptureProblem) as caught:
        capture_face(desk.camera, attempts_s=1.5)
    assert caught.value.code == "not_live" and caught.value.kind == FACE


def test_a_resident_too_far_back_is_asked_to_come_closer(desk: Desk) -> None:
    desk.show("face_far")
    seen: list[str] = []
    with pytest.raises(CaptureProblem) as caught:
        capture_face(desk.camera, attempts_s=1.0, on_problem=seen.append)
    assert caught.value.code == "too_small" and seen == ["too_small"]
    assert "closer" in caught.value.prompt


def test_a_closed_camera_is_camera_unavailable(desk: Desk) -> None:
    desk.camera.close()
    for capture in (capture_page, capture_face):
        with pytest.raises(CaptureProblem) as caught:
            capture(desk.camera, attempts_s=0.5)
        assert caught.value.code == CAMERA_UNAVAILABLE


@dataclass
class OddFrame:
    image: np.ndarray
    index: int
    t: float


class OddCamera:
    """A camera sending malformed frames: float pixels, 1x1, grey, 4-D."""

    def __init__(self) -> None:
        self.count = 0
        self.pictures = [
            np.zeros((480, 640, 3), np.float32),
            np.zeros((1, 1, 3), np.uint8),
            np.full((480, 640), 120, np.uint8),
            np.zeros((2, 4, 4, 3), np.uint8),
        ]

    def frame(self, timeout: float = 1.0) -> OddFrame:
        self.count += 1
        return OddFrame(self.pictures[self.count % 4], self.count, self.count * 0.1)


def test_malformed_frames_are_skipped_never_a_crash() -> None:
    camera = OddCamera()
    with pytest.raises(CaptureProblem) as page:
        capture_page(camera, attempts_s=0.3)
    assert page.value.code == "no_page"
    with pytest.raises(CaptureProblem) as face:
        capture_face(camera, attempts_s=0.3)
    assert face.value.code == "no_face"
    assert camera.count > 4


def test_every_problem_code_has_a_prompt() -> None:
    assert {p.value for p in PageProblem} <= set(KIND_PROMPTS[PAGE])
    assert {p.value for p in FaceProblem} | {"not_live"} <= set(KIND_PROMPTS[FACE])
    assert prompt_for(FACE, "too_small") != prompt_for(PAGE, "too_small")
    assert prompt_for(PAGE, "no_such_code")  # a generic prompt, never a KeyError
    assert all(text.endswith(".") for prompts in KIND_PROMPTS.values() for text in prompts.values())


def test_thumbnails_fit_the_budget_even_for_noise() -> None:
    noise = np.random.default_rng(0).integers(0, 256, (1754, 1240, 3), dtype=np.uint8)
    thumbnail = make_thumbnail(noise)
    assert len(thumbnail) <= 15_000 and decode(thumbnail).shape[1] == 160

"""Presence for 人证核验 over a run of frames of the bundled portrait (synthetic scenes)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from drivers.camera import CameraFormatError, FaceChecker, PresenceCheck
from drivers.camera.synthetic import scene_frame

SIZE = (640, 480)
STEP_S = 0.15  # frames as a capture at about 7 Hz sees them


@pytest.fixture(scope="module")
def checker() -> FaceChecker:
    return FaceChecker()


def feed(check: PresenceCheck, scene: str, frames: int, step: float = STEP_S) -> None:
    for index in range(frames):
        check.add(scene_frame(scene, index, SIZE), 100.0 + index * step)
        if check.done:
            return


def test_a_resident_moving_naturally_is_present(checker: FaceChecker) -> None:
    check = PresenceCheck(checker=checker)
    feed(check, "face", 12)
    result = check.result()
    assert check.done and result is not None
    assert result.moved
    assert result.frames == 5  # five good frames in a row, the first five
    assert result.seconds == pytest.approx(4 * STEP_S)
    assert len(result.jpeg) <= 300_000
    picture = cv2.imdecode(np.frombuffer(result.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None and picture.shape[1] == result.width <= 480
    # The crop is framed around the face: the face is still found in it, and it is usable.
    assert checker.check(picture).face_box is not None
    assert check.problems == []


def test_a_still_picture_for_the_whole_run_is_not_live(checker: FaceChecker) -> None:
    check = PresenceCheck(checker=checker, frames_needed=4)
    feed(check, "face_still", 7)
    assert not check.done and check.result() is None
    assert check.problems == ["not_live"]
    assert check.frames == 7


def test_movement_can_be_reported_instead_of_required(checker: FaceChecker) -> None:
    check = PresenceCheck(checker=checker, frames_needed=3, require_movement=False)
    feed(check, "face_still", 5)
    result = check.result()
    assert result is not None and result.moved is False


def test_a_resident_too_far_back_is_prompted_to_come_closer(checker: FaceChecker) -> None:
    check = PresenceCheck(checker=checker, frames_needed=3)
    feed(check, "face_far", 4)
    assert not check.done
    assert check.problems == ["too_small"]


def test_a_bad_frame_restarts_the_run(checker: FaceChecker) -> None:
    check = PresenceCheck(checker=checker, frames_needed=3)
    t = 0.0
    for scene in ["face", "face", "empty", "face", "face"]:
        check.add(scene_frame(scene, int(t * 10), SIZE), t)
        t += STEP_S
    assert not check.done  # only two good frames since the empty one
    check.add(scene_frame("face", 77, SIZE), t)
    assert check.done


def test_good_frames_too_far_apart_in_time_do_not_add_up(checker: FaceChecker) -> None:
    check = PresenceCheck(checker=checker, frames_needed=3, window_s=1.0)
    feed(check, "face", 5, step=0.8)  # never three within one second
    assert not check.done
    assert check.problems == []  # every frame is fine: it is the run that is too slow


def test_frames_after_the_decision_change_nothing(checker: FaceChecker) -> None:
    check = PresenceCheck(checker=checker, frames_needed=2)
    feed(check, "face", 4)
    result = check.result()
    check.add(scene_frame("empty", 9, SIZE), 200.0)
    assert check.result() is result and check.problems == []


@pytest.mark.parametrize(
    "picture",
    [
        np.zeros((480, 640, 3), np.float64),
        np.zeros((480, 640, 4), np.uint8),
        np.zeros((480,), np.uint8),
        "frame.jpg",
    ],
)
def test_what_is_not_a_picture_is_a_clear_error(checker: FaceChecker, picture: object) -> None:
    with pytest.raises(CameraFormatError):
        PresenceCheck(checker=checker).add(picture, 0.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 1), (0, 0, 3), (480, 640)])
def test_odd_but_valid_pictures_are_no_face(checker: FaceChecker, shape: tuple[int, ...]) -> None:
    check = PresenceCheck(checker=checker)
    check.add(np.full(shape, 90, np.uint8), 0.0)
    assert check.problems == ["no_face"] and not check.done


def test_a_grey_camera_works_too(checker: FaceChecker) -> None:
    check = PresenceCheck(checker=checker, frames_needed=3)
    for index in range(6):
        grey = cv2.cvtColor(scene_frame("face", index, SIZE), cv2.COLOR_BGR2GRAY)
        check.add(grey, index * STEP_S)
    assert check.done


def test_a_single_frame_cannot_show_movement() -> None:
    with pytest.raises(ValueError):
        PresenceCheck(frames_needed=1)


def test_the_result_repr_carries_no_bytes(checker: FaceChecker) -> None:
    check = PresenceCheck(checker=checker, frames_needed=2)
    feed(check, "face", 4)
    text = repr(check.result())
    assert "bytes" in text and "\\x" not in text and len(text) < 120

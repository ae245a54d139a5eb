"""Face quality for 人证核验 on a real portrait (scikit-image's astronaut) and degraded copies.

The portrait ships inside the scikit-image wheel (a test-only dependency): it is read from the
installed package's data folder, offline, without importing scikit-image itself.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers.camera import FaceChecker, FaceProblem, FaceQuality, FaceThresholds, check_face
from drivers.camera.synthetic import photograph_page


def _skimage_data(name: str) -> np.ndarray:
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("scikit-image (test dependency) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / name
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, f"{path} missing from the scikit-image wheel"
    return image


@pytest.fixture(scope="module")
def checker() -> FaceChecker:
    return FaceChecker()


@pytest.fixture(scope="module")
def portrait() -> np.ndarray:
    """The astronaut framed as the kiosk camera sees a resident: 640x480, face centred, 30 %."""
    astronaut = _skimage_data("astronaut.png")  # 512x512, face at about (177, 66, 95, 95)
    return cv2.resize(astronaut[0:240, 64:384], (640, 480), interpolation=cv2.INTER_CUBIC)


def grey_canvas(size: tuple[int, int] = (640, 480)) -> np.ndarray:
    return np.full((size[1], size[0], 3), 120, np.uint8)


def test_a_well_framed_portrait_passes(checker: FaceChecker, portrait: np.ndarray) -> None:
    quality = checker.check(portrait)
    assert quality.ok, quality.as_dict()
    assert quality.problems == []
    box = quality.face_box
    assert box is not None
    cx, cy = box.centre
    assert abs(cx - 320) < 40 and abs(cy - 240) < 40
    m = quality.measures
    assert m.faces == 1 and m.eyes == 2
    assert 0.25 < m.width_ratio < 0.4
    assert m.sharpness > 2 * FaceThresholds().min_sharpness  # comfortably sharp


def test_the_module_level_helper_agrees(portrait: np.ndarray) -> None:
    assert check_face(portrait).ok
    assert check_face(portrait, FaceThresholds(min_face_width=0.5)).problems == [
        FaceProblem.TOO_SMALL
    ]


@pytest.mark.parametrize("sigma", [2.0, 4.0])
def test_blurred(checker: FaceChecker, portrait: np.ndarray, sigma: float) -> None:
    quality = checker.check(cv2.GaussianBlur(portrait, (0, 0), sigma))
    assert quality.problems == [FaceProblem.BLURRY]


def test_darkened_is_too_dark_not_blurred(checker: FaceChecker, portrait: np.ndarray) -> None:
    dark = (portrait.astype(np.float32) * 0.3).astype(np.uint8)
    quality = checker.check(dark)
    assert quality.face_box is not None  # still found: detection equalises contrast
    assert quality.problems == [FaceProblem.TOO_DARK]


def test_dimmer_but_fine(checker: FaceChecker, portrait: np.ndarray) -> None:
    assert checker.check((portrait.astype(np.float32) * 0.65).astype(np.uint8)).ok


def test_overexposed(checker: FaceChecker, portrait: np.ndarray) -> None:
    quality = checker.check(cv2.add(portrait, np.full_like(portrait, 90)))
    assert quality.problems == [FaceProblem.TOO_BRIGHT]
    assert quality.measures.saturated > FaceThresholds().max_saturated


def test_shifted_to_the_side(checker: FaceChecker, portrait: np.ndarray) -> None:
    shifted = grey_canvas()
    shifted[:, 200:] = portrait[:, :440]
    quality = checker.check(shifted)
    assert quality.problems == [FaceProblem.OFF_CENTRE]
    assert quality.measures.offset_x > 0.15


def test_shrunk_too_far_away(checker: FaceChecker, portrait: np.ndarray) -> None:
    canvas = grey_canvas()
    small = cv2.resize(portrait, (256, 192), interpolation=cv2.INTER_AREA)
    canvas[144:336, 192:448] = small  # centred, face about 12 % of the width
    quality = checker.check(canvas)
    assert quality.problems == [FaceProblem.TOO_SMALL]


def test_two_people_side_by_side(checker: FaceChecker, portrait: np.ndarray) -> None:
    pair = cv2.resize(np.hstack([portrait, portrait]), (640, 240), interpolation=cv2.INTER_AREA)
    quality = checker.check(pair)
    assert quality.problems[0] is FaceProblem.SEVERAL_FACES
    assert quality.measures.faces == 2
    assert not quality.ok


def test_a_small_face_far_behind_is_not_a_second_person(
    checker: FaceChecker, portrait: np.ndarray
) -> None:
    scene = portrait.copy()
    scene[10:130, 470:630] = cv2.resize(portrait, (160, 120), interpolation=cv2.INTER_AREA)
    quality = checker.check(scene)
    assert quality.ok, quality.as_dict()
    assert quality.measures.faces == 1


def test_head_tilted_too_far(checker: FaceChecker, portrait: np.ndarray) -> None:
    rotation = cv2.getRotationMatrix2D((320, 240), 22, 1.0)
    tilted = cv2.warpAffine(portrait, rotation, (640, 480), borderMode=cv2.BORDER_REPLICATE)
    quality = checker.check(tilted)
    assert quality.problems == [FaceProblem.NOT_FRONTAL]
    assert abs(quality.measures.eye_tilt_deg or 0) > 15


def test_slight_tilt_is_fine(checker: FaceChecker, portrait: np.ndarray) -> None:
    rotation = cv2.getRotationMatrix2D((320, 240), 8, 1.0)
    assert checker.check(cv2.warpAffine(portrait, rotation, (640, 480))).ok


@pytest.mark.parametrize("name", ["coffee.png", "chelsea.png", "rocket.jpg"])
def test_real_photos_without_a_face(checker: FaceChecker, name: str) -> None:
    quality = checker.check(_skimage_data(name))
    assert quality.problems == [FaceProblem.NO_FACE]
    assert quality.face_box is None and not quality.ok


def test_empty_scenes_have_no_face(checker: FaceChecker) -> None:
    assert checker.check(grey_canvas()).problems == [FaceProblem.NO_FACE]
    page = photograph_page(size=(640, 480), seed=2).image
    assert checker.check(page).problems == [FaceProblem.NO_FACE]
    assert checker.check(np.zeros((0, 0, 3), np.uint8)).problems == [FaceProblem.NO_FACE]


def test_grey_input_and_any_resolution(checker: FaceChecker, portrait: np.ndarray) -> None:
    grey = cv2.cvtColor(portrait, cv2.COLOR_BGR2GRAY)
    assert checker.check(grey).ok
    big = cv2.resize(portrait, (1280, 960), interpolation=cv2.INTER_CUBIC)
    quality = checker.check(big)
    assert quality.ok
    assert quality.face_box is not None and quality.face_box.w > 300  # in input pixels


def test_verdict_is_json_ready_and_carries_no_pixels(
    checker: FaceChecker, portrait: np.ndarray
) -> None:
    data = checker.check(portrait).as_dict()
    text = json.dumps(data)
    assert data["ok"] is True and data["problems"] == []
    assert len(text) < 600
    assert isinstance(FaceQuality(False, None, [FaceProblem.NO_FACE]).as_dict()["problems"], list)


def test_problem_values_are_stable_names_for_the_ui() -> None:
    assert [p.value for p in FaceProblem] == [
        "no_face",
        "several_faces",
        "too_small",
        "off_centre",
        "not_frontal",
        "blurry",
        "too_dark",
        "too_bright",
    ]

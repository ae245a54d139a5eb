"""Page quality for the 高拍仪 step: synthetic photos of a page, sharp and degraded in each way."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from drivers.camera import (
    CameraFormatError,
    PageAssessment,
    PageProblem,
    PageThresholds,
    assess_page,
)
from drivers.camera.synthetic import (
    add_glare,
    auto_expose,
    clutter,
    pattern_frame,
    photograph_cut_off,
    photograph_page,
)

SIZE = (640, 480)


def sharp_photo(seed: int = 0, size: tuple[int, int] = SIZE, **kwargs: float) -> np.ndarray:
    return auto_expose(photograph_page(size=size, seed=seed, **kwargs).image)  # type: ignore[arg-type]


@pytest.mark.parametrize(("seed", "size"), [(0, SIZE), (1, SIZE), (2, (1280, 960))])
def test_a_sharp_page_passes_and_comes_back_straightened(seed: int, size: tuple[int, int]) -> None:
    assessment = assess_page(sharp_photo(seed, size))
    assert assessment.ok, assessment.as_dict()
    assert assessment.problems == []
    document = assessment.document
    assert document is not None
    height, width = document.image.shape[:2]
    assert abs(width / height - 210 / 297) < 0.01  # A4, portrait
    assert len(document.jpeg) <= 400_000
    assert cv2.imdecode(np.frombuffer(document.jpeg, np.uint8), cv2.IMREAD_COLOR) is not None
    m = assessment.measures
    assert m.sharpness > 1.3 * PageThresholds().min_sharpness  # a comfortable margin


@pytest.mark.parametrize("sigma", [0.7, 1.5, 3.0])
def test_a_blurred_page_is_blurry(sigma: float) -> None:
    blurred = cv2.GaussianBlur(sharp_photo(3), (0, 0), sigma)
    assessment = assess_page(blurred)
    assert assessment.problems == [PageProblem.BLURRY]
    assert assessment.document is None
    assert assessment.corners is not None  # the page was found: only the focus is wrong


def test_a_lamp_reflected_on_the_page_is_glare() -> None:
    photo = photograph_page(size=SIZE, seed=4)
    glared = add_glare(auto_expose(photo.image), photo.corners.mean(axis=0), radius=0.06 * 640)
    assessment = assess_page(glared)
    assert assessment.problems == [PageProblem.GLARE]
    assert 0.03 < assessment.measures.glare < 0.15


def test_a_small_reflection_off_the_page_is_not_glare() -> None:
    photo = photograph_page(size=SIZE, seed=4)
    # A bright spot on the desk, away from the page: not the document's problem.
    spot = photo.corners[:, 0].min() - 60, 40.0
    assessment = assess_page(add_glare(auto_expose(photo.image), spot, radius=20))
    assert assessment.ok, assessment.as_dict()


def test_a_dim_page_is_too_dark() -> None:
    dim = (sharp_photo(5).astype(np.float32) * 0.4).astype(np.uint8)
    assessment = assess_page(dim)
    assert assessment.problems == [PageProblem.TOO_DARK]


def test_a_page_held_far_away_is_too_small() -> None:
    assessment = assess_page(sharp_photo(1, coverage=0.4))
    assert assessment.problems[0] is PageProblem.TOO_SMALL
    assert assessment.measures.area < PageThresholds().min_area


def test_a_low_resolution_camera_gives_too_small_pages() -> None:
    # 320x240: the page is under 200 px tall, too few to read whatever its share of the frame.
    assessment = assess_page(sharp_photo(0, (320, 240)))
    assert assessment.problems[0] is PageProblem.TOO_SMALL
    assert assessment.measures.area > PageThresholds().min_area


@pytest.mark.parametrize("side", ["left", "right", "top", "bottom"])
def test_a_page_partly_outside_the_frame_is_cut_off(side: str) -> None:
    photo = auto_expose(photograph_cut_off(size=SIZE, seed=2, side=side, outside=0.2))
    assert assess_page(photo).problems == [PageProblem.CUT_OFF]


@pytest.mark.parametrize(
    "picture",
    [
        pytest.param(lambda: auto_expose(clutter(SIZE, seed=3), 170.0), id="empty desk"),
        pytest.param(lambda: pattern_frame(5, SIZE), id="test pattern"),
        pytest.param(lambda: np.full((480, 640, 3), 200, np.uint8), id="blank wall"),
        pytest.param(lambda: np.zeros((480, 640, 3), np.uint8), id="lens cap"),
    ],
)
def test_no_page(picture) -> None:  # type: ignore[no-untyped-def]
    assessment = assess_page(picture())
    assert assessment.problems == [PageProblem.NO_PAGE]
    assert not assessment.ok and assessment.document is None


def test_grey_and_bgra_pictures_are_accepted() -> None:
    photo = sharp_photo(0)
    assert assess_page(cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)).ok
    assert assess_page(cv2.cvtColor(photo, cv2.COLOR_BGR2BGRA)).ok


@pytest.mark.parametrize(
    ("picture", "message"),
    [
        (np.zeros((480, 640, 3), np.float32), "uint8"),
        (np.zeros((480, 640, 3), np.uint16), "uint8"),
        (np.zeros((480, 640, 2), np.uint8), "shape"),
        (np.zeros((2, 480, 640, 3), np.uint8), "shape"),
        ([[0, 1], [2, 3]], "numpy array"),
        (None, "numpy array"),
    ],
)
def test_what_is_not_a_picture_is_a_clear_error(picture: object, message: str) -> None:
    with pytest.raises(CameraFormatError, match=message):
        assess_page(picture)  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 1), (0, 0, 3), (15, 400, 3), (480, 1, 3)])
def test_tiny_pictures_hold_no_page(shape: tuple[int, ...]) -> None:
    assert assess_page(np.full(shape, 128, np.uint8)).problems == [PageProblem.NO_PAGE]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hnp.arrays(
        np.uint8,
        st.tuples(st.integers(1, 120), st.integers(1, 160)).flatmap(
            lambda hw: st.sampled_from([hw, (*hw, 1), (*hw, 3), (*hw, 4)])
        ),
    )
)
def test_any_uint8_picture_gets_a_verdict_never_a_crash(picture: np.ndarray) -> None:
    assessment = assess_page(picture)
    assert isinstance(assessment, PageAssessment)
    assert assessment.ok == (assessment.problems == [])


def test_reprs_and_dicts_carry_no_pixels() -> None:
    assessment = assess_page(sharp_photo(0))
    assert assessment.document is not None
    assert len(repr(assessment)) < 120
    assert len(repr(assessment.document)) < 120
    text = json.dumps(assessment.as_dict())
    assert len(text) < 300 and "jpeg" not in text

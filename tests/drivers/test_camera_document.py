"""Document capture on synthetic photographs of pages: corners, proportions, clean-up, size."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.camera import (
    A4,
    ID_CARD,
    DocumentTooLargeError,
    Enhance,
    NoPageFoundError,
    capture_document,
    detect_page,
    encode_jpeg,
    enhance_page,
    estimate_aspect,
    order_corners,
    rectify,
)
from drivers.camera.document import output_size
from drivers.camera.synthetic import clutter, photograph_page, render_page

SIZE = (1280, 960)


def corner_error(found: np.ndarray, true: np.ndarray) -> float:
    return float(np.linalg.norm(found - true, axis=1).max())


@pytest.mark.parametrize("seed", range(8))
def test_corners_are_found_to_within_two_pixels(seed: int) -> None:
    """GIVEN a page held at a random 3-D angle over clutter, under a light gradient, with noise,
    WHEN the page is detected, THEN every corner is within 2 px of the truth."""
    photo = photograph_page(size=SIZE, seed=seed, landscape=seed % 4 == 3)
    detection = detect_page(photo.image)
    assert corner_error(detection.corners, photo.corners) < 2.0
    assert detection.confidence > 0.6


@pytest.mark.parametrize(
    "kwargs",
    [
        {"tilt": 35.0, "seed": 11},  # steep perspective
        {"coverage": 0.4, "seed": 12},  # small in the frame
        {"light": 0.7, "noise": 10.0, "seed": 13},  # dim one side, noisy sensor
    ],
)
def test_harder_pictures(kwargs: dict) -> None:
    photo = photograph_page(size=SIZE, **kwargs)
    assert corner_error(detect_page(photo.image).corners, photo.corners) < 2.0


def test_a4_output_has_a4_proportions_at_the_requested_dpi() -> None:
    photo = photograph_page(size=SIZE, seed=3)
    document = capture_document(photo.image, dpi=100)
    height, width = document.image.shape[:2]
    assert (width, height) == (827, 1169)  # 210 x 297 mm at 100 DPI
    assert corner_error(document.corners, photo.corners) < 2.0


def test_a_page_lying_sideways_comes_out_landscape() -> None:
    photo = photograph_page(size=SIZE, seed=5, landscape=True)
    height, width = capture_document(photo.image, dpi=100).image.shape[:2]
    assert (width, height) == (1169, 827)


@pytest.mark.parametrize(("seed", "landscape"), [(0, False), (1, False), (4, True), (7, False)])
def test_proportions_are_recovered_from_the_perspective(seed: int, landscape: bool) -> None:
    photo = photograph_page(size=SIZE, seed=seed, landscape=landscape)
    aspect = estimate_aspect(detect_page(photo.image).corners, SIZE)
    truth = A4.height_mm / A4.width_mm if landscape else A4.aspect
    assert aspect == pytest.approx(truth, rel=0.02)
    document = capture_document(photo.image, paper=None, dpi=100)
    height, width = document.image.shape[:2]
    assert width / height == pytest.approx(truth, rel=0.02)
    assert max(width, height) == 1169  # the long side is taken as A4's 297 mm


def test_fronto_parallel_page_uses_side_lengths() -> None:
    corners = np.array([[100, 100], [310, 100], [310, 397], [100, 397]], np.float32)
    assert estimate_aspect(corners, SIZE) == pytest.approx(210 / 297, rel=0.01)


def test_a_card_size_output() -> None:
    corners = np.array([[100, 100], [640, 100], [640, 440], [100, 440]], np.float32)
    assert output_size(corners, SIZE, paper=ID_CARD, dpi=300) == (1011, 638)


def test_straightened_page_matches_the_original() -> None:
    photo = photograph_page(size=SIZE, seed=6, light=0.0, noise=0.0)
    document = capture_document(photo.image, dpi=75)
    height, width = document.image.shape[:2]
    original = cv2.resize(photo.page, (width, height), interpolation=cv2.INTER_AREA)

    def blurred(image: np.ndarray) -> np.ndarray:
        # Text lines, not single strokes: the comparison must not hinge on sub-pixel alignment.
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
        return cv2.GaussianBlur(grey, (0, 0), 3).ravel()

    correlation = np.corrcoef(blurred(document.image), blurred(original))[0, 1]
    assert correlation > 0.9  # the same text lines in the same places


def test_a_square_is_not_an_a4_page() -> None:
    """A QR code or a phone held up in the document step is refused, not stretched to A4."""
    scene = clutter((800, 600), seed=1)
    cv2.rectangle(scene, (250, 150), (550, 450), (245, 245, 245), -1)
    with pytest.raises(NoPageFoundError, match="not A4"):
        capture_document(scene)
    square = capture_document(scene, paper=None, dpi=50)
    height, width = square.image.shape[:2]
    assert width == pytest.approx(height, rel=0.02)


def test_no_page_in_a_cluttered_scene() -> None:
    with pytest.raises(NoPageFoundError):
        detect_page(clutter(SIZE, seed=4))


def test_no_page_in_a_blank_scene() -> None:
    with pytest.raises(NoPageFoundError, match="no page found"):
        capture_document(np.full((480, 640, 3), 200, np.uint8))


def test_a_page_cut_off_by_the_frame_is_refused() -> None:
    """A page partly outside the picture must not be mistaken for a whole one."""
    cut_off = 0
    for seed in range(6):
        photo = photograph_page(size=SIZE, seed=seed, coverage=0.95)
        c = photo.corners
        outside = (c[:, 0] < 0) | (c[:, 1] < 0) | (c[:, 0] >= SIZE[0]) | (c[:, 1] >= SIZE[1])
        if not outside.any():
            continue
        cut_off += 1
        with pytest.raises(NoPageFoundError):
            detect_page(photo.image)
    assert cut_off >= 3


@given(
    st.floats(-40, 40),
    st.permutations(range(4)),
    st.floats(0.5, 2.0),
)
@settings(max_examples=60, deadline=None)
def test_order_corners_whatever_the_input_order(
    angle: float, order: list[int], aspect: float
) -> None:
    rect = np.array([[-1, -aspect], [1, -aspect], [1, aspect], [-1, aspect]], np.float64) * 100
    theta = np.radians(angle)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    corners = rect @ rotation.T + 500
    ordered = order_corners(corners[list(order)])
    # Clockwise on screen, starting from the corner nearest the top-left.
    start = int(np.argmin(corners.sum(axis=1)))
    expected = np.roll(corners, -start, axis=0)
    assert np.allclose(ordered, expected, atol=1e-3)


def test_enhancements() -> None:
    photo = photograph_page(size=SIZE, seed=8, light=0.6)
    corners = detect_page(photo.image).corners
    page = rectify(photo.image, corners, (620, 877))
    assert enhance_page(page, Enhance.NONE) is page
    flat = enhance_page(page, Enhance.SHADOWS)
    assert flat.shape == page.shape
    # Shadows removed: the paper is evenly light where it was a gradient.
    paper = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)[20:-20, 10:50]  # left margin, no text
    paper_flat = cv2.cvtColor(flat, cv2.COLOR_BGR2GRAY)[20:-20, 10:50]
    assert np.percentile(paper_flat, 50) > 230
    assert paper_flat.std() < paper.std()
    scan = enhance_page(page, "scan")
    assert scan.ndim == 2 and set(np.unique(scan)) <= {0, 255}
    ink_share = np.count_nonzero(scan == 0) / scan.size
    assert 0.01 < ink_share < 0.2  # text stays, paper is white


def test_jpeg_budget_lowers_quality_then_size() -> None:
    photo = photograph_page(size=SIZE, seed=9)
    unbounded = capture_document(photo.image, dpi=150)
    assert unbounded.quality == 85
    budget = len(unbounded.jpeg) // 2
    bounded = capture_document(photo.image, dpi=150, max_bytes=budget)
    assert len(bounded.jpeg) <= budget
    assert bounded.quality < 85
    decoded = cv2.imdecode(np.frombuffer(bounded.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == bounded.image.shape


def test_impossible_budget_is_a_typed_error() -> None:
    page = render_page(1240)
    with pytest.raises(DocumentTooLargeError, match="budget 1000"):
        encode_jpeg(page, max_bytes=1000)


def test_repr_has_no_pixels() -> None:
    document = capture_document(photograph_page(size=SIZE, seed=10).image, dpi=50)
    text = repr(document)
    assert "CapturedDocument(" in text and "bytes" in text and "[" not in text

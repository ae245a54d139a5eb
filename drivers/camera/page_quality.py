"""Is this photo of a page good enough to submit? The 高拍仪 step of an application.

`assess_page(image)` finds the page (`drivers.camera.document`), measures it and returns a
`PageAssessment`: `ok`, the `problems` the screen turns into a plain retake prompt ("请把材料完全
放进拍摄区"), most important first, and, when ok, the straightened, compressed `document`.

| problem   | measure                                                        | default         |
|-----------|----------------------------------------------------------------|-----------------|
| no_page   | no page-shaped quadrilateral of the paper's proportions        |                 |
| cut_off   | no whole page, but a bright, solid blob with a sharp border     | blob >= 4 %,    |
|           | touching the frame's edge (a page partly outside the picture)  | step >= 40 grey |
| too_small | page area / frame area; or the page's long side in pixels      | >= 0.12; >= 300 |
| blurry    | variance of the Laplacian of the straightened page resized to  | >= 2000         |
|           | a 256 px long side, contrast normalised to a std. dev. of 40   |                 |
|           | (glare excluded, as it has no detail to measure)               |                 |
| glare     | share of the page in blobs of saturated pixels (grey >= 250    | <= 0.01         |
|           | after a 3x3 mean, opened by 1/40 of the page so that specks of |                 |
|           | noise and clipped paper between text lines do not count)       |                 |
| too_dark  | 90th percentile of the page's grey (the paper, glare excluded) | >= 100          |

The figures were set on the synthetic photos of `drivers.camera.synthetic` (an A4 page held at
an angle over a cluttered desk, auto-exposed so the brightest paper is grey 225, sensor noise of
2 to 10 grey levels), at 640x480 and 1280x960: sharp pages measure 2800 to 5900; a Gaussian
blur of 0.7 px (at 640 px width, scaled with it) drops that to 1000-1250, more blur to 200-700,
and the noise floor of a badly blurred page with noise 10 stays under 1000. A glare ellipse
with a long half-axis of 6 % of the frame width covers about 7 % of the page (the simulator's,
at 12 %, about 21 %); noise never makes a blob of 1 %. Paper at 0.4 of the exposure reads
about 85. At the default coverage (page 65 % of the frame height) a
page covers about 21 % of the frame; held at 40 % it covers 8 % and is too small.

The long-side minimum means a 320x240 camera cannot capture documents at all (the page is at
most 160 px tall there): it could not be read. The figure is a floor for the simulator at
640x480; a real document camera (5 MP or more) gives a page of 1500 px and more.

Blur is measured at a fixed scale of the page, not the camera's: text is about the same number
of pixels tall whatever the resolution, so one threshold holds; the price is that a page seen
at a low resolution reads as blurred, which for reading it is what it is.

A page cut off by the frame is told from an empty desk by the shape and edge of the bright
region: a page is solid (its area at least 90 % of its convex hull) with a strong brightness
step (40 grey levels or more) all along its inner border; wood grain, a gradient or an object on
the desk is not. Pixels never leave this module: reprs and logs carry only the figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import cv2
import numpy as np

from drivers.camera.document import (
    A4,
    CapturedDocument,
    Enhance,
    Paper,
    detect_page,
    encode_jpeg,
    enhance_page,
    estimate_aspect,
    output_size,
    rectify,
)
from drivers.camera.errors import CameraFormatError, NoPageFoundError

_MIN_SIDE_PX = 16  # smaller pictures cannot hold a page: no_page without looking
_SHARPNESS_LONG_SIDE = 256  # the page is resized to this long side to measure blur
_SHARPNESS_STD = 40.0
_CUT_OFF_WIDTH = 400  # the frame is looked at this wide for a cut-off page
_SATURATED = 250


class PageProblem(StrEnum):
    """What is wrong with a page photo; stable codes the UI maps to prompts."""

    NO_PAGE = "no_page"  # 请把材料放在拍摄区
    CUT_OFF = "cut_off"  # 请把材料完全放进拍摄区
    TOO_SMALL = "too_small"  # 请把材料靠近一些
    BLURRY = "blurry"  # 请保持材料不动
    GLARE = "glare"  # 有反光，请调整角度
    TOO_DARK = "too_dark"  # 光线太暗


@dataclass(frozen=True)
class PageThresholds:
    """Limits of a usable page photo; see the module docstring for how they were set."""

    min_area: float = 0.12
    min_long_side_px: float = 300.0
    min_sharpness: float = 2000.0
    max_glare: float = 0.01
    min_paper: float = 100.0
    min_confidence: float = 0.3
    aspect_tolerance: float = 0.12
    cut_off_min_area: float = 0.04
    cut_off_min_solidity: float = 0.9
    cut_off_min_step: float = 40.0
    cut_off_min_support: float = 0.8


@dataclass(frozen=True)
class PageMeasures:
    """The figures behind a verdict (no pixels), for tuning and diagnostics."""

    confidence: float = 0.0
    area: float = 0.0  # page area / frame area
    long_side_px: float = 0.0
    sharpness: float = 0.0
    glare: float = 0.0  # share of the page
    paper: float = 0.0  # 90th percentile grey


@dataclass(frozen=True)
class PageAssessment:
    """The verdict: `ok` with the finished `document`, or the problems in order."""

    ok: bool
    problems: list[PageProblem] = field(default_factory=list)
    document: CapturedDocument | None = None  # only when ok
    measures: PageMeasures = field(default_factory=PageMeasures)
    corners: np.ndarray | None = field(default=None, repr=False)  # where the page is, if found

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form: codes and figures only."""
        m = self.measures
        return {
            "ok": self.ok,
            "problems": [p.value for p in self.problems],
            "measures": {
                "confidence": round(m.confidence, 2),
                "area": round(m.area, 3),
                "long_side_px": round(m.long_side_px),
                "sharpness": round(m.sharpness),
                "glare": round(m.glare, 4),
                "paper": round(m.paper, 1),
            },
        }

    def __repr__(self) -> str:  # a page may be personal data: figures only
        return f"PageAssessment(ok={self.ok}, problems={[p.value for p in self.problems]})"


def assess_page(
    image: np.ndarray,
    *,
    thresholds: PageThresholds | None = None,
    paper: Paper = A4,
    dpi: float = 150.0,
    enhance: Enhance | str = Enhance.SHADOWS,
    max_bytes: int | None = 400_000,
) -> PageAssessment:
    """Judge one photo of a page; straighten, clean up and compress it when it passes.

    `image` is BGR (or grey) uint8. Raises `CameraFormatError` for something that is not a
    picture (wrong type, dtype or shape), and `DocumentTooLargeError` when a good page cannot
    be compressed under `max_bytes`; a picture without a usable page is a verdict, not an error.
    """
    t = thresholds or PageThresholds()
    bgr = _as_bgr(image)
    height, width = bgr.shape[:2]
    if min(height, width) < _MIN_SIDE_PX:
        return PageAssessment(False, [PageProblem.NO_PAGE])
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    corners, confidence = _find_page(bgr, paper, t)
    if corners is None:
        problem = PageProblem.CUT_OFF if _page_cut_off(gray, t) else PageProblem.NO_PAGE
        return PageAssessment(False, [problem], measures=PageMeasures(confidence=confidence))

    area = float(cv2.contourArea(corners)) / (width * height)
    long_side = max(float(np.linalg.norm(corners[i] - corners[(i + 1) % 4])) for i in range(4))
    flat = _native_page(gray, corners, paper)
    glare_mask = _glare_mask(flat)
    glare = float(np.count_nonzero(glare_mask)) / glare_mask.size
    keep = cv2.dilate(glare_mask, np.ones((5, 5), np.uint8)) == 0  # the glare's halo too
    sharpness = _sharpness(flat, keep)
    paper_grey = float(np.percentile(flat[keep], 90)) if keep.any() else 255.0
    measures = PageMeasures(confidence, area, long_side, sharpness, glare, paper_grey)

    problems: list[PageProblem] = []
    if area < t.min_area or long_side < t.min_long_side_px:
        problems.append(PageProblem.TOO_SMALL)
    if sharpness < t.min_sharpness:
        problems.append(PageProblem.BLURRY)
    if glare > t.max_glare:
        problems.append(PageProblem.GLARE)
    if paper_grey < t.min_paper:
        problems.append(PageProblem.TOO_DARK)
    if problems:
        return PageAssessment(False, problems, None, measures, corners)
    size = output_size(corners, (width, height), paper=paper, dpi=dpi)
    page = enhance_page(rectify(bgr, corners, size), enhance)
    jpeg, encoded, quality = encode_jpeg(page, max_bytes=max_bytes)
    document = CapturedDocument(encoded, corners, confidence, jpeg, quality)
    return PageAssessment(True, [], document, measures, corners)


def _as_bgr(image: object) -> np.ndarray:
    """The picture as a BGR uint8 array, or a `CameraFormatError` naming what is wrong."""
    if not isinstance(image, np.ndarray):
        raise CameraFormatError(f"a picture is a numpy array, not {type(image).__name__}")
    if image.dtype != np.uint8:
        raise CameraFormatError(f"a picture has 8-bit pixels (uint8), not {image.dtype}")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    if image.ndim == 3 and image.shape[2] == 1:
        return cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    raise CameraFormatError(f"a picture is grey, BGR or BGRA, not an array of shape {image.shape}")


def _find_page(bgr: np.ndarray, paper: Paper, t: PageThresholds) -> tuple[np.ndarray | None, float]:
    """The page's corners and confidence, or (None, confidence) when there is no usable one."""
    try:
        detection = detect_page(bgr)
    except NoPageFoundError:
        return None, 0.0
    if detection.confidence < t.min_confidence:
        return None, detection.confidence
    aspect = estimate_aspect(detection.corners, (bgr.shape[1], bgr.shape[0]))
    portrait = min(aspect, 1 / aspect)
    if abs(portrait / paper.aspect - 1) > t.aspect_tolerance:
        return None, detection.confidence  # a card or a screen, not this paper
    return detection.corners, detection.confidence


def _native_page(gray: np.ndarray, corners: np.ndarray, paper: Paper) -> np.ndarray:
    # Straightened at about the scale it has in the photo: measures then see the photo's own
    # detail, neither invented by enlarging nor averaged away by shrinking.
    long_side = max(float(np.linalg.norm(corners[i] - corners[(i + 1) % 4])) for i in range(4))
    dpi = max(10.0, long_side * 25.4 / paper.height_mm)
    size = output_size(corners, (gray.shape[1], gray.shape[0]), paper=paper, dpi=dpi)
    return rectify(gray, corners, size)


def _glare_mask(page: np.ndarray) -> np.ndarray:
    """Saturated blobs on the page (uint8 0/255): specks and thin strips opened away."""
    mean = cv2.blur(page, (3, 3))
    saturated = np.where(mean >= _SATURATED, 255, 0).astype(np.uint8)
    side = max(3, max(page.shape) // 40)
    return cv2.morphologyEx(saturated, cv2.MORPH_OPEN, np.ones((side, side), np.uint8))


def _sharpness(page: np.ndarray, keep: np.ndarray) -> float:
    """Contrast-normalised variance of the Laplacian at a fixed page scale, over `keep`."""
    factor = _SHARPNESS_LONG_SIDE / max(page.shape)
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    sized = cv2.resize(page, None, fx=factor, fy=factor, interpolation=interpolation)
    mask = cv2.resize(keep.astype(np.uint8), (sized.shape[1], sized.shape[0])) > 0
    # The Laplacian's 3x3 support reaches one pixel past the border and into the glare.
    mask = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    if np.count_nonzero(mask) < 64:
        return 0.0
    values = sized[mask].astype(np.float64)
    std = float(values.std())
    if std < 1.0:  # blank paper or a flat patch: no detail to judge
        return 0.0
    laplacian = cv2.Laplacian(sized, cv2.CV_64F)[mask]
    return float(laplacian.var()) * (_SHARPNESS_STD / std) ** 2


def _page_cut_off(gray: np.ndarray, t: PageThresholds) -> bool:
    """Whether a page-like bright region runs off the edge of the picture."""
    scale = min(1.0, _CUT_OFF_WIDTH / gray.shape[1])
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (5, 5), 0)
    height, width = small.shape
    _, bright = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(bright, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    # Brightness step across each point: the range of grey in a 7x7 neighbourhood.
    kernel = np.ones((7, 7), np.uint8)
    step = cv2.dilate(small, kernel).astype(np.int16) - cv2.erode(small, kernel)
    frame_area = width * height
    for contour in contours:
        area = cv2.contourArea(contour)
        if not t.cut_off_min_area * frame_area <= area <= 0.9 * frame_area:
            continue
        points = contour.reshape(-1, 2)
        on_edge = (
            (points[:, 0] <= 1)
            | (points[:, 1] <= 1)
            | (points[:, 0] >= width - 2)
            | (points[:, 1] >= height - 2)
        )
        if on_edge.mean() < 0.05 or on_edge.all():
            continue  # a whole region inside the picture is not cut off
        hull_area = cv2.contourArea(cv2.convexHull(contour))
        if hull_area <= 0 or area / hull_area < t.cut_off_min_solidity:
            continue
        # A page's border is a strong step all along; a threshold drawn through a gradient or
        # wood grain is not, even where it meets a dark object.
        inner = points[~on_edge]
        strong = step[inner[:, 1], inner[:, 0]] >= t.cut_off_min_step
        if strong.mean() >= t.cut_off_min_support:
            return True
    return False

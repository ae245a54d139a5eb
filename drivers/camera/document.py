"""Document capture for submissions: find the page, straighten it, clean it up, compress it.

    doc = capture_document(frame, paper=A4, dpi=150, enhance=Enhance.SHADOWS, max_bytes=400_000)
    doc.jpeg   # what goes into the outbox

Page detection works on a copy 800 px wide. Candidates are the convex quadrilaterals among the
contours of (1) Canny edges, (2) an Otsu threshold of brightness (a light page on a darker desk)
and (3) a coarse adaptive threshold; one with a corner on the picture's border is a page cut off
by the frame and is refused. Each candidate is scored by its area times its edge support, the
share of its weakest side that lies on an edge, so the hull of a page with a pen lying against
it loses to the page itself. As a last resort the largest bright blob's hull is reduced to four
points. Corners found at that scale are then refined at full resolution by locating the page
border across each side to a fraction of a pixel and intersecting the four fitted lines: on the
synthetic photos of the tests they land within a pixel of the truth.

The straightened page has the paper's proportions (A4 by default, turned to landscape when the
page lies that way) or, with ``paper=None``, the proportions recovered from the perspective
(Zhang & He, "Whiteboard scanning and image enhancement", 2007), at the requested DPI. With a
paper size, a page whose recovered proportions are far from it (a phone, a card, a QR code held
up instead of a form) is refused rather than stretched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np

from drivers.camera.errors import DocumentTooLargeError, NoPageFoundError

_WORK_WIDTH = 800  # detection scale: enough for a page that fills a fifth of the frame
_MIN_AREA = 0.06  # a page covers at least this share of the picture
_MIN_ANGLE, _MAX_ANGLE = 40.0, 140.0  # interior angles of a page seen at a sane perspective
_MIN_FILL = 0.85  # contour area / quadrilateral area: a blob that is really four-sided
_MIN_SUPPORT = 0.6  # share of each side that must lie on an edge


@dataclass(frozen=True)
class Paper:
    """A paper size in millimetres, portrait (width < height)."""

    name: str
    width_mm: float
    height_mm: float

    @property
    def aspect(self) -> float:
        """Width over height in portrait orientation."""
        return self.width_mm / self.height_mm


A4 = Paper("A4", 210.0, 297.0)
A5 = Paper("A5", 148.0, 210.0)
ID_CARD = Paper("ID-1 card", 53.98, 85.6)  # 身份证, bank and social security cards


class Enhance(StrEnum):
    """Clean-up applied to the straightened page."""

    NONE = "none"  # the photo as is, only straightened
    SHADOWS = "shadows"  # even out shadows and lighting gradients, keep colour (stamps, photos)
    SCAN = "scan"  # black and white, like a photocopy: smallest files, best for text


@dataclass(frozen=True)
class PageDetection:
    """Where the page is: corners (tl, tr, br, bl) in input pixels, and how sure we are."""

    corners: np.ndarray  # float32, shape (4, 2)
    confidence: float  # 0..1
    method: str  # which detector found it: edges, otsu, adaptive or hull


@dataclass(frozen=True)
class CapturedDocument:
    """A straightened, cleaned and compressed page, ready to submit."""

    image: np.ndarray  # the straightened page (BGR, or grey for SCAN), at the encoded size
    corners: np.ndarray  # where the page was in the photo (tl, tr, br, bl), float32 (4, 2)
    confidence: float
    jpeg: bytes
    quality: int = 0  # JPEG quality finally used (lowered to meet a byte budget)

    def __repr__(self) -> str:  # no pixels in logs: a submission may be personal data
        height, width = self.image.shape[:2]
        return (
            f"CapturedDocument({width}x{height}, confidence={self.confidence:.2f}, "
            f"{len(self.jpeg)} bytes, q={self.quality})"
        )


# --- geometry --------------------------------------------------------------------------------


def order_corners(points: np.ndarray) -> np.ndarray:
    """Four points as (top-left, top-right, bottom-right, bottom-left), float32.

    Sorting by angle around the centre, then starting at the point nearest the top-left,
    stays right for pages turned up to 45°, where the usual x+y / y-x trick breaks down.
    """
    pts = np.asarray(points, dtype=np.float32).reshape(4, 2)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    ordered = pts[np.argsort(angles)]  # clockwise on screen (y points down)
    start = int(np.argmin(ordered.sum(axis=1)))
    return np.roll(ordered, -start, axis=0)


def _interior_angles(quad: np.ndarray) -> list[float]:
    angles = []
    for i in range(4):
        a, b, c = quad[i - 1], quad[i], quad[(i + 1) % 4]
        v1, v2 = a - b, c - b
        cos = float(np.dot(v1, v2) / (np.linalg.norm(v1) * np.linalg.norm(v2) + 1e-9))
        angles.append(math.degrees(math.acos(max(-1.0, min(1.0, cos)))))
    return angles


def estimate_aspect(corners: np.ndarray, image_size: tuple[int, int]) -> float:
    """The page's real width/height from its corners in a photo (tl, tr, br, bl).

    Zhang & He's method recovers the focal length from the vanishing geometry and undoes the
    perspective; when the sides are (nearly) parallel it is undefined and the mean side
    lengths are used instead, which is then exact.
    """
    width, height = image_size
    u0, v0 = width / 2.0, height / 2.0
    tl, tr, br, bl = (np.array([p[0], p[1], 1.0]) for p in np.asarray(corners, np.float64))
    m1, m2, m3, m4 = tl, tr, bl, br
    k2 = np.dot(np.cross(m1, m4), m3) / np.dot(np.cross(m2, m4), m3)
    k3 = np.dot(np.cross(m1, m4), m2) / np.dot(np.cross(m3, m4), m2)
    n2 = k2 * m2 - m1
    n3 = k3 * m3 - m1
    fallback = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / (
        np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)
    )
    if abs(n2[2]) < 1e-6 or abs(n3[2]) < 1e-6:
        return float(fallback)
    f2 = -(
        (n2[0] * n3[0] - (n2[0] * n3[2] + n2[2] * n3[0]) * u0 + n2[2] * n3[2] * u0 * u0)
        + (n2[1] * n3[1] - (n2[1] * n3[2] + n2[2] * n3[1]) * v0 + n2[2] * n3[2] * v0 * v0)
    ) / (n2[2] * n3[2])
    if not np.isfinite(f2) or f2 <= 0:
        return float(fallback)  # degenerate (nearly fronto-parallel): side lengths are right
    a_inv = np.linalg.inv(np.array([[math.sqrt(f2), 0, u0], [0, math.sqrt(f2), v0], [0, 0, 1]]))
    ratio2 = (n2 @ a_inv.T @ a_inv @ n2) / (n3 @ a_inv.T @ a_inv @ n3)
    if not np.isfinite(ratio2) or ratio2 <= 0:
        return float(fallback)
    return float(math.sqrt(ratio2))


# --- detection ---------------------------------------------------------------------------------


def _quad_candidates(binary: np.ndarray, min_area: float) -> list[tuple[np.ndarray, float]]:
    """(quad, fill) for each convex four-sided contour of a binary image."""
    contours, _ = cv2.findContours(binary, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    found = []
    for contour in contours:
        if cv2.contourArea(contour) < min_area:
            continue
        hull = cv2.convexHull(contour)
        # The contour itself, and its hull for borders broken by a finger or a fold.
        for shape in (contour, hull):
            quad = _four_points(shape)
            if quad is None:
                continue
            quad_area = cv2.contourArea(quad)
            fill = min(1.0, cv2.contourArea(hull) / quad_area) if quad_area > 0 else 0.0
            if quad_area >= min_area and fill >= _MIN_FILL:
                found.append((quad, fill))
    return found


def _four_points(shape: np.ndarray) -> np.ndarray | None:
    perimeter = cv2.arcLength(shape, True)
    for eps in (0.01, 0.02, 0.03, 0.05):
        approx = cv2.approxPolyDP(shape, eps * perimeter, True)
        if len(approx) <= 4:
            break
    if len(approx) != 4 or not cv2.isContourConvex(approx):
        return None
    quad = order_corners(approx.reshape(4, 2))
    if not all(_MIN_ANGLE <= a <= _MAX_ANGLE for a in _interior_angles(quad)):
        return None
    return quad


def _on_border(quad: np.ndarray, shape: tuple[int, ...], margin: float = 2.0) -> bool:
    """Whether a corner of `quad` touches the picture's border: the page is cut off there.

    A page cut off by the frame still makes a four-sided contour, one side or corner of it
    the frame itself; it must not be mistaken for the page.
    """
    height, width = shape[:2]
    xs, ys = quad[:, 0], quad[:, 1]
    return bool(
        (xs < margin).any()
        or (ys < margin).any()
        or (xs > width - 1 - margin).any()
        or (ys > height - 1 - margin).any()
    )


def _edge_support(edges: np.ndarray, quad: np.ndarray, samples: int = 40) -> float:
    """The share of points along the weakest side that lie on an edge (within 2 px).

    A real page border is an edge all along; a side that bridges a gap (the hull of a page
    and a pen lying against it) is not, so this tells the page from its look-alikes.
    """
    height, width = edges.shape
    support = 1.0
    t = np.linspace(0.05, 0.95, samples)
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        points = a + np.outer(t, b - a)
        xs = np.clip(points[:, 0].round().astype(int), 0, width - 1)
        ys = np.clip(points[:, 1].round().astype(int), 0, height - 1)
        support = min(support, float(np.count_nonzero(edges[ys, xs])) / samples)
    return support


def _binaries(gray: np.ndarray) -> list[tuple[str, np.ndarray, float]]:
    """Binary images to look for the page in, with how much a find in each is trusted."""
    median = float(np.median(gray))
    edges = cv2.Canny(gray, int(max(10, 0.66 * median)), int(min(255, 1.33 * median) + 20))
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    _, otsu = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    otsu = cv2.morphologyEx(otsu, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    block = max(3, (gray.shape[1] // 8) | 1)  # large blocks: page versus desk, not text strokes
    adaptive = cv2.adaptiveThreshold(
        gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, -5
    )
    adaptive = cv2.morphologyEx(adaptive, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    return [("edges", edges, 1.0), ("otsu", otsu, 0.9), ("adaptive", adaptive, 0.8)]


def detect_page(image: np.ndarray, *, min_area: float = _MIN_AREA) -> PageDetection:
    """Find the page in a photo; `NoPageFoundError` when nothing page-shaped is there.

    Every page-shaped quadrilateral from every binarisation is a candidate; the largest one
    whose four sides lie on edges wins (see `_edge_support`).
    """
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    height, width = gray.shape
    scale = min(1.0, _WORK_WIDTH / width)
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (5, 5), 0)
    area_px = min_area * small.shape[0] * small.shape[1]
    binaries = _binaries(small)
    # A side "lies on an edge" when within about 2 px of one: approximated sides of a thick
    # contour wander that much.
    edges = cv2.dilate(binaries[0][1], np.ones((5, 5), np.uint8))
    best: tuple[float, str, np.ndarray, float] | None = None  # (score, method, quad, confidence)
    for method, binary, trust in binaries:
        for quad, fill in _quad_candidates(binary, area_px):
            if _on_border(quad, small.shape):
                continue
            support = _edge_support(edges, quad)
            if support < _MIN_SUPPORT:
                continue
            score = cv2.contourArea(quad) * support
            if best is None or score > best[0]:
                best = (score, method, quad, trust * fill * support)
    if best is None:
        fallback = _hull_fallback(small, area_px)
        if fallback is not None and not _on_border(fallback[1], small.shape):
            method, quad, confidence = fallback
            support = _edge_support(edges, quad)
            if support >= _MIN_SUPPORT / 2:
                best = (0.0, method, quad, confidence * support)
    if best is None:
        raise NoPageFoundError("no page found: hold the whole page in view, on a darker surface")
    _, method, quad, confidence = best
    coarse = quad / scale
    refined, residual = refine_corners(gray, coarse, search=max(4.0, 2.5 / scale))
    confidence *= max(0.5, 1.0 - residual / 5.0)  # a ragged border is a less certain page
    return PageDetection(refined, float(min(1.0, confidence)), method)


def _hull_fallback(gray: np.ndarray, area_px: float) -> tuple[str, np.ndarray, float] | None:
    # The page touches clutter or has a torn corner: take the biggest bright blob's hull and
    # reduce it to four points; trusted least.
    _, otsu = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    contours, _ = cv2.findContours(otsu, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    blob = max(contours, key=cv2.contourArea)
    if cv2.contourArea(blob) < area_px:
        return None
    hull = cv2.convexHull(blob)
    perimeter = cv2.arcLength(hull, True)
    for eps in np.linspace(0.02, 0.15, 14):
        approx = cv2.approxPolyDP(hull, float(eps) * perimeter, True)
        if len(approx) == 4:
            quad = order_corners(approx.reshape(4, 2))
            if all(_MIN_ANGLE <= a <= _MAX_ANGLE for a in _interior_angles(quad)):
                return ("hull", quad, 0.5)
            return None
    return None


def refine_corners(
    gray: np.ndarray, corners: np.ndarray, *, search: float = 6.0, samples: int = 48
) -> tuple[np.ndarray, float]:
    """Sharpen coarse corners: fit a line to the border along each side, intersect the lines.

    Along each side the strongest brightness step within `search` pixels across it is located
    to a fraction of a pixel; a robust line fit ignores samples where clutter or a shadow
    crosses the border. Returns the corners and the mean fit residual in pixels; keeps a coarse
    corner whose refined position moved implausibly far.
    """
    smooth = cv2.GaussianBlur(gray, (0, 0), 1.0).astype(np.float32)
    quad = np.asarray(corners, np.float64).reshape(4, 2)
    lines = []
    residuals = []
    offsets = np.arange(-search, search + 0.25, 0.5)
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        direction = (b - a) / (np.linalg.norm(b - a) + 1e-9)
        normal = np.array([-direction[1], direction[0]])
        # Stay away from the corners, where the neighbouring side's border interferes.
        t = np.linspace(0.08, 0.92, samples)
        base = a + np.outer(t, b - a)
        grid = base[:, None, :] + offsets[None, :, None] * normal[None, None, :]
        profile = cv2.remap(
            smooth,
            grid[:, :, 0].astype(np.float32),
            grid[:, :, 1].astype(np.float32),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        step = np.abs(np.diff(profile, axis=1))
        peak = np.argmax(step, axis=1)
        # Parabola through the peak and its neighbours: sub-sample edge position.
        inner = np.clip(peak, 1, step.shape[1] - 2)
        rows = np.arange(len(peak))
        left, centre, right = step[rows, inner - 1], step[rows, inner], step[rows, inner + 1]
        denom = left - 2 * centre + right
        shift = np.divide(
            0.5 * (left - right), denom, out=np.zeros_like(denom), where=np.abs(denom) > 1e-6
        )
        edge_at = offsets[inner] + 0.25 + np.clip(shift, -0.5, 0.5) * 0.5
        strong = centre > max(2.0, float(np.median(centre)) * 0.3)
        points = base + edge_at[:, None] * normal[None, :]
        points = points[strong]
        if len(points) < samples // 4:
            return quad.astype(np.float32), 5.0
        vx, vy, x0, y0 = cv2.fitLine(points.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01)
        line = np.array([float(vx[0]), float(vy[0]), float(x0[0]), float(y0[0])])
        lines.append(line)
        d = np.abs((points[:, 0] - line[2]) * line[1] - (points[:, 1] - line[3]) * line[0])
        residuals.append(float(np.median(d)))
    refined = quad.copy()
    for i in range(4):
        point = _intersect(lines[i - 1], lines[i])
        if point is not None and np.linalg.norm(point - quad[i]) <= search * 1.5:
            refined[i] = point
    return refined.astype(np.float32), float(np.mean(residuals))


def _intersect(l1: np.ndarray, l2: np.ndarray) -> np.ndarray | None:
    (vx1, vy1, x1, y1), (vx2, vy2, x2, y2) = l1, l2
    det = vx1 * (-vy2) - vy1 * (-vx2)
    if abs(det) < 1e-9:
        return None
    s = ((x2 - x1) * (-vy2) - (y2 - y1) * (-vx2)) / det
    return np.array([x1 + s * vx1, y1 + s * vy1])


# --- straightening, clean-up, compression ------------------------------------------------------


def output_size(
    corners: np.ndarray,
    image_size: tuple[int, int],
    *,
    paper: Paper | None = A4,
    dpi: float = 150.0,
    long_side_mm: float = A4.height_mm,
) -> tuple[int, int]:
    """(width, height) in pixels of the straightened page.

    With a `paper`, its proportions (turned to landscape when the page lies that way); with
    None, the proportions recovered from the perspective, the long side taken as `long_side_mm`.
    """
    aspect = estimate_aspect(corners, image_size)
    landscape = aspect > 1.0
    if paper is not None:
        short_mm, long_mm = paper.width_mm, paper.height_mm
        aspect = 1 / paper.aspect if landscape else paper.aspect
    else:
        long_mm = long_side_mm
        short_mm = long_mm * (1 / aspect if landscape else aspect)
    long_px = round(long_mm / 25.4 * dpi)
    short_px = round(short_mm / 25.4 * dpi)
    return (long_px, short_px) if landscape else (short_px, long_px)


def rectify(
    image: np.ndarray, corners: np.ndarray, size: tuple[int, int], *, inset: float = 0.004
) -> np.ndarray:
    """The quadrilateral `corners` (tl, tr, br, bl) of `image` warped to a `size` rectangle.

    `inset` trims that share of the page off each edge, so the desk showing through the
    border's blended pixels does not print as a dark frame (page margins are blank anyway).
    """
    width, height = size
    dx, dy = inset * width, inset * height
    target = np.array(
        [
            [-dx, -dy],
            [width - 1 + dx, -dy],
            [width - 1 + dx, height - 1 + dy],
            [-dx, height - 1 + dy],
        ],
        np.float32,
    )
    matrix = cv2.getPerspectiveTransform(np.asarray(corners, np.float32), target)
    return cv2.warpPerspective(image, matrix, (width, height), flags=cv2.INTER_AREA)


def remove_shadows(image: np.ndarray) -> np.ndarray:
    """Divide out the slowly varying light, so paper is evenly white and ink keeps its colour.

    The light is estimated on an eighth-size copy: a maximum filter there erases ink strokes
    (up to about 20 px wide at full size) and leaves the paper's brightness, which is then
    smoothed and scaled back up. Large dark areas (a photo on the page) are lightened: use
    `Enhance.NONE` for those.
    """
    height, width = image.shape[:2]
    small = cv2.resize(
        image, (max(1, width // 8), max(1, height // 8)), interpolation=cv2.INTER_AREA
    )
    paper = cv2.medianBlur(cv2.dilate(small, np.ones((5, 5), np.uint8)), 5)
    background = cv2.GaussianBlur(
        cv2.resize(paper, (width, height), interpolation=cv2.INTER_LINEAR), (0, 0), 3
    )
    return cv2.divide(image, background, scale=255)


def enhance_page(image: np.ndarray, mode: Enhance | str) -> np.ndarray:
    """Apply one of the `Enhance` clean-ups."""
    mode = Enhance(mode)
    if mode is Enhance.NONE:
        return image
    flat = remove_shadows(image)
    if mode is Enhance.SHADOWS:
        return flat
    gray = flat if flat.ndim == 2 else cv2.cvtColor(flat, cv2.COLOR_BGR2GRAY)
    gray = cv2.GaussianBlur(gray, (3, 3), 0)  # sensor noise would become black specks
    # On evenly lit paper one threshold separates ink from paper. Otsu finds it; the clamp
    # keeps a nearly blank page from having its paper grain called ink.
    otsu, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    _, binary = cv2.threshold(gray, float(np.clip(otsu, 100, 200)), 255, cv2.THRESH_BINARY)
    return binary


def encode_jpeg(
    image: np.ndarray,
    *,
    quality: int = 85,
    max_bytes: int | None = None,
    min_quality: int = 50,
    min_width: int = 800,
) -> tuple[bytes, np.ndarray, int]:
    """JPEG bytes within `max_bytes`: lower quality first, down to `min_quality`, then shrink.

    Returns (bytes, the image as encoded, quality). Below `min_quality` text loses legibility
    faster than it loses bytes, so the picture is made smaller instead, by 15 % a step, down to
    `min_width` (about 100 DPI for A4); `DocumentTooLargeError` if even that does not fit.
    """
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be 1..100, got {quality}")
    current = image
    q = quality
    while True:
        ok, buffer = cv2.imencode(
            ".jpg", current, [cv2.IMWRITE_JPEG_QUALITY, q, cv2.IMWRITE_JPEG_OPTIMIZE, 1]
        )
        if not ok:
            raise DocumentTooLargeError("the page could not be encoded as JPEG")
        data = buffer.tobytes()
        if max_bytes is None or len(data) <= max_bytes:
            return data, current, q
        if q > min_quality:
            q = max(min_quality, q - 10)
            continue
        width = current.shape[1]
        if width * 0.85 < min_width:
            raise DocumentTooLargeError(
                f"the page needs {len(data)} bytes at {width} px and quality {q}; "
                f"budget {max_bytes}"
            )
        current = cv2.resize(current, None, fx=0.85, fy=0.85, interpolation=cv2.INTER_AREA)


def capture_document(
    image: np.ndarray,
    *,
    paper: Paper | None = A4,
    dpi: float = 150.0,
    enhance: Enhance | str = Enhance.NONE,
    quality: int = 85,
    max_bytes: int | None = None,
    min_confidence: float = 0.3,
    aspect_tolerance: float = 0.12,
) -> CapturedDocument:
    """Detect, straighten, clean up and compress the page in a photo.

    With a `paper`, the page found must have its proportions within `aspect_tolerance`
    (relative): a phone screen, a card or a QR code held up instead of an A4 form is refused
    rather than stretched to A4. Raises `NoPageFoundError` when no page is found, the find is
    too uncertain or has the wrong shape, and `DocumentTooLargeError` when it cannot meet
    `max_bytes`.
    """
    detection = detect_page(image)
    if detection.confidence < min_confidence:
        raise NoPageFoundError(
            f"page outline too uncertain ({detection.confidence:.2f} < {min_confidence})"
        )
    image_size = (image.shape[1], image.shape[0])
    if paper is not None:
        aspect = estimate_aspect(detection.corners, image_size)
        portrait = min(aspect, 1 / aspect)  # short side over long side
        if abs(portrait / paper.aspect - 1) > aspect_tolerance:
            raise NoPageFoundError(
                f"the shape found is {portrait:.2f} wide for 1 long, not {paper.name} "
                f"({paper.aspect:.2f})"
            )
    size = output_size(detection.corners, image_size, paper=paper, dpi=dpi)
    page = enhance_page(rectify(image, detection.corners, size), enhance)
    jpeg, encoded, used = encode_jpeg(page, quality=quality, max_bytes=max_bytes)
    return CapturedDocument(encoded, detection.corners, detection.confidence, jpeg, used)

"""Stroke geometry shared by the handwriting engine, its model trainer and the test fixtures.

Validation turns whatever a touch pad hands over into integer points zinnia accepts, with a
clear ValueError for what cannot be a character (no strokes, NaN, points outside the box).
`handwrite` makes human-looking variants of clean median strokes (densified, slanted, shaky),
seeded, for training samples and recorded-stroke fixtures.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

MAX_STROKES = 64  # the most complex characters have about 30 strokes
MAX_POINTS_PER_STROKE = 128  # longer strokes are resampled down: zinnia needs only the shape
MAX_BOX = 10_000

Point = tuple[int, int]


def resample(points: Sequence[Point], limit: int = MAX_POINTS_PER_STROKE) -> list[Point]:
    """At most `limit` points of `points`, evenly picked, keeping the first and the last."""
    if len(points) <= limit:
        return list(points)
    step = (len(points) - 1) / (limit - 1)
    return [points[round(i * step)] for i in range(limit)]


def validate_strokes(strokes: object, width: object, height: object) -> list[list[Point]]:
    """Integer strokes inside the width x height box; raises ValueError with the reason."""
    for name, size in (("width", width), ("height", height)):
        if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= MAX_BOX:
            raise ValueError(f"{name} must be an integer between 1 and {MAX_BOX}")
    assert isinstance(width, int) and isinstance(height, int)
    if not isinstance(strokes, Sequence) or isinstance(strokes, str | bytes):
        raise ValueError("strokes must be a list of strokes")
    if not strokes:
        raise ValueError("no strokes: nothing was written")
    if len(strokes) > MAX_STROKES:
        raise ValueError(f"more than {MAX_STROKES} strokes")
    clean: list[list[Point]] = []
    for number, stroke in enumerate(strokes, 1):
        if not isinstance(stroke, Sequence) or isinstance(stroke, str | bytes) or not stroke:
            raise ValueError(f"stroke {number} has no points")
        points: list[Point] = []
        for point in stroke:
            if not isinstance(point, Sequence) or isinstance(point, str | bytes) or len(point) != 2:
                raise ValueError(f"stroke {number}: a point must be an (x, y) pair")
            x, y = point
            if any(isinstance(v, bool) or not isinstance(v, int | float) for v in (x, y)):
                raise ValueError(f"stroke {number}: coordinates must be numbers")
            if not (math.isfinite(x) and math.isfinite(y)):
                raise ValueError(f"stroke {number}: coordinates must be finite (no NaN)")
            if not (0 <= x <= width and 0 <= y <= height):
                raise ValueError(f"stroke {number}: point outside the {width}x{height} box")
            points.append((round(x), round(y)))
        clean.append(resample(points))
    return clean


def densify(stroke: Sequence[Sequence[float]], step: float) -> list[tuple[float, float]]:
    """Points every `step` units along the polyline, as a finger on glass would report them."""
    out: list[tuple[float, float]] = [(float(stroke[0][0]), float(stroke[0][1]))]
    for (x0, y0), (x1, y1) in zip(stroke, stroke[1:], strict=False):
        n = max(1, int(math.hypot(x1 - x0, y1 - y0) / step))
        out.extend((x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(1, n + 1))
    return out


def handwrite(
    medians: Sequence[Sequence[Sequence[float]]], box: int, size: int, rng: random.Random
) -> list[list[Point]]:
    """A hand-written-looking copy of median strokes (in a `box` square) in a `size` square.

    The whole character is scaled, slanted and moved a little, each stroke is shifted on its
    own, and each point trembles; everything stays inside the square.
    """
    scale_x, scale_y = rng.uniform(0.78, 0.95), rng.uniform(0.78, 0.95)
    angle, shear = math.radians(rng.uniform(-5, 5)), rng.uniform(-0.08, 0.08)
    cos_a, sin_a = math.cos(angle), math.sin(angle)
    centre = box / 2
    offset_x = rng.uniform(-0.04, 0.04) * box
    offset_y = rng.uniform(-0.04, 0.04) * box
    strokes: list[list[Point]] = []
    for stroke in medians:
        shift_x, shift_y = rng.gauss(0, 0.012 * box), rng.gauss(0, 0.012 * box)
        points: list[Point] = []
        for x, y in densify(stroke, box / 48):
            dx, dy = (x - centre) * scale_x, (y - centre) * scale_y
            dx += shear * dy
            rx, ry = dx * cos_a - dy * sin_a, dx * sin_a + dy * cos_a
            px = centre + rx + offset_x + shift_x + rng.gauss(0, 0.005 * box)
            py = centre + ry + offset_y + shift_y + rng.gauss(0, 0.005 * box)
            points.append(
                (
                    min(size, max(0, round(px * size / box))),
                    min(size, max(0, round(py * size / box))),
                )
            )
        strokes.append(points)
    return strokes

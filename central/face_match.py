"""Face comparison of the reference service: a local binary pattern (LBP) template, honestly simple.

What it does: OpenCV's bundled Haar frontal-face cascade finds the largest face; the face box is
cut out in grey, resized to 96x96 and histogram-equalised; each pixel gets its 8-neighbour LBP
code folded to the 59 "uniform" patterns; the face is cut into a 6x6 grid and the normalised
code histograms of the cells, concatenated, are the template (2124 numbers). Two templates are
compared by the chi-square distance averaged over cells; `score` = 1 - distance / 0.5, clipped
to [0, 1], and a capture matches when the score is at least `MATCH_SCORE`.

Measured on scikit-image's astronaut portrait (the enrolled face): the same photograph framed
as a kiosk camera sees it, JPEG-compressed, darker or brighter, shifted, blurred (sigma 1.2),
with sensor noise or rolled 5 degrees scores 0.74-0.83; the 87 faces of scikit-image's LFW
subset that the cascade finds score at most 0.35 against it. That separates one portrait from
strangers in a test; it is NOT a face recogniser fit to decide who someone is: a production
service sends the capture to the province's 人证比对 (person-ID comparison) platform, which
compares it with the 公安 photo of the ID card by a certified algorithm.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

FACE_SIZE = 96  # pixels of the normalised face crop
GRID = 6  # cells per side
PATTERNS = 59  # 58 uniform LBP codes and one bin for all others
MIN_FACE_PX = 80  # narrower faces hold too little detail to compare (poor_quality)
MATCH_SCORE = 0.6
_DISTANCE_SCALE = 0.5
_CASCADE = "haarcascade_frontalface_default.xml"


def _uniform_table() -> np.ndarray:
    table = np.full(256, PATTERNS - 1, np.uint8)
    label = 0
    for code in range(256):
        bits = [(code >> i) & 1 for i in range(8)]
        if sum(bits[i] != bits[(i + 1) % 8] for i in range(8)) <= 2:
            table[code] = label
            label += 1
    return table


_UNIFORM = _uniform_table()
_NEIGHBOURS = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))
_local = threading.local()  # CascadeClassifier is not safe to share between request threads


def _cascade() -> cv2.CascadeClassifier:
    cascade = getattr(_local, "cascade", None)
    if cascade is None:
        cascade = cv2.CascadeClassifier(cv2.data.haarcascades + _CASCADE)  # type: ignore[attr-defined]
        _local.cascade = cascade
    return cascade


def decode_jpeg(data: bytes) -> np.ndarray | None:
    """A grey image from JPEG bytes, or None when they are not a decodable JPEG."""
    if not data.startswith(b"\xff\xd8\xff"):
        return None
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    return image if image is not None and image.size else None


def largest_face(grey: np.ndarray) -> tuple[int, int, int, int] | None:
    """The (x, y, w, h) box of the largest frontal face, or None."""
    smallest = max(24, min(grey.shape[:2]) // 12)
    faces = _cascade().detectMultiScale(
        cv2.equalizeHist(grey), scaleFactor=1.1, minNeighbors=5, minSize=(smallest, smallest)
    )
    if len(faces) == 0:
        return None
    x, y, w, h = max(faces, key=lambda box: int(box[2]) * int(box[3]))
    return int(x), int(y), int(w), int(h)


def _lbp(face: np.ndarray) -> np.ndarray:
    pixels = face.astype(np.int16)
    centre = pixels[1:-1, 1:-1]
    codes = np.zeros(centre.shape, np.uint8)
    rows, cols = pixels.shape
    for bit, (dy, dx) in enumerate(_NEIGHBOURS):
        neighbour = pixels[1 + dy : rows - 1 + dy, 1 + dx : cols - 1 + dx]
        codes |= ((neighbour >= centre).astype(np.uint8) << bit).astype(np.uint8)
    return _UNIFORM[codes]


def template_of_face(grey: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The LBP grid template of the face in `box`."""
    x, y, w, h = box
    face = cv2.resize(
        grey[y : y + h, x : x + w], (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA
    )
    codes = _lbp(cv2.equalizeHist(face))
    size = codes.shape[0]
    cells = []
    for row in range(GRID):
        for col in range(GRID):
            cell = codes[
                row * size // GRID : (row + 1) * size // GRID,
                col * size // GRID : (col + 1) * size // GRID,
            ]
            histogram = np.bincount(cell.ravel(), minlength=PATTERNS).astype(np.float64)
            cells.append(histogram / histogram.sum())
    return np.concatenate(cells)


def template_of(grey: np.ndarray) -> np.ndarray | None:
    """The template of the largest face in a grey image, or None when there is no face."""
    box = largest_face(grey)
    return None if box is None else template_of_face(grey, box)


def score(enrolled: np.ndarray, captured: np.ndarray) -> float:
    """Similarity in [0, 1] of two templates (1: identical)."""
    if enrolled.shape != captured.shape:
        return 0.0
    distance = 0.5 * float(np.sum((enrolled - captured) ** 2 / (enrolled + captured + 1e-9)))
    distance /= GRID * GRID
    return round(min(1.0, max(0.0, 1.0 - distance / _DISTANCE_SCALE)), 3)

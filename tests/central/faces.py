"""Pictures for face check tests: scikit-image's astronaut (the enrolled face) and strangers."""

from __future__ import annotations

import base64
import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest


def skimage_data(name: str) -> Path:
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("scikit-image (test dependency) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / name


def jpeg(image: np.ndarray, quality: int = 85) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return data.tobytes()


def portrait() -> bytes:
    """The astronaut as a kiosk camera frames a resident: 640x480, the face about 30 % wide."""
    astronaut = cv2.imread(str(skimage_data("astronaut.png")), cv2.IMREAD_COLOR)
    return jpeg(cv2.resize(astronaut[0:240, 64:384], (640, 480), interpolation=cv2.INTER_CUBIC))


def stranger(index: int = 0) -> bytes:
    """A face of scikit-image's LFW subset (another person), enlarged onto a grey frame."""
    faces = np.load(skimage_data("lfw_subset.npy"))
    face = cv2.resize(
        (faces[index] * 255).astype(np.uint8), (240, 240), interpolation=cv2.INTER_CUBIC
    )
    frame = np.full((480, 640), 128, np.uint8)
    frame[120:360, 200:440] = face
    return jpeg(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))


def blank() -> bytes:
    return jpeg(np.full((480, 640, 3), 120, np.uint8))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


LIVE = {"frames": 12, "seconds": 2.5, "moved": True}

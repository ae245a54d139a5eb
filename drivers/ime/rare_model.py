"""The supplementary zinnia model for rare name characters, trained at first use into a cache.

The Debian model knows exactly the 6,763 GB 2312 characters, so a resident named with 䶮 or 𠮷
could never hand-write their name. This model is trained with libzinnia's trainer from the
committed stroke medians in `data/rare_strokes.json` (see data/README.md): each character is
written out `SAMPLES_PER_CHARACTER` times with seeded human-like variation. Common look-alikes
(王, 吉, 龙 ...) are trained beside the rare ones so that the small model does not call every
王 a 玥; the engine keeps only this model's rare answers.

The model file's name carries a digest of the stroke data and of the training settings, so a
changed data file or recipe trains a new model instead of reusing a stale one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from drivers.ime import zinnia
from drivers.ime.strokes import handwrite

log = logging.getLogger(__name__)

STROKE_DATA = Path(__file__).parent / "data" / "rare_strokes.json"
SAMPLES_PER_CHARACTER = 24
SAMPLE_BOX = 300
SEED = 8  # issue 8
RECIPE_VERSION = "1"


def default_cache_dir() -> Path:
    """$KIOSK_IME_CACHE, else ~/.cache/kiosk/ime."""
    env = os.environ.get("KIOSK_IME_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "kiosk" / "ime"


@cache
def stroke_data(path: Path = STROKE_DATA) -> dict:
    return json.loads(path.read_text("utf-8"))


def rare_characters(path: Path = STROKE_DATA) -> frozenset[str]:
    """The rare characters the supplementary model is trained to recognise."""
    return frozenset(stroke_data(path)["rare"])


def training_samples(path: Path = STROKE_DATA) -> list[tuple[str, int, int, list]]:
    data = stroke_data(path)
    rng = random.Random(SEED)
    samples = []
    for group in ("rare", "look_alikes"):
        for char, medians in data[group].items():
            for _ in range(SAMPLES_PER_CHARACTER):
                strokes = handwrite(medians, data["box"], SAMPLE_BOX, rng)
                samples.append((char, SAMPLE_BOX, SAMPLE_BOX, strokes))
    return samples


_stdout_lock = threading.Lock()


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """libzinnia's trainer prints a progress line per character to fd 1: send it nowhere."""
    with _stdout_lock:
        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)


def build_rare_model(cache_dir: Path | None = None, *, data: Path = STROKE_DATA) -> Path:
    """The trained model's path; trains it (a few seconds) when the cache has none."""
    folder = cache_dir or default_cache_dir()
    digest = hashlib.sha256(data.read_bytes())
    digest.update(f"{RECIPE_VERSION}/{SAMPLES_PER_CHARACTER}/{SAMPLE_BOX}/{SEED}".encode())
    target = folder / f"rare-names-{digest.hexdigest()[:16]}.model"
    if target.exists() and target.stat().st_size > 0:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    # Train beside the target and rename, so a concurrent start never opens half a model.
    with tempfile.TemporaryDirectory(dir=folder) as work:
        staging = Path(work) / "model"
        samples = training_samples(data)
        with _quiet_stdout():
            zinnia.train(samples, str(staging))
        os.replace(staging, target)
    log.info("trained the rare name character handwriting model into %s", target)
    return target

"""The real input engines, once per test process, and the recorded handwriting strokes.

librime holds one user directory per process, so every test that types pinyin shares the engine
made here (in a temporary folder removed at exit). The rare character handwriting model is
trained once per process into a temporary cache as well, so the tests never use ~/.cache.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from functools import cache
from pathlib import Path

from drivers.ime.handwriting import HandwritingEngine
from drivers.ime.rime import PinyinEngine

STROKES = Path(__file__).resolve().parents[1] / "fixtures" / "strokes" / "strokes.json"


@cache
def _scratch() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="kiosk-ime-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def rime_user_dir() -> Path:
    return _scratch() / "rime"


@cache
def pinyin_engine() -> PinyinEngine:
    return PinyinEngine(rime_user_dir())


def rare_model_dir() -> Path:
    return _scratch() / "models"


@cache
def handwriting_engine() -> HandwritingEngine:
    return HandwritingEngine(rare_model_dir=rare_model_dir())


@cache
def recorded_strokes() -> tuple[int, dict[str, list[list[tuple[int, int]]]]]:
    """(pad size, {character: strokes}) from tests/fixtures/strokes/strokes.json."""
    data = json.loads(STROKES.read_text("utf-8"))
    chars = {
        char: [[(x, y) for x, y in stroke] for stroke in strokes]
        for char, strokes in data["characters"].items()
    }
    return data["pad"], chars

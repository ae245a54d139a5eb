"""Handwriting recognition (手写) with zinnia: the Debian model plus one for rare name characters.

Many elderly residents write rather than spell pinyin. `HandwritingEngine` holds one zinnia
recognizer per model and asks each of them; the Debian model
(`tegaki-zinnia-simplified-chinese`) knows the 6,763 GB 2312 characters, the supplementary
model (`rare_model`) knows 䶮, 𠮷 and a dozen more rare name characters. Both give SVM scores of
the same kind, so the answers are merged by score; from the supplementary model only its rare
characters are taken (its look-alike classes exist only to keep it honest).

Input is validated first (`strokes.validate_strokes`): a clear ValueError, never a crash in C.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from drivers.ime import zinnia
from drivers.ime.errors import ImeUnavailable
from drivers.ime.rare_model import build_rare_model, rare_characters
from drivers.ime.strokes import validate_strokes

log = logging.getLogger(__name__)

DEBIAN_MODEL = Path("/usr/share/tegaki/models/zinnia/handwriting-zh_CN.model")
MAX_LIMIT = 100


class HandwritingEngine:
    """Characters for strokes written in a box, best first, with their scores (thread-safe).

        engine = HandwritingEngine()                      # Debian model + rare name model
        engine.recognise([[(10, 50), (90, 50)]], 100, 100, limit=5)   # [('一', 1.2), ...]

    `model_paths` are full models whose every answer counts; `rare_model_dir` is where the
    supplementary model is trained at first use (None: do without it).
    """

    def __init__(
        self,
        model_paths: Sequence[Path | str] = (DEBIAN_MODEL,),
        *,
        rare_model_dir: Path | None = None,
        with_rare_model: bool = True,
    ) -> None:
        self._lock = threading.Lock()
        self._recognizers: list[tuple[zinnia.Recognizer, frozenset[str] | None]] = []
        try:
            for path in model_paths:
                if not Path(path).is_file():
                    raise ImeUnavailable(
                        f"zinnia model {path} missing; install tegaki-zinnia-simplified-chinese"
                    )
                self._recognizers.append((zinnia.Recognizer(str(path)), None))
            if with_rare_model:
                try:
                    rare_path = build_rare_model(rare_model_dir)
                except (OSError, RuntimeError, ValueError) as exc:
                    raise ImeUnavailable(f"rare character model not built: {exc}") from exc
                self._recognizers.append((zinnia.Recognizer(str(rare_path)), rare_characters()))
        except BaseException:
            self.close()
            raise
        if not self._recognizers:
            raise ImeUnavailable("no handwriting model given")

    def recognise(
        self,
        strokes: Sequence[Sequence[tuple[float, float]]],
        width: int,
        height: int,
        limit: int = 10,
    ) -> list[tuple[str, float]]:
        """Up to `limit` (character, score) pairs for `strokes`, best first.

        `strokes`: each a list of (x, y) points, in writing order, inside width x height
        (y down). Raises ValueError for input that cannot be a character.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
        clean = validate_strokes(strokes, width, height)
        with self._lock:
            if not self._recognizers:
                raise ImeUnavailable("handwriting engine closed")
            best: dict[str, float] = {}
            with zinnia.Character(width, height, clean) as character:
                for recognizer, only in self._recognizers:
                    for char, score in recognizer.classify(character, limit):
                        if only is not None and char not in only:
                            continue
                        if char and score > best.get(char, float("-inf")):
                            best[char] = score
        ranked = sorted(best.items(), key=lambda item: item[1], reverse=True)
        return ranked[:limit]

    def close(self) -> None:
        with self._lock:
            for recognizer, _ in self._recognizers:
                recognizer.close()
            self._recognizers = []

    def __enter__(self) -> HandwritingEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

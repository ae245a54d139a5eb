"""The keyboard's engines (pinyin, rare characters, handwriting), built on first use.

Loading librime and training the rare-character handwriting model take a second or two, so the
kiosk does it when the first field is edited, not at start-up; an engine that cannot load leaves
its layout without candidates (the keyboard says nothing was recognised) instead of failing.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class InputMethods:
    """`.pinyin`, `.extended` and `.handwriting` for `kiosk.keyboard.Keyboard`, loaded lazily."""

    def __init__(self, rime_user_dir: str | Path, *, model_dir: str | Path | None = None) -> None:
        self._rime_dir = Path(rime_user_dir)
        self._model_dir = Path(model_dir) if model_dir is not None else None
        self._lock = threading.Lock()
        self._pinyin: Any = None
        self._handwriting: Any = None
        self._failed: set[str] = set()

    @property
    def pinyin(self) -> Any:
        with self._lock:
            if self._pinyin is None and "pinyin" not in self._failed:
                self._pinyin = self._load("pinyin", self._make_pinyin)
            return self._pinyin

    @property
    def handwriting(self) -> Any:
        with self._lock:
            if self._handwriting is None and "handwriting" not in self._failed:
                self._handwriting = self._load("handwriting", self._make_handwriting)
            return self._handwriting

    @property
    def extended(self) -> Any:
        from drivers.ime.rare import extended_candidates

        return extended_candidates

    def warm_up(self) -> None:
        """Load both engines now (a background thread at start-up, so the first field is quick)."""
        _ = self.pinyin, self.handwriting

    def _make_pinyin(self) -> Any:
        from drivers.ime.rime import PinyinEngine

        self._rime_dir.mkdir(parents=True, exist_ok=True)
        return PinyinEngine(self._rime_dir)

    def _make_handwriting(self) -> Any:
        from drivers.ime.handwriting import HandwritingEngine

        return HandwritingEngine(rare_model_dir=self._model_dir)

    def _load(self, name: str, make: Any) -> Any:
        try:
            return make()
        except Exception as exc:  # ImeUnavailable, a missing package: the layout goes without
            log.warning("%s input not available: %s", name, type(exc).__name__)
            self._failed.add(name)
            return None

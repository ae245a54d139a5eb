"""The on-screen keyboard as a headless model: layouts, the field's text, composition, candidates.

Kivy has no input method on Linux, so the kiosk brings its own keyboard; this is its brain, free
of Kivy so a unit test can type a whole name. A screen renders `Keyboard`'s state (the field's
`text`, the pinyin `composition`, a page of `candidates`) and calls `press`, `backspace`,
`choose`, `page`, `add_stroke` on touches. Layouts: `digits`, `letters`, `pinyin` and
`handwriting`; the last two need their engine, injected through the small protocols below
(`drivers.ime` provides the real ones; `available_layouts` says which can be offered).

Names are entered one character at a time, so pinyin offers single characters only: librime's
first, then the rare extension characters (䶮, 𠮷) at the end. An engine that fails leaves the
keyboard working with no candidates; what was typed is never logged.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Protocol

log = logging.getLogger(__name__)

LAYOUTS = ("digits", "letters", "pinyin", "handwriting")
DEFAULT_PAGE_SIZE = 8
ELDER_PAGE_SIZE = 4
MAX_COMPOSITION = 48  # as drivers.ime.rime.MAX_PINYIN_LENGTH
MAX_INK_STROKES = 64
HANDWRITING_CHOICES = 24  # three pages: beyond that, writing again is quicker than paging


class PinyinSource(Protocol):
    def candidates(
        self, pinyin: str, *, limit: int | None = None, single_chars: bool = False
    ) -> list[str]: ...


class HandwritingSource(Protocol):
    def recognise(
        self,
        strokes: Sequence[Sequence[tuple[float, float]]],
        width: int,
        height: int,
        limit: int = 10,
    ) -> list[tuple[str, float]]: ...


ExtendedSource = Callable[[str], list[str]]
Point = tuple[float, float]


class Keyboard:
    """One text field being typed into on the on-screen keyboard."""

    def __init__(
        self,
        layout: str = "pinyin",
        *,
        pinyin: PinyinSource | None = None,
        extended: ExtendedSource | None = None,
        handwriting: HandwritingSource | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_length: int = 32,
        ink_box: tuple[int, int] = (300, 300),
        text: str = "",
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        if max_length < 1:
            raise ValueError("max_length must be at least 1")
        self._pinyin = pinyin
        self._extended = extended
        self._handwriting = handwriting
        self.page_size = page_size
        self.max_length = max_length
        self.ink_box = ink_box
        self._text = text[:max_length]
        self._composition = ""
        self._ink: list[list[tuple[int, int]]] = []
        self._choices: list[str] = []
        self._page = 0
        self._layout = "letters"
        self.set_layout(layout)

    # -- state the screen renders ------------------------------------------------------------

    @property
    def layout(self) -> str:
        return self._layout

    @property
    def available_layouts(self) -> tuple[str, ...]:
        """The layouts this keyboard can show: those whose engine is there."""
        missing = {"pinyin": self._pinyin is None, "handwriting": self._handwriting is None}
        return tuple(name for name in LAYOUTS if not missing.get(name, False))

    @property
    def text(self) -> str:
        """The field's value."""
        return self._text

    @property
    def composition(self) -> str:
        """The pinyin typed so far, not yet turned into a character."""
        return self._composition

    @property
    def ink(self) -> list[list[tuple[int, int]]]:
        """The strokes written so far on the handwriting pad (copies)."""
        return [list(stroke) for stroke in self._ink]

    @property
    def candidates(self) -> list[str]:
        """The current page of candidates."""
        start = self._page * self.page_size
        return self._choices[start : start + self.page_size]

    @property
    def page_number(self) -> int:
        return self._page

    @property
    def has_more(self) -> bool:
        return (self._page + 1) * self.page_size < len(self._choices)

    @property
    def has_previous(self) -> bool:
        return self._page > 0

    @property
    def is_full(self) -> bool:
        return len(self._text) >= self.max_length

    # -- touches -------------------------------------------------------------------------------

    def set_layout(self, name: str) -> None:
        """Switch layout; an unfinished composition or ink is dropped."""
        if name not in LAYOUTS:
            raise ValueError(f"unknown layout {name!r}; one of {', '.join(LAYOUTS)}")
        if name not in self.available_layouts:
            raise ValueError(f"layout {name!r} has no input engine here")
        self._layout = name
        self._composition = ""
        self._ink = []
        self._set_choices([])

    def press(self, key: str) -> bool:
        """A key of the current layout; True if it changed something (False: field full, ...).

        Keys: a digit, a letter, "'" (pinyin syllable separator) or " ". While composing pinyin,
        a digit picks that candidate of the page (1 = first) and space picks the first.
        """
        if not isinstance(key, str) or len(key) != 1:
            raise ValueError("a key is one character")
        layout = self._layout
        if layout == "digits":
            if not key.isascii() or not key.isdigit():
                raise ValueError("the digits layout has only 0-9")
            return self._insert(key)
        if layout == "letters":
            if not key.isascii() or not (key.isalnum() or key == " "):
                raise ValueError("the letters layout has a-z, 0-9 and space")
            return self._insert(key)
        if layout == "pinyin":
            return self._press_pinyin(key)
        raise ValueError("the handwriting layout has no keys; write, or choose a candidate")

    def _press_pinyin(self, key: str) -> bool:
        if not key.isascii():
            raise ValueError("the pinyin layout has a-z, 0-9, ' and space")
        if key.isalpha():
            if len(self._composition) >= MAX_COMPOSITION:
                return False
            self._compose(self._composition + key.lower())
            return True
        if key == "'":
            if not self._composition or self._composition.endswith("'"):
                return False
            self._compose(self._composition + "'")
            return True
        if key.isdigit():
            if self._composition:
                return key != "0" and self.choose(int(key) - 1)
            return self._insert(key)
        if key == " ":
            return self.choose(0) if self._composition else self._insert(" ")
        raise ValueError("the pinyin layout has a-z, 0-9, ' and space")

    def backspace(self) -> bool:
        """Undo the last thing: a pinyin letter, else a stroke, else the field's last character."""
        if self._composition:
            self._compose(self._composition[:-1])
            return True
        if self._ink:
            self._ink.pop()
            self._recognise()
            return True
        if self._text:
            self._text = self._text[:-1]  # one code point: 𠮷 goes whole
            return True
        return False

    def choose(self, index: int) -> bool:
        """Put the candidate at `index` of the current page into the field."""
        page = self.candidates
        if not 0 <= index < len(page):
            return False
        if not self._insert(page[index]):
            return False
        self._composition = ""
        self._ink = []
        self._set_choices([])
        return True

    def page(self, step: int) -> bool:
        """Next (+1) or previous (-1) page of candidates; False at either end."""
        target = self._page + (1 if step > 0 else -1 if step < 0 else 0)
        if target < 0 or target * self.page_size >= max(len(self._choices), 1):
            return False
        changed = target != self._page
        self._page = target
        return changed

    def add_stroke(self, points: Sequence[Point]) -> bool:
        """A stroke written on the handwriting pad (points in `ink_box`, clamped to it)."""
        if self._layout != "handwriting":
            raise ValueError("strokes belong to the handwriting layout")
        width, height = self.ink_box
        clean: list[tuple[int, int]] = []
        for point in points:
            x, y = float(point[0]), float(point[1])
            if not (math.isfinite(x) and math.isfinite(y)):
                raise ValueError("stroke points must be finite numbers")
            # A finger that slides off the pad keeps reporting: keep it on the edge.
            clean.append((round(min(max(x, 0.0), width)), round(min(max(y, 0.0), height))))
        if not clean or len(self._ink) >= MAX_INK_STROKES:
            return False
        self._ink.append(clean)
        self._recognise()
        return True

    def clear_ink(self) -> None:
        self._ink = []
        if self._layout == "handwriting":
            self._set_choices([])

    def clear(self) -> None:
        """Empty the field and drop any composition or ink."""
        self._text = ""
        self._composition = ""
        self._ink = []
        self._set_choices([])

    # -- inside --------------------------------------------------------------------------------

    def _insert(self, chars: str) -> bool:
        if len(self._text) + len(chars) > self.max_length:
            return False
        self._text += chars
        return True

    def _set_choices(self, choices: list[str]) -> None:
        self._choices = choices
        self._page = 0

    def _compose(self, composition: str) -> None:
        self._composition = composition
        self._set_choices(self._pinyin_choices(composition) if composition else [])

    def _pinyin_choices(self, composition: str) -> list[str]:
        choices: list[str] = []
        if self._pinyin is not None:
            try:
                choices = self._pinyin.candidates(composition, single_chars=True)
            except Exception as exc:  # an engine failure must not take the keyboard down
                log.warning("pinyin engine failed: %s", type(exc).__name__)
        if self._extended is not None:
            try:
                seen = set(choices)
                choices += [c for c in self._extended(composition) if c not in seen]
            except Exception as exc:
                log.warning("rare character lookup failed: %s", type(exc).__name__)
        return choices

    def _recognise(self) -> None:
        if not self._ink or self._handwriting is None:
            self._set_choices([])
            return
        width, height = self.ink_box
        try:
            found = self._handwriting.recognise(self._ink, width, height, HANDWRITING_CHOICES)
        except Exception as exc:
            log.warning("handwriting engine failed: %s", type(exc).__name__)
            found = []
        self._set_choices([char for char, _ in found])

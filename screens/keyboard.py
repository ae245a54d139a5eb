"""The on-screen keyboards: digits, letters, pinyin and handwriting, drawn from a `KeyboardView`.

Kivy has no input method on Linux, so the kiosk draws its own keys; the typing itself happens in
`kiosk.keyboard` (the core's), and every key here only sends its intent: KEY, BACKSPACE,
CANDIDATE, CANDIDATE_PAGE, LAYOUT, STROKE, CLEAR_INK. The field's text is shown large in the CJK
face, so rare name characters (䶮, 𠮷) appear as written.
"""

from __future__ import annotations

import json
from typing import Any

from kivy.graphics import Color, InstructionGroup, Line
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from kiosk.events import Intent
from screens import theme
from screens.kv import load_kv
from screens.widgets import KButton, Send, bind_send

LETTER_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
DIGIT_KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9")
INK_SQUARE = 1000  # STROKE points are in a 0..1000 square, y down, whatever the pad's size
INK_MIN_STEP_PX = 3  # finer moves add points, not shape

# Stopgap until KeyboardView carries the words of its own keys (the lead's view model): the only
# words the keyboard supplies itself, per language.
KEY_WORDS = {
    "zh_CN": {
        "digits": "数字",
        "letters": "字母",
        "pinyin": "拼音",
        "handwriting": "手写",
        "backspace": "删除",
        "clear_ink": "重写",
        "space": "空格",
    },
    "en": {
        "digits": "123",
        "letters": "ABC",
        "pinyin": "Pinyin",
        "handwriting": "Write",
        "backspace": "Delete",
        "clear_ink": "Clear",
        "space": "Space",
    },
}


def key_word(language: str, key: str) -> str:
    """The word on a non-character key in `language` (Chinese when the language is unknown)."""
    return KEY_WORDS.get(language, KEY_WORDS["zh_CN"])[key]


def ink_point(x: float, y: float, pos: tuple[float, float], size: tuple[float, float]) -> list[int]:
    """A window point on the pad at `pos` of `size`, in the 0..1000 square with y pointing down.

    A finger that slides off the pad keeps reporting: its points are kept on the pad's edge.
    """
    width, height = max(size[0], 1.0), max(size[1], 1.0)
    rx = min(max((x - pos[0]) / width, 0.0), 1.0)
    ry = min(max((y - pos[1]) / height, 0.0), 1.0)
    return [round(rx * INK_SQUARE), round((1.0 - ry) * INK_SQUARE)]


class InkPad(Widget):
    """A square to write one character on with a finger; each finished stroke goes as STROKE."""

    send = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lines: list[InstructionGroup] = []  # a stroke each: its colour and its line
        self._drawing: dict[Any, tuple[InstructionGroup, Line, list[tuple[float, float]]]] = {}
        self._shown_strokes = 0

    @property
    def drawn(self) -> int:
        """Strokes drawn on the pad now."""
        return len(self._lines)

    def on_touch_down(self, touch: Any) -> bool:
        if not self.collide_point(*touch.pos):
            return False
        touch.grab(self)
        line = Line(points=[*touch.pos], width=7, cap="round", joint="round")
        group = InstructionGroup()
        group.add(Color(*theme.TEXT))
        group.add(line)
        self.canvas.add(group)
        self._drawing[touch.uid] = (group, line, [tuple(touch.pos)])
        return True

    def on_touch_move(self, touch: Any) -> bool:
        if touch.grab_current is not self or touch.uid not in self._drawing:
            return False
        _group, line, points = self._drawing[touch.uid]
        x = min(max(touch.x, self.x), self.right)
        y = min(max(touch.y, self.y), self.top)
        last = points[-1]
        if abs(x - last[0]) + abs(y - last[1]) >= INK_MIN_STEP_PX:
            points.append((x, y))
            line.points = [*line.points, x, y]
        return True

    def on_touch_up(self, touch: Any) -> bool:
        if touch.grab_current is not self or touch.uid not in self._drawing:
            return False
        touch.ungrab(self)
        group, line, points = self._drawing.pop(touch.uid)
        if len(points) == 1:  # a tap is a dot: give it a visible length and a second point
            x, y = points[0]
            line.points = [x, y, x + 1, y + 1]
            points.append((x + 1, y + 1))
        self._lines.append(group)
        stroke = [ink_point(x, y, (self.x, self.y), (self.width, self.height)) for x, y in points]
        if self.send is not None:
            self.send(Intent.STROKE, json.dumps(stroke, separators=(",", ":")))
        return True

    def sync(self, strokes: int) -> None:
        """Match the ink on screen to the strokes the keyboard holds.

        None left (a character chosen, the ink cleared): wipe the pad. Fewer than before (a
        stroke taken back): drop the last ones drawn. More (a stroke just sent): keep them all.
        """
        if strokes <= 0:
            keep = 0
        elif strokes < self._shown_strokes:
            keep = strokes
        else:
            keep = len(self._lines)
        while len(self._lines) > keep:
            self.canvas.remove(self._lines.pop())
        self._shown_strokes = strokes


class KeyRow(BoxLayout):
    """One row of keys, as wide as the keyboard."""


class KeyboardPanel(BoxLayout):
    """The keyboard of the field being edited: its text, candidates, keys and layout switcher.

    `show(keyboard, language)` renders a `kiosk.views_apply.KeyboardView`; the keys are rebuilt
    only when the layout changes, so the ink on the handwriting pad survives each stroke.
    """

    send = ObjectProperty(None, allownone=True)
    text = StringProperty("")
    composition = StringProperty("")
    elder = BooleanProperty(False)
    composing = BooleanProperty(False)  # the pinyin layout: show the composition line

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._keys_for: tuple[Any, ...] | None = None
        self.pad: InkPad | None = None

    def on_kv_post(self, base_widget: Any) -> None:
        keys = self.ids.key_area
        keys.bind(minimum_height=self._fit_keys)

    def _fit_keys(self, keys: Any, minimum: float) -> None:
        if keys.size_hint_y is None:
            keys.height = minimum

    def touch(self, intent: Intent, arg: str | None = None) -> None:
        if self.send is not None:
            self.send(intent, arg)

    def show(self, keyboard: Any, language: str, *, elder: bool = False) -> None:
        """Render `keyboard` (a KeyboardView) with key words in `language`."""
        self.elder = elder
        self.text = keyboard.text
        self.composition = keyboard.composition
        self.composing = keyboard.layout == "pinyin"
        writes = keyboard.layout in ("pinyin", "handwriting")
        self._candidates(keyboard, language, shown=writes)
        layout_key = (
            keyboard.layout,
            tuple(keyboard.extra_keys),
            tuple(keyboard.layouts),
            language,
        )
        if layout_key != self._keys_for:
            self._keys_for = layout_key
            self._keys(keyboard, language)
        if self.pad is not None:
            self.pad.sync(keyboard.strokes)

    # ---- parts -------------------------------------------------------------------------------

    def _key(self, label: str, intent: Intent, arg: str | None = None, **props: Any) -> KButton:
        props.setdefault("style", "secondary")
        button = KButton(text=label, intent=intent, arg=arg, **props)
        send: Send = self.touch
        bind_send(button, send)
        return button

    def _candidates(self, keyboard: Any, language: str, *, shown: bool) -> None:
        row = self.ids.candidates
        row.clear_widgets()
        row.opacity = 1 if shown else 0
        row.disabled = not shown
        if not shown:
            return
        # Arrows, not words: the page keys must stay narrow to leave the candidates room.
        previous = self._key(
            "◀",
            Intent.CANDIDATE_PAGE,
            "previous",
            style="quiet" if keyboard.has_previous else "disabled",
            disabled=not keyboard.has_previous,
            role="title",
        )
        row.add_widget(previous)
        per_page = self._page_size(keyboard)
        for i, candidate in enumerate(keyboard.candidates):
            # The first is what the engine thinks most likely: it stands out.
            style = "primary" if i == 0 else "secondary"
            role = "hero" if per_page <= 4 else "title"
            row.add_widget(self._key(candidate, Intent.CANDIDATE, str(i), style=style, role=role))
        for _ in range(len(keyboard.candidates), per_page):
            row.add_widget(Widget())  # empty places keep each candidate's size steady
        more = self._key(
            "▶",
            Intent.CANDIDATE_PAGE,
            "next",
            style="quiet" if keyboard.has_more else "disabled",
            disabled=not keyboard.has_more,
            role="title",
        )
        row.add_widget(more)

    def _page_size(self, keyboard: Any) -> int:
        # A page holds 8 candidates, 4 in 长辈模式 (the core's page size; the view has no field
        # for it, so the screen's elder flag decides).
        return 4 if self.elder else 8

    def _keys(self, keyboard: Any, language: str) -> None:
        keys = self.ids.key_area
        keys.clear_widgets()
        self.pad = None
        layout = keyboard.layout
        # The ink pad takes the room there is; rows of keys take their own height.
        keys.size_hint_y = 1 if layout == "handwriting" else None
        if layout != "handwriting":
            keys.height = keys.minimum_height
        if layout == "digits":
            keys.add_widget(self._digit_grid(keyboard.extra_keys))
        elif layout in ("letters", "pinyin"):
            for row in self._letter_rows(layout, language):
                keys.add_widget(row)
        elif layout == "handwriting":
            holder = PadHolder()
            self.pad = holder.ids.pad
            self.pad.send = self.touch
            keys.add_widget(holder)
        self._bottom_row(keyboard, language)

    def _digit_grid(self, extra_keys: tuple[str, ...]) -> GridLayout:
        grid = DigitGrid()
        for digit in DIGIT_KEYS:
            grid.add_widget(self._key(digit, Intent.KEY, digit, role="hero"))
        for extra in extra_keys:
            grid.add_widget(self._key(extra, Intent.KEY, extra, role="hero"))
        grid.add_widget(self._key("0", Intent.KEY, "0", role="hero"))
        return grid

    def _letter_rows(self, layout: str, language: str) -> list[KeyRow]:
        rows = []
        for i, letters in enumerate(LETTER_ROWS):
            row = KeyRow()
            for letter in letters:
                row.add_widget(self._key(letter, Intent.KEY, letter, role="tile"))
            if i == len(LETTER_ROWS) - 1:
                if layout == "pinyin":  # the syllable separator: xi'an is not xian
                    row.add_widget(self._key("'", Intent.KEY, "'", role="tile"))
                space = self._key(
                    key_word(language, "space"), Intent.KEY, " ", role="button", size_hint_x=2
                )
                row.add_widget(space)
            rows.append(row)
        return rows

    def _bottom_row(self, keyboard: Any, language: str) -> None:
        row = self.ids.bottom
        row.clear_widgets()
        for name in keyboard.layouts:
            current = name == keyboard.layout
            row.add_widget(
                self._key(
                    key_word(language, name),
                    Intent.LAYOUT,
                    name,
                    style="primary" if current else "quiet",
                )
            )
        if keyboard.layout == "handwriting":
            row.add_widget(self._key(key_word(language, "clear_ink"), Intent.CLEAR_INK))
        row.add_widget(
            self._key(key_word(language, "backspace"), Intent.BACKSPACE, size_hint_x=1.3)
        )


class DigitGrid(GridLayout):
    """The digit keys, three to a row as on a phone."""


class PadHolder(BoxLayout):
    """Centres the square ink pad in the keyboard's width."""


load_kv(__file__)

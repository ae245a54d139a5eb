"""Shared widgets: big buttons and tiles, wrapping labels, and the spinner.

Look and size live in widgets.kv (bound to the app's size properties); colour choices that depend
on a widget's state are made here, so the .kv files stay free of logic.
"""

from __future__ import annotations

from collections.abc import Callable

from kivy.clock import Clock
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.events import Intent
from kiosk.views import Option
from screens import theme
from screens.kv import load_kv

Send = Callable[[Intent, str | None], None]

# (background, pressed background, text, border) per button style.
_STYLES = {
    "primary": (theme.BLUE, theme.BLUE_DARK, theme.TEXT_ON_BLUE, theme.BLUE_DARK),
    "secondary": (theme.SURFACE, theme.PRESSED, theme.BLUE_DARK, theme.BLUE),
    "quiet": (theme.BLUE_PALE, theme.PRESSED, theme.BLUE_DARK, theme.BORDER),
    "disabled": (theme.DISABLED_BG, theme.DISABLED_BG, theme.DISABLED_TEXT, theme.BORDER),
}


def cjk_breaks(text: str) -> str:
    """Text with CJK in it, made to wrap where Chinese wraps: anywhere between characters.

    Kivy breaks lines only at spaces, so "1. 在本市参加…" would leave "1." alone on a line. With the
    spaces made non-breaking, a line too long is cut at the width, character by character.
    """
    if " " in text and any("\u2e80" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in text):
        return text.replace(" ", "\u00a0")
    return text


class WrapLabel(Label):
    """A label that wraps to its width and is as tall as its text; `role` picks its font size."""

    role = OptionProperty("body", options=list(theme.FONT_SIZES))

    def _trigger_texture_update(self, name=None, source=None, value=None) -> None:
        # Only what is drawn changes; `text` keeps the view model's words as they were.
        if name == "text" and value is not None:
            value = cjk_breaks(value)
        super()._trigger_texture_update(name, source, value)


class _Styled:
    """Colours from a named style (primary, secondary, ...), darker while pressed."""

    style = OptionProperty("secondary", options=list(_STYLES))
    intent = ObjectProperty(None, allownone=True)
    arg = ObjectProperty(None, allownone=True)
    bg = ColorProperty(theme.SURFACE)
    border_colour = ColorProperty(theme.BLUE)
    fg = ColorProperty(theme.BLUE_DARK)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._apply_style()

    def on_style(self, *_: object) -> None:
        self._apply_style()

    def on_state(self, *_: object) -> None:
        self._apply_style()

    def _apply_style(self) -> None:
        normal, pressed, text, border = _STYLES[self.style]
        self.bg = pressed if self.state == "down" else normal
        self.fg = text
        self.border_colour = border


class KButton(_Styled, ButtonBehavior, Label):
    """A large, rounded, high-contrast button carrying an intent and its argument."""

    role = OptionProperty("button", options=list(theme.FONT_SIZES))
    size_factor = NumericProperty(1.0)  # height as a multiple of the standard touch target


class Tile(ButtonBehavior, BoxLayout):
    """A menu tile: a large label and a smaller line under it; a chosen one is tinted and framed."""

    label = StringProperty("")
    sublabel = StringProperty("")
    intent = ObjectProperty(None, allownone=True)
    arg = ObjectProperty(None, allownone=True)
    selected = BooleanProperty(False)
    bg = ColorProperty(theme.SURFACE)
    edge = ColorProperty(theme.BORDER)
    edge_px = NumericProperty(3)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._paint()

    def on_state(self, *_: object) -> None:
        self._paint()

    def on_selected(self, *_: object) -> None:
        self._paint()

    def _paint(self) -> None:
        # Chosen: pale blue with a thick blue frame, so "picked" shows without reading the tick.
        if self.state == "down":
            self.bg = theme.PRESSED
        else:
            self.bg = theme.BLUE_PALE if self.selected else theme.SURFACE
        self.edge = theme.BLUE if self.selected else theme.BORDER
        self.edge_px = 8 if self.selected else 3


class ChoiceButton(_Styled, ButtonBehavior, BoxLayout):
    """A large two-line button (what it does, and a line saying how), for the start screen."""

    label = StringProperty("")
    sublabel = StringProperty("")


def bind_send(widget: KButton | Tile, send: Send) -> None:
    """Make a released button send its intent (a release, so a finger can slide off to cancel)."""
    widget.bind(on_release=lambda w: send(w.intent, w.arg))


def option_button(option: Option, send: Send, style: str | None = None, **props) -> KButton:
    """A button for one view-model option; `props` set KButton properties (role, size_factor)."""
    if not option.enabled:
        style = "disabled"
    button = KButton(
        text=option.label,
        intent=option.intent,
        arg=option.arg,
        style=style or ("primary" if option.primary else "secondary"),
        disabled=not option.enabled,
        **props,
    )
    bind_send(button, send)
    return button


def option_tile(option: Option, send: Send) -> Tile:
    """A menu tile for one view-model option."""
    tile = Tile(
        label=option.label,
        sublabel=option.sublabel,
        intent=option.intent,
        arg=option.arg,
        selected=option.selected,
        disabled=not option.enabled,
    )
    bind_send(tile, send)
    return tile


def option_choice(option: Option, send: Send) -> ChoiceButton:
    """A two-line start-screen button for one view-model option."""
    style = "primary" if option.primary else "secondary"
    button = ChoiceButton(
        label=option.label,
        sublabel=option.sublabel,
        intent=option.intent,
        arg=option.arg,
        style=style if option.enabled else "disabled",
        disabled=not option.enabled,
    )
    bind_send(button, send)
    return button


def set_shown(widget: Widget, parent: Widget, visible: bool, index: int = 0) -> None:
    """Put `widget` into `parent` (at Kivy child `index`) or take it out.

    Taking out rather than hiding, because a hidden widget still takes its space in a layout.
    """
    if visible and widget.parent is None:
        parent.add_widget(widget, index=index)
    elif not visible and widget.parent is not None:
        widget.parent.remove_widget(widget)


class BusySpinner(Widget):
    """A turning arc: something is happening, without words or motion sickness."""

    angle = NumericProperty(0)
    arc = ListProperty([0, 0, 0, 0, 270])
    _event = None

    def start(self) -> None:
        """Begin turning (when the screen is shown)."""
        if self._event is None:
            self._event = Clock.schedule_interval(self._turn, 1 / 30)

    def stop(self) -> None:
        """Stop turning (when the screen is hidden), so a hidden spinner costs no frames."""
        if self._event is not None:
            self._event.cancel()
            self._event = None

    def _turn(self, dt: float) -> None:
        self.angle = (self.angle + 240 * dt) % 360

    def on_angle(self, *_: object) -> None:
        self._update_arc()

    def on_size(self, *_: object) -> None:
        self._update_arc()

    def on_pos(self, *_: object) -> None:
        self._update_arc()

    def _update_arc(self) -> None:
        radius = min(self.width, self.height) / 2 - 12
        self.arc = [self.center_x, self.center_y, max(radius, 1), self.angle, self.angle + 270]


load_kv(__file__)

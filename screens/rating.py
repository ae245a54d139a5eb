"""好差评: five big coloured buttons, each with a drawn face, from 非常满意 to 非常不满意."""

from __future__ import annotations

from kivy.properties import ColorProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk.views import ViewModel
from screens import theme
from screens.base import KioskScreen
from screens.kv import load_kv
from screens.widgets import bind_send


class RatingButton(ButtonBehavior, BoxLayout):
    """One rating level: its colour, its face and its words."""

    label = StringProperty("")
    level = StringProperty("3")
    intent = ObjectProperty(None, allownone=True)
    arg = ObjectProperty(None, allownone=True)
    bg = ColorProperty(theme.BLUE)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._paint()  # on_level does not fire when the level equals the default

    def on_level(self, *_: object) -> None:
        self._paint()

    def on_state(self, *_: object) -> None:
        self._paint()

    def _paint(self) -> None:
        colour = theme.RATING_COLOURS.get(self.level, theme.BLUE)
        # Pressed: darker, so a finger on the button sees it react.
        self.bg = tuple(c * 0.75 for c in colour[:3]) + (1.0,) if self.state == "down" else colour


class RatingScreen(KioskScreen):
    """The five levels, best first, as the national 好差评 scheme orders them."""

    def show(self, view: ViewModel) -> None:
        """Render one button per rating option."""
        box = self.ids.levels
        box.clear_widgets()
        for option in view.options:
            button = RatingButton(
                label=option.label, level=option.arg or "3", intent=option.intent, arg=option.arg
            )
            bind_send(button, self.touch)
            box.add_widget(button)


load_kv(__file__)

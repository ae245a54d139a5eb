"""待机: the welcome screen: identify first (身份核验办理) or browse without a card (办事指南与服务)."""

from __future__ import annotations

from kiosk.views import ViewModel
from screens.base import KioskScreen
from screens.kv import load_kv
from screens.widgets import option_choice


class AttractScreen(KioskScreen):
    """Welcome, the two ways in as big two-line buttons, and a reminder that a card also starts."""

    own_title = True

    def show(self, view: ViewModel) -> None:
        """Render the welcome."""
        self.ids.title.text = view.title
        self.ids.subtitle.text = view.subtitle
        self.ids.hint.text = view.hint
        box = self.ids.options
        box.clear_widgets()
        for option in view.options:
            box.add_widget(option_choice(option, self.touch))

    def on_enter(self, *_: object) -> None:
        self.ids.picture.start()

    def on_leave(self, *_: object) -> None:
        self.ids.picture.stop()


load_kv(__file__)

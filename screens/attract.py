"""待机: the welcome screen, with one big button and a picture of placing the card."""

from __future__ import annotations

from kiosk.views import ViewModel
from screens.base import KioskScreen
from screens.kv import load_kv


class AttractScreen(KioskScreen):
    """Welcome, 开始办理, and a reminder that placing the card also starts."""

    own_title = True

    def show(self, view: ViewModel) -> None:
        """Render the welcome."""
        self.ids.title.text = view.title
        self.ids.subtitle.text = view.subtitle
        self.ids.hint.text = view.hint
        self.buttons(self.ids.options, view.options, role="hero", size_factor=1.7)

    def on_enter(self, *_: object) -> None:
        self.ids.picture.start()

    def on_leave(self, *_: object) -> None:
        self.ids.picture.stop()


load_kv(__file__)

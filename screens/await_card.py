"""请放身份证: a big instruction and a drawn card settling onto the reader."""

from __future__ import annotations

from kiosk.views import ViewModel
from screens.base import KioskScreen
from screens.kv import load_kv


class AwaitCardScreen(KioskScreen):
    """Where to put the card, said in words and shown in a picture."""

    own_title = True

    def show(self, view: ViewModel) -> None:
        """Render the instruction; read errors appear in the app's notice banner above it."""
        self.ids.title.text = view.title
        self.ids.hint.text = view.hint

    def on_enter(self, *_: object) -> None:
        self.ids.picture.start()

    def on_leave(self, *_: object) -> None:
        self.ids.picture.stop()


load_kv(__file__)

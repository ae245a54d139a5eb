"""请出示身份证件: a big instruction, a drawn card settling onto the reader, and every way to identify."""

from __future__ import annotations

from kiosk.views import ViewModel
from screens.base import KioskScreen
from screens.guide import section_card
from screens.kv import load_kv


class AwaitCardScreen(KioskScreen):
    """Where to put the card, said in words and shown in a picture; then the other ways (e-ID
    code, social security card) as the view lists them."""

    own_title = True

    def show(self, view: ViewModel) -> None:
        """Render the instruction; read errors appear in the app's notice banner above it."""
        self.ids.title.text = view.title
        self.ids.hint.text = view.hint
        ways = self.ids.ways
        ways.clear_widgets()
        for section in view.sections:
            ways.add_widget(section_card(section))

    def on_enter(self, *_: object) -> None:
        self.ids.picture.start()

    def on_leave(self, *_: object) -> None:
        self.ids.picture.stop()


load_kv(__file__)

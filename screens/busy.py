"""正在核验 / 正在打印: a turning spinner and what the kiosk is doing."""

from __future__ import annotations

from kiosk.views import ViewModel
from screens.base import KioskScreen
from screens.kv import load_kv


class BusyScreen(KioskScreen):
    """Shown while the kiosk works (identifying, printing, loading): nothing to press but the footer."""

    own_title = True

    def show(self, view: ViewModel) -> None:
        """Render what the kiosk is doing."""
        self.ids.title.text = view.title
        self.ids.subtitle.text = view.subtitle

    def on_enter(self, *_: object) -> None:
        self.ids.spinner.start()

    def on_leave(self, *_: object) -> None:
        self.ids.spinner.stop()


load_kv(__file__)

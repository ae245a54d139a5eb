"""感谢: done, take your card and receipt, 完成, and how long until the kiosk resets."""

from __future__ import annotations

from kiosk.views import ViewModel
from screens.base import KioskScreen
from screens.kv import load_kv


class ThanksScreen(KioskScreen):
    """The end of a visit; the countdown is shown here, not as an overlay."""

    own_title = True

    def show(self, view: ViewModel) -> None:
        """Render the thanks and the 完成 button."""
        self.ids.title.text = view.title
        self.ids.subtitle.text = view.subtitle
        self.buttons(self.ids.options, view.options, role="title", size_factor=1.4)
        self.tick(view)

    def tick(self, view: ViewModel) -> None:
        """Show the seconds left before the kiosk returns to its start screen."""
        self.ids.countdown.text = view.countdown_text


load_kv(__file__)

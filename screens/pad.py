"""输入受理编号: the number typed so far in large digits, and a 3×4 pad of big keys.

The keys are the view's options (digits, 清空, and the 查询 submit); the screen only lays them out.
"""

from __future__ import annotations

from kiosk.events import Intent
from kiosk.views import ViewModel
from screens.base import KioskScreen
from screens.kv import load_kv
from screens.widgets import option_button

PAD_COLUMNS = 3


class PadScreen(KioskScreen):
    """A digit pad: the entry display above, the keys below, the submit key in the pad's corner."""

    def show(self, view: ViewModel) -> None:
        """Render the entry and one key per option."""
        self.ids.entry.text = view.entry or ""
        self.ids.hint.text = view.hint
        keys = self.ids.pad_keys
        keys.cols = PAD_COLUMNS
        keys.clear_widgets()
        for option in view.options:
            # Digits in the largest size; worded keys (清空, 查询) a size down so they fit.
            digit = option.intent == Intent.DIGIT and (option.arg or "").isdigit()
            keys.add_widget(
                option_button(
                    option, self.touch, role="hero" if digit else "title", size_factor=1.2
                )
            )


load_kv(__file__)

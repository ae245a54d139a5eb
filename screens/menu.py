"""选择类别 / 选择事项 / 差评原因: large tiles in a scrolling grid; a chosen reason shows as chosen."""

from __future__ import annotations

from kiosk.views import ViewModel
from screens.base import KioskScreen
from screens.kv import load_kv
from screens.routing import menu_columns
from screens.widgets import option_tile


class MenuScreen(KioskScreen):
    """A scrollable grid of tiles; a tile sends its option's intent."""

    def show(self, view: ViewModel) -> None:
        """Render the options as tiles; scrolled back to the top when the list itself changed."""
        grid = self.ids.grid
        # Ticking a reason re-renders the same list: keep the resident's place in it.
        same_list = [(w.intent, w.arg) for w in reversed(grid.children)] == [
            (o.intent, o.arg) for o in view.options
        ]
        grid.cols = menu_columns(view)
        grid.clear_widgets()
        for option in view.options:
            grid.add_widget(option_tile(option, self.touch))
        if not same_list:
            self.ids.scroll.scroll_y = 1


load_kv(__file__)

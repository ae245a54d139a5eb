"""选择类别 / 选择事项: large tiles, two to a row for categories, one per row for items."""

from __future__ import annotations

from kiosk.views import ViewModel
from screens.base import KioskScreen
from screens.kv import load_kv
from screens.widgets import option_tile

# Item names are long ("社会保险个人参保证明打印") and carry a department line: a row each.
_COLUMNS = {"categories": 2, "items": 1}


class MenuScreen(KioskScreen):
    """A scrollable grid of tiles; a tile sends its option's intent."""

    def show(self, view: ViewModel) -> None:
        """Render the options as tiles, scrolled back to the top."""
        grid = self.ids.grid
        grid.cols = 1 if view.large_text else _COLUMNS.get(view.state, 1)
        grid.clear_widgets()
        for option in view.options:
            grid.add_widget(option_tile(option, self.touch))
        self.ids.scroll.scroll_y = 1


load_kv(__file__)

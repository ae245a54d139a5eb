"""办事指南: the guide of one item as readable blocks, and 打印证明 when the kiosk can do it."""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout

from kiosk.views import Section, ViewModel
from screens.base import KioskScreen
from screens.kv import load_kv
from screens.widgets import set_shown


class GuideSection(BoxLayout):
    """One heading of the guide and its lines, on a white card."""


class GuideScreen(KioskScreen):
    """Sections scroll; the primary action (or the reason there is none) stays in view below."""

    def on_kv_post(self, base_widget) -> None:
        # Strong references (ids are weak proxies): these leave the tree when not needed.
        self._hint_box = self.ids.hint_box.__self__
        self._options = self.ids.options.__self__

    def show(self, view: ViewModel) -> None:
        """Render the guide sections and the action area."""
        blocks = self.ids.sections
        blocks.clear_widgets()
        for section in view.sections:
            blocks.add_widget(_section(section))
        self.ids.scroll.scroll_y = 1
        self.ids.hint.text = view.hint
        set_shown(self._hint_box, self.ids.bottom, bool(view.hint))
        self.buttons(self._options, view.options, role="tile", size_factor=1.3)
        set_shown(self._options, self.ids.bottom, bool(view.options))


def _section(section: Section) -> GuideSection:
    block = GuideSection()
    block.ids.heading.text = section.heading
    block.ids.lines.text = "\n".join(section.lines)
    return block


load_kv(__file__)

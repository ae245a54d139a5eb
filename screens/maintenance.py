"""The technicians' pages and the out-of-service screen, and the hidden gesture that opens the
maintenance menu: a long press in the top-left corner of any screen (the core decides whether it
counts: only on the start and out-of-service screens); the gesture lives in `screens.gesture`,
which the first frame needs.

Sign-in uses the digit pad screen and the menu the tile grid; only a page (which may carry the
camera self-test's picture) and the out-of-service notice have screens of their own here.
"""

from __future__ import annotations

import io

from kivy.core.image import Image as CoreImage
from kivy.uix.image import Image

from kiosk.views import ViewModel
from screens.base import KioskScreen
from screens.guide import GuideScreen
from screens.kv import load_kv


class MaintenancePageScreen(GuideScreen):
    """A maintenance page: headed blocks, a table, its actions; and the camera's picture."""

    def show(self, view: ViewModel) -> None:
        super().show(view)
        if view.picture:
            texture = CoreImage(io.BytesIO(view.picture), ext="png").texture
            picture = Image(texture=texture, size_hint_y=None, fit_mode="contain")
            picture.height = min(texture.height, 600)
            self.ids.sections.add_widget(picture, index=len(self.ids.sections.children))


class OutOfServiceScreen(KioskScreen):
    """A polite notice: out of service, sorry, where to go instead."""

    own_title = True

    def show(self, view: ViewModel) -> None:
        self.ids.title.text = view.title
        self.ids.subtitle.text = view.subtitle
        self.ids.hint.text = view.hint
        section = view.sections[0] if view.sections else None
        self.ids.where_heading.text = section.heading if section else ""
        self.ids.where.text = "\n".join(section.lines) if section else ""


load_kv(__file__)

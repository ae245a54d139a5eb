"""What every screen shares: the header, the notice banner, the footer actions, the countdown."""

from __future__ import annotations

from kivy.app import App
from kivy.core.window import Window
from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout

from kiosk.events import Intent
from kiosk.views import Option, ViewModel
from screens.kv import load_kv
from screens.routing import QUIET_INTENTS, footer_fits, footer_rows, label_weight
from screens.theme import FONT_SIZES
from screens.widgets import Send, option_button, set_shown


class Header(BoxLayout):
    """Government-blue band: site and kiosk, the clock, and (on most screens) the title."""

    status_line = StringProperty("")
    clock_text = StringProperty("")
    title = StringProperty("")
    subtitle = StringProperty("")

    def on_kv_post(self, base_widget) -> None:
        # Strong references (ids are weak proxies): these leave the tree on some screens and
        # must survive until they are put back.
        self._title_box = self.ids.title_box.__self__
        self._subtitle = self.ids.subtitle.__self__

    def show(self, view: ViewModel, *, with_title: bool) -> None:
        """Render the header part of `view`; `with_title=False` when the body shows the title."""
        self.status_line = view.status_line
        self.title = view.title if with_title else ""
        self.subtitle = view.subtitle if with_title else ""
        set_shown(self._title_box, self, with_title)
        set_shown(self._subtitle, self._title_box, with_title and bool(view.subtitle))


class NoticeBanner(BoxLayout):
    """A black-on-amber message, for what went wrong and what to do now."""

    text = StringProperty("")


class FooterRow(BoxLayout):
    """One row of footer buttons."""


class Footer(BoxLayout):
    """The action bar: 返回, 首页, 大字模式, English/中文 — whatever `view.actions` offers.

    One row when the labels fit on one line each; otherwise the resident's actions get a row of
    their own above the display preferences, so no label has to break mid-word.
    """

    _shown: tuple[Option, ...] | None = None

    def show(self, actions: tuple[Option, ...], send: Send) -> None:
        """Render the actions as big buttons (rebuilt only when they change)."""
        if actions == self._shown:
            return
        self._shown = actions
        self.clear_widgets()
        for row in footer_rows(actions, self._fits):
            line = FooterRow()
            for option in row:
                # A primary action (提交 on the reasons) stands out; display preferences are quiet.
                style = (
                    "quiet"
                    if option.intent in QUIET_INTENTS
                    else ("primary" if option.primary else "secondary")
                )
                # Widths follow the labels, so "标准字号" or "Normal text" stays on one line.
                line.add_widget(
                    option_button(option, send, style, size_hint_x=label_weight(option.label))
                )
            self.add_widget(line)

    def _fits(self, labels: list[str]) -> bool:
        app = App.get_running_app()
        scale = getattr(app, "text_scale", 1.0)
        gap = getattr(app, "gap", 24)
        width = Window.width - 2 * getattr(app, "pad", 36) - gap * (len(labels) - 1)
        return footer_fits(labels, width, FONT_SIZES["button"] * scale)


class CountdownOverlay(ButtonBehavior, FloatLayout):
    """Dims the screen before the inactivity timeout; any touch on it means "I am still here"."""

    text = StringProperty("")
    button_text = StringProperty("")
    send = ObjectProperty(None, allownone=True)

    def on_release(self) -> None:
        if self.send is not None:
            self.send(Intent.MORE_TIME, None)

    def on_touch_down(self, touch) -> bool:
        # Modal: the screen underneath must not react to a touch meant to keep the session.
        super().on_touch_down(touch)
        return True

    def on_touch_move(self, touch) -> bool:
        super().on_touch_move(touch)
        return True

    def on_touch_up(self, touch) -> bool:
        super().on_touch_up(touch)
        return True


load_kv(__file__)

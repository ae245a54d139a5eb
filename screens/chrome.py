"""What every screen shares: the header, the notice banner, the footer actions, the countdown."""

from __future__ import annotations

from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout

from kiosk.events import Intent
from kiosk.views import Option, ViewModel
from screens.kv import load_kv
from screens.routing import label_weight
from screens.widgets import Send, option_button, set_shown

# Footer styles: the way back is a clear outlined button; display preferences are quieter.
_QUIET = {Intent.TOGGLE_LARGE_TEXT, Intent.TOGGLE_LANGUAGE}


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


class Footer(BoxLayout):
    """The action bar: 返回, 首页, 大字模式, English/中文 — whatever `view.actions` offers."""

    _shown: tuple[Option, ...] | None = None

    def show(self, actions: tuple[Option, ...], send: Send) -> None:
        """Render the actions as big buttons (rebuilt only when they change)."""
        if actions == self._shown:
            return
        self._shown = actions
        self.clear_widgets()
        for option in actions:
            style = "quiet" if option.intent in _QUIET else "secondary"
            # Widths follow the labels, so "标准字号" or "Normal text" gets room to stay on one line.
            self.add_widget(
                option_button(option, send, style, size_hint_x=label_weight(option.label))
            )


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

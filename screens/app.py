"""The Kivy app: common chrome around one screen per state family, driven by the core's view.

The app pumps the core on Kivy's main thread (at once when the core's waker says an event was
posted, and every frame anyway), posts a Tick each second, and renders each new view model:
header, notice, the state's screen, footer actions and the countdown overlay.

Only the screen of the first view (the start screen) is built before the first frame; the others
are imported and built just after it, one a frame, or at once when a view needs one sooner.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.properties import NumericProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.events import Intent, Tick
from kiosk.views import ViewModel
from screens import pictures, theme  # noqa: F401  (pictures registers the drawn widgets for .kv)
from screens.base import KioskScreen
from screens.chrome import CountdownOverlay, Footer, Header, NoticeBanner
from screens.gesture import LongPressRoot
from screens.routing import (
    ATTRACT,
    AWAIT_CARD,
    BUSY,
    DOCUMENTS,
    EDITING,
    FACE,
    FORM,
    GUIDE,
    MAINTENANCE,
    MENU,
    OUT_OF_SERVICE,
    PAD,
    RATING,
    REVIEW,
    SUBMITTED,
    THANKS,
    content_of,
    more_time_label,
    screen_for,
    wants_overlay,
)
from screens.widgets import set_shown

PUMP_INTERVAL_S = 1 / 30
TICK_INTERVAL_S = 1.0
# Between building one screen and the next after the first frame: lets a frame through.
SCREEN_BUILD_GAP_S = 1 / 60

# Screen name -> (module, class). Modules are imported when their screen is first built: each
# loads its .kv, which the start screen's first frame need not wait for.
SCREEN_CLASSES: dict[str, tuple[str, str]] = {
    ATTRACT: ("screens.attract", "AttractScreen"),
    AWAIT_CARD: ("screens.await_card", "AwaitCardScreen"),
    BUSY: ("screens.busy", "BusyScreen"),
    MENU: ("screens.menu", "MenuScreen"),
    GUIDE: ("screens.guide", "GuideScreen"),
    PAD: ("screens.pad", "PadScreen"),
    RATING: ("screens.rating", "RatingScreen"),
    THANKS: ("screens.thanks", "ThanksScreen"),
    FORM: ("screens.apply_form", "FormScreen"),
    EDITING: ("screens.apply_form", "EditingScreen"),
    REVIEW: ("screens.apply_form", "ReviewScreen"),
    SUBMITTED: ("screens.apply_form", "SubmittedScreen"),
    DOCUMENTS: ("screens.camera_screens", "DocumentsScreen"),
    FACE: ("screens.camera_screens", "FaceScreen"),
    MAINTENANCE: ("screens.maintenance", "MaintenancePageScreen"),
    OUT_OF_SERVICE: ("screens.maintenance", "OutOfServiceScreen"),
}


def screen_class(name: str) -> type[KioskScreen]:
    """The class of screen `name`, importing its module (and .kv) the first time."""
    module, cls = SCREEN_CLASSES[name]
    found: type[KioskScreen] = getattr(importlib.import_module(module), cls)
    return found


class KioskApp(App):
    """Renders a `KioskCore`'s view models; touches go back as `core.touch(...)`."""

    # Size properties the .kv rules bind to; recomputed for the window and for large text.
    text_scale = NumericProperty(1.0)
    ui_scale = NumericProperty(1.0)  # the window's scale alone, for staff-facing text
    touch_h = NumericProperty(theme.LAYOUT_SIZES["touch_h"])
    tile_h = NumericProperty(theme.LAYOUT_SIZES["tile_h"])
    pad = NumericProperty(theme.LAYOUT_SIZES["pad"])
    gap = NumericProperty(theme.LAYOUT_SIZES["gap"])
    radius = NumericProperty(theme.LAYOUT_SIZES["radius"])
    # 长辈模式: the least width and height of anything touchable (0 in the standard mode).
    min_target = NumericProperty(0)

    def __init__(
        self,
        core: Any,
        *,
        fullscreen: bool,
        size: tuple[int, int] = theme.REFERENCE_SIZE,
        on_first_frame: Callable[[float], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.title = "自助服务终端"
        self.core = core
        self.fullscreen = fullscreen
        self.window_size = size
        self.on_first_frame = on_first_frame
        self.view: ViewModel | None = None
        self._shown: dict[str, ViewModel] = {}
        self._events: list[Any] = []
        self._stopped = False

    # ---- lifecycle ---------------------------------------------------------------------------

    def build(self) -> FloatLayout:
        """The widget tree: chrome around a screen manager, and the countdown overlay on top."""
        if not self.fullscreen and tuple(Window.size) != tuple(self.window_size):
            Window.size = self.window_size
        Window.clearcolor = theme.BACKGROUND
        ui = getattr(getattr(self.core, "config", None), "ui", None)
        if ui is not None:
            theme.set_screen((ui.width, ui.height), ui.screen_diagonal_in)
        self._apply_sizes(large_text=False)
        # The hidden gesture (a long press in the top-left corner) is caught once, here.
        maintenance = getattr(getattr(self.core, "config", None), "maintenance", None)
        root = LongPressRoot(self.send, hold_s=getattr(maintenance, "long_press_s", 3.0))
        column = BoxLayout(orientation="vertical")
        self.header = Header()
        self.notice = NoticeBanner()
        self.manager = ScreenManager(transition=NoTransition())
        self.footer = Footer()
        for widget in (self.header, self.manager, self.footer):
            column.add_widget(widget)
        root.add_widget(column)
        self.column = column
        self.overlay: CountdownOverlay | None = None  # built when a countdown first warns
        self.root_layout = root
        self.render(self.core.view())
        return root

    def on_start(self) -> None:
        self.core.add_listener(self.render)
        # Events posted from device and worker threads are pumped on the next frame, not at the
        # next scheduled pump (a card read shows up to a frame sooner).
        self.core.set_waker(Clock.create_trigger(lambda _dt: self.core.pump(), 0))
        self._events = [
            Clock.schedule_interval(lambda _dt: self.core.pump(), PUMP_INTERVAL_S),
            Clock.schedule_interval(lambda _dt: self.core.post(Tick()), TICK_INTERVAL_S),
            Clock.schedule_interval(lambda _dt: self._update_clock(), TICK_INTERVAL_S),
        ]
        Window.bind(size=lambda *_: self._apply_sizes(self._large_text()))
        Window.bind(on_flip=self._first_flip)

    def on_stop(self) -> None:
        self._stopped = True
        self.core.set_waker(None)
        self.core.remove_listener(self.render)
        for event in self._events:
            event.cancel()

    def _screen(self, name: str) -> KioskScreen:
        """Screen `name`, built now if it was not yet."""
        if not self.manager.has_screen(name):
            self.manager.add_widget(screen_class(name)(name=name, send=self.send))
        screen: KioskScreen = self.manager.get_screen(name)
        return screen

    def _build_next_screen(self, _dt: float) -> None:
        # One a frame, after the first: the start screen stays responsive meanwhile.
        missing = [name for name in SCREEN_CLASSES if not self.manager.has_screen(name)]
        if missing and not self._stopped:
            self._screen(missing[0])
            Clock.schedule_once(self._build_next_screen, SCREEN_BUILD_GAP_S)

    def _first_flip(self, *_: object) -> None:
        # on_flip handlers run after the frame is drawn, just before it is swapped onto the screen.
        Window.unbind(on_flip=self._first_flip)
        t = time.monotonic()
        hook = self.on_first_frame
        if hook is not None:
            Clock.schedule_once(lambda _dt: hook(t), 0)
        Clock.schedule_once(self._build_next_screen, SCREEN_BUILD_GAP_S)

    # ---- acting and rendering ----------------------------------------------------------------

    def send(self, intent: Intent, arg: str | None = None) -> None:
        """What every button calls: tell the core, and let the next pump render the result."""
        self.core.touch(intent, arg)

    def render(self, view: ViewModel) -> None:
        """Show `view`: the core's listener, called on this thread after each pump."""
        if self._stopped:
            return
        previous, self.view = self.view, view
        if (
            previous is None
            or previous.large_text != view.large_text
            or previous.elder != view.elder
        ):
            self._apply_sizes(view.large_text)
        name = screen_for(view)
        screen = self._screen(name)
        content = content_of(view)
        if self._shown.get(name) != content:
            screen.show(view)
            self._shown = {name: content}  # other screens re-render when next shown
        screen.tick(view)
        if self.manager.current != name:
            self.manager.current = name
        self.header.show(view, with_title=not screen.own_title)
        self._update_clock()
        self.notice.text = view.notice
        set_shown(self.notice, self.column, bool(view.notice), index=2)
        self.footer.show(view.actions, self.send)
        self._show_countdown(view)

    def _show_countdown(self, view: ViewModel) -> None:
        warn = wants_overlay(view)
        if warn and self.overlay is None:
            self.overlay = CountdownOverlay(send=self.send)
        if self.overlay is None:
            return
        if warn:
            self.overlay.text = view.countdown_text
            self.overlay.button_text = more_time_label(view)
        set_shown(self.overlay, self.root_layout, warn)

    def _update_clock(self) -> None:
        self.header.clock_text = f"{self.core.local_now():%Y-%m-%d  %H:%M}"

    def camera_frame(self) -> Any:
        """The camera's newest frame for a live preview, or None (no camera, or not usable now)."""
        camera = getattr(getattr(self.core, "services", None), "camera", None)
        if camera is None:
            return None
        try:
            return camera.latest()
        except Exception:  # a preview must never take a screen down
            return None

    def _large_text(self) -> bool:
        return bool(self.view and self.view.large_text)

    def _apply_sizes(self, large_text: bool) -> None:
        width, height = Window.size
        self.ui_scale = theme.window_scale(width, height)
        self.text_scale = theme.text_scale(width, height, large_text)
        for name, value in theme.layout_sizes(width, height, large_text).items():
            setattr(self, name, value)
        self.min_target = theme.elder_target_px() if self.view and self.view.elder else 0

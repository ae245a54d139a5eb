"""The hidden gesture that opens the maintenance menu: a long press in the top-left corner of
any screen. The core decides whether it counts (only on the start and out-of-service screens).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.clock import Clock
from kivy.uix.floatlayout import FloatLayout

from kiosk.events import Intent

CORNER_PX = 160  # at the reference size; scaled with the window
LONG_PRESS_S = 3.0


class LongPressRoot(FloatLayout):
    """The window's root: passes every touch on, and says MAINTENANCE after a long press in the
    top-left corner (a finger held still there for `hold_s`)."""

    def __init__(
        self, send: Callable[[Intent], Any], hold_s: float = LONG_PRESS_S, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._send = send
        self.hold_s = hold_s
        self._pending: dict[Any, Any] = {}

    def in_corner(self, x: float, y: float) -> bool:
        from screens import theme

        size = CORNER_PX * theme.window_scale(self.width, self.height)
        return x - self.x <= size and self.top - y <= size

    def on_touch_down(self, touch: Any) -> bool:
        if self.in_corner(*touch.pos):
            self._pending[touch.uid] = Clock.schedule_once(
                lambda _dt: self._fire(touch.uid), self.hold_s
            )
        return bool(super().on_touch_down(touch))

    def on_touch_move(self, touch: Any) -> bool:
        if touch.uid in self._pending and not self.in_corner(*touch.pos):
            self._pending.pop(touch.uid).cancel()
        return bool(super().on_touch_move(touch))

    def on_touch_up(self, touch: Any) -> bool:
        event = self._pending.pop(touch.uid, None)
        if event is not None:
            event.cancel()
        return bool(super().on_touch_up(touch))

    def _fire(self, uid: Any) -> None:
        if self._pending.pop(uid, None) is not None:
            self._send(Intent.MAINTENANCE)

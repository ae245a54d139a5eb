"""Which screen shows a view model, and what the chrome around it shows: plain Python, no Kivy.

Kept apart from `screens.app` (which opens a window when imported) so it is testable anywhere.
"""

from __future__ import annotations

import dataclasses

from kiosk.views import ViewModel

# Machine state -> screen. States not listed (and any view that says busy) use the busy screen.
STATE_SCREENS = {
    "attract": "attract",
    "await_card": "await_card",
    "categories": "menu",
    "items": "menu",
    "guide": "guide",
    "rating": "rating",
    "thanks": "thanks",
}
# On these screens a countdown is part of the content (thanks) or never shown (attract).
_NO_OVERLAY = frozenset({"thanks", "attract"})
# Stopgap until the view model carries the countdown's button: the only words the screens supply.
_MORE_TIME_FALLBACK = {"zh_CN": "继续办理", "en": "More time"}


def screen_for(view: ViewModel) -> str:
    """The name of the screen that renders `view`."""
    if view.busy:
        return "busy"
    return STATE_SCREENS.get(view.state, "busy")


def wants_overlay(view: ViewModel) -> bool:
    """Whether to dim the screen with the "{n} 秒后返回首页 / 继续办理" warning."""
    return view.seconds_left is not None and view.state not in _NO_OVERLAY


def more_time_label(view: ViewModel) -> str:
    """The label of the countdown overlay's button (from the view model once it carries one)."""
    option = getattr(view, "countdown_action", None)
    if option is not None:
        return str(option.label)
    return _MORE_TIME_FALLBACK.get(view.language, _MORE_TIME_FALLBACK["zh_CN"])


def content_of(view: ViewModel) -> ViewModel:
    """`view` without its countdown, to tell a real change from a clock tick (no re-render)."""
    return dataclasses.replace(view, seconds_left=None, countdown_text="")


def label_weight(label: str) -> float:
    """A label's width in em, roughly (a Latin letter is about half a Chinese character), plus
    room for a button's margins: a footer button's share of the row."""
    ems = sum(1.0 if ord(ch) > 0x2E80 else 0.55 for ch in label)
    return max(ems, 2.0) + 1.5

"""Which screen shows a view model, and what the chrome around it shows: plain Python, no Kivy.

Kept apart from `screens.app` (which opens a window when imported) so it is testable anywhere.
State names come from `kiosk.ids`, shared with the core and the view models.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from kiosk.events import Intent
from kiosk.ids import StateId
from kiosk.views import Option, ViewModel

# Screen names (one screen per family of states).
ATTRACT = "attract"
AWAIT_CARD = "await_card"
BUSY = "busy"
MENU = "menu"
GUIDE = "guide"
PAD = "pad"
RATING = "rating"
THANKS = "thanks"
# the apply flow (申请)
FORM = "form"
EDITING = "editing"
DOCUMENTS = "documents"
FACE = "face"
REVIEW = "review"
SUBMITTED = "submitted"
# the technicians' pages, and out of service (sign-in uses the pad, the menu the tiles)
MAINTENANCE = "maintenance"
OUT_OF_SERVICE = "out_of_service"

# Leaf state -> screen. Busy states, and any view that says busy, use the busy screen.
STATE_SCREENS: dict[StateId, str] = {
    StateId.ATTRACT: ATTRACT,
    StateId.AWAIT_IDENTITY: AWAIT_CARD,
    StateId.VERIFYING: BUSY,
    StateId.CATEGORIES: MENU,
    StateId.ITEMS: MENU,
    StateId.GUIDE: GUIDE,
    StateId.PREPARING: BUSY,
    StateId.PREVIEW: GUIDE,
    StateId.PRINTING: BUSY,
    StateId.LOOKUP_ENTRY: PAD,
    StateId.LOOKING_UP: BUSY,
    StateId.LOOKUP_RESULT: GUIDE,
    StateId.TICKETING: BUSY,
    StateId.TICKET: GUIDE,
    StateId.RATE: RATING,
    StateId.REASONS: MENU,
    StateId.THANKS: THANKS,
    StateId.LOADING_FORM: BUSY,
    StateId.APPLY_START: MENU,
    StateId.PRINCIPAL: GUIDE,  # a hint (place the card) and sections, which the menu lacks
    StateId.FACE_CHECK: FACE,
    StateId.FORM: FORM,
    StateId.EDITING: EDITING,
    StateId.DOCUMENTS: DOCUMENTS,
    StateId.REVIEW: REVIEW,
    StateId.SUBMITTING: BUSY,
    StateId.SUBMITTED: SUBMITTED,
    StateId.MAINTENANCE_LOGIN: PAD,
    StateId.MAINTENANCE_MENU: MENU,
    StateId.MAINTENANCE_PAGE: MAINTENANCE,
    StateId.OUT_OF_SERVICE: OUT_OF_SERVICE,
}
# Menu states and their tile columns: item names are long and carry a department line, a row each.
MENU_COLUMNS: dict[StateId, int] = {
    StateId.CATEGORIES: 2,
    StateId.ITEMS: 1,
    StateId.REASONS: 2,
    StateId.APPLY_START: 1,
    StateId.MAINTENANCE_MENU: 2,
}
# On these states a countdown is part of the content (thanks) or never shown (attract).
_NO_OVERLAY = frozenset({StateId.THANKS, StateId.ATTRACT, StateId.OUT_OF_SERVICE})
# Footer actions that set display preferences: styled quieter, and the row that moves down when
# the footer needs two rows.
QUIET_INTENTS = frozenset(
    {
        Intent.TOGGLE_LARGE_TEXT,
        Intent.TOGGLE_LANGUAGE,
        Intent.TOGGLE_ELDER,
        Intent.MUTE,
        Intent.SAY_AGAIN,
    }
)
# Stopgap until the view model carries the countdown's button: the only words the screens supply.
_MORE_TIME_FALLBACK = {"zh_CN": "继续办理", "en": "More time"}


def state_of(view: ViewModel) -> StateId | None:
    """The view's state as a `StateId`, or None for a state this front end does not know."""
    try:
        return StateId(view.state)
    except ValueError:
        return None


def screen_for(view: ViewModel) -> str:
    """The name of the screen that renders `view`."""
    state = state_of(view)
    if state is None:
        return BUSY
    # While a photo is taken the live picture stays: the resident must keep the page in frame.
    if view.busy and not view.camera:
        return BUSY
    return STATE_SCREENS[state]


def menu_columns(view: ViewModel) -> int:
    """How many tiles to a row on the menu screen (one in large-text mode)."""
    state = state_of(view)
    if view.large_text or state is None:
        return 1
    return MENU_COLUMNS.get(state, 1)


def option_columns(count: int) -> int:
    """Columns for a screen's action buttons: a lone action spans the width, more go in pairs."""
    return 1 if count <= 1 else 2


def wants_overlay(view: ViewModel) -> bool:
    """Whether to dim the screen with the "{n} 秒后返回首页 / 继续办理" warning."""
    return view.seconds_left is not None and state_of(view) not in _NO_OVERLAY


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


def footer_fits(labels: list[str], width: float, font_px: float) -> bool:
    """Whether buttons for `labels`, sized by `label_weight`, each hold their label on one line."""
    return sum(label_weight(label) for label in labels) * font_px <= width


def footer_rows(
    actions: tuple[Option, ...], fits: Callable[[list[str]], bool]
) -> list[tuple[Option, ...]]:
    """The footer's rows: all in one if they fit, else the actions above the preferences."""
    if fits([o.label for o in actions]):
        return [actions]
    own = tuple(o for o in actions if o.intent not in QUIET_INTENTS)
    prefs = tuple(o for o in actions if o.intent in QUIET_INTENTS)
    return [row for group in (own, prefs) if group for row in _halved(group, fits)]


def _halved(
    group: tuple[Option, ...], fits: Callable[[list[str]], bool]
) -> list[tuple[Option, ...]]:
    """`group` as one row, or as two when it does not fit and each half does (长辈模式's four
    preferences in large text), so no label has to break mid-word."""
    labels = [o.label for o in group]
    half = (len(group) + 1) // 2
    if len(group) < 2 or fits(labels) or not (fits(labels[:half]) and fits(labels[half:])):
        return [group]
    return [group[:half], group[half:]]

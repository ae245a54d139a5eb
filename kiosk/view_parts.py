"""The pieces view models are made of: touch targets, headed sections, tables.

Apart from `kiosk.views` so that the screen families' builders (`kiosk.views_apply`) can use
them without importing the dispatcher that imports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kiosk.events import Intent


@dataclass(frozen=True)
class Option:
    """A touch target: what it says and which intent it sends."""

    intent: Intent
    label: str
    arg: str | None = None
    sublabel: str = ""
    primary: bool = False
    enabled: bool = True  # False: shown greyed, with the reason in the view's notice or hint
    selected: bool = False  # a chosen reason, shown ticked


@dataclass(frozen=True)
class Section:
    """A heading with its lines of text (a guide field, a case's history, a ticket)."""

    heading: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A page of records: column headings and rows of text."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""


def back_home(_: Any) -> list[Option]:
    """The way back and the way home, which every screen offers."""
    return [Option(Intent.BACK, _("Back")), Option(Intent.HOME, _("Home"))]

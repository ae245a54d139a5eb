"""Steps of a resident journey, for tests that drive the core directly."""

from __future__ import annotations

from kiosk.core import KioskCore
from kiosk.events import CardRead, Intent
from tests.support.fakes import card

NAME, ID_NUMBER = "李秀英", "110101195603121240"


def step(core: KioskCore, intent: Intent, arg: str | None = None) -> str:
    core.touch(intent, arg)
    core.pump()
    return core.state


def place_card(core: KioskCore, name: str = NAME, id_number: str = ID_NUMBER) -> str:
    core.post(CardRead(card(name, id_number)))
    core.pump()
    return core.state


def walk_to_guide(core: KioskCore) -> None:
    assert step(core, Intent.START) == "await_card"
    assert place_card(core) == "categories"
    assert step(core, Intent.PICK_CATEGORY, "shebao") == "items"
    assert step(core, Intent.PICK_ITEM, "SB001") == "guide"

"""Steps of a resident journey, for tests that drive the core directly."""

from __future__ import annotations

from drivers.idcard.sim_cards import LI_XIUYING
from kiosk.core import KioskCore
from kiosk.events import CardRead, Intent
from kiosk.ids import StateId

NAME, ID_NUMBER = LI_XIUYING.name, LI_XIUYING.id_number
PRINT_ITEM = "shebao.insured-cert"


def step(core: KioskCore, intent: Intent, arg: str | None = None) -> str:
    core.touch(intent, arg)
    core.pump()
    return core.state


def place_card(core: KioskCore, record=LI_XIUYING) -> str:
    core.post(CardRead(record))
    core.pump()
    return core.state


def walk_to_guide(core: KioskCore, item: str = PRINT_ITEM, category: str = "shebao") -> None:
    assert step(core, Intent.START) == StateId.AWAIT_IDENTITY
    assert place_card(core) == StateId.CATEGORIES
    assert step(core, Intent.PICK_CATEGORY, category) == StateId.ITEMS
    assert step(core, Intent.PICK_ITEM, item) == StateId.GUIDE

"""Everything that happens is a small frozen event on one queue, consumed by the machine's thread."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from drivers.state import DeviceStatus


class Intent(StrEnum):
    """What a resident's touch means; screens send these and nothing else."""

    START = "start"  # identify first (card, e-ID code, social security card)
    BROWSE = "browse"  # browse the catalogue without identifying
    BACK = "back"
    HOME = "home"
    PICK_CATEGORY = "pick_category"
    PICK_ITEM = "pick_item"
    ACT = "act"  # the guide's main button (print, look up, take a ticket, print the checklist)
    PRINT = "print"
    DIGIT = "digit"  # a key of the digit pad: "0".."9" or "clear"
    SUBMIT_ENTRY = "submit_entry"
    LOOKUP_BY_IDENTITY = "lookup_by_identity"
    PAGE = "page"  # "next" or "previous"
    DONE = "done"  # finished with a result: on to the rating
    RATE = "rate"
    TOGGLE_REASON = "toggle_reason"
    SUBMIT_RATING = "submit_rating"
    SKIP = "skip"
    MORE_TIME = "more_time"
    TOGGLE_LARGE_TEXT = "toggle_large_text"
    TOGGLE_LANGUAGE = "toggle_language"
    # 长辈模式 and its voice
    TOGGLE_ELDER = "toggle_elder"
    MUTE = "mute"  # toggles the spoken prompts
    SAY_AGAIN = "say_again"
    # applying (申请)
    FOR_SELF = "for_self"
    FOR_OTHER = "for_other"
    ENTER_PRINCIPAL = "enter_principal"  # the principal's card is not at hand: type their details
    EDIT_FIELD = "edit_field"  # arg: the field's name
    KEY = "key"  # a key of the on-screen keyboard: a letter, a digit, "'" or " "
    BACKSPACE = "backspace"
    CANDIDATE = "candidate"  # arg: index on the candidate page
    CANDIDATE_PAGE = "candidate_page"  # "next" or "previous"
    LAYOUT = "layout"  # digits, letters, pinyin, handwriting
    STROKE = "stroke"  # arg: JSON [[x, y], ...] in the ink box's 0..1000 square
    CLEAR_INK = "clear_ink"
    CHOOSE = "choose"  # arg: the value of a choice field's option
    FIELD_DONE = "field_done"
    NEXT = "next"  # the form or a material is done: go on
    CAPTURE = "capture"  # photograph the material now
    RETAKE = "retake"
    RETRY = "retry"  # try the face check again
    SUBMIT_APPLICATION = "submit_application"
    EDIT_APPLICATION = "edit_application"
    # the technicians' side
    MAINTENANCE = "maintenance"  # the hidden gesture (a long press in the top-left corner)
    TECH = "tech"  # a maintenance menu action; arg: kiosk.maintenance.menu's action name


@dataclass(frozen=True)
class Touch:
    """A resident's intent from a screen, with its argument (a category or item code, a rating)."""

    intent: Intent
    arg: str | None = None

    def __repr__(self) -> str:
        # Keys and strokes spell what a resident types (a name, a number): never in a log line.
        arg = "<redacted>" if self.intent in _PRIVATE_ARGS else repr(self.arg)
        return f"Touch({self.intent.value}, {arg})"


_PRIVATE_ARGS = frozenset({Intent.KEY, Intent.STROKE, Intent.CHOOSE})


@dataclass(frozen=True, repr=False)
class CardRead:
    """The ID card reader read a card. `record` is personal data: never log this event."""

    record: Any

    def __repr__(self) -> str:
        return "CardRead(<redacted>)"


@dataclass(frozen=True)
class CardReadFailed:
    """The reader saw a card but could not read it; `reason` is safe to show and log."""

    reason: str


@dataclass(frozen=True, repr=False)
class QrScanned:
    """A QR code from a scanner or the camera; untrusted and possibly personal: never logged."""

    text: str
    source: str

    def __repr__(self) -> str:
        return f"QrScanned(<{len(self.text)} chars>, {self.source!r})"


@dataclass(frozen=True)
class SmartCardInserted:
    """A card went into the PC/SC reader (a social security card, perhaps); nothing read yet."""

    reader: str


@dataclass(frozen=True)
class Tick:
    """Time passed; the machine checks its inactivity timeout."""


@dataclass(frozen=True, repr=False)
class TaskDone:
    """A background task (API call, print job) finished."""

    task: str
    token: int
    result: Any = None

    def __repr__(self) -> str:
        return f"TaskDone({self.task!r}, token={self.token})"


@dataclass(frozen=True)
class TaskFailed:
    """A background task failed; `message` is a safe, user-presentable reason."""

    task: str
    token: int
    message: str
    retryable: bool = False


@dataclass(frozen=True)
class JobProgress:
    """A print job moved on: `step` is sending, printing or printed."""

    task: str
    token: int
    step: str


@dataclass(frozen=True)
class DeviceChanged:
    """A device's status changed (online, offline, paper low, ...)."""

    device: str
    status: DeviceStatus


@dataclass(frozen=True, repr=False)
class DeviceInput:
    """Input from a device (a card read, a scanned code); may be personal: never logged."""

    device: str
    payload: Any

    def __repr__(self) -> str:
        return f"DeviceInput({self.device!r}, {type(self.payload).__name__})"


@dataclass(frozen=True)
class ServiceChange:
    """Out of service or back in service, asked by a technician, the fleet or the kiosk itself."""

    in_service: bool
    actor: str  # technician:<id> | fleet | auto
    reason: str = ""


Event = (
    Touch
    | CardRead
    | CardReadFailed
    | QrScanned
    | SmartCardInserted
    | Tick
    | TaskDone
    | TaskFailed
    | JobProgress
    | DeviceChanged
    | DeviceInput
    | ServiceChange
)

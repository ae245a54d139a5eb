"""One resident's session: everything personal lives here, and only until `wipe()`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(repr=False)
class Identity:
    """Who the resident is, as read from the card. Personal data: never logged, never stored."""

    name: str
    id_number: str
    sex: str
    birth_date: date | None
    person_ref: str | None = None
    # Which card was read: resident, hk_mo_tw_residence, foreign_permanent_2017 or _2023.
    card_type: str = "resident"
    valid_until: date | None = None  # None: 长期 (no expiry), or not known (e-ID)
    method: str = "id_card"  # id_card, eid, social_security_card
    # Read from a genuine card while the service was unreachable: good enough to take an
    # application into the outbox (the service checks the person again on delivery).
    offline: bool = False

    def __repr__(self) -> str:
        return "Identity(<redacted>)"


@dataclass
class Preferences:
    """How this resident wants the screen; reset for the next resident."""

    large_text: bool = False
    language: str = "zh_CN"
    elder: bool = False  # 长辈模式: larger text and targets, fewer choices, slower, spoken
    muted: bool = False  # the spoken prompts of 长辈模式, silenced by the resident


@dataclass
class Session:
    """The state of one resident's visit, owned by the machine's thread."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    identity: Identity | None = None
    category: str | None = None
    item_code: str | None = None
    item: Any = None
    came_browsing: bool = False
    # The guide action to run once the resident has identified (print, lookup, ticket).
    after_identify: str | None = None
    certificate: Any = None
    document: Any = None  # an A4 certificate and its PDF, kept for the preview and retries
    print_origin: str = "guide"  # guide, preview, lookup: where a failed print returns to
    progress: str = ""  # the A4 job's last step: sending, printing, printed
    lookup_entry: str = ""  # digits typed on the pad
    lookup_started_on_entry: bool = False
    lookup_result: Any = None
    ticket: Any = None
    case_no: str | None = None  # a receipt or certificate number the journey produced
    rating: int | None = None
    reasons: list[str] = field(default_factory=list)
    notice: str | None = None
    option_page: int = 0  # which four choices 长辈模式 shows of a long list
    draft: Any = None  # kiosk.flows.form.Draft: the application being filled in
    assisted_by: str | None = None  # a staff member helping (帮办), from their staff card
    prefs: Preferences = field(default_factory=Preferences)
    pending: dict[str, int] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Session(id={self.id[:8]}, identified={self.identity is not None})"

    def wipe(self, defaults: Preferences) -> None:
        """Forget everything about this resident and start a fresh, anonymous session."""
        self.identity = None
        self.item = None
        self.came_browsing = False
        self.after_identify = None
        self.certificate = None
        self.document = None
        self.print_origin = "guide"
        self.progress = ""
        self.lookup_entry = ""
        self.lookup_started_on_entry = False
        self.lookup_result = None
        self.ticket = None
        self.case_no = None
        self.category = None
        self.item_code = None
        self.rating = None
        self.reasons = []
        self.notice = None
        self.draft = None
        self.assisted_by = None
        self.option_page = 0
        self.pending.clear()
        self.prefs = Preferences(defaults.large_text, defaults.language)
        self.id = uuid.uuid4().hex

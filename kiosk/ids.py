"""The names the core, the view models and the screens share: states, machine events, tasks.

They are StrEnums so that a typo is an AttributeError, not a silent miss, and so that a state id
compares equal to the plain string the machine library reports.
"""

from __future__ import annotations

from enum import StrEnum


class StateId(StrEnum):
    """Leaf states of the session statechart (what a screen shows)."""

    ATTRACT = "attract"
    # identify: how the resident proves who they are
    AWAIT_IDENTITY = "await_identity"
    VERIFYING = "verifying"
    # browse: the catalogue
    CATEGORIES = "categories"
    ITEMS = "items"
    # every item opens on its guide (办事指南), which carries the item's own action
    GUIDE = "guide"
    # print flow: certificates on the receipt printer or on A4
    PREPARING = "preparing"
    PREVIEW = "preview"
    PRINTING = "printing"
    # lookup flow
    LOOKUP_ENTRY = "lookup_entry"
    LOOKING_UP = "looking_up"
    LOOKUP_RESULT = "lookup_result"
    # ticket flow
    TICKETING = "ticketing"
    TICKET = "ticket"
    # apply flow (申请): who applies, face check, the form, the documents, review, submit
    LOADING_FORM = "loading_form"
    APPLY_START = "apply_start"
    PRINCIPAL = "principal"
    FACE_CHECK = "face_check"
    FORM = "form"
    EDITING = "editing"
    DOCUMENTS = "documents"
    REVIEW = "review"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    # rating (好差评) after every journey
    RATE = "rate"
    REASONS = "reasons"
    THANKS = "thanks"
    # the technicians' side: sign-in, the menu, one of its pages; and out of service
    MAINTENANCE_LOGIN = "maintenance_login"
    MAINTENANCE_MENU = "maintenance_menu"
    MAINTENANCE_PAGE = "maintenance_page"
    OUT_OF_SERVICE = "out_of_service"


class Compound(StrEnum):
    """Compound states (one per flow kind); their children are the leaves above."""

    IDENTIFY = "identify"
    BROWSE = "browse"
    PRINT = "print_flow"
    LOOKUP = "lookup_flow"
    TICKET = "ticket_flow"
    APPLY = "apply_flow"
    RATING = "rating"
    MAINTENANCE = "maintenance"


class MachineEvent(StrEnum):
    """Events the core sends to the statechart."""

    START = "start"
    BROWSE = "browse_catalogue"
    IDENTITY_READ = "identity_read"
    IDENTIFIED = "identified"
    IDENTITY_FAILED = "identity_failed"
    PICK_CATEGORY = "pick_category"
    PICK_ITEM = "pick_item"
    NEED_IDENTITY = "need_identity"
    PREPARE = "prepare_document"
    PREPARED = "prepared"
    PRINT = "print"
    PRINTED = "printed"
    PRINT_FAILED = "print_failed"
    LOOKUP = "lookup"
    LOOKED_UP = "looked_up"
    LOOKUP_FAILED = "lookup_failed"
    TAKE_TICKET = "take_ticket"
    TICKETED = "ticketed"
    TICKET_FAILED = "ticket_failed"
    APPLY = "apply"
    FORM_LOADED = "form_loaded"
    FORM_FAILED = "form_failed"
    FOR_SELF = "for_self"
    FOR_OTHER = "for_other"
    PRINCIPAL_GIVEN = "principal_given"
    FACE_PASSED = "face_passed"
    EDIT_FIELD = "edit_field"
    FIELD_DONE = "field_done"
    FORM_COMPLETE = "form_complete"
    DOCUMENTS_COMPLETE = "documents_complete"
    EDIT = "edit_application"
    SUBMIT = "submit_application"
    SENT = "application_sent"
    SUBMIT_FAILED = "submit_failed"
    DONE = "done"
    RATE = "rate"
    ASK_REASONS = "ask_reasons"
    SKIP_RATING = "skip_rating"
    BACK = "back"
    HOME = "home"
    TIMEOUT = "timeout"
    FINISH = "finish"
    ENTER_MAINTENANCE = "enter_maintenance"
    TECHNICIAN_IN = "technician_in"
    OPEN_PAGE = "open_page"
    LEAVE_MAINTENANCE = "leave_maintenance"
    SUSPEND = "suspend_service"
    RESUME = "resume_service"


class Task(StrEnum):
    """Background tasks; a result is matched to its session by task name and token."""

    CATALOGUE = "catalogue"
    VERIFY = "verify"
    ITEM = "item"
    PRINT = "print"
    PREPARE = "prepare"
    DOCUMENT = "document"
    LOOKUP = "lookup"
    TICKET = "ticket"
    REASONS = "reasons"
    FORM = "form"
    FACE = "face"
    CAPTURE = "capture"
    SUBMIT = "submit"
    STAFF = "staff"
    TECH_LOGIN = "tech_login"  # a technician PIN or card being checked
    MAINTENANCE = "maintenance"  # a menu action's slow work (self-test, network checks)


class FlowKind(StrEnum):
    """What an item does at the kiosk (the catalogue's `flow`)."""

    GUIDE = "guide"
    PRINT = "print"
    LOOKUP = "lookup"
    SUBMIT = "submit"
    TICKET = "ticket"


class IdentityNeed(StrEnum):
    """What identity an item needs (the catalogue's `identity`)."""

    NONE = "none"
    ID_CARD = "id_card"
    ID_CARD_FACE = "id_card_face"


class IdentityMethod(StrEnum):
    """How the resident proved who they are."""

    ID_CARD = "id_card"
    EID = "eid"
    SOCIAL_SECURITY_CARD = "social_security_card"

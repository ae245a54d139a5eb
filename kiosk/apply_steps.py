"""The apply flow's steps inside the core: who applies, face check, form, materials, submit.

`KioskCore` hands every touch, card and task result of the `apply_flow` states to `ApplySteps`,
which changes the session's `Draft` and moves the machine through the core (side effects first,
as everywhere). The one synchronous write is the durable outbox row behind "received".
"""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import TYPE_CHECKING, Any

from kiosk.availability import Function
from kiosk.central import CentralError
from kiosk.events import Intent, TaskDone, TaskFailed, Touch
from kiosk.flows import apply, form, identify
from kiosk.ids import MachineEvent, StateId, Task
from kiosk.tasks import UserFacingError

if TYPE_CHECKING:
    from kiosk.core import KioskCore

log = logging.getLogger(__name__)

APPLY_STATES = frozenset(
    {
        StateId.LOADING_FORM,
        StateId.APPLY_START,
        StateId.PRINCIPAL,
        StateId.FACE_CHECK,
        StateId.FORM,
        StateId.EDITING,
        StateId.DOCUMENTS,
        StateId.REVIEW,
        StateId.SUBMITTING,
        StateId.SUBMITTED,
    }
)
# Fields typed on the digit layout (an ID number's last character may be X: the layout has it).
_DIGIT_TYPES = frozenset({"phone", "id_number", "date"})
_KEYBOARD_INTENTS = frozenset(
    {
        Intent.KEY,
        Intent.BACKSPACE,
        Intent.CANDIDATE,
        Intent.CANDIDATE_PAGE,
        Intent.LAYOUT,
        Intent.STROKE,
        Intent.CLEAR_INK,
    }
)
_INK_BOX = 1000  # strokes arrive in a 0..1000 square, whatever the pad's size on screen


class ApplySteps:
    """The apply flow's handling; owned by the core, runs on the core's thread."""

    def __init__(self, core: KioskCore) -> None:
        self.core = core

    # ---- helpers -----------------------------------------------------------------------------

    @property
    def draft(self) -> form.Draft | None:
        return self.core.session.draft

    def needs_face(self) -> bool:
        draft = self.draft
        return draft is not None and draft.face_check

    def needs_documents(self) -> bool:
        draft = self.draft
        return draft is not None and bool(draft.materials)

    def agent_allowed(self) -> bool:
        draft = self.draft
        return draft is not None and draft.agent_allowed

    def _send(self, event: MachineEvent) -> bool:
        return self.core._send(event)

    def _today(self) -> date:
        """The kiosk's local date, which date fields are checked against (as the service does)."""
        return self.core.local_now().date()

    # ---- entering ----------------------------------------------------------------------------

    def start(self) -> None:
        """The guide's "apply" button, once the resident is identified: load the form."""
        core = self.core
        code = core.session.item_code or ""
        if not self._send(MachineEvent.APPLY):
            return
        central, cache = core.services.central, core.services.catalogue_cache

        def work() -> Any:
            try:
                result = central.application_form(code)
            except Exception:
                cached = cache.load_form(code) if cache is not None else None
                if cached is None:
                    raise
                return cached
            if cache is not None:
                cache.remember_form(code, result)
            return result

        core._submit(Task.FORM, lambda: _user_facing(work))

    # ---- touches -----------------------------------------------------------------------------

    def touch(self, touch: Touch) -> bool:
        """Handle a touch in an apply state; False when it is not the flow's to handle."""
        state = self.core.state
        if state not in APPLY_STATES:
            return False
        intent, arg = touch.intent, touch.arg
        draft = self.draft
        if draft is None:
            return False
        match intent:
            case Intent.FOR_SELF if state == StateId.APPLY_START:
                draft.prefill(self.core.session.identity)
                self._go(MachineEvent.FOR_SELF)
            case Intent.FOR_OTHER if state == StateId.APPLY_START:
                self._send(MachineEvent.FOR_OTHER)
            case Intent.ENTER_PRINCIPAL if state == StateId.PRINCIPAL:
                draft.apply_for_other(None)
                self._go(MachineEvent.PRINCIPAL_GIVEN)
            case Intent.RETRY if state == StateId.FACE_CHECK:
                if draft.face_attempts < form.MAX_FACE_ATTEMPTS:
                    self._start_face_check()
            case Intent.EDIT_FIELD if state == StateId.FORM:
                self._edit(arg)
            case Intent.CHOOSE if state == StateId.EDITING:
                self._choose(arg)
            case Intent.FIELD_DONE if state == StateId.EDITING:
                self._field_done()
            case _ if intent in _KEYBOARD_INTENTS and state == StateId.EDITING:
                self._keyboard(intent, arg)
            case Intent.PAGE if state == StateId.FORM:
                self._field_page(arg)
            case Intent.NEXT if state == StateId.FORM:
                self._form_done()
            case Intent.CAPTURE if state == StateId.DOCUMENTS:
                self._capture()
            case Intent.RETAKE if state == StateId.DOCUMENTS:
                material = draft.current_material
                if material is not None:
                    draft.shots.pop(material.code, None)
                    draft.idempotency_key = None
            case Intent.NEXT if state == StateId.DOCUMENTS:
                self._next_material()
            case Intent.SUBMIT_APPLICATION if state == StateId.REVIEW:
                self._submit()
            case Intent.EDIT_APPLICATION if state == StateId.REVIEW:
                self._send(MachineEvent.EDIT)
            case _:
                return False
        return True

    def back(self) -> bool:
        """Back inside the flow where it means less than leaving the step: True if handled."""
        draft, state = self.draft, self.core.state
        if draft is None:
            return False
        if state == StateId.EDITING and draft.keyboard is not None:
            draft.keyboard = None
            draft.editing = None
        elif state == StateId.DOCUMENTS and draft.material_index > 0:
            draft.material_index -= 1
            self.core.session.notice = None
            return True
        return False

    def _go(self, event: MachineEvent) -> None:
        """Move on after choosing who applies; the face check starts by itself."""
        if self._send(event) and self.core.state == StateId.FACE_CHECK:
            self._start_face_check()

    # ---- who applies -------------------------------------------------------------------------

    def on_card(self, identity: Any) -> bool:
        """A card placed while the principal is asked for: the principal's (代办)."""
        draft = self.draft
        if self.core.state != StateId.PRINCIPAL or draft is None:
            return False
        me = self.core.session.identity
        if me is not None and identity.id_number == me.id_number:
            self.core.session.notice = "principal_is_agent"
            return True
        if identify.is_expired(identity, self.core.local_now().date()):
            self.core.session.notice = f"card_expired_{identity.card_type}"
            return True
        self.core.session.notice = None
        draft.apply_for_other(identity)
        self._go(MachineEvent.PRINCIPAL_GIVEN)
        return True

    # ---- face check --------------------------------------------------------------------------

    def _start_face_check(self) -> None:
        core, draft = self.core, self.draft
        identity = core.session.identity
        camera = core.services.camera
        if draft is None or Task.FACE in core.session.pending:
            return
        if camera is None or identity is None or not identity.person_ref:
            core.session.notice = "face_check_unavailable"
            return
        draft.face_attempts += 1
        core.session.notice = None
        central, person_ref = core.services.central, identity.person_ref

        def work() -> Any:
            from kiosk.capture import CaptureProblem, capture_face

            try:
                shot = capture_face(camera)
            except CaptureProblem as exc:
                raise _problem(f"face_{exc.code}") from None
            result = _user_facing(
                lambda: central.check_face(
                    person_ref,
                    shot.jpeg,
                    frames=shot.frames,
                    seconds=shot.seconds,
                    moved=shot.moved,
                )
            )
            return result

        core._submit(Task.FACE, work)

    # ---- the form ----------------------------------------------------------------------------

    def _edit(self, name: str | None) -> None:
        draft = self.draft
        spec = draft.spec(name) if draft is not None else None
        if draft is None or spec is None:
            return
        draft.editing = spec.name
        draft.keyboard = None if spec.type == "choice" else self._keyboard_for(spec, draft)
        self.core.session.notice = None
        self._send(MachineEvent.EDIT_FIELD)

    def _keyboard_for(self, spec: form.FieldSpec, draft: form.Draft) -> Any:
        from kiosk.keyboard import Keyboard

        elder = self.core.session.prefs.elder
        if spec.type in _DIGIT_TYPES:
            layout = "digits"
        elif spec.type == "chinese_name" and elder:
            layout = "handwriting"  # what many elderly residents prefer
        elif spec.type in ("chinese_name", "address", "text"):
            layout = "pinyin"
        else:
            layout = "letters"
        engines = self.core.services.input_methods
        text = draft.values.get(spec.name, "")
        if spec.type == "date":
            text = text.replace("-", "")
        return Keyboard(
            layout=layout,
            text=text,
            page_size=4 if elder else 8,
            max_length=_max_length(spec),
            pinyin=getattr(engines, "pinyin", None),
            handwriting=getattr(engines, "handwriting", None),
            extended=getattr(engines, "extended", None),
            ink_box=(_INK_BOX, _INK_BOX),
        )

    def _keyboard(self, intent: Intent, arg: str | None) -> None:
        draft = self.draft
        keyboard = draft.keyboard if draft is not None else None
        if keyboard is None:
            return
        try:
            match intent:
                case Intent.KEY if arg:
                    keyboard.press(arg)
                case Intent.BACKSPACE:
                    keyboard.backspace()
                case Intent.CANDIDATE if arg is not None and arg.isdigit():
                    keyboard.choose(int(arg))
                case Intent.CANDIDATE_PAGE:
                    keyboard.page(1 if arg == "next" else -1)
                case Intent.LAYOUT if arg:
                    keyboard.set_layout(arg)
                case Intent.STROKE:
                    keyboard.add_stroke(_stroke(arg or ""))
                case Intent.CLEAR_INK:
                    keyboard.clear_ink()
        except ValueError:
            self.core.session.notice = "input_not_understood"
            return
        self.core.session.notice = None

    def _choose(self, value: str | None) -> None:
        draft = self.draft
        spec = draft.spec(draft.editing) if draft is not None else None
        if draft is None or spec is None or spec.type != "choice" or value is None:
            return
        if draft.set_value(spec.name, value, self._today()) is None:
            draft.editing = None
            self._send(MachineEvent.FIELD_DONE)

    def _field_done(self) -> None:
        draft = self.draft
        if draft is None or draft.editing is None:
            return
        spec = draft.spec(draft.editing)
        if spec is None:
            return
        if draft.keyboard is None:  # a choice field: done means "leave it as it is"
            draft.editing = None
            self._send(MachineEvent.FIELD_DONE)
            return
        value = draft.keyboard.text
        if spec.type == "date":
            value = _date_from_digits(value)
        problem = draft.set_value(spec.name, value, self._today())
        if problem is not None:
            self.core.session.notice = f"field_{problem}"
            return
        draft.keyboard = None
        draft.editing = None
        self._send(MachineEvent.FIELD_DONE)

    def _field_page(self, arg: str | None) -> None:
        draft = self.draft
        if draft is None:
            return
        per_page = form.fields_per_page(self.core.session.prefs.elder)
        pages = max(1, -(-len(draft.fields) // per_page))
        step = {"next": 1, "previous": -1}.get(arg or "", 0)
        draft.field_page = min(max(0, draft.field_page + step), pages - 1)

    def _form_done(self) -> None:
        draft = self.draft
        if draft is None:
            return
        problems = draft.check_all(self._today())
        if problems:
            first = next(i for i, f in enumerate(draft.fields) if f.name in problems)
            draft.field_page = first // form.fields_per_page(self.core.session.prefs.elder)
            self.core.session.notice = "form_has_problems"
            return
        self.core.session.notice = None
        missing = draft.missing_materials()
        draft.material_index = draft.materials.index(missing[0]) if missing else 0
        self._send(MachineEvent.FORM_COMPLETE)

    # ---- materials ---------------------------------------------------------------------------

    def _capture(self) -> None:
        core, draft = self.core, self.draft
        camera = core.services.camera
        if draft is None or draft.current_material is None or Task.CAPTURE in core.session.pending:
            return
        if camera is None:
            core.session.notice = "camera_unavailable"
            return
        core.session.notice = None

        def work() -> Any:
            from kiosk.capture import CaptureProblem, capture_page

            try:
                return capture_page(camera)
            except CaptureProblem as exc:
                raise _problem(f"page_{exc.code}") from None

        core._submit(Task.CAPTURE, work)

    def _next_material(self) -> None:
        draft = self.draft
        if draft is None:
            return
        material = draft.current_material
        if material is not None and material.required and material.code not in draft.shots:
            self.core.session.notice = "material_needed"
            return
        self.core.session.notice = None
        draft.material_index += 1
        if draft.material_index >= len(draft.materials):
            draft.material_index = len(draft.materials) - 1
            self._send(MachineEvent.DOCUMENTS_COMPLETE)

    # ---- submit ------------------------------------------------------------------------------

    def application(self) -> apply.Application:
        """The application as the resident confirmed it on the review screen."""
        core, draft = self.core, self.draft
        assert draft is not None
        me = core.session.identity
        assert me is not None
        present = apply.Person(me.name, me.id_number, me.card_type, me.person_ref)
        agent = None
        fields = dict(draft.values)
        if draft.agent:
            relation = fields.pop(form.RELATION_FIELD.name, "")
            agent = apply.Agent(present, relation)
            if draft.principal is not None:
                p = draft.principal
                applicant = apply.Person(p.name, p.id_number, p.card_type, p.person_ref)
            else:
                applicant = apply.Person(
                    fields.pop("principal_name", ""), fields.pop("principal_id_number", "")
                )
        else:
            applicant = present
        if draft.idempotency_key is None:
            draft.attempt += 1
            draft.idempotency_key = core.session_key(f"apply/{draft.item_code}/{draft.attempt}")
        return apply.Application(
            idempotency_key=draft.idempotency_key,
            item_code=draft.item_code,
            kiosk_id=core.config.kiosk_id,
            applicant=applicant,
            fields=fields,
            documents=tuple(
                apply.Attachment(code, shot.jpeg) for code, shot in draft.shots.items()
            ),
            agent=agent,
            assisted_by=core.session.assisted_by,
            face_check_id=draft.face_check_id,
        )

    def _submit(self) -> None:
        core, draft = self.core, self.draft
        outbox = core.services.outbox
        if draft is None or Task.SUBMIT in core.session.pending or outbox is None:
            return
        application = self.application()
        # Durable before anything says "received"; a failed write keeps the resident here.
        try:
            apply.queue_application(outbox, application)
        except Exception as exc:
            log.error("application not saved: %s", type(exc).__name__)
            core.session.notice = "application_not_saved"
            return
        core.session.notice = None
        if not self._send(MachineEvent.SUBMIT):
            return
        summary = core._find_item(draft.item_code)
        language = core.session.prefs.language
        job = apply.SubmitJob(
            site_name=core.config.site_name,
            kiosk_id=core.config.kiosk_id,
            now=core.local_now(),
            item_name=(summary.name_en or summary.name)
            if summary is not None and language == "en"
            else (summary.name if summary is not None else draft.item_code),
            language=language,
        )
        central, printer = core.services.central, core.services.printer
        core._submit(
            Task.SUBMIT, lambda: apply.submit_now(central, outbox, printer, application, job)
        )

    # ---- task results ------------------------------------------------------------------------

    def on_done(self, event: TaskDone) -> None:
        session = self.core.session
        match event.task:
            case Task.FORM:
                loaded = form.Draft.from_form(event.result)
                if loaded.materials and Function.DOCUMENT_CAPTURE not in self.core.available():
                    self._send(MachineEvent.FORM_FAILED)
                    session.notice = "camera_out_of_service"
                    return
                session.draft = loaded
                if not loaded.agent_allowed:
                    loaded.prefill(session.identity)
                self._go(MachineEvent.FORM_LOADED)
            case Task.FACE:
                draft = self.draft
                if draft is None:
                    return
                if event.result.passed:
                    draft.face_check_id = event.result.check_id
                    self._send(MachineEvent.FACE_PASSED)
                else:
                    reason = event.result.reason or "not_matched"
                    self._face_failed(f"face_{reason}")
            case Task.CAPTURE:
                draft = self.draft
                material = draft.current_material if draft is not None else None
                if draft is not None and material is not None:
                    draft.shots[material.code] = event.result
                    draft.idempotency_key = None
            case Task.SUBMIT:
                draft = self.draft
                if draft is not None:
                    draft.receipt = event.result.receipt
                    draft.queued = event.result.queued
                    if event.result.receipt is not None:
                        session.case_no = event.result.receipt.tracking_no
                    session.notice = event.result.print_problem
                self._send(MachineEvent.SENT)
            case Task.STAFF:
                session.assisted_by = event.result

    def on_failed(self, event: TaskFailed) -> None:
        session = self.core.session
        match event.task:
            case Task.FORM:
                self._send(MachineEvent.FORM_FAILED)
                session.notice = event.message
            case Task.FACE:
                self._face_failed(event.message)
            case Task.CAPTURE:
                session.notice = event.message
            case Task.SUBMIT:
                self._send(MachineEvent.SUBMIT_FAILED)
                session.notice = event.message
                if self.draft is not None:
                    self.draft.idempotency_key = None
            case Task.STAFF:
                session.notice = "staff_card_not_accepted"

    def _face_failed(self, notice: str) -> None:
        draft = self.draft
        if draft is not None and (
            draft.face_attempts >= form.MAX_FACE_ATTEMPTS or notice == "face_too_many_attempts"
        ):
            draft.face_attempts = form.MAX_FACE_ATTEMPTS
            notice = "face_go_to_window"
        self.core.session.notice = notice


def _max_length(spec: form.FieldSpec) -> int:
    if spec.type == "date":
        return 8
    if spec.type == "id_number":
        return 18
    if spec.type == "phone":
        return 13
    return spec.max_length or (20 if spec.type == "chinese_name" else 100)


def _date_from_digits(value: str) -> str:
    """20260315 -> 2026-03-15; anything else is left for the date rule to refuse."""
    if len(value) == 8 and value.isdigit():
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value


def _stroke(arg: str) -> list[tuple[float, float]]:
    """A stroke from the screen: JSON [[x, y], ...] in the 0..1000 ink box."""
    try:
        points = json.loads(arg)
        stroke = [(float(x), float(y)) for x, y in points]
    except (ValueError, TypeError) as exc:
        raise ValueError("a stroke is a list of [x, y] points") from exc
    if not stroke or any(not (0 <= x <= _INK_BOX and 0 <= y <= _INK_BOX) for x, y in stroke):
        raise ValueError("stroke points lie in the 0..1000 box")
    return stroke


def _problem(code: str) -> Exception:
    return UserFacingError(code)


def _user_facing(work: Any) -> Any:
    """Run a central call, turning its failures into what a resident may read."""
    try:
        return work()
    except CentralError as exc:
        raise identify.user_error(exc) from None

"""The session statechart: one compound state per flow kind, declared on python-statemachine 3.

It knows nothing of Kivy, devices or HTTP. The kiosk core (`kiosk.core`) does the side effects
first, then sends the event, so a failed side effect never leaves the machine half-moved. State
and event names come from `kiosk.ids`, shared with the view models and the screens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from statemachine import State, StateChart

from kiosk.ids import StateId


def _no() -> bool:
    return False


@dataclass
class Guards:
    """What the machine asks the core before choosing a target."""

    has_pending_item: Callable[[], bool] = _no  # identity was asked for on an item's guide
    from_preview: Callable[[], bool] = _no  # the print job started on an A4 preview
    from_lookup: Callable[[], bool] = _no  # the print job is a lookup's table
    has_lookup_entry: Callable[[], bool] = _no  # the lookup started on the entry pad
    came_browsing: Callable[[], bool] = _no  # the guide was opened from the item list
    lookup_needs_entry: Callable[[], bool] = _no  # a lookup by number starts on the digit pad
    agent_allowed: Callable[[], bool] = _no  # the item may be applied for by someone else (代办)
    needs_face: Callable[[], bool] = _no  # the item needs 人证核验 before the form
    needs_documents: Callable[[], bool] = _no  # the application has materials to photograph
    out_of_service_now: Callable[[], bool] = _no  # a technician, the fleet or a device says so


class SessionMachine(StateChart):
    """A resident's journey: identify (when needed), browse, an item's flow, rate, thanks."""

    # A touch that means nothing in the current state is simply ignored.
    allow_event_without_transition = True
    # Errors in the core's listener must surface in the core (which contains them), not vanish.
    catch_errors_as_events = False

    attract = State("待机", initial=True)

    class identify(State.Compound, name="身份核验"):
        await_identity = State("请出示身份凭证", initial=True)
        verifying = State("核验身份")

    class browse(State.Compound, name="浏览事项"):
        categories = State("选择类别", initial=True)
        items = State("选择事项")

    guide = State("办事指南")

    class print_flow(State.Compound, name="打印"):
        preparing = State("准备证明", initial=True)
        preview = State("预览")
        printing = State("正在打印")

    class lookup_flow(State.Compound, name="查询"):
        lookup_entry = State("输入查询条件", initial=True)
        looking_up = State("正在查询")
        lookup_result = State("查询结果")

    class ticket_flow(State.Compound, name="取号"):
        ticketing = State("正在取号", initial=True)
        ticket = State("取号结果")

    class apply_flow(State.Compound, name="申请"):
        loading_form = State("准备申请表", initial=True)
        apply_start = State("本人或代办")
        principal = State("被代办人")
        face_check = State("人脸核验")
        form = State("填写申请表")
        editing = State("输入")
        documents = State("拍摄材料")
        review = State("确认提交")
        submitting = State("正在提交")
        submitted = State("已受理")

    class rating(State.Compound, name="好差评"):
        rate = State("评价", initial=True)
        reasons = State("差评原因")

    thanks = State("感谢")

    # The technicians' side, entered by a hidden gesture on the start (or out-of-service) screen
    # only, never in the middle of a resident's session.
    class maintenance(State.Compound, name="维护"):
        maintenance_login = State("技术人员登录", initial=True)
        maintenance_menu = State("维护菜单")
        maintenance_page = State("维护页面")

    out_of_service = State("暂停服务")

    start = attract.to(identify)
    browse_catalogue = attract.to(browse)
    identity_read = attract.to(identify.verifying) | identify.await_identity.to(identify.verifying)
    identified = identify.verifying.to(guide, cond="has_pending_item") | identify.verifying.to(
        browse
    )
    identity_failed = identify.verifying.to(identify.await_identity)
    pick_category = browse.categories.to(browse.items)
    pick_item = browse.items.to(guide)
    need_identity = guide.to(identify) | lookup_flow.lookup_entry.to(identify)

    prepare_document = guide.to(print_flow.preparing)
    prepared = print_flow.preparing.to(print_flow.preview)
    print_ = (
        guide.to(print_flow.printing, event="print")
        | print_flow.preview.to(print_flow.printing, event="print")
        | lookup_flow.lookup_result.to(print_flow.printing, event="print")
    )
    printed = print_flow.printing.to(rating)
    print_failed = (
        print_flow.printing.to(print_flow.preview, cond="from_preview")
        | print_flow.printing.to(lookup_flow.lookup_result, cond="from_lookup")
        | print_flow.printing.to(guide)
        | print_flow.preparing.to(guide)
    )

    lookup = (
        guide.to(lookup_flow.lookup_entry, cond="lookup_needs_entry")
        | guide.to(lookup_flow.looking_up)
        | lookup_flow.lookup_entry.to(lookup_flow.looking_up)
        | lookup_flow.lookup_result.to(lookup_flow.looking_up)
        | attract.to(lookup_flow.looking_up)
        | identify.await_identity.to(lookup_flow.looking_up)
    )
    looked_up = lookup_flow.looking_up.to(lookup_flow.lookup_result)
    lookup_failed = (
        lookup_flow.looking_up.to(lookup_flow.lookup_entry, cond="has_lookup_entry")
        | lookup_flow.looking_up.to(guide, cond="has_pending_item")
        # a code scanned on the start screen that finds nothing: back there, with the notice
        | lookup_flow.looking_up.to(attract)
    )

    take_ticket = (
        guide.to(ticket_flow.ticketing)
        | attract.to(ticket_flow.ticketing)
        | identify.await_identity.to(ticket_flow.ticketing)
    )
    ticketed = ticket_flow.ticketing.to(ticket_flow.ticket)
    ticket_failed = ticket_flow.ticketing.to(guide, cond="has_pending_item") | (
        ticket_flow.ticketing.to(attract)
    )

    apply = guide.to(apply_flow.loading_form)
    form_loaded = (
        apply_flow.loading_form.to(apply_flow.apply_start, cond="agent_allowed")
        | apply_flow.loading_form.to(apply_flow.face_check, cond="needs_face")
        | apply_flow.loading_form.to(apply_flow.form)
    )
    form_failed = apply_flow.loading_form.to(guide)
    for_self = apply_flow.apply_start.to(
        apply_flow.face_check, cond="needs_face"
    ) | apply_flow.apply_start.to(apply_flow.form)
    for_other = apply_flow.apply_start.to(apply_flow.principal)
    principal_given = apply_flow.principal.to(
        apply_flow.face_check, cond="needs_face"
    ) | apply_flow.principal.to(apply_flow.form)
    face_passed = apply_flow.face_check.to(apply_flow.form)
    edit_field = apply_flow.form.to(apply_flow.editing)
    field_done = apply_flow.editing.to(apply_flow.form)
    form_complete = apply_flow.form.to(
        apply_flow.documents, cond="needs_documents"
    ) | apply_flow.form.to(apply_flow.review)
    documents_complete = apply_flow.documents.to(apply_flow.review)
    edit_application = apply_flow.review.to(apply_flow.form)
    submit_application = apply_flow.review.to(apply_flow.submitting)
    application_sent = apply_flow.submitting.to(apply_flow.submitted)
    submit_failed = apply_flow.submitting.to(apply_flow.review)

    done = (
        guide.to(rating)
        | lookup_flow.lookup_result.to(rating)
        | ticket_flow.ticket.to(rating)
        | apply_flow.submitted.to(rating)
        | apply_flow.face_check.to(rating)  # sent to a window after failed face checks
    )
    ask_reasons = rating.rate.to(rating.reasons)
    rate_ = rating.rate.to(thanks, event="rate") | rating.reasons.to(thanks, event="rate")
    skip_rating = rating.to(thanks)
    finish = thanks.to(attract)

    enter_maintenance = attract.to(maintenance) | out_of_service.to(maintenance)
    technician_in = maintenance.maintenance_login.to(maintenance.maintenance_menu)
    open_page = maintenance.maintenance_menu.to(maintenance.maintenance_page)
    leave_maintenance = maintenance.to(  # type: ignore[operator]
        out_of_service, cond="out_of_service_now"
    ) | maintenance.to(attract)
    # Only between residents: a session under way finishes first, then the kiosk stops.
    suspend_service = attract.to(out_of_service)
    resume_service = out_of_service.to(attract)

    back = (
        identify.await_identity.to(guide, cond="has_pending_item")
        | identify.await_identity.to(attract)
        | browse.categories.to(attract)
        | browse.items.to(browse.categories)
        | guide.to(browse.items, cond="came_browsing")
        | guide.to(attract)
        | print_flow.preview.to(guide)
        | lookup_flow.lookup_entry.to(guide)
        | lookup_flow.lookup_result.to(lookup_flow.lookup_entry, cond="has_lookup_entry")
        | lookup_flow.lookup_result.to(guide)
        | ticket_flow.ticket.to(rating)
        | apply_flow.loading_form.to(guide)
        | apply_flow.apply_start.to(guide)
        | apply_flow.principal.to(apply_flow.apply_start)
        | apply_flow.face_check.to(guide)
        | apply_flow.form.to(guide)
        | apply_flow.editing.to(apply_flow.form)
        | apply_flow.documents.to(apply_flow.form)
        | apply_flow.review.to(apply_flow.documents, cond="needs_documents")
        | apply_flow.review.to(apply_flow.form)
        | apply_flow.submitted.to(rating)
        | rating.reasons.to(rating.rate)
        | rating.rate.to(thanks)
        | thanks.to(attract)
        | maintenance.maintenance_page.to(maintenance.maintenance_menu)
    )
    # Every state but attract, out of service, printing and submitting gives up after inactivity;
    # printing waits
    # for the printer (which has its own timeout) so a page is never orphaned mid-job, and
    # submitting ends by itself once the application is durable and its first delivery is tried.
    timeout = (
        identify.to(attract)  # type: ignore[operator]  # the stubs miss compound states' `|`
        | browse.to(attract)
        | guide.to(attract)
        | print_flow.preparing.to(attract)
        | print_flow.preview.to(attract)
        | lookup_flow.to(attract)
        | ticket_flow.to(attract)
        | apply_flow.loading_form.to(attract)
        | apply_flow.apply_start.to(attract)
        | apply_flow.principal.to(attract)
        | apply_flow.face_check.to(attract)
        | apply_flow.form.to(attract)
        | apply_flow.editing.to(attract)
        | apply_flow.documents.to(attract)
        | apply_flow.review.to(attract)
        | apply_flow.submitted.to(attract)
        | rating.to(attract)
        | thanks.to(attract)
        # a technician who walked away is signed out
        | maintenance.to(out_of_service, cond="out_of_service_now")
        | maintenance.to(attract)
    )
    home = (
        identify.to(attract)  # type: ignore[operator]
        | browse.to(attract)
        | guide.to(attract)
        | print_flow.preparing.to(attract)
        | print_flow.preview.to(attract)
        | lookup_flow.to(attract)
        | ticket_flow.to(attract)
        | apply_flow.to(attract)
        | rating.to(attract)
        | thanks.to(attract)
    )

    def __init__(self, *, guards: Guards | None = None, **kwargs) -> None:
        self._guards = guards or Guards()
        super().__init__(**kwargs)

    # ---- guards (names used in `cond=` above) ----

    def has_pending_item(self) -> bool:
        return bool(self._guards.has_pending_item())

    def from_preview(self) -> bool:
        return bool(self._guards.from_preview())

    def from_lookup(self) -> bool:
        return bool(self._guards.from_lookup())

    def has_lookup_entry(self) -> bool:
        return bool(self._guards.has_lookup_entry())

    def came_browsing(self) -> bool:
        return bool(self._guards.came_browsing())

    def lookup_needs_entry(self) -> bool:
        return bool(self._guards.lookup_needs_entry())

    def agent_allowed(self) -> bool:
        return bool(self._guards.agent_allowed())

    def needs_face(self) -> bool:
        return bool(self._guards.needs_face())

    def needs_documents(self) -> bool:
        return bool(self._guards.needs_documents())

    def out_of_service_now(self) -> bool:
        return bool(self._guards.out_of_service_now())

    @property
    def state_id(self) -> StateId:
        """The active leaf state, e.g. `StateId.GUIDE`."""
        leaves = [s for s in self.configuration if not s.states]
        return StateId(leaves[0].id)


def _walk(states) -> list:
    found = []
    for state in states:
        found.append(state)
        found.extend(_walk(state.states))
    return found


def mermaid() -> str:
    """The machine as a Mermaid state diagram, for docs/machine.md."""
    machine = SessionMachine()
    lines = [
        "# The session state machine",
        "",
        "Generated from `kiosk/machine.py` by `python -m kiosk.machine > docs/machine.md`.",
        "Compound states are the flow kinds; a transition from a compound state applies in",
        "each of its children.",
        "",
        "```mermaid",
        "stateDiagram-v2",
        "    [*] --> attract",
    ]

    def block(state, indent: str) -> None:
        if not state.states:
            return
        lines.append(f"{indent}state {state.id} {{")
        initial = next(s for s in state.states if s.initial)
        lines.append(f"{indent}    [*] --> {initial.id}")
        for child in state.states:
            if child.states:
                block(child, indent + "    ")
            else:
                lines.append(f"{indent}    {child.id}: {child.name}")
        lines.append(f"{indent}}}")

    for state in machine.states:
        block(state, "    ")
    for state in _walk(machine.states):
        for transition in state.transitions:
            if transition.source is not state or transition.is_eventless:
                continue
            event = transition.event.split()[0]
            conds = [str(spec.func) for spec in transition.cond.list]
            cond = f" [{', '.join(conds)}]" if conds else ""
            for target in transition.targets:
                lines.append(f"    {state.id} --> {target.id}: {event}{cond}")
    lines.append("```")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(mermaid(), end="")

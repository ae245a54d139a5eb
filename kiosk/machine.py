"""The session state machine: states, transitions and guards, declared on python-statemachine.

It knows nothing of Kivy, devices or HTTP. The kiosk core (`kiosk.core`) feeds it events and
performs the side effects; screens observe the state through the core's view model.
"""

from __future__ import annotations

from statemachine import State, StateMachine


class SessionMachine(StateMachine):
    """A resident's journey: attract -> identify -> pick an item -> read its guide -> print -> rate."""

    attract = State("待机", initial=True)
    await_card = State("请放身份证")
    identifying = State("核验身份")
    categories = State("选择类别")
    items = State("选择事项")
    guide = State("办事指南")
    printing = State("正在打印")
    rating = State("评价")
    thanks = State("感谢")

    start = attract.to(await_card)
    card_read = attract.to(identifying) | await_card.to(identifying)
    identified = identifying.to(categories)
    identity_failed = identifying.to(await_card)
    pick_category = categories.to(items)
    pick_item = items.to(guide)
    print_certificate = guide.to(printing, cond="item_is_printable")
    printed = printing.to(rating)
    print_failed = printing.to(guide)
    rate = rating.to(thanks)
    skip_rating = rating.to(thanks)
    finish = thanks.to(attract)
    back = (
        await_card.to(attract)
        | categories.to(attract)
        | items.to(categories)
        | guide.to(items)
        | rating.to(thanks)
        | thanks.to(attract)
    )
    # Every state but attract and printing gives up after inactivity; printing waits for the
    # printer (which has its own timeout) so a receipt is never orphaned mid-job.
    timeout = (
        await_card.to(attract)
        | identifying.to(attract)
        | categories.to(attract)
        | items.to(attract)
        | guide.to(attract)
        | rating.to(attract)
        | thanks.to(attract)
    )
    home = (
        await_card.to(attract)
        | identifying.to(attract)
        | categories.to(attract)
        | items.to(attract)
        | guide.to(attract)
        | rating.to(attract)
        | thanks.to(attract)
    )

    def __init__(self, *, item_is_printable=lambda: False, **kwargs) -> None:
        self._item_is_printable = item_is_printable
        super().__init__(**kwargs)

    def item_is_printable(self) -> bool:
        """Guard: printing needs an item whose flow is `print` and a verified resident."""
        return bool(self._item_is_printable())

    @property
    def state_id(self) -> str:
        """The id of the current state, e.g. `guide`."""
        return str(self.current_state_value)


def mermaid() -> str:
    """The machine as a Mermaid state diagram, for docs/machine.md."""
    lines = [
        "# The session state machine",
        "",
        "Generated from `kiosk/machine.py` by `python -m kiosk.machine > docs/machine.md`.",
        "",
        "```mermaid",
        "stateDiagram-v2",
        "    [*] --> attract",
    ]
    for state in SessionMachine().states:
        for transition in state.transitions:
            for target in transition.targets:
                lines.append(f"    {state.id} --> {target.id}: {transition.event}")
    lines.append("```")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(mermaid(), end="")

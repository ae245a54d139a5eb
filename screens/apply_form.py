"""申请表 and what follows it: the form, editing one field, the review, and the receipt.

The form lists its fields (label, what was entered or what is wrong, in red) as big tiles that
open the field; editing shows the keyboard, or the choices of a choice field; the review shows
every answer and photo before 提交; the receipt shows the tracking number large, with its QR
code. Every word comes from the view model.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk.events import Intent
from kiosk.views import Option, ViewModel
from screens import theme
from screens.base import KioskScreen
from screens.camera_screens import ThumbnailStrip
from screens.guide import qr_card, section_card
from screens.keyboard import KeyboardPanel
from screens.kv import load_kv
from screens.routing import option_columns
from screens.widgets import WrapLabel, bind_send, option_button, set_shown


class FieldTile(ButtonBehavior, BoxLayout):
    """One field of the form: its label, its value (or "tap to fill in"), and a problem in red."""

    label = StringProperty("")
    value = StringProperty("")
    problem = StringProperty("")
    filled = BooleanProperty(False)
    intent = ObjectProperty(None, allownone=True)
    arg = ObjectProperty(None, allownone=True)


class ReviewField(BoxLayout):
    """One answer on the review: label above, value below, a problem in red."""

    label = StringProperty("")
    value = StringProperty("")
    problem = StringProperty("")


def field_tile(option: Option, field: Any, send: Any) -> FieldTile:
    """A tile for the form's EDIT_FIELD `option`, showing its `field` (a FieldView, or None)."""
    problem = getattr(field, "problem", "") if field is not None else ""
    value = getattr(field, "value", "") if field is not None else ""
    tile = FieldTile(
        label=option.label,
        value=value or option.sublabel,
        problem=problem,
        filled=bool(value) and not problem,
        intent=option.intent,
        arg=option.arg,
    )
    bind_send(tile, send)
    return tile


class ActionsScreen(KioskScreen):
    """A scrolling body, then the hint and the option buttons kept in view below it."""

    def on_kv_post(self, base_widget: Any) -> None:
        # Strong references (ids are weak proxies): these leave the tree when not needed.
        self._hint_box = self.ids.hint_box.__self__
        self._options = self.ids.options.__self__

    def show_bottom(self, view: ViewModel, options: tuple[Option, ...]) -> None:
        self.ids.hint.text = view.hint
        set_shown(self._hint_box, self.ids.bottom, bool(view.hint), index=1)
        self._options.cols = option_columns(len(options))
        self.buttons(self._options, options, role="tile", size_factor=1.2)
        set_shown(self._options, self.ids.bottom, bool(options))


class FormScreen(ActionsScreen):
    """申请表: a tile per field; touching one opens it for editing."""

    def show(self, view: ViewModel) -> None:
        fields = {f.name: f for f in view.fields}
        body = self.ids.body
        body.clear_widgets()
        edits = tuple(o for o in view.options if o.intent == Intent.EDIT_FIELD)
        for option in edits:
            body.add_widget(field_tile(option, fields.get(option.arg or ""), self.touch))
        self.ids.scroll.scroll_y = 1
        self.show_bottom(view, tuple(o for o in view.options if o.intent != Intent.EDIT_FIELD))


class EditingScreen(KioskScreen):
    """One field: the keyboard for a typed answer, or a big button per choice."""

    def on_kv_post(self, base_widget: Any) -> None:
        self._keyboard = self.ids.keyboard.__self__
        self._choices = self.ids.choices_scroll.__self__
        self._keyboard.send = self.touch

    def show(self, view: ViewModel) -> None:
        self.ids.hint.text = view.hint
        area = self.ids.area
        typing = view.keyboard is not None
        set_shown(self._keyboard, area, typing)
        set_shown(self._choices, area, not typing and bool(view.options))
        if typing:
            self._keyboard.show(view.keyboard, view.language, elder=view.elder)
            return
        choices = self.ids.choices
        choices.clear_widgets()
        for option in view.options:
            # The answer chosen before is the blue one.
            style = "primary" if option.selected else "secondary"
            choices.add_widget(option_button(option, self.touch, style, role="tile"))


class ReviewScreen(ActionsScreen):
    """请核对: who applies, every answer, every photo; 提交 below."""

    def show(self, view: ViewModel) -> None:
        body = self.ids.body
        body.clear_widgets()
        for section in view.sections:
            body.add_widget(section_card(section))
        if view.fields:
            card = AnswersCard()
            for field in view.fields:
                card.add_widget(
                    ReviewField(label=field.label, value=field.value, problem=field.problem)
                )
            body.add_widget(card)
        if view.thumbnails:
            strip = ThumbnailStrip()
            strip.show(view.thumbnails)
            body.add_widget(strip)
        self.ids.scroll.scroll_y = 1
        self.show_bottom(view, view.options)


class AnswersCard(BoxLayout):
    """The answers on a white card."""


def number_lines(text: str) -> str:
    """The tracking line with its number on a line of its own, so the number never breaks."""
    words, _, number = text.rpartition(" ")
    return f"{words}\n{number}" if words and number.isdigit() else text


class SubmittedScreen(ActionsScreen):
    """已受理: the tracking number as large as a queue ticket's, its QR code, what happens next."""

    own_title = True

    def on_kv_post(self, base_widget: Any) -> None:
        super().on_kv_post(base_widget)
        self._title = WrapLabel(role="title", bold=True, halign="center")
        # The tracking number, as large as a queue ticket's: it is what the resident keeps.
        self._number = WrapLabel(role="hero", bold=True, halign="center", color=theme.BLUE_DARK)
        heading = self.ids.heading
        heading.padding = (theme.LAYOUT_SIZES["pad"],) * 4
        heading.add_widget(self._title)
        heading.add_widget(self._number)

    def show(self, view: ViewModel) -> None:
        self._title.text = view.title
        self._number.text = number_lines(view.subtitle)
        body = self.ids.body
        body.clear_widgets()
        if view.qr:
            body.add_widget(qr_card(view.qr, view.qr_caption))
        for section in view.sections:
            body.add_widget(section_card(section))
        self.ids.scroll.scroll_y = 1
        self.show_bottom(view, view.options)


__all__ = [
    "EditingScreen",
    "FormScreen",
    "KeyboardPanel",
    "ReviewScreen",
    "SubmittedScreen",
]

load_kv(__file__)

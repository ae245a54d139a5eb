"""办事指南 and the result screens (preview, lookup result, ticket): readable blocks that scroll,
a QR code to scan, a table of records, and the action buttons in view below.

The same screen serves every state that shows a page of information with actions under it; what
differs is only which parts the view model fills in.
"""

from __future__ import annotations

from kivy.app import App
from kivy.core.window import Window
from kivy.properties import BooleanProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from kiosk.ids import StateId
from kiosk.views import Section, Table, ViewModel
from screens.base import KioskScreen
from screens.kv import load_kv
from screens.qr import qr_texture
from screens.routing import label_weight, option_columns, state_of
from screens.theme import FONT_SIZES
from screens.widgets import WrapLabel, set_shown


class GuideSection(BoxLayout):
    """One heading of the guide and its lines, on a white card."""


class QrCard(BoxLayout):
    """A QR code large enough to scan from a phone held at arm's length, with what it is for."""


class TableCard(BoxLayout):
    """A page of records: column headings on a tinted row, then one row per record."""


class TableRow(BoxLayout):
    """One row of cells, as tall as its tallest cell (long values wrap inside their column)."""

    heading = BooleanProperty(False)
    stripe = BooleanProperty(False)

    def add_cells(self, values: tuple[str, ...], weights: list[float]) -> None:
        for value, weight in zip(values, weights, strict=False):
            # Headings a size down (still 28 px or more), so they fit over columns of figures.
            role = "small" if self.heading else "body"
            cell = TableCell(text=value, bold=self.heading, role=role, size_hint_x=weight)
            cell.bind(height=self._fit)
            self.add_widget(cell)
        self._fit()

    def _fit(self, *_: object) -> None:
        tallest = max((c.height for c in self.children), default=0)
        self.height = tallest + self.padding[1] + self.padding[3]


class TableCell(WrapLabel):
    """One cell of a table row."""


class BigNumber(Label):
    """A queue ticket's number, as large as the calling screen shows it."""


class GuideScreen(KioskScreen):
    """Content scrolls; the hint and the actions (any number of them) stay in view below."""

    def on_kv_post(self, base_widget) -> None:
        # Strong references (ids are weak proxies): these leave the tree when not needed.
        self._hint_box = self.ids.hint_box.__self__
        self._options = self.ids.options.__self__

    def show(self, view: ViewModel) -> None:
        """Render the content blocks and the action area."""
        content = self.ids.sections
        content.clear_widgets()
        state = state_of(view)
        if state == StateId.TICKET:
            content.add_widget(BigNumber(text=view.title))
        qr = qr_card(view.qr, view.qr_caption) if view.qr else None
        # On a guide the QR code (the guide on a phone) comes first, to take away at once; on a
        # certificate's preview it follows the certificate, as it is printed.
        if qr is not None and state == StateId.GUIDE:
            content.add_widget(qr)
        if view.table is not None:
            if table_fits(view.table, content.width, view.large_text):
                content.add_widget(table_card(view.table))
            else:
                # Too wide to read as columns (large text): one card per record, "heading: value".
                for card in record_cards(view.table):
                    content.add_widget(card)
        for section in view.sections:
            content.add_widget(section_card(section))
        if qr is not None and qr.parent is None:
            content.add_widget(qr)
        self.ids.scroll.scroll_y = 1
        self.ids.hint.text = view.hint
        set_shown(self._hint_box, self.ids.bottom, bool(view.hint))
        self._options.cols = option_columns(len(view.options))
        self.buttons(self._options, view.options, role="tile", size_factor=1.2)
        set_shown(self._options, self.ids.bottom, bool(view.options))


def section_card(section: Section) -> GuideSection:
    """A white card with a heading and its lines (also used by the identify screen)."""
    block = GuideSection()
    block.ids.heading.text = section.heading
    block.ids.lines.text = "\n".join(section.lines)
    return block


def qr_card(data: str, caption: str) -> QrCard:
    card = QrCard()
    card.ids.image.texture = qr_texture(data)
    card.ids.caption.text = caption
    return card


def column_weights(table: Table) -> list[float]:
    """Each column's share of the width, from its longest text (clamped, so none is starved)."""
    weights = []
    for i, heading in enumerate(table.columns):
        values = [heading, *(row[i] for row in table.rows if i < len(row))]
        weights.append(max(label_weight(v) for v in values))
    widest = max(weights, default=1.0)
    return [max(w, widest / 3) for w in weights]


def table_fits(table: Table, width: float, large_text: bool) -> bool:
    """Whether the table's columns fit side by side without breaking their values."""
    app = App.get_running_app()
    font_px = FONT_SIZES["body"] * getattr(app, "text_scale", 1.0)
    values = [
        max((label_weight(row[i]) for row in table.rows if i < len(row)), default=2.0)
        for i in range(len(table.columns))
    ]
    usable = (width or Window.width) - 4 * getattr(app, "pad", 36)
    return not large_text or sum(values) * font_px <= usable


def record_cards(table: Table) -> list[GuideSection]:
    """Each record as a card: the first column as its heading, the others as "heading: value"."""
    cards = [
        section_card(
            Section(
                f"{table.columns[0]}: {row[0]}" if row else "",
                tuple(f"{c}: {v}" for c, v in zip(table.columns[1:], row[1:], strict=False)),
            )
        )
        for row in table.rows
    ]
    if table.caption:
        cards.append(section_card(Section(table.caption, ())))
    return cards


def table_card(table: Table) -> TableCard:
    card = TableCard()
    rows = card.ids.rows
    weights = column_weights(table)
    head = TableRow(heading=True)
    head.add_cells(table.columns, weights)
    rows.add_widget(head)
    for i, values in enumerate(table.rows):
        row = TableRow(stripe=i % 2 == 1)
        row.add_cells(values, weights)
        rows.add_widget(row)
    card.ids.caption.text = table.caption
    return card


load_kv(__file__)

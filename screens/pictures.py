"""Drawn pictures: an ID card on a reader, rating faces, a tick. Shapes, not emoji or icon fonts,
so they show whatever fonts are installed."""

from __future__ import annotations

from kivy.animation import Animation
from kivy.graphics import Color, Ellipse, Line, RoundedRectangle, Triangle
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.widget import Widget

from screens import theme

# Mouth curvature per rating level: a broad smile (5) to a frown (1).
_SMILE = {"5": 1.0, "4": 0.55, "3": 0.0, "2": -0.55, "1": -1.0}


class CardOnReader(Widget):
    """An ID card lowering onto a reader: what "place your card" means, without words."""

    lift = NumericProperty(1.0)  # 1: card held above the reader, 0: card resting on it
    _anim = None

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.bind(pos=self._draw, size=self._draw, lift=self._draw)

    def start(self) -> None:
        """Animate the card down onto the reader, over and over."""
        if self._anim is None:
            self._anim = (
                Animation(lift=0.0, duration=1.2, t="in_out_quad")
                + Animation(lift=0.0, duration=0.8)
                + Animation(lift=1.0, duration=0.01)
                + Animation(lift=1.0, duration=0.6)
            )
            self._anim.repeat = True
            self._anim.start(self)

    def stop(self) -> None:
        """Stop animating and rest the picture at its most telling pose (card above reader)."""
        if self._anim is not None:
            self._anim.cancel(self)
            self._anim = None
        self.lift = 1.0

    def _draw(self, *_: object) -> None:
        self.canvas.clear()
        w, h = self.width, self.height
        unit = min(w / 10, h / 9)
        cx = self.center_x
        # The drawing is 8.1 units tall with the card lifted; centre that in the widget.
        base_y = self.y + (h - unit * 8.1) / 2
        with self.canvas:
            # The reader: a dark slab with a pale sensing pad.
            Color(*theme.rgba("#2E3440"))
            RoundedRectangle(
                pos=(cx - unit * 4.5, base_y), size=(unit * 9, unit * 2.2), radius=[unit * 0.4]
            )
            Color(*theme.rgba("#5E81AC"))
            RoundedRectangle(
                pos=(cx - unit * 3.2, base_y + unit * 1.2),
                size=(unit * 6.4, unit * 0.6),
                radius=[unit * 0.2],
            )
            # The card, on its way down.
            card_w, card_h = unit * 5.6, unit * 3.5
            card_y = base_y + unit * 2.0 + self.lift * unit * 2.6
            card_x = cx - card_w / 2
            Color(*theme.rgba("#0B4EA2", 0.35))
            RoundedRectangle(
                pos=(card_x + unit * 0.15, card_y - unit * 0.15),
                size=(card_w, card_h),
                radius=[unit * 0.3],
            )
            Color(*theme.rgba("#DCE9F7"))
            RoundedRectangle(pos=(card_x, card_y), size=(card_w, card_h), radius=[unit * 0.3])
            Color(*theme.rgba("#0B4EA2"))
            Line(
                rounded_rectangle=(card_x, card_y, card_w, card_h, unit * 0.3),
                width=max(2, unit * 0.06),
            )
            # Photo on the right, text lines on the left, as on the card's portrait side.
            Color(*theme.rgba("#9AA5B1"))
            RoundedRectangle(
                pos=(card_x + card_w - unit * 1.9, card_y + unit * 0.6),
                size=(unit * 1.4, unit * 1.9),
                radius=[unit * 0.1],
            )
            Color(*theme.rgba("#7B8794"))
            for i, length in enumerate((2.6, 2.0, 3.0, 2.4)):
                y = card_y + card_h - unit * (0.8 + i * 0.65)
                RoundedRectangle(
                    pos=(card_x + unit * 0.5, y),
                    size=(unit * length, unit * 0.25),
                    radius=[unit * 0.1],
                )
            # An arrow beside the card pointing down at the reader.
            if self.lift > 0.2:
                Color(*theme.BLUE)
                ax = cx + card_w / 2 + unit * 0.9
                top = card_y + card_h * 0.8
                bottom = base_y + unit * 2.6
                Line(points=[ax, top, ax, bottom + unit * 0.5], width=max(3, unit * 0.12))
                Triangle(
                    points=[
                        ax - unit * 0.5,
                        bottom + unit * 0.6,
                        ax + unit * 0.5,
                        bottom + unit * 0.6,
                        ax,
                        bottom,
                    ]
                )


class RatingFace(Widget):
    """A white face on the rating colour: smiling for 满意, frowning for 不满意."""

    level = StringProperty("3")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.bind(pos=self._draw, size=self._draw, level=self._draw)

    def _draw(self, *_: object) -> None:
        self.canvas.clear()
        r = min(self.width, self.height) / 2
        cx, cy = self.center
        colour = theme.RATING_COLOURS.get(self.level, theme.BLUE)
        smile = _SMILE.get(self.level, 0.0)
        with self.canvas:
            Color(*theme.SURFACE)
            Ellipse(pos=(cx - r, cy - r), size=(2 * r, 2 * r))
            Color(*colour)
            eye = r * 0.14
            for dx in (-0.36, 0.36):
                Ellipse(pos=(cx + dx * r - eye, cy + 0.22 * r - eye), size=(2 * eye, 2 * eye))
            # A quadratic curve through three points; the middle one sets smile or frown.
            mouth_y = cy - 0.32 * r
            mid_y = mouth_y - smile * 0.28 * r
            Line(
                bezier=[cx - 0.45 * r, mouth_y, cx, 2 * mid_y - mouth_y, cx + 0.45 * r, mouth_y],
                width=max(2.0, r * 0.09),
                cap="round",
            )


class Tick(Widget):
    """A green disc with a white tick: done."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.bind(pos=self._draw, size=self._draw)

    def _draw(self, *_: object) -> None:
        self.canvas.clear()
        r = min(self.width, self.height) / 2
        cx, cy = self.center
        with self.canvas:
            Color(*theme.RATING_COLOURS["5"])
            Ellipse(pos=(cx - r, cy - r), size=(2 * r, 2 * r))
            Color(*theme.SURFACE)
            Line(
                points=[
                    cx - 0.45 * r,
                    cy,
                    cx - 0.12 * r,
                    cy - 0.33 * r,
                    cx + 0.48 * r,
                    cy + 0.32 * r,
                ],
                width=max(3.0, r * 0.11),
                cap="round",
                joint="round",
            )

"""What the screens decide without Kivy: which screen, when to warn, how big. No display needed."""

from __future__ import annotations

import pytest

from kiosk.events import Intent
from kiosk.views import Option, ViewModel
from screens import routing, theme


def view(state: str, **kwargs) -> ViewModel:
    return ViewModel(state=state, title="t", **kwargs)


@pytest.mark.parametrize(
    ("state", "screen"),
    [
        ("attract", "attract"),
        ("await_card", "await_card"),
        ("identifying", "busy"),
        ("categories", "menu"),
        ("items", "menu"),
        ("guide", "guide"),
        ("printing", "busy"),
        ("rating", "rating"),
        ("thanks", "thanks"),
        ("a_state_added_later", "busy"),
    ],
)
def test_every_state_has_a_screen(state, screen):
    assert routing.screen_for(view(state)) == screen


def test_a_busy_view_shows_the_busy_screen_whatever_the_state():
    """The guide while it loads, or the categories before the catalogue arrives."""
    assert routing.screen_for(view("guide", busy=True)) == "busy"


def test_countdown_overlay_only_where_it_warns():
    assert routing.wants_overlay(view("guide", seconds_left=10))
    assert not routing.wants_overlay(view("guide"))
    assert not routing.wants_overlay(view("thanks", seconds_left=5))  # shown in the content


def test_more_time_label_follows_the_language():
    assert routing.more_time_label(view("guide", language="zh_CN")) == "继续办理"
    assert routing.more_time_label(view("guide", language="en")) == "More time"


def test_a_clock_tick_is_not_a_content_change():
    a = view("guide", seconds_left=10, countdown_text="10 秒后返回首页")
    b = view("guide", seconds_left=9, countdown_text="9 秒后返回首页")
    assert routing.content_of(a) == routing.content_of(b)
    assert routing.content_of(a) != routing.content_of(view("guide", notice="x"))


def test_footer_widths_follow_label_length():
    weights = [
        routing.label_weight(o.label)
        for o in (
            Option(Intent.BACK, "返回"),
            Option(Intent.TOGGLE_LARGE_TEXT, "标准字号"),
            Option(Intent.TOGGLE_LANGUAGE, "English"),
        )
    ]
    assert weights[0] < weights[2] < weights[1]


def test_large_text_is_at_least_a_third_larger_and_body_text_never_below_28px():
    normal = theme.text_scale(1080, 1920, large_text=False)
    large = theme.text_scale(1080, 1920, large_text=True)
    assert large / normal >= 1.35
    assert min(theme.FONT_SIZES.values()) * normal >= 28


def test_touch_targets_are_at_least_120px_on_the_kiosk_screen():
    for large_text in (False, True):
        sizes = theme.layout_sizes(1080, 1920, large_text)
        assert sizes["touch_h"] >= 120 and sizes["tile_h"] >= 120

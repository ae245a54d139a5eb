"""What the screens decide without Kivy: which screen, when to warn, how big. No display needed."""

from __future__ import annotations

import pytest

from kiosk.events import Intent
from kiosk.ids import StateId
from kiosk.views import Option, ViewModel
from screens import routing, theme


def view(state: str, **kwargs) -> ViewModel:
    return ViewModel(state=state, title="t", **kwargs)


@pytest.mark.parametrize(
    ("state", "screen"),
    [
        (StateId.ATTRACT, "attract"),
        (StateId.AWAIT_IDENTITY, "await_card"),
        (StateId.VERIFYING, "busy"),
        (StateId.CATEGORIES, "menu"),
        (StateId.ITEMS, "menu"),
        (StateId.GUIDE, "guide"),
        (StateId.PREPARING, "busy"),
        (StateId.PREVIEW, "guide"),
        (StateId.PRINTING, "busy"),
        (StateId.LOOKUP_ENTRY, "pad"),
        (StateId.LOOKING_UP, "busy"),
        (StateId.LOOKUP_RESULT, "guide"),
        (StateId.TICKETING, "busy"),
        (StateId.TICKET, "guide"),
        (StateId.RATE, "rating"),
        (StateId.REASONS, "menu"),
        (StateId.THANKS, "thanks"),
        ("a_state_added_later", "busy"),
    ],
)
def test_every_state_has_a_screen(state, screen):
    assert routing.screen_for(view(state)) == screen


def test_every_leaf_state_of_the_machine_is_routed():
    """A state added to the statechart without a screen fails here, not on a kiosk."""
    assert set(routing.STATE_SCREENS) == set(StateId)


def test_reasons_and_categories_in_two_columns_items_and_large_text_in_one():
    assert routing.menu_columns(view(StateId.CATEGORIES)) == 2
    assert routing.menu_columns(view(StateId.REASONS)) == 2
    assert routing.menu_columns(view(StateId.ITEMS)) == 1
    assert routing.menu_columns(view(StateId.REASONS, large_text=True)) == 1


def test_a_lone_action_spans_the_width_more_go_in_pairs():
    assert [routing.option_columns(n) for n in (1, 2, 4)] == [1, 2, 2]


def test_cjk_text_wraps_between_characters_not_only_at_spaces():
    from screens.widgets import cjk_breaks

    assert cjk_breaks("1. 在本市参加") == "1.\u00a0在本市参加"
    assert cjk_breaks("1. Bring your ID card") == "1. Bring your ID card"


def test_a_busy_view_shows_the_busy_screen_whatever_the_state():
    """The guide while it loads, or the categories before the catalogue arrives."""
    assert routing.screen_for(view(StateId.GUIDE, busy=True)) == "busy"


def test_countdown_overlay_only_where_it_warns():
    assert routing.wants_overlay(view("guide", seconds_left=10))
    assert not routing.wants_overlay(view("guide"))
    assert not routing.wants_overlay(view(StateId.THANKS, seconds_left=5))
    assert not routing.wants_overlay(view(StateId.ATTRACT, seconds_left=5))  # shown in the content


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


def test_footer_takes_two_rows_only_when_the_labels_do_not_fit():
    actions = (
        Option(Intent.LOOKUP_BY_IDENTITY, "核验身份查我的办件"),
        Option(Intent.BACK, "返回"),
        Option(Intent.TOGGLE_LARGE_TEXT, "大字模式"),
        Option(Intent.TOGGLE_LANGUAGE, "English"),
    )
    assert routing.footer_rows(actions, lambda labels: True) == [actions]
    rows = routing.footer_rows(actions, lambda labels: False)
    assert rows == [actions[:2], actions[2:]]
    labels = [o.label for o in actions]
    assert not routing.footer_fits(labels, width=912, font_px=38)
    assert routing.footer_fits(labels[1:], width=912, font_px=38)

"""The reasons a resident may give for a 差评 (levels 1 and 2 of the five 好差评 levels).

Source: 国务院办公厅《关于建立政务服务“好差评”制度提高政务服务水平的意见》(国办发〔2019〕51号)
asks that a 差评 say what was wrong; the national 评价内容 for offline channels (服务效率, 服务水平,
服务态度, 办事指南精确度, 办事便捷度) is not published as a closed list we could find, so this is the
typical reason list of the kiosk brief, grouped under those indicators. The codes are what kiosks
send; the labels are what they may show.
"""

from __future__ import annotations

from typing import NamedTuple


class Reason(NamedTuple):
    """One 差评 reason: stable code, Chinese label, English label."""

    code: str
    label: str
    label_en: str


RATING_REASONS: tuple[Reason, ...] = (
    Reason(
        "guide_unclear", "办事指南不准确、不清晰", "The service guide was inaccurate or unclear"
    ),
    Reason("too_many_trips", "多次跑动", "Had to come more than once"),
    Reason("long_wait", "等候时间长", "Long waiting time"),
    Reason("attitude", "服务态度差", "Poor service attitude"),
    Reason("hard_to_use", "系统操作复杂", "The system was hard to use"),
    Reason("overdue", "办理时限超时", "Not done within the promised time"),
    Reason("needless_materials", "要求提供不必要材料", "Unnecessary documents were required"),
    Reason("other", "其他", "Other"),
)
REASON_CODES: frozenset[str] = frozenset(reason.code for reason in RATING_REASONS)
# Only 差评 (不满意, 非常不满意) carry reasons.
LEVELS_WITH_REASONS: frozenset[int] = frozenset({1, 2})

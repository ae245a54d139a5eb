"""guide: the 办事指南 to take away — the 申报材料 checklist on the receipt printer (一次性告知)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drivers.printer import Cut, Feed, Qr, Receipt, Text
from kiosk.flows.receipts import print_or_explain


@dataclass(frozen=True)
class ChecklistJob:
    """What the checklist needs, captured on the machine's thread (public data only)."""

    item: Any
    site_name: str
    kiosk_id: str
    now: datetime


def build_checklist(job: ChecklistJob) -> Receipt:
    """申报材料 one per line with copies and notes, then where and whom to ask, and the QR code
    that opens the same guide on a phone."""
    item = job.item
    elements: list[Any] = [
        Text(job.site_name, align="center"),
        Text("办事指南 · 一次性告知", bold=True, align="center"),
        Text(item.name, bold=True, double=True, align="center"),
        Text(item.department, align="center"),
        Feed(1),
        Text("【申报材料】", bold=True),
    ]
    for i, material in enumerate(item.materials, 1):
        line = f"□ {i}. {material.name}"
        if material.copies:
            line += f" ×{material.copies}"
        elements.append(Text(line))
        if material.note:
            elements.append(Text(f"    {material.note}"))
    if not item.materials:
        elements.append(Text("无需提交材料"))
    elements += [
        Feed(1),
        Text(f"【承诺时限】{item.time_limit}"),
        Text(f"【收费标准】{item.fees}"),
        Text(f"【办理地点】{item.location}"),
        Text(f"【咨询电话】{item.phone}"),
    ]
    guide_url = getattr(item, "guide_url", None)
    if guide_url:
        elements += [
            Feed(1),
            Text("手机扫码查看完整办事指南", align="center"),
            Qr(guide_url, size=6),
        ]
    elements += [
        Text(f"终端: {job.kiosk_id}  {job.now:%Y-%m-%d %H:%M}", align="center"),
        Feed(3),
        Cut(),
    ]
    return Receipt(tuple(elements))


def print_checklist(printer: Any, job: ChecklistJob) -> None:
    print_or_explain(printer, build_checklist(job))

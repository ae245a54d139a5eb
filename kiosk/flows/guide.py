"""guide: the 办事指南 to take away — the 申报材料 checklist on the receipt printer (一次性告知)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drivers.printer import Cut, Feed, Qr, Receipt, Text
from kiosk.flows.receipts import print_or_explain
from kiosk.i18n import translator


@dataclass(frozen=True)
class ChecklistJob:
    """What the checklist needs, captured on the machine's thread (public data only)."""

    item: Any
    site_name: str
    kiosk_id: str
    now: datetime
    language: str = "zh_CN"


def build_checklist(job: ChecklistJob) -> Receipt:
    """申报材料 one per line with copies and notes, then where and whom to ask, and the QR code
    that opens the same guide on a phone; in the resident's language where the data has it."""
    _ = translator(job.language)
    item = job.item
    english = job.language == "en" and getattr(item, "guide_en", None) is not None
    guide = item.guide_en if english else item
    name = (item.name_en or item.name) if english else item.name
    department = (
        (getattr(item, "department_en", "") or item.department) if english else (item.department)
    )
    elements: list[Any] = [
        Text(job.site_name, align="center"),
        Text(_("Service guide · everything you need, in one go"), bold=True, align="center"),
        Text(name, bold=True, double=True, align="center"),
        Text(department, align="center"),
        Feed(1),
        Text(_("[Documents to bring]"), bold=True),
    ]
    copies_of = {m.name: m.copies for m in item.materials}
    for i, material in enumerate(guide.materials, 1):
        line = f"□ {i}. {material.name}"
        copies = getattr(material, "copies", None) or copies_of.get(material.name)
        if copies is None and english and i <= len(item.materials):
            copies = item.materials[i - 1].copies
        if copies:
            line += f" ×{copies}"
        elements.append(Text(line))
        if material.note:
            elements.append(Text(f"    {material.note}"))
    if not guide.materials:
        elements.append(Text(_("No documents needed")))
    elements += [
        Feed(1),
        Text(_("[Time limit] {value}").format(value=guide.time_limit)),
        Text(_("[Fees] {value}").format(value=guide.fees)),
        Text(_("[Where] {value}").format(value=guide.location)),
        Text(_("[Enquiries] {value}").format(value=guide.phone)),
    ]
    guide_url = getattr(item, "guide_url", None)
    if guide_url:
        if english:
            guide_url += ("&" if "?" in guide_url else "?") + "lang=en"
        elements += [
            Feed(1),
            Text(_("Scan to read the whole guide on your phone"), align="center"),
            Qr(guide_url, size=6),
        ]
    elements += [
        Text(
            _("Kiosk: {kiosk}  {time}").format(
                kiosk=job.kiosk_id, time=f"{job.now:%Y-%m-%d %H:%M}"
            ),
            align="center",
        ),
        Feed(3),
        Cut(),
    ]
    return Receipt(tuple(elements))


def print_checklist(printer: Any, job: ChecklistJob) -> None:
    print_or_explain(printer, build_checklist(job))

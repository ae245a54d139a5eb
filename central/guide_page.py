"""The 办事指南 as a small HTML page a resident opens on a phone by scanning the kiosk's QR code.

No JavaScript, one column, large type, readable at 360 px; Chinese by default and English with
`?lang=en` (the catalogue's `guide_en` where it has one, the Chinese text otherwise). Every value
goes through `html.escape`.
"""

from __future__ import annotations

from html import escape
from typing import Any, Literal
from urllib.parse import quote

from central.models import Guide, ItemDetail

Lang = Literal["zh", "en"]

_LABELS: dict[Lang, dict[str, str]] = {
    "zh": {
        "title": "办事指南",
        "department": "实施主体",
        "conditions": "受理条件",
        "materials": "申报材料",
        "steps": "办理流程",
        "time_limit": "承诺时限",
        "fees": "收费标准",
        "legal_basis": "法定依据",
        "location": "办理地点",
        "phone": "咨询电话",
        "copies": "{n}份",
        "shown": "出示原件",
        "switch": "English",
        "checklist": "可逐项勾选，核对是否带齐",
    },
    "en": {
        "title": "Service guide",
        "department": "Department",
        "conditions": "Who can apply",
        "materials": "Documents to bring",
        "steps": "Steps",
        "time_limit": "Time limit",
        "fees": "Fees",
        "legal_basis": "Legal basis",
        "location": "Where",
        "phone": "Enquiries",
        "copies": "{n} cop{plural}",
        "shown": "show the original",
        "switch": "中文",
        "checklist": "Tick each one off as you pack it",
    },
}

_STYLE = """
body{margin:0;padding:16px;font:18px/1.6 system-ui,"Noto Sans CJK SC",sans-serif;color:#111;
background:#fff;overflow-wrap:anywhere}
main{max-width:40em;margin:0 auto}
h1{font-size:1.4em;line-height:1.3;margin:.2em 0}
h2{font-size:1.1em;margin:1.2em 0 .3em;border-left:4px solid #b00;padding-left:8px}
.dept{color:#444;margin:0}
.lang{float:right;font-size:.9em;padding:4px 10px;border:1px solid #888;border-radius:6px}
ul,ol{padding-left:1.3em;margin:.2em 0}
li{margin:.25em 0}
ul.check{list-style:none;padding-left:0}
ul.check label{display:flex;gap:10px;align-items:flex-start}
ul.check input{width:24px;height:24px;flex:none;margin-top:3px}
.note{display:block;color:#555;font-size:.9em}
a{color:#05c}
"""


def guide_url(base_url: str, item_code: str) -> str:
    """Absolute URL of an item's guide page."""
    return f"{base_url.rstrip('/')}/guides/{quote(item_code, safe='')}"


def with_guide_url(detail: ItemDetail, base_url: str) -> ItemDetail:
    """The item detail with its `guide_url` filled in."""
    return detail.model_copy(update={"guide_url": guide_url(base_url, detail.code)})


def english_guide(detail: ItemDetail, extra: dict[str, Any] | None) -> Guide:
    """The guide in English, field by field where available, else the Chinese text."""
    own = getattr(detail, "guide_en", None)
    if isinstance(own, Guide):
        return own
    merged = detail.guide.model_dump()
    for key, value in (extra or {}).items():
        if key in merged and value:
            merged[key] = value
    try:
        return Guide.model_validate(merged)
    except ValueError:
        return detail.guide


def _list(tag: str, entries: list[str]) -> str:
    items = "".join(f"<li>{escape(entry)}</li>" for entry in entries)
    return f"<{tag}>{items}</{tag}>"


def _materials(guide: Guide, labels: dict[str, str]) -> str:
    rows = []
    for number, material in enumerate(guide.materials):
        if material.copies:
            count = labels["copies"].format(
                n=material.copies, plural="y" if material.copies == 1 else "ies"
            )
        else:
            count = labels["shown"]
        note = f"{count}; {material.note}" if material.note else count
        rows.append(
            f'<li><label><input type="checkbox" name="m{number}" />'
            f"<span>{escape(material.name)}"
            f'<span class="note">{escape(note)}</span></span></label></li>'
        )
    return (
        f'<p class="note">{escape(labels["checklist"])}</p>'
        f'<form><ul class="check">{"".join(rows)}</ul></form>'
    )


def render(detail: ItemDetail, lang: Lang, guide_en: dict[str, Any] | None = None) -> str:
    """The whole page for one item."""
    labels = _LABELS[lang]
    guide = english_guide(detail, guide_en) if lang == "en" else detail.guide
    name = detail.name_en if lang == "en" else detail.name
    department = getattr(detail, "department_en", None) if lang == "en" else None
    other = "en" if lang == "zh" else "zh"
    sections = [
        ("conditions", _list("ul", guide.conditions)),
        ("materials", _materials(guide, labels)),
        ("steps", _list("ol", guide.steps)),
        ("time_limit", f"<p>{escape(guide.time_limit)}</p>"),
        ("fees", f"<p>{escape(guide.fees)}</p>"),
        ("legal_basis", _list("ul", guide.legal_basis)),
        ("location", f"<p>{escape(guide.location)}</p>"),
        (
            "phone",
            f'<p><a href="tel:{escape(guide.phone, quote=True)}">{escape(guide.phone)}</a></p>',
        ),
    ]
    body = "".join(
        f'<section id="{key}"><h2>{escape(labels[key])}</h2>{html}</section>'
        for key, html in sections
    )
    html_lang = "zh-Hans" if lang == "zh" else "en"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{html_lang}"><head><meta charset="utf-8" />'
        '<meta name="viewport" content="width=device-width, initial-scale=1" />'
        f"<title>{escape(name)} - {escape(labels['title'])}</title>"
        f"<style>{_STYLE}</style></head><body><main>"
        f'<a class="lang" href="?lang={other}" hreflang="{other}">{escape(labels["switch"])}</a>'
        f'<p class="dept">{escape(labels["title"])}</p>'
        f"<h1>{escape(name)}</h1>"
        f'<p class="dept">{escape(labels["department"])}: '
        f"{escape(department or detail.department)}</p>"
        f"{body}</main></body></html>\n"
    )


def not_found(lang: Lang) -> str:
    """A small page for an unknown item code."""
    text = "未找到该事项的办事指南" if lang == "zh" else "No guide for this item"
    return (
        "<!DOCTYPE html>\n"
        '<html><head><meta charset="utf-8" />'
        '<meta name="viewport" content="width=device-width, initial-scale=1" />'
        f"<title>{text}</title></head><body><p>{text}</p></body></html>\n"
    )

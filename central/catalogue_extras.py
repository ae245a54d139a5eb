"""Optional per-item fields of catalogue.json that the core seed loader does not keep.

`queue` (which window queue a ticket item belongs to), `guide_en` (the 办事指南 in English) and
`prints` are read straight from the seed file, leniently: a missing or malformed value is simply
absent, so queues and the guide page work both before and after the catalogue gains them.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from central.seed import CATALOGUE_FILE

log = logging.getLogger(__name__)

_QUEUE_CODE = re.compile(r"^[A-Z]$")


@dataclass(frozen=True)
class QueueSpec:
    """A window queue as the catalogue names it: one letter, then its names."""

    code: str
    name: str
    name_en: str
    avg_minutes: int | None = None


@dataclass(frozen=True)
class ItemExtras:
    """What catalogue.json says about an item beyond the core fields."""

    category: str
    queue: QueueSpec | None = None
    guide_en: dict[str, Any] | None = None
    prints: str | None = None


def parse_queue(value: Any, item_code: str) -> QueueSpec | None:
    """A queue given as `{code, name, name_en}`, or None when absent or malformed."""
    if value is None:
        return None
    if not isinstance(value, dict):
        log.warning("catalogue: item %s has a malformed queue; deriving one", item_code)
        return None
    code, name, name_en = value.get("code"), value.get("name"), value.get("name_en")
    avg = value.get("avg_minutes")
    if not (isinstance(code, str) and _QUEUE_CODE.match(code) and isinstance(name, str) and name):
        log.warning("catalogue: item %s has a malformed queue; deriving one", item_code)
        return None
    return QueueSpec(
        code=code,
        name=name,
        name_en=name_en if isinstance(name_en, str) and name_en else name,
        avg_minutes=avg if isinstance(avg, int) and not isinstance(avg, bool) and avg > 0 else None,
    )


def read_extras(path: Path = CATALOGUE_FILE) -> dict[str, ItemExtras]:
    """Extras of every item in the catalogue file, by item code (empty if the file is unreadable;
    the core seed loader reports that itself)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    extras: dict[str, ItemExtras] = {}
    for category in data.get("categories", []) if isinstance(data, dict) else []:
        if not isinstance(category, dict):
            continue
        for item in category.get("items", []):
            if not isinstance(item, dict) or not isinstance(item.get("code"), str):
                continue
            guide_en = item.get("guide_en")
            prints = item.get("prints")
            extras[item["code"]] = ItemExtras(
                category=str(category.get("code", "")),
                queue=parse_queue(item.get("queue"), item["code"]),
                guide_en=guide_en if isinstance(guide_en, dict) else None,
                prints=prints if prints in ("none", "receipt", "a4") else None,
            )
    return extras

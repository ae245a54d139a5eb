"""The catalogue and guides as the core uses them offline: typed models over the disk cache.

`kiosk.catalogue_cache` keeps the service's JSON; this turns it back into the client's models,
so a kiosk booted while the central service is down serves guides from its last good copy.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from pydantic import ValidationError

from kiosk.central import Catalogue, ItemDetail

log = logging.getLogger(__name__)


class OfflineCatalogue:
    """Remember what the service sent; give it back as models when the service is away."""

    def __init__(self, cache: Any) -> None:
        self._cache = cache

    def remember_catalogue(self, catalogue: Catalogue) -> None:
        self._save(
            lambda: self._cache.save_catalogue(
                f'"{catalogue.version}"', catalogue.model_dump(mode="json")
            )
        )

    def remember_item(self, item: ItemDetail) -> None:
        self._save(lambda: self._cache.save_item(item.code, "", item.model_dump(mode="json")))

    def remember_form(self, code: str, form: Any) -> None:
        self._save(lambda: self._cache.save_form(code, form.model_dump(mode="json")))

    def load_form(self, code: str) -> Any:
        from kiosk.central_apply import ApplicationForm

        found = self._cache.load_form(code)
        return None if found is None else self._parse(ApplicationForm, found[1])

    def load_catalogue_model(self) -> Catalogue | None:
        found = self._cache.load_catalogue()
        return None if found is None else self._parse(Catalogue, found[1])

    def load_item_detail(self, code: str) -> ItemDetail | None:
        found = self._cache.load_item(code)
        return None if found is None else self._parse(ItemDetail, found[1])

    @staticmethod
    def _parse(model: Any, body: dict[str, Any]) -> Any:
        try:
            return model.model_validate_json(json.dumps(body, ensure_ascii=False))
        except ValidationError:
            log.warning("cached %s no longer parses; ignored", model.__name__)
            return None

    @staticmethod
    def _save(write: Any) -> None:
        try:
            write()
        except Exception as exc:  # a full disk must not stop a resident's journey
            log.warning("catalogue cache not written: %s", type(exc).__name__)

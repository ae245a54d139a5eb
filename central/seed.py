"""Seed data: the service catalogue and the reference registry, loaded into the database.

Loading is idempotent: the catalogue tables are made equal to the seed file (rows added, updated,
removed), persons are upserted by their registry number. Run it on every start.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from central import certificates
from central.db import CategoryRow, ItemRow, PersonRow, id_hash_key
from central.idnumber import keyed_hash, registry_key
from central.models import (
    ITEM_CODE_PATTERN,
    Flow,
    Guide,
    IdentityNeed,
    LookupKind,
    Prints,
    Queue,
    SampleForm,
)
from central.person_cards import sync_person_cards
from central.records import PersonSeed
from rules.idnumbers import has_valid_check_digit_for
from rules.masking import mask_id_number

log = logging.getLogger(__name__)

SEED_DIR = Path(__file__).with_name("seed")
CATALOGUE_FILE = SEED_DIR / "catalogue.json"
PERSONS_FILE = SEED_DIR / "persons.json"

# Han characters, CJK and full-width punctuation: none belongs in English text, except inside a
# parenthesised Chinese title kept where no official English name exists, e.g. "(《...》)".
CJK = re.compile(
    r"[\u2e80-\u2fff\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
    r"\U00020000-\U0003ffff]"
)
CHINESE_TITLE = re.compile(r"\(《[^()]*?》\)")


def stray_cjk(text: str) -> str:
    """The CJK characters in English `text` outside parenthesised Chinese titles ("" if none)."""
    return "".join(CJK.findall(CHINESE_TITLE.sub("", text)))


def _english_texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, dict):
        return [text for entry in value.values() for text in _english_texts(entry)]
    if isinstance(value, list):
        return [text for entry in value for text in _english_texts(entry)]
    return []


class SeedError(ValueError):
    """A seed file that cannot be loaded; the message names the file and what is wrong."""


class _Seed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CertificateSeed(_Seed):
    """Which certificate a print item issues."""

    kind: str
    title: str = Field(min_length=1)

    @model_validator(mode="after")
    def _known_kind(self) -> CertificateSeed:
        if self.kind not in certificates.BUILDERS:
            raise ValueError(f"unknown certificate kind {self.kind!r}")
        return self


class ItemSeed(_Seed):
    """An item as written in catalogue.json."""

    code: str = Field(pattern=ITEM_CODE_PATTERN)
    name: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    flow: Flow
    identity: IdentityNeed
    department: str = Field(min_length=1)
    department_en: str = Field(min_length=1)
    prints: Prints
    lookup: LookupKind | None = None
    queue: Queue | None = None
    guide: Guide
    guide_en: Guide
    sample_form: SampleForm | None = None
    certificate: CertificateSeed | None = None

    @model_validator(mode="after")
    def _certificate_iff_print(self) -> ItemSeed:
        if (self.flow == "print") != (self.certificate is not None):
            raise ValueError(f"{self.code}: print items, and only they, name a certificate")
        if self.flow == "print" and self.identity == "none":
            raise ValueError(f"{self.code}: a certificate needs an identified person")
        if self.flow == "print" and self.prints == "none":
            raise ValueError(f"{self.code}: a print item must say where it prints")
        if (self.flow == "lookup") != (self.lookup is not None):
            raise ValueError(f"{self.code}: lookup items, and only they, say what they look up")
        if (self.flow == "ticket") != (self.queue is not None):
            raise ValueError(f"{self.code}: ticket items, and only they, name a queue")
        if self.sample_form is not None and self.flow not in ("guide", "submit"):
            raise ValueError(f"{self.code}: only guide and submit items have a sample form")
        return self

    @model_validator(mode="after")
    def _english_matches_chinese(self) -> ItemSeed:
        zh, en = self.guide, self.guide_en
        for key in ("conditions", "steps", "legal_basis", "materials"):
            if len(getattr(zh, key)) != len(getattr(en, key)):
                raise ValueError(f"{self.code}: guide_en.{key} has not the entries of guide")
        if [m.copies for m in zh.materials] != [m.copies for m in en.materials]:
            raise ValueError(f"{self.code}: guide_en.materials copies differ from guide")
        if zh.phone != en.phone:
            raise ValueError(f"{self.code}: guide_en.phone differs from guide")
        english: list[Any] = [self.name_en, self.department_en, en]
        if self.queue is not None:
            english.append(self.queue.name_en)
        if self.sample_form is not None:
            english.append(self.sample_form.title_en)
            english += [[f.label_en, f.value_en] for f in self.sample_form.fields]
        for text in _english_texts(english):
            if stray_cjk(text):
                raise ValueError(f"{self.code}: Chinese in English text {stray_cjk(text)!r}")
        return self


class CategorySeed(_Seed):
    """A category as written in catalogue.json."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,31}$")
    name: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    icon: str = Field(min_length=1)
    items: list[ItemSeed] = Field(min_length=1)


class CatalogueSeed(_Seed):
    """The whole catalogue.json file."""

    categories: list[CategorySeed] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> CatalogueSeed:
        codes = [item.code for category in self.categories for item in category.items]
        duplicates = sorted({code for code in codes if codes.count(code) > 1})
        if duplicates:
            raise ValueError(f"duplicate item codes: {', '.join(duplicates)}")
        return self

    @model_validator(mode="after")
    def _one_queue_per_business(self) -> CatalogueSeed:
        # Items of one business share one queue: a letter names one queue, a queue has one letter.
        queues = {item.queue for cat in self.categories for item in cat.items if item.queue}
        if len({q.code for q in queues}) != len(queues) or len({q.name for q in queues}) != len(
            queues
        ):
            raise ValueError("a queue letter or name is used for two different queues")
        return self


class PersonsSeed(BaseModel):
    """The whole persons.json file."""

    model_config = ConfigDict(frozen=True)

    persons: list[PersonSeed]

    @model_validator(mode="after")
    def _valid_ids(self) -> PersonsSeed:
        for person in self.persons:
            if not has_valid_check_digit_for(person.card_type, person.id_number):
                raise ValueError(
                    f"person {person.person_no}: {person.card_type} number fails the check digit"
                )
        return self


def _read(path: Path, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        raise SeedError(f"{path}: {exc}") from exc


def read_catalogue(path: Path = CATALOGUE_FILE) -> CatalogueSeed:
    """Parse and validate a catalogue seed file."""
    result: CatalogueSeed = _read(path, CatalogueSeed)
    return result


def read_persons(path: Path = PERSONS_FILE) -> PersonsSeed:
    """Parse and validate a persons seed file."""
    result: PersonsSeed = _read(path, PersonsSeed)
    return result


def sync_catalogue(session: Session, catalogue: CatalogueSeed) -> None:
    """Make the catalogue tables equal to `catalogue` (the seed is the source of truth)."""
    wanted_items: set[str] = set()
    for cat_pos, cat in enumerate(catalogue.categories):
        row = session.get(CategoryRow, cat.code) or CategoryRow(code=cat.code)
        row.position, row.name, row.name_en, row.icon = cat_pos, cat.name, cat.name_en, cat.icon
        session.add(row)
        for item_pos, item in enumerate(cat.items):
            wanted_items.add(item.code)
            item_row = session.get(ItemRow, item.code) or ItemRow(code=item.code)
            item_row.category_code = cat.code
            item_row.position = item_pos
            item_row.name, item_row.name_en = item.name, item.name_en
            item_row.flow, item_row.identity = item.flow, item.identity
            item_row.department, item_row.department_en = item.department, item.department_en
            item_row.prints, item_row.lookup = item.prints, item.lookup
            item_row.queue = item.queue.model_dump(mode="json") if item.queue else None
            item_row.guide = item.guide.model_dump(mode="json")
            item_row.guide_en = item.guide_en.model_dump(mode="json")
            item_row.sample_form = (
                item.sample_form.model_dump(mode="json") if item.sample_form else None
            )
            item_row.certificate_kind = item.certificate.kind if item.certificate else None
            item_row.certificate_title = item.certificate.title if item.certificate else None
            session.add(item_row)
    session.flush()
    session.execute(delete(ItemRow).where(ItemRow.code.not_in(wanted_items)))
    wanted_categories = [cat.code for cat in catalogue.categories]
    session.execute(delete(CategoryRow).where(CategoryRow.code.not_in(wanted_categories)))


def sync_persons(session: Session, persons: PersonsSeed, key: bytes) -> None:
    """Upsert registry persons by registry number, hashing card type and number under `key`."""
    for person in persons.persons:
        row = session.scalars(
            select(PersonRow).where(PersonRow.person_no == person.person_no)
        ).one_or_none() or PersonRow(person_no=person.person_no)
        row.id_hash = keyed_hash(key, registry_key(person.card_type, person.id_number))
        row.id_masked = mask_id_number(person.id_number)
        row.name = person.name
        row.records = person.records().model_dump(mode="json")
        session.add(row)


def load_seed(
    session: Session,
    *,
    catalogue_path: Path = CATALOGUE_FILE,
    persons_path: Path = PERSONS_FILE,
    key: bytes | None = None,
) -> None:
    """Load both seed files into the database in one transaction; safe to run on every start."""
    catalogue = read_catalogue(catalogue_path)
    persons = read_persons(persons_path)
    # The key is fetched (and on a new database created and committed) before the sync begins.
    hash_key = key if key is not None else id_hash_key(session)
    sync_catalogue(session, catalogue)
    sync_persons(session, persons, hash_key)
    sync_person_cards(session, persons.persons)
    session.commit()
    items = sum(len(category.items) for category in catalogue.categories)
    log.info(
        "seed loaded: %d categories, %d items, %d persons",
        len(catalogue.categories),
        items,
        len(persons.persons),
    )

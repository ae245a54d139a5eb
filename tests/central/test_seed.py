"""Seed files and their loading: validation, idempotence, sync with changed files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central import service
from central.db import CategoryRow, ItemRow, PersonRow, create_schema, make_engine
from central.seed import (
    CATALOGUE_FILE,
    PERSONS_FILE,
    SeedError,
    load_seed,
    read_catalogue,
    read_persons,
)


@pytest.fixture()
def session() -> Any:
    engine = make_engine("sqlite://")
    create_schema(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def _counts(session: Session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(CategoryRow)) or 0,
        session.scalar(select(func.count()).select_from(ItemRow)) or 0,
        session.scalar(select(func.count()).select_from(PersonRow)) or 0,
    )


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_shipped_seed_files_are_valid() -> None:
    catalogue = read_catalogue()
    assert len(catalogue.categories) >= 6
    assert sum(len(c.items) for c in catalogue.categories) >= 30
    persons = read_persons()
    names = {p.name for p in persons.persons}
    assert {"李秀英", "王建国"} <= names and len(names) >= 4


def test_loading_twice_changes_nothing(session: Session) -> None:
    load_seed(session, key=b"k" * 32)
    first = (_counts(session), service.catalogue(session).version)
    load_seed(session, key=b"k" * 32)
    assert (_counts(session), service.catalogue(session).version) == first
    assert first[0] == (8, 39, 8)


def test_changed_catalogue_is_synced_and_changes_version(session: Session, tmp_path: Path) -> None:
    load_seed(session, key=b"k" * 32)
    before = service.catalogue(session).version
    data = json.loads(CATALOGUE_FILE.read_text("utf-8"))
    removed = data["categories"][0]["items"].pop()["code"]
    data["categories"][0]["items"][0]["name"] = "社会保险参保证明（新版）"
    data["categories"].pop()  # the last category goes, with its items
    load_seed(session, catalogue_path=_write(tmp_path / "c.json", data), key=b"k" * 32)
    after = service.catalogue(session)
    assert after.version != before
    codes = {item.code for category in after.categories for item in category.items}
    assert removed not in codes and "crj.passport" not in codes
    assert after.categories[0].items[0].name == "社会保险参保证明（新版）"
    assert len(after.categories) == 7


def test_rehashing_with_a_new_key_updates_persons_in_place(session: Session) -> None:
    load_seed(session, key=b"a" * 32)
    hashes = set(session.scalars(select(PersonRow.id_hash)))
    load_seed(session, key=b"b" * 32)
    assert _counts(session)[2] == 8
    assert hashes.isdisjoint(set(session.scalars(select(PersonRow.id_hash))))


def _broken_catalogue(change: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(CATALOGUE_FILE.read_text("utf-8"))
    item = data["categories"][0]["items"][0]  # a print item
    if change == "print-without-certificate":
        del item["certificate"]
    elif change == "empty-guide-field":
        item["guide"]["fees"] = ""
    elif change == "unknown-flow":
        item["flow"] = "teleport"
    elif change == "duplicate-code":
        data["categories"][1]["items"][0]["code"] = item["code"]
    elif change == "unknown-certificate-kind":
        item["certificate"]["kind"] = "passport"
    return data


@pytest.mark.parametrize(
    "change",
    [
        "print-without-certificate",
        "empty-guide-field",
        "unknown-flow",
        "duplicate-code",
        "unknown-certificate-kind",
    ],
)
def test_broken_catalogue_is_refused_with_its_path(tmp_path: Path, change: str) -> None:
    path = _write(tmp_path / "broken.json", _broken_catalogue(change))
    with pytest.raises(SeedError, match="broken.json"):
        read_catalogue(path)


def test_person_with_bad_check_digit_is_refused(tmp_path: Path) -> None:
    data = json.loads(PERSONS_FILE.read_text("utf-8"))
    data["persons"][0]["id_number"] = data["persons"][0]["id_number"][:17] + "9"
    with pytest.raises(SeedError, match="check digit"):
        read_persons(_write(tmp_path / "p.json", data))


def test_foreign_2017_person_with_bad_icao_check_digit_is_refused(tmp_path: Path) -> None:
    data = json.loads(PERSONS_FILE.read_text("utf-8"))
    person = next(p for p in data["persons"] if p.get("card_type") == "foreign_permanent_2017")
    number = person["id_number"]
    person["id_number"] = number[:14] + str((int(number[14]) + 1) % 10)
    with pytest.raises(SeedError, match="foreign_permanent_2017 number fails the check digit"):
        read_persons(_write(tmp_path / "p.json", data))


def test_unreadable_seed_file_is_a_seed_error(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(SeedError, match="bad.json"):
        read_catalogue(tmp_path / "bad.json")
    with pytest.raises(SeedError, match="missing.json"):
        read_persons(tmp_path / "missing.json")

"""The catalogue cache: a kiosk booted while the central service is down still shows guides."""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from kiosk.catalogue_cache import CatalogueCache
from kiosk.store import StoreWriteError, open_store

SEED = json.loads(
    (Path(__file__).parents[2] / "central" / "seed" / "catalogue.json").read_text("utf-8")
)


@pytest.fixture
def db(tmp_path):
    return tmp_path / "kiosk.db"


@pytest.fixture
def cache(db, clock):
    store = open_store(f"sqlite:///{db}", clock.now, busy_timeout_s=0.2)
    yield CatalogueCache(store)
    store.close()


def _items(catalogue):
    return [item for category in catalogue["categories"] for item in category["items"]]


def test_an_empty_cache_has_nothing(cache):
    assert cache.load_catalogue() is None
    assert cache.load_item("shebao.insured-cert") is None
    assert cache.fetched_at() is None


def test_the_seed_catalogue_survives_a_reboot(db, clock):
    store = open_store(f"sqlite:///{db}", clock.now)
    cache = CatalogueCache(store)
    cache.save_catalogue('"v1"', SEED)
    for item in _items(SEED):
        cache.save_item(item["code"], f'"{item["code"]}-v1"', item)
    store.close()

    store = open_store(f"sqlite:///{db}", clock.now)  # the kiosk restarts, central is down
    cache = CatalogueCache(store)
    assert cache.load_catalogue() == ('"v1"', SEED)
    for item in _items(SEED):
        assert cache.load_item(item["code"]) == (f'"{item["code"]}-v1"', item)
    assert cache.fetched_at() == clock.now()
    store.close()


def test_a_newer_copy_replaces_the_old_one(cache, clock):
    cache.save_catalogue('"v1"', {"categories": []})
    clock.advance(60)
    cache.save_catalogue('"v2"', SEED)
    assert cache.load_catalogue() == ('"v2"', SEED)
    assert cache.fetched_at() == clock.now()
    cache.save_item("a", '"1"', {"code": "a", "name": "旧"})
    cache.save_item("a", '"2"', {"code": "a", "name": "新"})
    assert cache.load_item("a") == ('"2"', {"code": "a", "name": "新"})


def test_saving_an_item_does_not_move_the_catalogue_time(cache, clock):
    cache.save_catalogue('"v1"', SEED)
    saved = clock.now()
    clock.advance(600)
    cache.save_item("a", '"1"', {"code": "a"})
    assert cache.fetched_at() == saved


def test_fetched_at_is_timezone_aware(cache):
    cache.save_catalogue('"v1"', SEED)
    at = cache.fetched_at()
    assert at is not None and at.tzinfo is not None
    assert abs(at - datetime(2026, 11, 23, 9, 30, tzinfo=UTC)).total_seconds() < 1


def _corrupt(cache, body):
    with cache._store.engine.begin() as c:
        c.execute(text("UPDATE catalogue_cache SET body = :b"), {"b": body})


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"', "", "null"])
def test_a_corrupt_row_reads_as_nothing_and_is_logged(cache, caplog, body):
    cache.save_catalogue('"v1"', SEED)
    cache.save_item("a", '"1"', {"code": "a"})
    _corrupt(cache, body)
    assert cache.load_catalogue() is None
    assert cache.load_item("a") is None
    assert "catalogue cache" in caplog.text
    assert any(r.levelno == logging.WARNING for r in caplog.records)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.text(max_size=200))
def test_any_stored_text_reads_as_a_dict_or_nothing(cache, body):
    cache.save_item("a", '"1"', {"code": "a"})
    _corrupt(cache, body)
    loaded = cache.load_item("a")
    assert loaded is None or isinstance(loaded[1], dict)


def test_an_unreadable_store_reads_as_nothing(cache, caplog):
    cache.save_catalogue('"v1"', SEED)
    with cache._store.engine.begin() as c:
        c.execute(text("DROP TABLE catalogue_cache"))
    assert cache.load_catalogue() is None
    assert cache.load_item("a") is None
    assert cache.fetched_at() is None
    assert "catalogue cache" in caplog.text


def test_a_failed_write_raises_store_write_error(cache, db):
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreWriteError):
            cache.save_catalogue('"v1"', SEED)
        with pytest.raises(StoreWriteError):
            cache.save_item("a", '"1"', {"code": "a"})
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert cache.load_catalogue() is None

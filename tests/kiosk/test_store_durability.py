"""The store under a hall's conditions: power cuts, a second writer, a full or locked disk."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time

import pytest
from sqlalchemy import event

from kiosk.outbox import Outbox, load_or_create_key
from kiosk.store import StoreWriteError, open_store
from tests.support.tiny_disk import fill, tiny_tmpfs

SECRET = "李四-110101199003071234"


def _pragma(store, name):
    with store.engine.connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_a_confirmed_commit_survives_a_power_cut(store):
    assert _pragma(store, "journal_mode") == "wal"
    assert _pragma(store, "synchronous") == 2  # FULL: the WAL is synced at every commit


def test_a_writer_waits_for_another_briefly(tmp_path, clock):
    store = open_store(f"sqlite:///{tmp_path / 'k.db'}", clock.now, busy_timeout_s=1.5)
    assert _pragma(store, "busy_timeout") == 1500
    store.close()
    store = open_store(f"sqlite:///{tmp_path / 'k.db'}", clock.now)
    assert _pragma(store, "busy_timeout") == 5000
    store.close()


@contextlib.contextmanager
def _another_writer(path):
    """A second connection (another process, a backup tool) holding the write lock."""
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


@pytest.fixture
def quick(tmp_path, clock):
    store = open_store(f"sqlite:///{tmp_path / 'k.db'}", clock.now, busy_timeout_s=0.2)
    yield store, Outbox(store, load_or_create_key(tmp_path / "outbox.key"))
    store.close()


def test_a_locked_database_raises_one_clear_error_then_recovers(quick, tmp_path):
    store, outbox = quick
    with _another_writer(tmp_path / "k.db"):
        started = time.monotonic()
        with pytest.raises(StoreWriteError) as caught:
            outbox.put("rating", {"name": SECRET}, "k1")
        assert time.monotonic() - started < 3
        assert "locked" in str(caught.value) and SECRET not in str(caught.value)
    assert outbox.put("rating", {"name": SECRET}, "k1")
    assert outbox.backlog() == 1


def test_marking_delivery_on_a_locked_database_raises_the_same_error(quick, tmp_path):
    store, outbox = quick
    outbox.put("rating", {"level": 5}, "k1")
    [message] = outbox.due()
    with _another_writer(tmp_path / "k.db"):
        with pytest.raises(StoreWriteError):
            outbox.mark_delivered(message.id)
        with pytest.raises(StoreWriteError):
            outbox.mark_failed(message.id, "timeout")
        with pytest.raises(StoreWriteError):
            outbox.retry_parked()
    outbox.mark_delivered(message.id)
    assert outbox.backlog() == 0


def test_a_duplicate_is_still_just_false(quick):
    _store, outbox = quick
    assert outbox.put("rating", {"level": 5}, "k1")
    assert not outbox.put("rating", {"level": 1}, "k1")


def test_the_journal_never_raises_into_the_session(quick, tmp_path, caplog):
    store, _outbox = quick
    with _another_writer(tmp_path / "k.db"):
        store.record_transition("s1", "start", "attract", "identify")
        store.record_rating("s1", "shebao.insured-cert", 5)
    assert "journal" in caplog.text and any(r.levelno == logging.WARNING for r in caplog.records)
    store.record_transition("s1", "cancel", "identify", "attract")
    assert [e.event for e in store.journal("s1")] == ["cancel"]


# ---- a full disk ---------------------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 2 MiB filesystem (tmpfs); skipped where mounting is not allowed."""
    with tiny_tmpfs(tmp_path / "tiny") as where:
        yield where


def test_a_full_disk_raises_one_clear_error_then_recovers(tiny_disk, clock, caplog):
    store = open_store(f"sqlite:///{tiny_disk / 'k.db'}", clock.now, busy_timeout_s=0.2)
    outbox = Outbox(store, load_or_create_key(tiny_disk / "outbox.key"))
    try:
        filler = fill(tiny_disk)
        big = {"name": SECRET, "scan": "x" * 300_000}  # needs pages the disk no longer has
        with pytest.raises(StoreWriteError) as caught:
            outbox.put("application", big, "k1")
        assert "full" in str(caught.value) and SECRET not in str(caught.value)
        store.record_rating("s1", "shebao.insured-cert", 5)  # logged, not raised
        filler.unlink()
        assert outbox.put("application", big, "k1")
        assert outbox.backlog() == 1
        assert SECRET not in caplog.text
    finally:
        store.close()


def test_a_store_at_its_size_limit_raises_one_clear_error(quick, clock):
    """The same without a mount: SQLite's own page limit stands for the full disk."""
    store, outbox = quick
    pages = _pragma(store, "page_count")

    def limit(dbapi_connection, _record):
        dbapi_connection.execute(f"PRAGMA max_page_count={pages + 2}")

    event.listen(store.engine, "connect", limit)
    store.engine.dispose()  # new connections get the limit
    with pytest.raises(StoreWriteError) as caught:
        outbox.put("application", {"name": SECRET, "scan": "x" * 100_000}, "k1")
    assert "full" in str(caught.value) and SECRET not in str(caught.value)
    assert outbox.put("rating", {"level": 5}, "k2")

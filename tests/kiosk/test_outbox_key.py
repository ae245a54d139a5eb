"""The outbox key: created once, atomically and privately; a lost key is loud, not silent."""

from __future__ import annotations

import hashlib
import logging
import stat

from cryptography.fernet import Fernet

from kiosk.outbox import Outbox, key_fingerprint, load_or_create_key
from kiosk.store import open_store


def test_a_new_key_is_private_valid_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "var" / "outbox.key"
    key = load_or_create_key(path)
    Fernet(key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["outbox.key"]


def test_an_existing_key_is_reused(tmp_path):
    path = tmp_path / "outbox.key"
    assert load_or_create_key(path) == load_or_create_key(path)


def test_a_damaged_key_file_is_moved_aside_and_replaced(tmp_path, caplog):
    path = tmp_path / "outbox.key"
    path.write_bytes(b"")  # e.g. truncated by a power cut under an older version
    key = load_or_create_key(path)
    Fernet(key)
    assert path.read_bytes().strip() == key
    assert any(p.name.startswith("outbox.key.invalid") for p in tmp_path.iterdir())
    assert any(r.levelno >= logging.ERROR for r in caplog.records)


def test_the_fingerprint_names_the_key_without_revealing_it():
    key = Fernet.generate_key()
    assert key_fingerprint(key) == hashlib.sha256(key).hexdigest()[:16]


def test_a_lost_key_is_loud_and_parks_the_messages_it_can_no_longer_read(tmp_path, clock, caplog):
    url = f"sqlite:///{tmp_path / 'kiosk.db'}"
    key_file = tmp_path / "outbox.key"
    store = open_store(url, clock.now)
    old = Outbox(store, load_or_create_key(key_file))
    old.put("rating", {"level": 5}, "k1")
    old.put("rating", {"level": 4}, "k2")
    store.close()

    key_file.unlink()  # the key file is lost (disk swap, restored backup, ...)
    caplog.set_level(logging.INFO)
    store = open_store(url, clock.now)
    outbox = Outbox(store, load_or_create_key(key_file))
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and "key" in r.getMessage()]
    assert len(errors) == 1
    assert key_fingerprint(key_file.read_bytes().strip()) in errors[0].getMessage()
    assert (outbox.backlog(), outbox.parked()) == (0, 2)
    assert {p.reason for p in outbox.parked_messages()} == {"undecryptable"}

    # The kiosk goes on: new messages are accepted and delivered.
    assert outbox.put("rating", {"level": 3}, "k3")
    assert [m.idempotency_key for m in outbox.due()] == ["k3"]

    caplog.clear()
    Outbox(store, load_or_create_key(key_file))  # the next start is quiet again
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    store.close()


def test_restoring_the_old_key_lets_a_technician_release_the_parked_messages(tmp_path, clock):
    url = f"sqlite:///{tmp_path / 'kiosk.db'}"
    store = open_store(url, clock.now)
    old_key = Fernet.generate_key()
    Outbox(store, old_key).put("rating", {"level": 5}, "k1")
    Outbox(store, Fernet.generate_key())  # a wrong key parks k1
    restored = Outbox(store, old_key)
    assert restored.retry_parked() == 1
    assert [m.payload for m in restored.due()] == [{"level": 5}]
    store.close()

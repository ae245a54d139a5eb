"""Migrations: an existing kiosk's store is upgraded in place, keeping its messages."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from kiosk.outbox import Outbox
from kiosk.store import open_store
from kiosk.store.db import MIGRATIONS


def _alembic(engine, verb, revision):
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        getattr(command, verb)(cfg, revision)


def test_a_store_from_the_first_release_is_upgraded_with_its_backlog(tmp_path, clock):
    url = f"sqlite:///{tmp_path / 'k.db'}"
    engine = create_engine(url)
    _alembic(engine, "upgrade", "0001")
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO outbox (idempotency_key, kind, created_at, payload, attempts,"
                " next_attempt_at, last_error) VALUES ('k1', 'rating', :t, :p, 3, :t, 'timeout')"
            ),
            {"t": "2026-11-23 09:30:00.000000", "p": b"token"},
        )
    engine.dispose()
    store = open_store(url, clock.now)
    from cryptography.fernet import Fernet

    outbox = Outbox(store, Fernet.generate_key())
    assert outbox.parked() == 1  # the old token does not open with this key: parked, not lost
    store.close()


def test_the_newest_migration_can_be_rolled_back(tmp_path, clock):
    url = f"sqlite:///{tmp_path / 'k.db'}"
    open_store(url, clock.now).close()
    engine = create_engine(url)
    _alembic(engine, "downgrade", "0001")
    _alembic(engine, "upgrade", "head")
    engine.dispose()

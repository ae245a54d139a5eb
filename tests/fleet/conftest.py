"""Fleet server fixtures: a real PostgreSQL for the session, SQLite per test, signed clients."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import make_url

from tests.support import postgres


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One throwaway PostgreSQL cluster for the whole test session (unix socket only)."""
    reason = postgres.available()
    if reason is not None:
        pytest.skip(reason)
    with postgres.running_postgres() as url:
        yield url


def fresh_postgres_database(server_url: str) -> str:
    """A new empty database on the session's cluster; its SQLAlchemy URL."""
    url = make_url(server_url)
    name = f"fleet_test_{uuid.uuid4().hex[:12]}"
    conninfo = (
        f"dbname=postgres user={url.username} host={url.query['host']} port={url.query['port']}"
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def fleet_db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """Each fleet test runs twice: on a SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fleet.db'}"
    return fresh_postgres_database(request.getfixturevalue("postgres_url"))

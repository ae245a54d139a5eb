"""The one exception the store's callers see when a write did not happen."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError


class StoreWriteError(Exception):
    """A write to the local store failed (locked, disk full, read-only); nothing was saved.

    The message names what was being written and SQLite's reason, never the data itself, so the
    core can log it and tell the resident.
    """


def reason(exc: BaseException) -> str:
    """SQLite's own words for a failure ("database is locked"), which never quote the data."""
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(cause, sqlite3.Error) and cause.args:
        return str(cause.args[0])
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return type(cause).__name__

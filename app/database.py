"""Engine set-up per database, and the write-transaction switch for SQLite.

SQLite: WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE for write transactions only
(a deferred transaction that upgrades to a write lock fails with "database is locked" under
load whatever the timeout; immediate everywhere would slow every read).
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC

from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

_write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)

SQLITE_BUSY_TIMEOUT_MS = 15_000


@contextmanager
def write_intent():
    """Transactions begun inside this block take the write lock at once on SQLite."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name != "sqlite" or getattr(engine, "_lagesbild_configured", False):
        return
    engine._lagesbild_configured = True
    in_memory = engine.url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take BEGIN out of pysqlite's hands so we can choose IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in and out, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

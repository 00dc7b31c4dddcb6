"""Whether this app server can serve: the database answers, its schema is at the migrations'
head, and the append-only triggers guard the history. Problems are for the server's log and
operators; the public /readyz says only ready or not."""
from __future__ import annotations

from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine

# The guards' one definition is the audit trail's (`audit verify` checks them too).
from app.audit.guards import APPEND_ONLY_TABLES, expected_triggers, present_triggers

__all__ = ["APPEND_ONLY_TABLES", "expected_triggers", "present_triggers", "problems"]


def problems(engine: Engine, migrations: str | Path) -> list[str]:
    """What keeps this server from serving; empty when it is ready. `migrations` is the
    folder Flask-Migrate runs (app.extensions["migrate"].directory)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_revision()
            triggers = present_triggers(connection)
    except Exception as error:  # any failure to reach the database means: not ready
        return [f"database unreachable: {type(error).__name__}"]
    found = []
    head = ScriptDirectory(str(migrations)).get_current_head()
    if current != head:
        found.append(f"schema at revision {current}, migrations at {head}: run flask db upgrade")
    missing = expected_triggers(engine.dialect.name) - triggers
    if missing:
        found.append("append-only triggers missing or disabled: " + ", ".join(sorted(missing)))
    return found

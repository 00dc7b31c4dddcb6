"""Keeping SQLite's FTS5 tables current: SQLAlchemy events on Section and Remark.

Why events on the models: every path that writes a section's text (a save, a consolidation
edit, carry-forward, an import; a cross-reference changes no text) and every remark goes
through these two mappers, inside the flush of the operation's own transaction, so the index
changes with the text and rolls back with it, and a new path cannot forget it. (Triggers in
the database would do the same, but the audit guards count SQLite's triggers as theirs.)
On PostgreSQL there is nothing to do here: the GIN indexes are over to_tsvector() of the
columns themselves, so the database keeps them current.

Importing this module registers the listeners, once per process.
"""
from __future__ import annotations

from sqlalchemy import event, inspect, text

from app.models import Remark, Section

_DELETE_SECTION = text("DELETE FROM section_search WHERE rowid = :id")
_INSERT_SECTION = text("INSERT INTO section_search (rowid, text) VALUES (:id, :text)")
_DELETE_REMARK = text("DELETE FROM remark_search WHERE rowid = :id")
_INSERT_REMARK = text("INSERT INTO remark_search (rowid, text) VALUES (:id, :text)")


def _on_sqlite(connection) -> bool:
    return connection.dialect.name == "sqlite"


@event.listens_for(Section, "after_insert")
def _section_inserted(mapper, connection, section: Section) -> None:
    if _on_sqlite(connection) and section.text:
        connection.execute(_INSERT_SECTION, {"id": section.id, "text": section.text})


@event.listens_for(Section, "after_update")
def _section_updated(mapper, connection, section: Section) -> None:
    if not _on_sqlite(connection) or not inspect(section).attrs.text.history.has_changes():
        return
    connection.execute(_DELETE_SECTION, {"id": section.id})
    if section.text:
        connection.execute(_INSERT_SECTION, {"id": section.id, "text": section.text})


@event.listens_for(Section, "after_delete")
def _section_deleted(mapper, connection, section: Section) -> None:
    if _on_sqlite(connection):
        connection.execute(_DELETE_SECTION, {"id": section.id})


@event.listens_for(Remark, "after_insert")
def _remark_inserted(mapper, connection, remark: Remark) -> None:
    # A consolidation's remarks belong to no area's contribution: not searched.
    if _on_sqlite(connection) and remark.contribution_id is not None:
        connection.execute(_INSERT_REMARK, {"id": remark.id, "text": remark.text})


@event.listens_for(Remark, "after_delete")
def _remark_deleted(mapper, connection, remark: Remark) -> None:
    if _on_sqlite(connection):
        connection.execute(_DELETE_REMARK, {"id": remark.id})

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Computed, ForeignKey, Index, String, Text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import ColumnElement

from app.database import UTCDateTime
from app.extensions import db

GENESIS_HASH = "0" * 64

# The columns the database derives from `canonical` (the hashed record), and how each is read
# from its JSON: "int", "text", or "time" (the hashed "2026-11-24T09:30:00.123456Z" form).
DERIVED_COLUMNS = {
    "occurred_at": "time", "actor_id": "int", "actor_name": "text",
    "actor_organisation": "text", "action": "text", "object_type": "text",
    "object_id": "text", "period_id": "int", "area_id": "int", "contribution_id": "int",
    "from_state": "text", "to_state": "text", "data": "text", "request_id": "text",
    "client_address": "text",
}


def derived_column_sql(dialect: str, name: str) -> str:
    """The generation expression of a derived column, as written in the schema.

    Built-in, deterministic functions only, so that nothing outside the table definition can
    change what a column shows. On PostgreSQL the time is rebuilt with make_timestamp (text to
    timestamp casts are not immutable, so a generated column may not use them)."""
    kind = DERIVED_COLUMNS[name]
    if dialect == "sqlite":
        value = f"json_extract(canonical, '$.{name}')"
        # SQLAlchemy keeps SQLite datetimes as "2026-11-24 09:30:00.123456".
        return f"replace(substr({value}, 1, 26), 'T', ' ')" if kind == "time" else value
    value = f"(canonical::json ->> '{name}')"
    if kind == "int":
        return f"{value}::integer"
    if kind == "text":
        return value

    def part(start: int, length: int) -> str:
        return f"substr({value}, {start}, {length})::integer"
    return (f"(make_timestamp({part(1, 4)}, {part(6, 2)}, {part(9, 2)}, {part(12, 2)}, "
            f"{part(15, 2)}, {part(18, 2)}::double precision) "
            f"+ {part(21, 6)}::double precision * '00:00:00.000001'::interval) "
            "AT TIME ZONE 'UTC'")


class FromCanonical(ColumnElement):
    """A derived column's generation expression, rendered for the dialect at hand."""

    inherit_cache = True

    def __init__(self, name: str):
        self.name = name


@compiles(FromCanonical)
def _compile_from_canonical(element, compiler, **kw):
    return derived_column_sql(compiler.dialect.name, element.name)


def _derived(name: str, *args, **kwargs):
    # On SQLite computed when read (the rows stay small, so verifying reads less); PostgreSQL
    # stores generated columns (the migration says so explicitly).
    return mapped_column(*args, Computed(FromCanonical(name)), **kwargs)


class AuditEvent(db.Model):
    """One entry of the append-only, hash-chained audit trail.

    `canonical` holds the exact text that is hashed (canonical JSON of every hashed field), and
    the database derives each field's column from it (generated columns), so a column
    cannot say anything the hashed record does not: the derived columns cannot be updated, and
    changing `canonical` breaks the hash. The database also refuses UPDATE and DELETE on this
    table (triggers created by the migrations). Verifying the chain needs only `canonical`.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint("seq >= 1", name="seq_positive"),
        CheckConstraint("length(hash) = 64 AND length(prev_hash) = 64", name="hash_shape"),
        Index("ix_audit_events_object", "object_type", "object_id", "seq"),
        Index("ix_audit_events_action_seq", "action", "seq"),
        Index("ix_audit_events_actor_seq", "actor_id", "seq"),
        # Keyset paging newest-first under each filter: (filter, seq) indexes.
        Index("ix_audit_events_period_seq", "period_id", "seq"),
        Index("ix_audit_events_area_seq", "area_id", "seq"),
        Index("ix_audit_events_contribution_seq", "contribution_id", "seq"),
        Index("ix_audit_events_organisation_seq", "actor_organisation", "seq"),
        Index("ix_audit_events_occurred_at_seq", "occurred_at", "seq"),
    )

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    canonical: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = _derived("occurred_at", UTCDateTime)
    actor_id: Mapped[int | None] = _derived("actor_id", ForeignKey("users.id"))
    # Snapshots: what the actor was called, and where they worked, when they acted.
    actor_name: Mapped[str | None] = _derived("actor_name", String(200))
    actor_organisation: Mapped[str | None] = _derived("actor_organisation", String(200))
    action: Mapped[str] = _derived("action", String(100))
    object_type: Mapped[str | None] = _derived("object_type", String(50))
    object_id: Mapped[str | None] = _derived("object_id", String(50))
    # Where the event belongs, for filtering (no foreign keys: the trail outlives any row).
    period_id: Mapped[int | None] = _derived("period_id")
    area_id: Mapped[int | None] = _derived("area_id")
    contribution_id: Mapped[int | None] = _derived("contribution_id")
    from_state: Mapped[str | None] = _derived("from_state", String(32))
    to_state: Mapped[str | None] = _derived("to_state", String(32))
    data: Mapped[str] = _derived("data", Text)
    request_id: Mapped[str | None] = _derived("request_id", String(64))
    client_address: Mapped[str | None] = _derived("client_address", String(64))
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.seq} {self.action}>"

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime
from app.extensions import db

GENESIS_HASH = "0" * 64


class AuditEvent(db.Model):
    """One entry of the append-only, hash-chained audit trail.

    The database refuses UPDATE and DELETE on this table (triggers created by the migration).
    `data` holds canonical JSON text so the hashed bytes survive any database round trip.
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
    )

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Snapshots: what the actor was called, and where they worked, when they acted.
    actor_name: Mapped[str | None] = mapped_column(String(200))
    actor_organisation: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    object_type: Mapped[str | None] = mapped_column(String(50))
    object_id: Mapped[str | None] = mapped_column(String(50))
    # Where the event belongs, for filtering (no foreign keys: the trail outlives any row).
    period_id: Mapped[int | None]
    area_id: Mapped[int | None]
    contribution_id: Mapped[int | None]
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    data: Mapped[str] = mapped_column(Text, default="{}")
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_address: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.seq} {self.action}>"

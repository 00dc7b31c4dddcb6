from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import now
from app.database import UTCDateTime
from app.extensions import db


class Notification(db.Model):
    """One message in the outbox: written in the transaction of the change it tells about
    (a rolled-back change sends nothing, a committed one is never forgotten) and delivered
    after commit by app.notifications.sender, exactly once per row."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_due", "sent_at", "failed_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                              index=True)
    # What happened, e.g. "contribution.submit": for the admins' outbox view and the tests.
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # Set where a message must go at most once whoever asks again (a reminder per task,
    # deadline and day): a second run finds it and queues nothing.
    once_key: Mapped[str | None] = mapped_column(String(200), unique=True)

    # A handoff for someone who chose the daily digest waits here, never sent on its own;
    # `flask notifications digest` lists it in one message (digest_id) and sends that.
    held_for_digest: Mapped[bool] = mapped_column(default=False, server_default="0")
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="SET NULL"), index=True)

    recipient: Mapped[User] = relationship()  # noqa: F821

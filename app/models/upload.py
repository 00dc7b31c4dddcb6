from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import now
from app.database import UTCDateTime
from app.extensions import db


class PendingUpload(db.Model):
    """A document between its import preview and the confirmation, in the database so that
    the confirmation may reach another app server than the preview did. Kept per user (nobody
    confirms another's upload) and by its SHA-256 (the confirmation names no file); removed
    on confirmation and after a day."""

    __tablename__ = "pending_uploads"
    __table_args__ = (UniqueConstraint("user_id", "sha256", name="uq_pending_uploads_user_sha"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)

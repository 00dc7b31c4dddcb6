from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import now
from app.database import UTCDateTime
from app.extensions import db


class PasswordResetLink(db.Model):
    """A one-time link an administrator issued so a user can set a new password. Only the
    SHA-256 of its token is kept: the database (and a dump of it) cannot sign anyone in."""

    __tablename__ = "password_reset_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when the link was used, or when it stopped counting (a newer link, a password
    # change, a deactivation): a link works once at most.
    spent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()  # noqa: F821

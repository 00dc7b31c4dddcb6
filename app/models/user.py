from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.core.clock import now
from app.database import UTCDateTime
from app.extensions import db
from workflows.roles import AREA_ROLES, CITY_ROLES, Role  # noqa: F401 (re-exported)


def _sql_list(values) -> str:
    return ", ".join(f"'{value}'" for value in values)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("email = lower(email) AND email LIKE '%_@_%'", name="email_lower"),
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
        # One account per person at the identity provider (issuer, subject).
        Index("uq_users_oidc_identity", "oidc_issuer", "oidc_subject", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # Each signed-in session remembers the generation it began in; raising it ends them all
    # on the server (a copied cookie is worth nothing after logout, a password or role change).
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # The interface language the user last chose: her messages come in it too.
    language: Mapped[str] = mapped_column(String(2), default="sv", server_default="sv")
    # Who the user is at the city's identity provider (app/identity), once she has signed in
    # through it; an account made there has no usable password.
    oidc_issuer: Mapped[str | None] = mapped_column(String(500))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    # Her choice of messages (app.notifications.preferences): each handoff as it happens
    # ("immediate") or held for one message a day ("digest"); and whether to be reminded.
    notification_mode: Mapped[str] = mapped_column(String(16), default="immediate",
                                                   server_default="immediate")
    reminders_on: Mapped[bool] = mapped_column(default=True, server_default="1")

    organisation: Mapped[Organisation] = relationship()  # noqa: F821
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Membership.id"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def end_sessions(self) -> None:
        """Every session this user has, on every device, ends at its next request."""
        self.session_generation = (self.session_generation or 0) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class Membership(db.Model):
    """A role held by a user, scoped to one area or (area NULL) city-wide."""

    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint(
            f"role IN ({_sql_list(Role)})",
            name="role_known",
        ),
        # The city office's roles are never scoped to one area.
        CheckConstraint(
            f"role IN ({_sql_list(sorted(AREA_ROLES, key=list(Role).index))}) OR area_id IS NULL",
            name="city_roles_city_wide"
        ),
        UniqueConstraint("user_id", "role", "area_id", name="uq_memberships_user_role_area"),
        CheckConstraint("source IN ('manual', 'group')", name="source_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    # "manual": granted by an administrator; "group": follows the identity provider's groups
    # at each sign-in (app/identity/memberships.py), which never touches a manual one.
    source: Mapped[str] = mapped_column(String(16), default="manual", server_default="manual")

    user: Mapped[User] = relationship(back_populates="memberships")
    area: Mapped[Area | None] = relationship()  # noqa: F821

    def __repr__(self) -> str:
        return f"<Membership {self.role} area={self.area_id}>"

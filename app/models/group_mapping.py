from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import now
from app.database import UTCDateTime
from app.extensions import db
from app.models.user import AREA_ROLES, Role, _sql_list


class GroupMapping(db.Model):
    """A group at the identity provider, and the role it gives in one organisation (for an
    area, or city-wide): at each sign-in through the provider the user's memberships follow
    the mappings of the groups the ID token names."""

    __tablename__ = "group_mappings"
    __table_args__ = (
        CheckConstraint(f"role IN ({_sql_list(Role)})", name="role_known"),
        CheckConstraint(
            f"role IN ({_sql_list(sorted(AREA_ROLES, key=list(Role).index))}) OR area_id IS NULL",
            name="city_roles_city_wide"),
        CheckConstraint("length(trim(provider_group)) > 0", name="group_not_blank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The group as the provider names it in the groups claim (Entra ID: the group's object id).
    provider_group: Mapped[str] = mapped_column(String(256), index=True)
    role: Mapped[str] = mapped_column(String(32))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    organisation: Mapped[Organisation] = relationship()  # noqa: F821
    area: Mapped[Area | None] = relationship()  # noqa: F821

    def __repr__(self) -> str:
        return f"<GroupMapping {self.provider_group} -> {self.role}>"

from __future__ import annotations

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.organisation import area_organisations


class Area(db.Model):
    """A geographic area; one contribution per area and period."""

    __tablename__ = "areas"
    __table_args__ = (CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # Raised by every change (app.admin.operations): a form drawn before one is stale.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    organisations: Mapped[list[Organisation]] = relationship(  # noqa: F821
        secondary=area_organisations, back_populates="areas", order_by="Organisation.name"
    )
    local_topics: Mapped[list[Topic]] = relationship(  # noqa: F821
        back_populates="area", order_by="Topic.position"
    )

    def __repr__(self) -> str:
        return f"<Area {self.name!r}>"

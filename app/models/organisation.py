from __future__ import annotations

import enum

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db


class OrganisationKind(enum.StrEnum):
    DISTRICT_OFFICE = "district_office"
    POLICE = "police"
    CITY_OFFICE = "city_office"


area_organisations = Table(
    "area_organisations",
    db.metadata,
    Column("area_id", ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
)


class Organisation(db.Model):
    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('district_office', 'police', 'city_office')", name="kind_known"
        ),
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    # Raised by every change (app.admin.operations): a form drawn before one is stale.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    areas: Mapped[list[Area]] = relationship(  # noqa: F821
        secondary=area_organisations, back_populates="organisations", order_by="Area.name"
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.name!r} ({self.kind})>"

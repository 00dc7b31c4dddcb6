from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import now
from app.database import UTCDateTime
from app.extensions import db

CONSOLIDATION_STATES = ("open", "awaiting_approval", "approved")


class Consolidation(db.Model):
    """The period's consolidated lägesbild, built from every area's contribution."""

    __tablename__ = "consolidations"
    __table_args__ = (
        CheckConstraint(
            "state IN ('open', 'awaiting_approval', 'approved')", name="state_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"), unique=True)
    state: Mapped[str] = mapped_column(String(32), default="open")
    version: Mapped[int] = mapped_column(default=1)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A past period created by importing old documents: final, but approved outside the
    # system, so it names no submitter or approver here.
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    period: Mapped[Period] = relationship(back_populates="consolidation")  # noqa: F821
    remarks: Mapped[list[Remark]] = relationship(order_by="Remark.id")  # noqa: F821

    __mapper_args__ = {"version_id_col": version}

    @property
    def imported(self) -> bool:
        return self.imported_at is not None

    def __repr__(self) -> str:
        return f"<Consolidation period={self.period_id} {self.state}>"

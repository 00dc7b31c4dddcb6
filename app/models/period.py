from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import now
from app.database import UTCDateTime
from app.extensions import db


class Period(db.Model):
    """A reporting round, e.g. "december 2022", with a deadline for each step."""

    __tablename__ = "periods"
    __table_args__ = (
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
        CheckConstraint(
            "drafting_deadline <= review_deadline AND review_deadline <= consolidation_deadline"
            " AND consolidation_deadline <= approval_deadline",
            name="deadlines_in_order",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    drafting_deadline: Mapped[date]
    review_deadline: Mapped[date]
    consolidation_deadline: Mapped[date]
    approval_deadline: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # Raised by every change (new deadlines): a change against an older one is refused.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    contributions: Mapped[list[Contribution]] = relationship(  # noqa: F821
        back_populates="period", order_by="Contribution.id"
    )
    consolidation: Mapped[Consolidation | None] = relationship(  # noqa: F821
        back_populates="period", uselist=False
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def title(self) -> str:
        return f"Lägesbild {self.name}"

    def __repr__(self) -> str:
        return f"<Period {self.name!r}>"

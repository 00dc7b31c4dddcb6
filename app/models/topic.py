from __future__ import annotations

import enum

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db


class TopicScope(enum.StrEnum):
    CITY = "city"
    LOCAL = "local"


class Topic(db.Model):
    """A heading of the lägesbild: one of the numbered city-wide topics, or an area's own."""

    __tablename__ = "topics"
    __table_args__ = (
        CheckConstraint("scope IN ('city', 'local')", name="scope_known"),
        # City-wide topics are numbered and belong to no area; local ones belong to one area.
        CheckConstraint(
            "(scope = 'city' AND area_id IS NULL AND number IS NOT NULL AND number > 0)"
            " OR (scope = 'local' AND area_id IS NOT NULL AND number IS NULL)",
            name="scope_shape",
        ),
        CheckConstraint("length(trim(title)) > 0", name="title_not_blank"),
        UniqueConstraint("scope", "number", name="uq_topics_scope_number"),
        UniqueConstraint("area_id", "title", name="uq_topics_area_id_title"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    number: Mapped[int | None]
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    # Order of local topics within their area (city topics are ordered by number).
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    # Raised by every change (rename, move, retire): the admin's forms carry the version they
    # showed, and a change made against an older one is refused (app.admin.structure).
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    area: Mapped[Area | None] = relationship(back_populates="local_topics")  # noqa: F821

    __mapper_args__ = {"version_id_col": version}

    @property
    def sort_key(self) -> tuple:
        """Document order: city-wide 1–10, then local topics."""
        if self.scope == TopicScope.CITY:
            return (0, self.number or 0, self.title)
        return (1, self.position, self.title)

    @property
    def heading(self) -> str:
        return self.heading_of(self.number, self.scope, self.title)

    @staticmethod
    def heading_of(number: int | None, scope: str, title: str) -> str:
        """A heading from the columns alone, for pages that read many at once."""
        return f"{number}. {title}" if scope == TopicScope.CITY else title

    def __repr__(self) -> str:
        return f"<Topic {self.heading!r}>"

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import now
from app.database import UTCDateTime
from app.extensions import db

CONTRIBUTION_STATES = ("draft", "police_review", "returned", "reviewed", "consolidated", "approved")
REVISION_CAUSES = ("edit", "consolidation_edit", "import", "carry_forward")
MAX_SECTION_CHARS = 20_000


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class RevisionCause(enum.StrEnum):
    EDIT = "edit"
    CONSOLIDATION_EDIT = "consolidation_edit"
    IMPORT = "import"
    CARRY_FORWARD = "carry_forward"


class Contribution(db.Model):
    """One area's lägesbild for one period: the unit that moves through the workflow."""

    __tablename__ = "contributions"
    __table_args__ = (
        UniqueConstraint("area_id", "period_id", name="uq_contributions_area_period"),
        CheckConstraint(_in("state", CONTRIBUTION_STATES), name="state_known"),
        CheckConstraint("round >= 1", name="round_positive"),
        CheckConstraint(
            "excluded_reason IS NULL OR length(trim(excluded_reason)) > 0",
            name="exclusion_has_reason",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"), index=True)
    state: Mapped[str] = mapped_column(String(32), default="draft")
    version: Mapped[int] = mapped_column(default=1)
    # A round runs from a (re)start of drafting to the police's verdict; separation of
    # duties looks at who submitted and who edited within the current round.
    round: Mapped[int] = mapped_column(default=1)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    consolidated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    excluded_reason: Mapped[str | None] = mapped_column(Text)
    excluded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Set when the texts came from an old document approved outside the system: the state is
    # final ("approved"), but nobody approved it here, and every page and export says so.
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    area: Mapped[Area] = relationship()  # noqa: F821
    period: Mapped[Period] = relationship(back_populates="contributions")  # noqa: F821
    sections: Mapped[list[Section]] = relationship(
        back_populates="contribution", cascade="all, delete-orphan"
    )
    remarks: Mapped[list[Remark]] = relationship(
        back_populates="contribution", order_by="Remark.id"
    )
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])  # noqa: F821

    __mapper_args__ = {"version_id_col": version}

    @property
    def ordered_sections(self) -> list[Section]:
        """Document order: as approved for a frozen lägesbild (later reorders change only
        what is not approved yet), else the topics' current order."""
        return sorted(self.sections, key=lambda s: (
            s.approved_position is None, s.approved_position or 0, s.topic.sort_key))

    @property
    def frozen(self) -> bool:
        return bool(self.sections) and all(s.frozen for s in self.sections)

    @property
    def title(self) -> str:
        return f"Lägesbild {self.period.name} — {self.area.name}"

    @property
    def imported(self) -> bool:
        return self.imported_at is not None

    def __repr__(self) -> str:
        return f"<Contribution {self.id} area={self.area_id} period={self.period_id} {self.state}>"


class Section(db.Model):
    """The text for one topic in one contribution."""

    __tablename__ = "sections"
    __table_args__ = (
        UniqueConstraint("contribution_id", "topic_id", name="uq_sections_contribution_topic"),
        CheckConstraint(f"length(text) <= {MAX_SECTION_CHARS}", name="text_length"),
        CheckConstraint(
            "handled_in_topic_id IS NULL OR handled_in_topic_id <> topic_id",
            name="not_handled_in_itself",
        ),
        CheckConstraint(
            "also_handled_in_topic_id IS NULL OR (handled_in_topic_id IS NOT NULL"
            " AND also_handled_in_topic_id <> handled_in_topic_id"
            " AND also_handled_in_topic_id <> topic_id)",
            name="second_link_after_a_first",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contribution_id: Mapped[int] = mapped_column(
        ForeignKey("contributions.id", ondelete="CASCADE"), index=True
    )
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A city-wide topic handled within one of the area's local topics ("... se nedan"):
    # stored as a link so it stays right when the local topic is renamed.
    handled_in_topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"))
    # The second topic of "… de lokalt prioriterade områdena X och Y, se nedan".
    also_handled_in_topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"))

    contribution: Mapped[Contribution] = relationship(back_populates="sections")
    topic: Mapped[Topic] = relationship(foreign_keys=[topic_id])  # noqa: F821
    handled_in_topic: Mapped[Topic | None] = relationship(  # noqa: F821
        foreign_keys=[handled_in_topic_id])
    also_handled_in_topic: Mapped[Topic | None] = relationship(  # noqa: F821
        foreign_keys=[also_handled_in_topic_id])
    # What was approved, frozen at approval or import (app.contributions.snapshot): the
    # topic's title, the section's place in the document and the title of the local topic
    # it refers to. A later rename, reorder or retirement changes only what is not approved
    # yet. None while not approved. The approval's audit event records their digest.
    approved_title: Mapped[str | None] = mapped_column(String(300))
    approved_position: Mapped[int | None]
    approved_reference: Mapped[str | None] = mapped_column(String(300))
    approved_second_reference: Mapped[str | None] = mapped_column(String(300))
    revisions: Mapped[list[SectionRevision]] = relationship(
        back_populates="section", order_by="SectionRevision.number"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def frozen(self) -> bool:
        return self.approved_position is not None

    @property
    def title(self) -> str:
        """The topic's title as this lägesbild shows it (as approved, once approved)."""
        return self.approved_title if self.frozen else self.topic.title

    @property
    def heading(self) -> str:
        return self.topic.heading_of(self.topic.number, self.topic.scope, self.title)

    @property
    def reference_titles(self) -> list[str]:
        """The titles of the local topics (one or two) this city-wide section is handled
        within (empty: no cross-reference), as approved once approved."""
        if self.frozen:
            return [t for t in (self.approved_reference, self.approved_second_reference) if t]
        return [t.title for t in (self.handled_in_topic, self.also_handled_in_topic)
                if t is not None]

    @property
    def is_filled(self) -> bool:
        # A city-wide section handled within a local topic says so by its link alone.
        return bool(self.text.strip()) or self.handled_in_topic_id is not None

    def __repr__(self) -> str:
        return f"<Section {self.id} topic={self.topic_id} v{self.version}>"


class SectionRevision(db.Model):
    """Every saved text of a section, with its author, time and cause. Never changed."""

    __tablename__ = "section_revisions"
    __table_args__ = (
        UniqueConstraint("section_id", "number", name="uq_section_revisions_section_number"),
        CheckConstraint(_in("cause", REVISION_CAUSES), name="cause_known"),
        CheckConstraint(f"length(text) <= {MAX_SECTION_CHARS}", name="text_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(
        ForeignKey("sections.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    cause: Mapped[str] = mapped_column(String(32))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    round: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    section: Mapped[Section] = relationship(back_populates="revisions")
    author: Mapped[User | None] = relationship()  # noqa: F821


class Remark(db.Model):
    """A reviewer's or approver's remark, optionally tied to one section."""

    __tablename__ = "remarks"
    __table_args__ = (
        CheckConstraint(
            "(contribution_id IS NOT NULL) <> (consolidation_id IS NOT NULL)",
            name="one_subject",
        ),
        CheckConstraint("length(trim(text)) > 0", name="text_not_blank"),
        CheckConstraint(f"length(text) <= {MAX_SECTION_CHARS}", name="text_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contribution_id: Mapped[int | None] = mapped_column(
        ForeignKey("contributions.id"), index=True
    )
    consolidation_id: Mapped[int | None] = mapped_column(
        ForeignKey("consolidations.id"), index=True
    )
    section_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id"), index=True)
    # The trigger that carried the remark: return, reopen, exclude, ...
    trigger: Mapped[str] = mapped_column(String(64))
    round: Mapped[int] = mapped_column(default=1)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    contribution: Mapped[Contribution | None] = relationship(back_populates="remarks")
    section: Mapped[Section | None] = relationship()
    author: Mapped[User] = relationship()  # noqa: F821
    # A contribution's remark is a thread (app/contributions/threads.py): answered by the
    # drafters and the reviewer, resolved by its author, open into the next rounds until then.
    # Like the remark itself, its replies and its resolution are never changed.
    replies: Mapped[list[RemarkReply]] = relationship(
        back_populates="remark", order_by="RemarkReply.id")
    resolution: Mapped[RemarkResolution | None] = relationship(back_populates="remark")

    @property
    def is_open(self) -> bool:
        return self.resolution is None

    @property
    def version(self) -> int:
        """What the thread's forms carry: it grows with every reply and the resolution, so a
        form rendered before either is stale."""
        return 1 + len(self.replies) + (0 if self.resolution is None else 1)


class RemarkReply(db.Model):
    """An answer in a remark's thread."""

    __tablename__ = "remark_replies"
    __table_args__ = (
        CheckConstraint("length(trim(text)) > 0", name="text_not_blank"),
        CheckConstraint(f"length(text) <= {MAX_SECTION_CHARS}", name="text_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    remark_id: Mapped[int] = mapped_column(ForeignKey("remarks.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The contribution's round when it was written: a thread runs across rounds.
    round: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    remark: Mapped[Remark] = relationship(back_populates="replies")
    author: Mapped[User] = relationship()  # noqa: F821


class RemarkResolution(db.Model):
    """The remark's author marked it resolved (at most once)."""

    __tablename__ = "remark_resolutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    remark_id: Mapped[int] = mapped_column(ForeignKey("remarks.id"), unique=True)
    resolved_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    round: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    remark: Mapped[Remark] = relationship(back_populates="resolution")
    resolved_by: Mapped[User] = relationship()  # noqa: F821

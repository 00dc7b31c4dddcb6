"""What the coordinator changed after the police review, per area: what the approver checks
before approving the consolidation (the police approved the texts as they were then)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.contributions.presenters import text_at
from app.core.diff import Segment, has_changes, word_diff
from app.extensions import db
from app.models import AuditEvent, Contribution, Period, Section, SectionRevision


@dataclass
class ChangedSection:
    section: Section
    segments: list[Segment]  # the police-approved text -> the text now


@dataclass
class AreaChanges:
    contribution: Contribution
    sections: list[ChangedSection]


def changes_after_review(period: Period) -> list[AreaChanges]:
    """For each consolidated contribution of the period (by area name), the sections whose
    text differs from what the police approved, with the word diff; areas without such a
    change are left out. A few queries whatever the number of areas: the reviews, then the
    revisions made after them, then only the changed sections' earlier texts."""
    consolidated = [c for c in period.contributions
                    if c.state == "consolidated" and c.excluded_reason is None]
    if not consolidated:
        return []
    reviewed_at = dict(db.session.execute(
        select(AuditEvent.contribution_id, func.max(AuditEvent.occurred_at))
        .where(AuditEvent.contribution_id.in_([c.id for c in consolidated]),
               AuditEvent.action == "contribution.approve")
        .group_by(AuditEvent.contribution_id)).all())
    sections = {s.id: s for c in consolidated for s in c.sections}
    revised_after = db.session.execute(
        select(SectionRevision.section_id, func.max(SectionRevision.created_at))
        .where(SectionRevision.section_id.in_(list(sections)))
        .group_by(SectionRevision.section_id)).all()
    touched = {section_id for section_id, last in revised_after
               if (moment := reviewed_at.get(sections[section_id].contribution_id)) is not None
               and last > moment}
    found = []
    for contribution in sorted(consolidated, key=lambda c: c.area.name):
        changed = []
        for section in contribution.ordered_sections:
            if section.id not in touched:
                continue
            segments = word_diff(text_at(section, reviewed_at[contribution.id]), section.text)
            if has_changes(segments):
                changed.append(ChangedSection(section, segments))
        if changed:
            found.append(AreaChanges(contribution, changed))
    return found

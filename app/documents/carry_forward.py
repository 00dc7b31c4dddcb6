"""Carry-forward: a freshly opened period's sections start from the area's last approved texts.

Only empty sections of draft contributions are filled (nothing anyone wrote is overwritten);
each filled section gets a revision with cause "carry_forward", and each contribution one
audit event. Reviewers see what changed since last period with `previous_approved_text` and
`changes_since_last_approved`.

Carrying forward writes texts, so it is the drafters' (their areas) or the coordinator's
(every area) (documents.policy.allowed_area_ids). The one exception is the opening of a period:
the administrator who opens it may start every area's drafts from the last approved texts in
the same action, while nothing has been written in the period (carry_forward_at_opening); the
texts are then the administrator's edits for separation of duties, as anyone's carried texts are.
The texts carried forward are the contribution's first revisions in its first round, authored
by whoever carried them: separation of duties counts them as that person's edits.

An imported lägesbild (approved outside the system, marked imported) is a source too: the
drafts it starts still go through the whole flow, and the event says the source was imported.

The local topics belong to a period's contribution, not to the area for ever: carrying forward
gives the draft the local topics of the last approved contribution (those still in use, under
their current titles and in their current order), not the area's whole current list. A local
section the source lacks is taken out only while nobody has touched it (no text, no revision,
no remark, no cross-reference to it), and one whose topic the area added after that approval
stays: it is new this period.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from app.audit.trail import record_event, scope_of
from app.contributions.operations import add_revision, text_fingerprint
from app.core.access import deny
from app.core.actors import Actor
from app.core.diff import Segment, word_diff
from app.core.errors import InvalidTransition, NotFound
from app.core.messages import N_, Msg
from app.documents.policy import allowed_area_ids, may_carry_forward_at_opening
from app.extensions import db
from app.models import (
    AuditEvent,
    Contribution,
    Period,
    Remark,
    Section,
    SectionRevision,
    Topic,
    TopicScope,
    User,
)


def _last_approved(area_id: int, period: Period):
    """The query for the area's most recent approved contribution from a period before
    `period` (by the periods' approval deadlines, then creation order)."""
    return select(Contribution).join(Period, Contribution.period_id == Period.id).where(
        Contribution.area_id == area_id,
        Contribution.state == "approved",
        Contribution.period_id != period.id,
        Period.approval_deadline <= period.approval_deadline,
    ).order_by(Period.approval_deadline.desc(), Period.id.desc()).limit(1)


def last_approved_contribution(area_id: int, period: Period) -> Contribution | None:
    """The area's most recent approved contribution from a period before `period`."""
    return db.session.scalar(_last_approved(area_id, period))


def previous_approved_texts(contribution: Contribution) -> dict[int, str]:
    """topic id -> the text of that topic's section in the area's last approved contribution
    before this one (empty: there is none), in one query for every section."""
    previous = _last_approved(contribution.area_id, contribution.period) \
        .with_only_columns(Contribution.id).scalar_subquery()
    return dict(db.session.execute(select(Section.topic_id, Section.text)
                                   .where(Section.contribution_id == previous)).all())


def previous_approved_text(section: Section) -> str | None:
    """Last period's approved text for this section's topic (None: there is none), for the
    reviewer's diff against the current text."""
    return previous_approved_texts(section.contribution).get(section.topic_id)


def changes_since_last_approved(section: Section) -> list[Segment] | None:
    """Word diff from last period's approved text to the current text (None: no previous)."""
    return changes_since_last_approved_texts(section.contribution, [section])[section.id]


def changes_since_last_approved_texts(contribution: Contribution, sections: list[Section]
                                      ) -> dict[int, list[Segment] | None]:
    """section id -> changes_since_last_approved for each of `sections` (the contribution's),
    with last period's texts read once for all of them."""
    before = previous_approved_texts(contribution)
    return {s.id: None if s.topic_id not in before else word_diff(before[s.topic_id], s.text)
            for s in sections}


@dataclass
class CarryForwardResult:
    period: str
    filled: dict[str, int] = field(default_factory=dict)    # area -> sections filled
    skipped: dict[str, str] = field(default_factory=dict)   # area -> why (English)

    @property
    def total(self) -> int:
        return sum(self.filled.values())


def carry_forward(actor: Actor, period_id: int, area_id: int | None = None) -> CarryForwardResult:
    """Fill the empty sections of the period's draft contributions (all areas the actor may
    act for, or one area) from each area's last approved texts."""
    period = db.session.get(Period, period_id)
    if period is None:
        raise NotFound(Msg(N_("There is no period {id}."), id=period_id))
    allowed = allowed_area_ids(actor)
    where = {"action": "contribution.carry_forward", "object_type": "period",
             "object_id": period.id}
    if allowed is not None and not allowed:
        raise deny(Msg(N_("You do not have a role that may start texts from last period's.")),
                   **where)
    if area_id is not None and allowed is not None and area_id not in allowed:
        raise deny(Msg(N_("You may not act for this area.")), **where)
    contributions = [c for c in period.contributions
                     if (area_id is None or c.area_id == area_id)
                     and (allowed is None or c.area_id in allowed)]
    if area_id is not None and not contributions:
        raise NotFound(Msg(N_("The period has no contribution for this area.")))
    return _fill(actor, period, contributions, one_area=area_id is not None)


def carry_forward_at_opening(actor: Actor, period_id: int) -> CarryForwardResult:
    """Every area's last approved texts into a period being opened, by whoever opens it (the
    administrator: documents.policy.may_carry_forward_at_opening). Only while nothing has
    been written in the period: it starts drafts, it never replaces or adds to anyone's."""
    period = db.session.get(Period, period_id)
    if period is None:
        raise NotFound(Msg(N_("There is no period {id}."), id=period_id))
    where = {"action": "contribution.carry_forward", "object_type": "period",
             "object_id": period.id}
    if not may_carry_forward_at_opening(actor):
        raise deny(Msg(N_("You do not have a role that may start texts from last period's.")),
                   **where)
    written = db.session.scalar(
        select(SectionRevision.id).join(Section, SectionRevision.section_id == Section.id)
        .join(Contribution, Section.contribution_id == Contribution.id)
        .where(Contribution.period_id == period.id).limit(1))
    if written is not None or any(c.state != "draft" for c in period.contributions):
        raise InvalidTransition(Msg(N_("Texts have already been written in {period}: only the "
                                       "drafters or the coordinator can carry texts forward "
                                       "now."), period=period.name), **where)
    return _fill(actor, period, list(period.contributions), one_area=False)


def _approval_seq(contribution: Contribution) -> int:
    """Where the contribution's approval (or import) stands in the audit trail."""
    return db.session.scalar(
        select(AuditEvent.seq).where(
            AuditEvent.contribution_id == contribution.id,
            AuditEvent.action.in_(("contribution.finalize", "document.import")))
        .order_by(AuditEvent.seq.desc()).limit(1)) or 0


def _untouched(section: Section) -> bool:
    linked = any(s.handled_in_topic_id == section.topic_id
                 for s in section.contribution.sections)
    return (not section.text.strip() and not linked
            and db.session.scalar(select(SectionRevision.id).where(
                SectionRevision.section_id == section.id).limit(1)) is None
            and db.session.scalar(select(Remark.id).where(
                Remark.section_id == section.id).limit(1)) is None)


def take_local_topics(contribution: Contribution,
                      previous: Contribution) -> tuple[list[str], list[str]]:
    """Give the draft the local topics of the area's last approved contribution: add the
    sections it lacks (topics still in use), take out the untouched ones of topics the source
    did not have, unless the area added the topic after that approval. Returns the titles
    added and taken out, for the event."""
    source_ids = {s.topic_id for s in previous.sections if s.topic.scope == TopicScope.LOCAL}
    present = {s.topic_id: s for s in contribution.sections
               if s.topic.scope == TopicScope.LOCAL}
    candidates = [s for topic_id, s in present.items() if topic_id not in source_ids]
    added_since = set()
    if candidates:
        added_since = {int(object_id) for object_id in db.session.scalars(
            select(AuditEvent.object_id).where(
                AuditEvent.action == "topic.create", AuditEvent.object_type == "topic",
                AuditEvent.object_id.in_([str(s.topic_id) for s in candidates]),
                AuditEvent.seq > _approval_seq(previous)))}
    removed = []
    for section in candidates:
        if section.topic_id not in added_since and _untouched(section):
            removed.append(section.topic.title)
            contribution.sections.remove(section)
    added = []
    for topic in sorted(db.session.scalars(select(Topic).where(
            Topic.id.in_(source_ids - set(present)), Topic.active)), key=lambda t: t.sort_key):
        contribution.sections.append(Section(topic_id=topic.id))
        added.append(topic.title)
    if added or removed:
        db.session.flush()
    return added, removed


def _fill(actor: Actor, period: Period, contributions: list[Contribution], *,
          one_area: bool) -> CarryForwardResult:
    result = CarryForwardResult(period.name)
    author = actor if isinstance(actor, User) else None
    for contribution in sorted(contributions, key=lambda c: c.area.name):
        area = contribution.area.name
        if contribution.state != "draft":
            if one_area:
                raise InvalidTransition(
                    Msg(N_("Texts can be carried forward only into a draft contribution.")),
                    action="contribution.carry_forward", object_type="contribution",
                    object_id=contribution.id)
            result.skipped[area] = "not a draft"
            continue
        previous = last_approved_contribution(contribution.area_id, period)
        if previous is None:
            result.skipped[area] = "no approved lägesbild before this period"
            continue
        topics_added, topics_removed = take_local_topics(contribution, previous)
        previous_by_topic = {s.topic_id: s for s in previous.sections}
        local_topic_ids = {s.topic_id for s in contribution.sections}
        carried = []
        for section in contribution.ordered_sections:
            source = previous_by_topic.get(section.topic_id)
            if source is None or section.text.strip() or section.handled_in_topic_id:
                continue  # only empty sections: nothing anyone wrote is replaced
            link = source.handled_in_topic_id \
                if source.handled_in_topic_id in local_topic_ids else None
            if not source.text.strip() and link is None:
                continue
            second = source.also_handled_in_topic_id \
                if link is not None and source.also_handled_in_topic_id in local_topic_ids \
                else None
            if link is not None:
                section.handled_in_topic_id = link
                section.also_handled_in_topic_id = second
            revision = add_revision(section, source.text, "carry_forward", author) \
                if source.text.strip() else None
            carried.append({"section_id": section.id, "topic": section.topic.heading,
                            "from_section_id": source.id,
                            "revision_id": revision.id if revision else None,
                            "handled_in_topic_id": link,
                            "also_handled_in_topic_id": second,
                            "text_sha256": text_fingerprint(source.text)})
        if not carried and not topics_added and not topics_removed:
            result.skipped[area] = "no empty section to fill"
            continue
        db.session.flush()
        record_event(
            "contribution.carry_forward", actor=actor, object_type="contribution",
            object_id=contribution.id, **scope_of(contribution),
            data={"area": area, "period": period.name,
                  "from_contribution_id": previous.id, "from_period": previous.period.name,
                  "from_imported": previous.imported,
                  "sections": carried, "topics_added": topics_added,
                  "topics_removed": topics_removed})
        if carried:
            result.filled[area] = len(carried)
        else:
            result.skipped[area] = "no empty section to fill"
    return result

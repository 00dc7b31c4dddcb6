"""Read-only page data for the contribution pages: remarks per section, the
deadline of the current step, what changed since the last submission, and the history.

Nothing here changes data; templates escape every value (no user text becomes HTML).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select, tuple_

from app.audit.labels import action_label
from app.contributions.policy import may_reply, may_resolve, thread_closed
from app.contributions.threads import is_answered, open_remarks
from app.core import paging
from app.core.actors import Actor
from app.core.clock import STOCKHOLM, now
from app.core.diff import Segment, has_changes, word_diff
from app.core.messages import N_
from app.extensions import db
from app.models import (
    AuditEvent,
    Consolidation,
    Contribution,
    Remark,
    Section,
    SectionRevision,
    Topic,
)
from workflows import CONSOLIDATION_WORKFLOW, CONTRIBUTION_WORKFLOW

# -- status --------------------------------------------------------------------------------

# An imported lägesbild is final, but was approved outside the system: every page, print view
# and DOCX shows this instead of the state's label (the workflow labels' sv/en form).
IMPORTED_LABELS = {"sv": "Importerad (fastställd utanför systemet)",
                   "en": "Imported (approved outside the system)"}


def status_label(subject: Contribution | Consolidation, language: str = "sv") -> str:
    """A contribution's or a consolidation's status as shown everywhere."""
    if subject.imported_at is not None:
        return IMPORTED_LABELS["en" if language == "en" else "sv"]
    workflow = CONTRIBUTION_WORKFLOW if isinstance(subject, Contribution) \
        else CONSOLIDATION_WORKFLOW
    return workflow.state(subject.state).label(language)


# -- deadlines -----------------------------------------------------------------------------

# The period deadline that applies to the step a contribution is in.
STEP_DEADLINES = {
    "draft": "drafting_deadline",
    "returned": "drafting_deadline",
    "police_review": "review_deadline",
    "reviewed": "consolidation_deadline",
    "consolidated": "approval_deadline",
}
DEADLINE_LABELS = {
    "drafting_deadline": N_("Drafting"),
    "review_deadline": N_("Police review"),
    "consolidation_deadline": N_("Consolidation"),
    "approval_deadline": N_("Approval"),
}


@dataclass
class Deadline:
    key: str
    label: str  # English msgid
    day: date
    current: bool
    overdue: bool


def today_in_stockholm() -> date:
    return now().astimezone(STOCKHOLM).date()


def deadlines(contribution: Contribution) -> list[Deadline]:
    period = contribution.period
    current_key = STEP_DEADLINES.get(contribution.state)
    today = today_in_stockholm()
    result = []
    for key, label in DEADLINE_LABELS.items():
        day = getattr(period, key)
        current = key == current_key
        result.append(Deadline(key, label, day, current, current and day < today))
    return result


# -- remarks -------------------------------------------------------------------------------

@dataclass
class RemarkView:
    """A remark with its thread as the page shows it to one user."""

    remark: Remark
    trigger_label: str
    answered: bool = False
    may_reply: bool = False
    may_resolve: bool = False
    # The thread's forms are drawn only on the contribution page (not inside the editor's).
    with_forms: bool = False
    reply_text: str = ""  # what was typed, kept when the answer was refused
    reply_error: str | None = None

    @property
    def remark_id(self) -> int:
        return self.remark.id


def remark_view(remark: Remark, lang: str, actor: Actor | None = None) -> RemarkView:
    return RemarkView(
        remark, _trigger_done(remark.trigger, lang), answered=is_answered(remark),
        may_reply=actor is not None and may_reply(actor, remark),
        may_resolve=actor is not None and may_resolve(actor, remark),
        with_forms=actor is not None,
    )


def remarks_by_section(contribution: Contribution, lang: str, actor: Actor | None = None
                       ) -> tuple[list[RemarkView], dict[int, list[RemarkView]]]:
    """(general remarks, {section id: remarks}), newest first. With `actor`, each view says
    whether that user may answer or resolve it, and the page draws the thread's forms."""
    general: list[RemarkView] = []
    per_section: dict[int, list[RemarkView]] = {}
    for remark in sorted(contribution.remarks, key=lambda r: (r.created_at, r.id), reverse=True):
        view = remark_view(remark, lang, actor)
        if remark.section_id is None:
            general.append(view)
        else:
            per_section.setdefault(remark.section_id, []).append(view)
    return general, per_section


def open_remark_views(contribution: Contribution, lang: str) -> list[RemarkView]:
    """The open remarks of every round, in the order of the sections (general ones first),
    for the list on top of the contribution page; none once the contribution is locked."""
    if thread_closed(contribution):
        return []
    order = {s.id: index for index, s in enumerate(contribution.ordered_sections)}
    remarks = sorted(open_remarks(contribution),
                     key=lambda r: (-1 if r.section_id is None else order.get(r.section_id, 0),
                                    r.created_at, r.id))
    return [remark_view(remark, lang) for remark in remarks]


def _trigger_done(trigger: str, lang: str) -> str:
    try:
        return CONTRIBUTION_WORKFLOW.transition(trigger).done(lang)
    except Exception:  # a trigger of another kind (exclude): show its name as stored
        return trigger


# -- what changed since the last submission ---------------------------------------------------

SUBMISSIONS = ("contribution.submit", "contribution.resubmit")


def text_at(section: Section, moment: datetime) -> str:
    revision = db.session.scalar(
        select(SectionRevision).where(SectionRevision.section_id == section.id,
                                      SectionRevision.created_at <= moment)
        .order_by(SectionRevision.number.desc()).limit(1))
    return revision.text if revision else ""


def changes_since_previous_submission(contribution: Contribution
                                      ) -> dict[int, list[Segment]] | None:
    """For each section, the word diff from its text when the contribution was submitted the
    time before last to its text now; None when it has been submitted at most once."""
    submissions = db.session.scalars(
        select(AuditEvent).where(AuditEvent.contribution_id == contribution.id,
                                 AuditEvent.action.in_(SUBMISSIONS))
        .order_by(AuditEvent.seq.desc()).limit(2)).all()
    if len(submissions) < 2:
        return None
    previous = submissions[1]
    return {
        section.id: word_diff(text_at(section, previous.occurred_at), section.text)
        for section in contribution.sections
    }


# -- history -------------------------------------------------------------------------------

# Shown on the history tab; refused attempts and other security events are for the auditors.
HISTORY_PREFIXES = ("contribution.", "section.", "remark.")


@dataclass
class HistoryEntry:
    event: AuditEvent
    action_label: str  # app.audit.labels' label, in the page's language
    from_label: str | None
    to_label: str | None
    remarks: list[tuple[str | None, str]]  # (section heading or None, text)
    reason: str | None
    topic: str | None
    diff: list[Segment] | None
    reply: str | None = None  # an answer in a remark's thread

    @property
    def has_changes(self) -> bool:
        return self.diff is not None and has_changes(self.diff)


# Events per page of the history tab: a long history (thousands of edits) is read a page at a
# time, and only the page's edits get a word diff.
HISTORY_PAGE_SIZE = 50


def history(contribution: Contribution, lang: str, *, before: paging.Key | None = None,
            after: paging.Key | None = None, last: bool = False,
            size: int = HISTORY_PAGE_SIZE) -> paging.Page[HistoryEntry]:
    """One page of this contribution's contribution and section events (app.core.paging:
    newest page first, each page's entries oldest first). A fixed number of queries however
    long the history: the page's events, the headings, the page's revisions."""
    shown = [AuditEvent.contribution_id == contribution.id,
             or_(*(AuditEvent.action.startswith(prefix) for prefix in HISTORY_PREFIXES))]

    def fetch(conditions, newest_first, limit):
        order = AuditEvent.seq.desc() if newest_first else AuditEvent.seq.asc()
        return list(db.session.scalars(select(AuditEvent).where(*shown, *conditions)
                                       .order_by(order).limit(limit)))

    def exists(conditions):
        return db.session.scalar(select(AuditEvent.seq).where(*shown, *conditions)
                                 .limit(1)) is not None

    page = paging.keyset_page(fetch, exists, [AuditEvent.seq], lambda e: (e.seq,),
                              before=before, after=after, last=last, size=size)
    events = list(reversed(page.items))
    # As the lägesbild shows them: the approved title once approved.
    headings = {section_id: Topic.heading_of(number, scope, approved_title or title)
                for section_id, number, scope, title, approved_title in db.session.execute(
                    select(Section.id, Topic.number, Topic.scope, Topic.title,
                           Section.approved_title)
                    .join(Topic, Section.topic_id == Topic.id)
                    .where(Section.contribution_id == contribution.id))}
    data_of = {event.seq: json.loads(event.data or "{}") for event in events}
    diffs = _revision_diffs({revision_id for data in data_of.values()
                             if isinstance(revision_id := data.get("revision_id"), int)})
    entries = []
    for event in events:
        data = data_of[event.seq]
        remarks = [(headings.get(r.get("section_id")) if r.get("section_id") else None,
                    r.get("text", "")) for r in data.get("remarks") or []]
        revision_id = data.get("revision_id")
        entries.append(HistoryEntry(
            event=event, action_label=action_label(event.action),
            from_label=_state_label(event.from_state, lang),
            to_label=_state_label(event.to_state, lang),
            remarks=remarks, reason=data.get("reason"), topic=data.get("topic"),
            diff=diffs.get(revision_id) if isinstance(revision_id, int) else None,
            reply=data.get("text") if event.action == "remark.reply" else None,
        ))
    return paging.Page(entries, page.older, page.newer)


def _state_label(state: str | None, lang: str) -> str | None:
    if not state:
        return None
    try:
        return CONTRIBUTION_WORKFLOW.state(state).label(lang)
    except KeyError:
        return state


def _revision_diffs(revision_ids: set[int]) -> dict[int, list[Segment]]:
    """revision id -> the word diff from the section's revision before it (or from empty),
    for just these revisions: them and the revisions before them, in two queries."""
    if not revision_ids:
        return {}
    revisions = db.session.execute(
        select(SectionRevision.id, SectionRevision.section_id, SectionRevision.number,
               SectionRevision.text).where(SectionRevision.id.in_(revision_ids))).all()
    earlier = {(section_id, number): text for section_id, number, text in db.session.execute(
        select(SectionRevision.section_id, SectionRevision.number, SectionRevision.text)
        .where(tuple_(SectionRevision.section_id, SectionRevision.number).in_(
            [(r.section_id, r.number - 1) for r in revisions])))}
    return {r.id: word_diff(earlier.get((r.section_id, r.number - 1), ""), r.text)
            for r in revisions}
